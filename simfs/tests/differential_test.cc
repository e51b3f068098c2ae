// Differential test: the same random operation sequences on SimFileSystem (faults off)
// and PosixFileSystem (a temporary directory) give the same results and the same bytes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "simfs/posix_filesystem.h"
#include "simfs/prng.h"
#include "simfs/sim_filesystem.h"
#include "simfs/tests/temp_dir.h"

using namespace cairn;
using namespace cairn::fs;

namespace {

// Runs one random sequence on a filesystem rooted at `root`, returning a transcript of
// every result (error codes and values), so two filesystems can be compared.
std::vector<std::string> run_sequence(FileSystem& fs, const std::string& root, std::uint64_t seed) {
  Prng prng(seed);
  std::vector<std::string> log;
  const std::vector<std::string> names = {"a", "b", "c", "d/x", "d/y", "e"};
  std::map<std::string, std::unique_ptr<File>> open;
  auto path = [&](const std::string& n) { return root + "/" + n; };
  auto code = [](const Error& e) { return std::string("E:") + errc_name(e.code); };
  const int steps = static_cast<int>(prng.range(5, 40));
  for (int i = 0; i < steps; ++i) {
    const std::string& name = names[prng.below(names.size())];
    switch (prng.below(10)) {
      case 0: {
        OpenOptions o{prng.coin(), prng.coin(), prng.below(4) == 0};
        auto f = fs.open(path(name), o);
        log.push_back("open " + name + " " + (f.ok() ? "ok" : code(f.error())));
        if (f.ok()) open[name] = std::move(f).value();
        break;
      }
      case 1:
      case 2: {
        if (!open.count(name)) break;
        Bytes data(prng.below(2000));
        for (auto& b : data) b = static_cast<std::uint8_t>(prng.next_u64());
        std::uint64_t pos = prng.below(3000);
        auto n = prng.coin() ? open[name]->pwrite(pos, data) : open[name]->append(data);
        log.push_back("write " + name + " " + (n.ok() ? std::to_string(*n) : code(n.error())));
        break;
      }
      case 3: {
        if (!open.count(name)) break;
        Bytes buf(prng.below(3000));
        auto n = open[name]->pread(prng.below(4000), buf);
        std::string got = n.ok() ? std::to_string(*n) : code(n.error());
        if (n.ok()) {
          got += ":" + std::to_string(std::hash<std::string>{}(
                           std::string(buf.begin(), buf.begin() + static_cast<long>(*n))));
        }
        log.push_back("read " + name + " " + got);
        break;
      }
      case 4: {
        if (!open.count(name)) break;
        auto st = open[name]->truncate(prng.below(3000));
        log.push_back("truncate " + name + " " + (st.ok() ? "ok" : code(st.error())));
        auto sz = open[name]->size();
        log.push_back("size " + name + " " + (sz.ok() ? std::to_string(*sz) : code(sz.error())));
        break;
      }
      case 5: {
        if (!open.count(name)) break;
        log.push_back(std::string("sync ") + (open[name]->sync().ok() ? "ok" : "err"));
        break;
      }
      case 6: {
        const std::string& to = names[prng.below(names.size())];
        // Sim only renames within one directory; keep the sequences comparable.
        if (name.find('/') != to.find('/')) break;
        auto st = fs.rename(path(name), path(to));
        log.push_back("rename " + name + " " + to + " " + (st.ok() ? "ok" : code(st.error())));
        if (st.ok() && name != to && open.count(name)) {
          open[to] = std::move(open[name]);
          open.erase(name);
        }
        break;
      }
      case 7: {
        auto st = fs.unlink(path(name));
        log.push_back("unlink " + name + " " + (st.ok() ? "ok" : code(st.error())));
        open.erase(name);
        break;
      }
      case 8: {
        auto st = fs.mkdir(path("d"));
        log.push_back(std::string("mkdir d ") + (st.ok() ? "ok" : code(st.error())));
        break;
      }
      case 9: {
        auto l = fs.list_dir(root);
        std::string s = "list";
        if (l.ok()) {
          for (auto& n : *l) s += " " + n;
        } else {
          s += " " + code(l.error());
        }
        log.push_back(s);
        auto e = fs.exists(path(name));
        log.push_back("exists " + name + " " + (e.ok() ? (*e ? "yes" : "no") : code(e.error())));
        break;
      }
    }
  }
  // Final bytes of every file.
  for (const std::string& n : names) {
    auto f = fs.open(path(n), {});
    if (!f.ok()) {
      log.push_back("final " + n + " " + code(f.error()));
      continue;
    }
    Bytes all(static_cast<std::size_t>((*f)->size().value()));
    (void)read_full(**f, 0, all);
    log.push_back("final " + n + " " + std::to_string(all.size()) + " " +
                  std::to_string(std::hash<std::string>{}(std::string(all.begin(), all.end()))));
  }
  return log;
}

}  // namespace

TEST_CASE("SimFileSystem without faults behaves like the real filesystem (1000 sequences)") {
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    cairn::testing::TempDir tmp;
    PosixFileSystem posix;
    SimFileSystem sim(SimConfig{}, seed);
    REQUIRE(sim.mkdir("/r").ok());
    auto real = run_sequence(posix, tmp.path(), seed);
    auto simulated = run_sequence(sim, "/r", seed);
    INFO("seed " << seed);
    if (real != simulated) {
      for (std::size_t i = 0; i < std::max(real.size(), simulated.size()); ++i) {
        std::fprintf(stderr, "%-50s | %s\n", i < real.size() ? real[i].c_str() : "-", i < simulated.size() ? simulated[i].c_str() : "-");
      }
    }
    REQUIRE(real.size() == simulated.size());
    for (std::size_t i = 0; i < real.size(); ++i) {
      INFO("step " << i);
      REQUIRE(real[i] == simulated[i]);
    }
  }
}
