// RapidCheck stateful test of SimFileSystem (faults off) against a small reference model:
// a map from file name to contents in one directory. With every family off a crash must
// change nothing.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include <map>

#include "simfs/sim_filesystem.h"

using namespace cairn;
using namespace cairn::fs;

namespace {

using Model = std::map<std::string, Bytes>;
struct Sut {
  SimFileSystem fs{SimConfig{}, 7};
  Sut() { RC_ASSERT(fs.mkdir("/m").ok()); }
};
using Cmd = rc::state::Command<Model, Sut>;

std::string gen_name() { return *rc::gen::element<std::string>("a", "b", "c", "d"); }

struct Write : Cmd {
  std::string name = gen_name();
  std::uint64_t pos = *rc::gen::inRange<std::uint64_t>(0, 2000);
  Bytes data = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
  void apply(Model& m) const override {
    Bytes& b = m[name];
    if (data.empty()) return;  // a zero-byte write extends nothing
    if (b.size() < pos + data.size()) b.resize(pos + data.size(), 0);
    std::copy(data.begin(), data.end(), b.begin() + static_cast<long>(pos));
  }
  void run(const Model&, Sut& s) const override {
    auto f = s.fs.open("/m/" + name, OpenOptions{.create = true});
    RC_ASSERT(f.ok());
    RC_ASSERT(write_all(**f, pos, data).ok());
  }
  void show(std::ostream& os) const override { os << "Write(" << name << ", " << pos << ", " << data.size() << ")"; }
};

struct Truncate : Cmd {
  std::string name = gen_name();
  std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 3000);
  void checkPreconditions(const Model& m) const override { RC_PRE(m.count(name) > 0); }
  void apply(Model& m) const override { m[name].resize(size, 0); }
  void run(const Model&, Sut& s) const override {
    auto f = s.fs.open("/m/" + name, {});
    RC_ASSERT(f.ok());
    RC_ASSERT((*f)->truncate(size).ok());
  }
  void show(std::ostream& os) const override { os << "Truncate(" << name << ", " << size << ")"; }
};

struct Rename : Cmd {
  std::string from = gen_name();
  std::string to = gen_name();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.count(from) > 0); }
  void apply(Model& m) const override {
    Bytes b = m[from];
    m.erase(from);
    m[to] = b;
  }
  void run(const Model&, Sut& s) const override { RC_ASSERT(s.fs.rename("/m/" + from, "/m/" + to).ok()); }
  void show(std::ostream& os) const override { os << "Rename(" << from << ", " << to << ")"; }
};

struct Unlink : Cmd {
  std::string name = gen_name();
  void apply(Model& m) const override { m.erase(name); }
  void run(const Model& m, Sut& s) const override {
    Status st = s.fs.unlink("/m/" + name);
    RC_ASSERT(st.ok() == (m.count(name) > 0));
    if (!st.ok()) RC_ASSERT(st.error().code == Errc::not_found);
  }
  void show(std::ostream& os) const override { os << "Unlink(" << name << ")"; }
};

struct SyncSome : Cmd {
  std::string name = gen_name();
  void run(const Model& m, Sut& s) const override {
    if (m.count(name)) RC_ASSERT((*s.fs.open("/m/" + name, {}))->sync().ok());
    RC_ASSERT(s.fs.sync_dir("/m").ok());
  }
  void show(std::ostream& os) const override { os << "Sync(" << name << ")"; }
};

struct Crash : Cmd {
  void run(const Model&, Sut& s) const override { s.fs.crash(); }
  void show(std::ostream& os) const override { os << "Crash"; }
};

struct Check : Cmd {
  void run(const Model& m, Sut& s) const override {
    auto names = s.fs.list_dir("/m");
    RC_ASSERT(names.ok());
    std::vector<std::string> want;
    for (const auto& [n, b] : m) want.push_back(n);
    RC_ASSERT(*names == want);
    for (const auto& [n, b] : m) {
      auto f = s.fs.open("/m/" + n, {});
      RC_ASSERT(f.ok());
      RC_ASSERT((*f)->size().value() == b.size());
      Bytes got(b.size());
      RC_ASSERT(read_full(**f, 0, got).value() == b.size());
      RC_ASSERT(got == b);
    }
  }
  void show(std::ostream& os) const override { os << "Check"; }
};

}  // namespace

TEST_CASE("SimFileSystem with faults off matches a reference model") {
  rc::prop("sim fs matches model", [] {
    Model m;
    Sut s;
    rc::state::check(m, s, rc::state::gen::execOneOfWithArgs<Write, Write, Truncate, Rename, Unlink,
                                                             SyncSome, Crash, Check>());
  });
}
