// The two filesystems for TEMPLATE_TEST_CASEs that must hold on both: a real temporary
// directory (Posix) and SimFileSystem with faults off (Sim).
#pragma once

#include <string>

#include "simfs/posix_filesystem.h"
#include "simfs/sim_filesystem.h"
#include "simfs/tests/temp_dir.h"

namespace cairn::testing {

struct Posix {
  TempDir tmp;
  fs::PosixFileSystem posix;
  fs::FileSystem& fs() { return posix; }
  std::string dir() { return tmp.path(); }
};

struct Sim {
  fs::SimFileSystem sim{fs::SimConfig{}, 7};
  fs::FileSystem& fs() { return sim; }
  std::string dir() { return "/"; }
};

}  // namespace cairn::testing
