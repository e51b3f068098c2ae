#include "bench/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/peers.h"
#include "bench/svg.h"

namespace cairn::bench {
namespace {

double append_rps(const nlohmann::json& j, const std::string& sys, std::size_t size, std::size_t batch) {
  for (const auto& r : j["append"]) {
    if (r["system"] == sys && r["record_bytes"] == size && r["batch"] == batch) return r["records_per_s"].get<double>();
  }
  return 0.0;
}

// The best of cairn's verified reads at `size` (pread, mapped, two cores, Store::verify on
// one or two threads), as a share of the SHA-256 bound of one core.
double read_ratio(const nlohmann::json& j, std::size_t size) {
  double best = 0;
  for (const auto& r : j["read"]) {
    if (r["record_bytes"] == size &&
        r["system"].get<std::string>().starts_with("cairn")) {
      best = std::max(best, r["ratio_to_sha256"].get<double>());
    }
  }
  return best;
}

nlohmann::json row(const std::string& target, const std::string& measured, bool met) {
  return {{"target", target}, {"measured", measured}, {"met", met}};
}

// The two append targets for `system` ("cairn": blocking appends; "cairn-pipelined").
void append_targets(const nlohmann::json& j, const std::string& system, nlohmann::json& out) {
  double worst = 1e9;
  std::string worst_at;
  std::size_t ahead = 0, cells = 0;
  std::string behind;
  for (const auto& r : j["append"]) {
    if (r["system"] != system) continue;
    const std::size_t size = r["record_bytes"], batch = r["batch"];
    const double me = r["records_per_s"];
    const double raw = append_rps(j, "raw", size, batch);
    if (raw > 0 && me / raw < worst) {
      worst = me / raw;
      worst_at = fmt::format("{} B / {}", size, batch);
    }
    double best_peer = 0;
    std::string best_name;
    for (const char* p : {"sqlite", "leveldb", "rocksdb"}) {
      const double v = append_rps(j, p, size, batch);
      if (v > best_peer) best_peer = v, best_name = p;
    }
    ++cells;
    if (me >= best_peer) {
      ++ahead;
    } else {
      behind += fmt::format("{}{} B / {} ({} {:.2f}x cairn)", behind.empty() ? "" : ", ", size, batch, best_name,
                            best_peer / me);
    }
  }
  out.push_back(row(fmt::format("append >= 0.8x raw at every record size and batch ({})", system),
                    fmt::format("worst {:.2f}x at {}", worst, worst_at), worst >= 0.8 && worst < 1e9));
  out.push_back(row(fmt::format("append ahead of every peer at every record size and batch ({})", system),
                    fmt::format("ahead in {} of {}{}", ahead, cells, behind.empty() ? "" : "; behind: " + behind),
                    cells > 0 && ahead == cells));
}

}  // namespace

nlohmann::json targets(const nlohmann::json& j) {
  nlohmann::json out = nlohmann::json::array();
  append_targets(j, "cairn", out);
  append_targets(j, "cairn-pipelined", out);
  const double r4k = read_ratio(j, 4096), r256 = read_ratio(j, 256);
  out.push_back(row("verified read >= 0.8 of the SHA-256 bound at 4 KiB", fmt::format("{:.2f}", r4k), r4k >= 0.8));
  out.push_back(row("verified read >= 0.5 of the SHA-256 bound at 256 B", fmt::format("{:.2f}", r256), r256 >= 0.5));
  double worst_rec = 0;
  for (const auto& r : j["recovery"]) worst_rec = std::max(worst_rec, r["ratio_to_smallest"].get<double>());
  out.push_back(row("recovery time flat from 64 MiB to 1 GiB (largest <= 1.5x smallest)",
                    fmt::format("largest {:.2f}x smallest", worst_rec), worst_rec <= 1.5));
  const double sps = j["simulator"]["seeds_per_s_per_core"];
  out.push_back(row(">= 100 simulator seeds/s per core", fmt::format("{:.1f} seeds/s", sps), sps >= 100));
  return out;
}

std::string markdown(const nlohmann::json& j) {
  std::string md = "# cairn benchmark results\n\n";
  md += fmt::format("Command: `{}`  \nMachine: {}  \nEach figure: median of {} interleaved runs.\n\n",
                    j["command"].get<std::string>(), j["machine"].get<std::string>(), j["runs"].get<unsigned>());
  md += "## Append, one durable commit per batch\n\n| record | batch | system | records/s | MB/s | p50 commit µs | p99 commit µs | × raw |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : j["append"]) {
    md += fmt::format("| {} B | {} | {} | {:.0f} | {:.1f} | {:.0f} | {:.0f} | {:.2f} |\n", r["record_bytes"].get<std::size_t>(),
                      r["batch"].get<std::size_t>(), r["system"].get<std::string>(), r["records_per_s"].get<double>(),
                      r["mb_per_s"].get<double>(), r["p50_commit_us"].get<double>(), r["p99_commit_us"].get<double>(),
                      r["ratio_to_raw"].get<double>());
  }
  md += "\n`cairn` acknowledges each batch when its fdatasync returns (`append`, sync `always`); `cairn-pipelined` "
        "starts each batch's fdatasync and frames, hashes and writes the next batch while it runs "
        "(`append_pipelined`): a batch is acknowledged durable inside the next commit (`wait_durable` for the last), so "
        "its commit latency is not comparable; records/s counts only batches acknowledged durable.\n";
  md += "\n![append](append.svg)\n\n## Verified sequential read-back\n\n| record | reader | MB/s | × SHA-256 bound |\n|---|---|---|---|\n";
  for (const auto& r : j["read"]) {
    md += fmt::format("| {} B | {} | {:.0f} | {:.2f} |\n", r["record_bytes"].get<std::size_t>(), r["system"].get<std::string>(),
                      r["mb_per_s"].get<double>(), r["ratio_to_sha256"].get<double>());
  }
  md += "\n`cairn` is the verified read (CRC32C per frame, SHA-256 chain) through pread; `cairn-mapped` the same through "
        "mmap of sealed segments (`Options::mapped_reads`); `cairn-2cores` is two read-only opens reading half the offsets "
        "each on its own core, each half's chain started at the index entry or checkpoint before it and linked to the other "
        "by the frame after it; `cairn-verify` is `Store::verify()` of a 256 MiB log (five segments) on one thread, "
        "`cairn-verify-2t` the same with `Options::verify_threads = 2` (segments read whole, later frames hashed on a "
        "second thread, core/chain_ahead.h), `cairn-verify-2t-mapped` with `mapped_reads` too; `sha256` is one SHA-256 per record over the same payloads, in memory, on one core: the "
        "bound. Peers read without verifying a chain.\n\n![read](read.svg)\n";
  md += "\n## Recovery after an unclean shutdown (with a torn tail)\n\n| log | open ms | × smallest |\n|---|---|---|\n";
  for (const auto& r : j["recovery"]) {
    md += fmt::format("| {} MiB | {:.1f} | {:.2f} |\n", r["log_mib"].get<std::uint64_t>(), r["open_ms"].get<double>(),
                      r["ratio_to_smallest"].get<double>());
  }
  md += "\nEvery log has the same half-full active segment after whole sealed ones (16 MiB segments); an open's time is "
        "mostly that segment's copy and fdatasync (core/RECOVERY.md A7), which varies by 2x from one open to the next on "
        "a shared virtual disk: medians of three times the runs of the other figures.\n";
  const auto& s = j["simulator"];
  md += fmt::format("\n![recovery](recovery.svg)\n\n## Simulator\n\n{:.1f} seeds/s per core ({:.2f} × the 100 seeds/s target), {:.0f} simulated filesystem operations/s, simulated time {:.1f} × wall time.\n\n![simulator](simulator.svg)\n",
                    s["seeds_per_s_per_core"].get<double>(), s["ratio_to_target_100"].get<double>(),
                    s["fs_ops_per_s_per_core"].get<double>(), s["simulated_over_wall"].get<double>());
  md += "\n## Compression of a text log\n\n| codec | input | segment bytes | ratio | append MB/s | verified read MB/s |\n|---|---|---|---|---|---|\n";
  for (const auto& r : j["compression"]) {
    md += fmt::format("| {} | {} ({} bytes) | {} | {:.2f} | {:.0f} | {:.0f} |\n", r["codec"].get<std::string>(),
                      r["source"].get<std::string>(), r["input_bytes"].get<std::uint64_t>(), r["segment_bytes"].get<std::uint64_t>(),
                      r["ratio"].get<double>(), r["append_mb_per_s"].get<double>(), r["read_mb_per_s"].get<double>());
  }
  md += "\n16 lines per record, 16 records per batch, one sync at the end; MB/s of the log's own bytes.\n\n![compression](compression.svg)\n";
  md += "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n";
  for (const auto& t : j["targets"]) {
    md += fmt::format("| {} | {} | {} |\n", t["target"].get<std::string>(), t["measured"].get<std::string>(),
                      t["met"].get<bool>() ? "yes" : "no");
  }
  return md;
}

void write_charts(const nlohmann::json& j, const std::string& dir) {
  const std::filesystem::path d(dir);
  std::ofstream(d / "append.svg") << append_svg(j["append"]);
  BarChart read{"Verified sequential read: MB/s (log scale)", {}, {"sha256", "cairn", "cairn-mapped", "cairn-2cores", "cairn-verify", "cairn-verify-2t", "raw", "sqlite", "leveldb", "rocksdb"}, {}, true, {}, "MB/s"};
  for (const auto& r : j["read"]) {
    const std::string g = fmt::format("{} B records", r["record_bytes"].get<std::size_t>());
    if (std::find(read.groups.begin(), read.groups.end(), g) == read.groups.end()) read.groups.push_back(g);
    read.value[g][r["system"].get<std::string>()] = r["mb_per_s"].get<double>();
  }
  std::ofstream(d / "read.svg") << bar_svg(read);
  BarChart rec{"Open after an unclean shutdown with a torn tail: ms", {}, {"open ms"}, {}, false, {}, "ms"};
  for (const auto& r : j["recovery"]) {
    const std::string g = fmt::format("{} MiB", r["log_mib"].get<std::uint64_t>());
    rec.groups.push_back(g);
    rec.value[g]["open ms"] = r["open_ms"].get<double>();
  }
  std::ofstream(d / "recovery.svg") << bar_svg(rec);
  BarChart sim{"Simulator: seeds/s on one core (dashed: the target)", {"cairn-sim"}, {"seeds/s"}, {}, false, 100.0, "seeds/s"};
  sim.value["cairn-sim"]["seeds/s"] = j["simulator"]["seeds_per_s_per_core"].get<double>();
  std::ofstream(d / "simulator.svg") << bar_svg(sim);
  BarChart comp{"Compression: segment KB for the text log (dashed: the log's own size)", {}, {"segment KB"}, {}, false, {}, "KB"};
  for (const auto& r : j["compression"]) {
    const std::string g = r["codec"].get<std::string>();
    comp.groups.push_back(g);
    comp.value[g]["segment KB"] = static_cast<double>(r["segment_bytes"].get<std::uint64_t>()) / 1e3;
    comp.target = static_cast<double>(r["input_bytes"].get<std::uint64_t>()) / 1e3;
  }
  comp.target_label = "the log";
  std::ofstream(d / "compression.svg") << bar_svg(comp);
}

}  // namespace cairn::bench
