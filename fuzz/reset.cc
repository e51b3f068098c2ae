#include "core/canary.h"
#include "fuzz/fuzz_target.h"
#include "properties/properties.h"

namespace cairn::fuzz {

void reset_globals() {
  props::reset();
  set_canary(Canary::none);
}

}  // namespace cairn::fuzz
