// cairn-append-probe: the append path alone, for before/after comparisons of the core
// (bench/compare_append.py runs two builds of it in ABBA order).
//
//   cairn-append-probe RECORD_BYTES BATCH COMMITS DIR [--pipelined]
//
// Opens a fresh store in DIR (sync=always), creates stream 1 with one batch, then times
// COMMITS batches of BATCH records of RECORD_BYTES bytes and prints records/s of that
// loop on stdout. The first commit of a stream (its creation) is timed apart and printed
// on stderr in microseconds. --pipelined: the loop uses append_pipelined and waits for the
// last batch's durability before the clock stops. Exit status 0, or 1 when an append fails.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/store.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

int main(int argc, char** argv) {
  using namespace cairn;
  using Wall = std::chrono::steady_clock;
  const bool pipelined = argc == 6 && std::string(argv[5]) == "--pipelined";
  if (argc != 5 && !pipelined) {
    std::fprintf(stderr, "usage: cairn-append-probe RECORD_BYTES BATCH COMMITS DIR [--pipelined]\n");
    return 2;
  }
  const std::size_t size = std::strtoull(argv[1], nullptr, 10);
  const std::size_t batch = std::strtoull(argv[2], nullptr, 10);
  const std::size_t commits = std::strtoull(argv[3], nullptr, 10);
  const std::string dir = argv[4];
  std::filesystem::remove_all(dir);
  fs::PosixFileSystem fs;
  SystemClock clock;
  auto opened = Store::open(fs, clock, dir, Options{});
  if (!opened.ok()) return 1;
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<Bytes> records(batch, Bytes(size, 7));
  for (std::size_t i = 0; i < batch; ++i) records[i][0] = static_cast<std::uint8_t>(i);
  auto t = Wall::now();
  if (!store->append(1, records).ok()) return 1;
  const double first_us = std::chrono::duration<double, std::micro>(Wall::now() - t).count();
  t = Wall::now();
  std::uint64_t last = 0;
  for (std::size_t c = 0; c < commits; ++c) {
    auto r = pipelined ? store->append_pipelined(1, records) : store->append(1, records);
    if (!r.ok()) return 1;
    last = r->last_offset;
  }
  if (pipelined && !store->wait_durable(1, last).ok()) return 1;
  const double secs = std::chrono::duration<double>(Wall::now() - t).count();
  (void)store->close();
  std::printf("%.0f\n", static_cast<double>(commits * batch) / secs);
  std::fprintf(stderr, "%.0f\n", first_us);
  std::filesystem::remove_all(dir);
  return 0;
}
