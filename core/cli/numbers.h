// Command-line numbers: CLI11 2.1 reads "-1" into an unsigned option as 2^64-1, so every
// unsigned flag of cairn and cairn-sim takes this check first (header-only; CLI11 only).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace cairn::cli {

// Accepts decimal digits only, at most 2^64-1; a narrower option's own type or Range
// check then refuses values above its range. The message names the value refused.
inline CLI::Validator unsigned_number() {
  return CLI::Validator(
      [](const std::string& v) {
        static const std::string kMax = "18446744073709551615";  // 2^64-1
        const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
        const bool fits = v.size() < kMax.size() || (v.size() == kMax.size() && v <= kMax);
        return digits && fits ? std::string() : "takes a whole number 0.." + kMax + ", not '" + v + "'";
      },
      "UINT");
}

}  // namespace cairn::cli
