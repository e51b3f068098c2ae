// Two properties with the same (file, line, message): the program must refuse to start.
// ctest expects this executable to fail with "duplicate property key".
#include "properties/properties.h"

int main(int argc, char**) {
  // clang-format off
  ALWAYS(argc > 0, "props test: duplicated key"); ALWAYS(argc > 0, "props test: duplicated key");
  // clang-format on
  return 0;
}
