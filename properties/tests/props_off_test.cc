// Compiled twice: with the properties on and with CAIRN_PROPERTIES_OFF. With them off a
// condition with a side effect must not run, yet must still compile.
#include <catch2/catch.hpp>

#include "properties/properties.h"

TEST_CASE("property conditions run only when properties are compiled in") {
  int evaluated = 0;
  ALWAYS(++evaluated > 0, "props-off test: side effect in ALWAYS", {"n", ++evaluated});
  SOMETIMES(++evaluated > 0, "props-off test: side effect in SOMETIMES");
  NEVER(++evaluated < 0, "props-off test: side effect in NEVER");
#if defined(CAIRN_PROPERTIES_OFF)
  CHECK(evaluated == 0);
  CHECK(cairn::props::global_catalog().sites().empty());
#else
  CHECK(evaluated == 3);  // details are evaluated only on failure
  CHECK(cairn::props::global_catalog().sites().size() == 3);
#endif
}
