#include <catch2/catch.hpp>

#include "core/cli/duration.h"

using cairn::cli::parse_duration_us;

TEST_CASE("durations parse with their units") {
  CHECK(parse_duration_us("500ms") == 500'000u);
  CHECK(parse_duration_us("30s") == 30'000'000u);
  CHECK(parse_duration_us("30") == 30'000'000u);
  CHECK(parse_duration_us("15m") == 900'000'000u);
  CHECK(parse_duration_us("12h") == 43'200'000'000u);
  CHECK(parse_duration_us("7d") == 604'800'000'000u);
  CHECK_FALSE(parse_duration_us(""));
  CHECK_FALSE(parse_duration_us("d"));
  CHECK_FALSE(parse_duration_us("3x"));
  CHECK_FALSE(parse_duration_us("99999999999999999999d"));
}

#include "core/cli/records.h"

TEST_CASE("length-prefixed records split exactly, and bad streams are errors") {
  using cairn::Bytes;
  Bytes in = {3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 1, 0, 0, 0, 'z'};
  auto r = cairn::cli::split_length_prefixed(in, 100);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0] == Bytes{'a', 'b', 'c'});
  CHECK((*r)[1].empty());
  CHECK((*r)[2] == Bytes{'z'});
  Bytes cut(in.begin(), in.end() - 1);
  auto e = cairn::cli::split_length_prefixed(cut, 100);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("byte 11") != std::string::npos);
  Bytes huge = {0xff, 0xff, 0xff, 0xff};
  CHECK(cairn::cli::split_length_prefixed(huge, 100).error().code == cairn::Errc::record_too_large);
}
