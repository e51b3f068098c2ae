// The decision tape (simfs/decision_tape.h).
#include "simfs/decision_tape.h"

#include <utility>

namespace cairn {

DecisionTape DecisionTape::replaying(std::vector<std::uint64_t> values) {
  DecisionTape t(Mode::replaying);
  t.source_ = std::move(values);
  return t;
}

DecisionTape DecisionTape::from_bytes(const std::uint8_t* data, std::size_t size) {
  DecisionTape t(Mode::bytes);
  t.bytes_.assign(data, data + size);
  return t;
}

std::uint64_t DecisionTape::choose(std::uint64_t n, std::uint64_t drawn) {
  std::uint64_t v = drawn;
  if (mode_ == Mode::replaying) v = next_replayed(n);
  if (mode_ == Mode::bytes) v = next_from_bytes(n);
  used_.push_back(v);
  bounds_.push_back(n);
  return v;
}

bool DecisionTape::chance(std::uint32_t ppm, bool drawn) {
  constexpr std::uint64_t kMillion = 1'000'000;
  const std::uint64_t yes_from = ppm >= kMillion ? 0 : kMillion - ppm;
  bool outcome = drawn;
  if (mode_ == Mode::replaying) outcome = next_replayed(kMillion) >= yes_from;
  if (mode_ == Mode::bytes) outcome = next_from_bytes(kMillion) >= yes_from;
  used_.push_back(outcome ? yes_from : 0);
  bounds_.push_back(kMillion);
  return outcome;
}

std::uint64_t DecisionTape::next_replayed(std::uint64_t n) {
  if (cursor_ >= source_.size()) {
    ++overrun_;
    return 0;
  }
  const std::uint64_t v = source_[cursor_++];
  return n != 0 && v >= n ? n - 1 : v;
}

std::uint64_t DecisionTape::next_from_bytes(std::uint64_t n) {
  // As many bytes as the range needs: 1 up to 256 values, 2 up to 65,536, 4, else 8.
  const std::size_t width = n != 0 && n <= (1u << 8) ? 1 : n != 0 && n <= (1u << 16) ? 2 : n != 0 && n <= (1ull << 32) ? 4 : 8;
  if (cursor_ >= bytes_.size()) {
    ++overrun_;
    return 0;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width && cursor_ < bytes_.size(); ++i) v |= std::uint64_t{bytes_[cursor_++]} << (8 * i);
  return n == 0 ? v : v % n;
}

std::size_t DecisionTape::begin_span(std::string label) {
  spans_.push_back(Span{used_.size(), used_.size(), std::move(label)});
  return spans_.size() - 1;
}

void DecisionTape::end_span(std::size_t index) {
  if (index < spans_.size()) spans_[index].end = used_.size();
}

}  // namespace cairn
