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
