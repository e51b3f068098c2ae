// Compression on a real text log: the same lines appended plain, with lz4 and with zstd
// (16 lines per record, 16 records per batch, one sync at the end), then read back
// verified. Figures: segment bytes and ratio, append and read MB/s of the log's bytes.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "core/format.h"
#include "core/store.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

namespace cairn::bench {
namespace {

constexpr std::size_t kLinesPerRecord = 16;
constexpr std::size_t kRecordsPerBatch = 16;

// The log's lines, or (missing, empty or --smoke) a generated package log of the same shape.
std::pair<std::vector<std::string>, std::string> load_lines(const Config& c) {
  std::vector<std::string> lines;
  std::ifstream in(c.text_log);
  for (std::string line; !c.smoke && std::getline(in, line);) lines.push_back(line);
  if (!lines.empty()) return {lines, c.text_log};
  const char* verbs[] = {"startup archives unpack", "install", "status half-installed", "status unpacked",
                         "configure", "status half-configured", "status installed", "trigproc"};
  Prng p(5);
  const std::size_t n = c.smoke ? 500 : 6000;
  for (std::size_t i = 0; i < n; ++i) {
    lines.push_back(fmt::format("2026-11-{:02} {:02}:{:02}:{:02} {} lib{}-{}:amd64 {}.{}.{}-{}", 1 + i / 600, i / 60 % 24,
                                i % 60, p.below(60), verbs[p.below(8)], "pkg", p.below(300), p.below(5),
                                p.below(20), p.below(10), 1 + p.below(3)));
  }
  return {lines, "generated package log"};
}

std::vector<std::vector<Bytes>> batches_of(const std::vector<std::string>& lines) {
  std::vector<std::vector<Bytes>> batches;
  for (std::size_t i = 0; i < lines.size(); i += kLinesPerRecord) {
    std::string rec;
    for (std::size_t k = i; k < std::min(lines.size(), i + kLinesPerRecord); ++k) rec += lines[k] + "\n";
    if (batches.empty() || batches.back().size() == kRecordsPerBatch) batches.emplace_back();
    batches.back().push_back(Bytes(rec.begin(), rec.end()));
  }
  return batches;
}

std::uint64_t segment_bytes(const std::filesystem::path& store) {
  std::uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(store / format::stream_dir_name(1))) {
    if (e.path().extension() == ".log") bytes += e.file_size();
  }
  return bytes;
}

struct Measured {
  double append_s = 0, read_s = 0;
  std::uint64_t bytes = 0;
};

Measured one_run(const Config& c, Compression codec, const std::vector<std::vector<Bytes>>& batches) {
  fs::PosixFileSystem fs;
  SystemClock clock;
  Scratch dir(c.dir);
  Options o;
  o.sync.mode = SyncMode::manual;
  o.compression = codec;
  Measured m;
  auto store = Store::open(fs, clock, dir.path.string(), o);
  if (!store.ok()) throw std::runtime_error(store.error().to_string());
  auto start = Wall::now();
  for (const auto& b : batches) {
    if (!(*store)->append(1, b).ok()) throw std::runtime_error("compression bench: append failed");
  }
  if (!(*store)->sync().ok()) throw std::runtime_error("compression bench: sync failed");
  m.append_s = seconds_since(start);
  start = Wall::now();
  for (std::uint64_t at = 0; at < (*store)->stats(1)->next_offset;) {
    auto r = (*store)->read(1, at, 1 << 20);
    if (!r.ok() || r->empty()) throw std::runtime_error("compression bench: read failed");
    at = r->back().offset + 1;
  }
  m.read_s = seconds_since(start);
  (void)(*store)->close();
  m.bytes = segment_bytes(dir.path);
  return m;
}

}  // namespace

nlohmann::json bench_compression(const Config& c) {
  const auto [lines, source] = load_lines(c);
  const auto batches = batches_of(lines);
  std::uint64_t input = 0;
  for (const std::string& l : lines) input += l.size() + 1;
  const std::vector<std::pair<std::string, Compression>> codecs = {
      {"none", Compression::none}, {"lz4", Compression::lz4}, {"zstd", Compression::zstd}};
  std::map<std::string, std::vector<double>> append_mbps, read_mbps;
  std::map<std::string, std::uint64_t> bytes;
  for (unsigned run = 0; run < c.runs; ++run) {
    for (std::size_t k = 0; k < codecs.size(); ++k) {
      const auto& [name, codec] = codecs[(k + run) % codecs.size()];
      const Measured m = one_run(c, codec, batches);
      append_mbps[name].push_back(static_cast<double>(input) / m.append_s / 1e6);
      read_mbps[name].push_back(static_cast<double>(input) / m.read_s / 1e6);
      bytes[name] = m.bytes;
    }
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, codec] : codecs) {
    rows.push_back({{"codec", name}, {"source", source}, {"input_bytes", input}, {"segment_bytes", bytes[name]},
                    {"ratio", bytes[name] > 0 ? static_cast<double>(input) / static_cast<double>(bytes[name]) : 0},
                    {"append_mb_per_s", median(append_mbps[name])}, {"read_mb_per_s", median(read_mbps[name])}});
  }
  std::fprintf(stderr, "compression (%s, %llu bytes): none %llu, lz4 %llu, zstd %llu segment bytes\n", source.c_str(),
               static_cast<unsigned long long>(input), static_cast<unsigned long long>(bytes["none"]),
               static_cast<unsigned long long>(bytes["lz4"]), static_cast<unsigned long long>(bytes["zstd"]));
  return rows;
}

}  // namespace cairn::bench
