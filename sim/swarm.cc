#include "sim/swarm.h"

#include <functional>

#include <fmt/format.h>

#include "core/store.h"
#include "simfs/prng.h"

namespace cairn::sim {
namespace {

// One entry per field: how to print it and how to parse it.
struct Field {
  const char* name;
  std::function<std::string(const Swarm&)> get;
  std::function<bool(Swarm&, const std::string&)> set;
};

template <typename T>
Field num(const char* name, T Swarm::*member) {
  return Field{name, [member](const Swarm& s) { return std::to_string(s.*member); },
               [member](Swarm& s, const std::string& v) {
                 if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
                   return false;
                 }
                 s.*member = static_cast<T>(std::stoull(v));
                 return true;
               }};
}

Field flag(const char* name, bool Swarm::*member) {
  return Field{name, [member](const Swarm& s) { return std::string(s.*member ? "on" : "off"); },
               [member](Swarm& s, const std::string& v) {
                 if (v != "on" && v != "off") return false;
                 s.*member = v == "on";
                 return true;
               }};
}

const std::vector<Field>& table() {
  static const std::vector<Field> fields = {
      flag("lost_writes", &Swarm::lost_writes),
      num("lost_write_ppm", &Swarm::lost_write_ppm),
      flag("torn_writes", &Swarm::torn_writes),
      num("torn_write_ppm", &Swarm::torn_write_ppm),
      flag("extension_garbage", &Swarm::extension_garbage),
      flag("dir_reverts", &Swarm::dir_reverts),
      num("dir_revert_ppm", &Swarm::dir_revert_ppm),
      flag("read_errors", &Swarm::read_errors),
      num("read_error_ppm", &Swarm::read_error_ppm),
      flag("fsync_failures", &Swarm::fsync_failures),
      num("fsync_failure_ppm", &Swarm::fsync_failure_ppm),
      flag("write_errors", &Swarm::write_errors),
      num("write_error_ppm", &Swarm::write_error_ppm),
      flag("misdirected_writes", &Swarm::misdirected_writes),
      flag("bit_flips", &Swarm::bit_flips),
      flag("tampering", &Swarm::tampering),
      flag("index_lies", &Swarm::index_lies),
      num("crash_ppm", &Swarm::crash_ppm),
      num("crash_in_recovery_ppm", &Swarm::crash_in_recovery_ppm),
      num("power_off_window_ops", &Swarm::power_off_window_ops),
      num("streams", &Swarm::streams),
      num("record_bytes_min", &Swarm::record_bytes_min),
      num("record_bytes_max", &Swarm::record_bytes_max),
      num("batch_max", &Swarm::batch_max),
      num("max_segment_bytes", &Swarm::max_segment_bytes),
      num("index_interval_bytes", &Swarm::index_interval_bytes),
      num("checkpoint_interval", &Swarm::checkpoint_interval),
      Field{"sync", [](const Swarm& s) { return s.sync; },
            [](Swarm& s, const std::string& v) {
              if (!parse_sync_policy(v).ok()) return false;
              s.sync = v;
              return true;
            }},
      flag("full_scan_on_open", &Swarm::full_scan_on_open),
      num("write_interval_us", &Swarm::write_interval_us),
      num("read_interval_us", &Swarm::read_interval_us),
      num("checkpoint_interval_us", &Swarm::checkpoint_interval_us),
      num("sync_interval_us", &Swarm::sync_interval_us),
      num("purge_interval_us", &Swarm::purge_interval_us),
      num("verify_interval_us", &Swarm::verify_interval_us),
      num("bitrot_interval_us", &Swarm::bitrot_interval_us),
      num("latency_max_us", &Swarm::latency_max_us),
  };
  return fields;
}

}  // namespace

Swarm Swarm::from_seed(std::uint64_t seed) {
  // A stream of its own, so that the workload's draws never shift the configuration.
  Prng p(seed ^ 0x73776172'6d000000ull);
  Swarm s;
  auto on = [&p](std::uint32_t ppm) { return p.chance_ppm(ppm); };
  s.lost_writes = on(600'000);
  s.lost_write_ppm = static_cast<std::uint32_t>(p.range(100'000, 900'000));
  s.torn_writes = on(500'000);
  s.torn_write_ppm = static_cast<std::uint32_t>(p.range(100'000, 700'000));
  s.extension_garbage = on(400'000);
  s.dir_reverts = on(500'000);
  s.dir_revert_ppm = static_cast<std::uint32_t>(p.range(200'000, 900'000));
  s.read_errors = on(250'000);
  s.read_error_ppm = static_cast<std::uint32_t>(p.range(200, 5'000));
  s.fsync_failures = on(250'000);
  s.fsync_failure_ppm = static_cast<std::uint32_t>(p.range(1'000, 20'000));
  s.write_errors = on(300'000);
  s.write_error_ppm = static_cast<std::uint32_t>(p.range(1'000, 20'000));
  s.misdirected_writes = on(50'000);
  s.bit_flips = on(300'000);
  s.tampering = on(200'000);
  s.index_lies = on(150'000);
  s.crash_ppm = static_cast<std::uint32_t>(p.range(5'000, 60'000));
  s.crash_in_recovery_ppm = on(300'000) ? static_cast<std::uint32_t>(p.range(100'000, 500'000)) : 0;
  s.power_off_window_ops = static_cast<std::uint32_t>(p.range(1, 120));
  s.streams = static_cast<std::uint32_t>(p.range(1, 4));
  s.record_bytes_min = static_cast<std::uint32_t>(p.range(1, 32));
  s.record_bytes_max = s.record_bytes_min + static_cast<std::uint32_t>(p.range(0, on(200'000) ? 3000 : 300));
  s.batch_max = on(300'000) ? 1 : static_cast<std::uint32_t>(p.range(2, 24));
  s.max_segment_bytes = p.range(512, 16384);
  s.index_interval_bytes = p.range(64, 2048);
  s.checkpoint_interval = on(250'000) ? 0 : p.range(2, 40);
  switch (p.below(4)) {
    case 0:
    case 1: s.sync = "always"; break;
    case 2: s.sync = fmt::format("every:{}", p.range(2, 16)); break;
    default: s.sync = on(500'000) ? "manual" : fmt::format("every:{}b", p.range(200, 4000)); break;
  }
  s.full_scan_on_open = on(300'000);
  s.write_interval_us = p.range(50, 200);
  s.read_interval_us = p.range(100, 800);
  s.checkpoint_interval_us = p.range(500, 5000);
  s.sync_interval_us = p.range(200, 2000);
  s.purge_interval_us = p.range(1000, 10000);
  s.verify_interval_us = p.range(2000, 20000);
  s.bitrot_interval_us = p.range(1000, 10000);
  s.latency_max_us = p.range(1, 50);
  return s;
}

std::vector<std::pair<std::string, std::string>> Swarm::fields() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : table()) out.emplace_back(f.name, f.get(*this));
  return out;
}

std::string Swarm::set(const std::string& name, const std::string& value) {
  for (const Field& f : table()) {
    if (name != f.name) continue;
    if (!f.set(*this, value)) return fmt::format("bad value '{}' for {}", value, name);
    return {};
  }
  return fmt::format("unknown swarm key '{}'", name);
}

std::string Swarm::block() const {
  std::string out;
  for (const auto& [k, v] : fields()) out += fmt::format("  {:<24} {}\n", k, v);
  return out;
}

}  // namespace cairn::sim
