// Decision tape files (sim/tape_file.h).
#include "sim/tape_file.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

namespace cairn::sim {
namespace {

bool parse_u64(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// One "key value" header line into `t`. "" or what is wrong.
std::string header_line(const std::string& key, const std::string& value, TapeFile& t) {
  if (key == "seed") return parse_u64(value, t.seed) ? "" : "seed takes an unsigned number";
  if (key == "ops") return parse_u64(value, t.ops) && t.ops > 0 ? "" : "ops takes a number above 0";
  if (key == "canary") {
    t.canary = value;
    return "";
  }
  if (key == "set") {
    if (value.find('=') == std::string::npos) return "set takes key=value";
    t.sets.push_back(value);
    return "";
  }
  if (key == "failure") {
    t.failure = value;
    return "";
  }
  return "unknown line '" + key + "'";
}

}  // namespace

std::string tape_text(const TapeFile& t) {
  std::string out = std::string(kTapeMagic) + "\n";
  for (const std::string& c : t.comments) out += "# " + c + "\n";
  out += fmt::format("seed {}\nops {}\n", t.seed, t.ops);
  if (!t.canary.empty()) out += "canary " + t.canary + "\n";
  for (const std::string& s : t.sets) out += "set " + s + "\n";
  if (!t.failure.empty()) out += "failure " + t.failure + "\n";
  out += fmt::format("choices {}\n", t.choices.size());
  for (std::size_t i = 0; i < t.choices.size(); ++i) {
    out += fmt::format("{}{}", t.choices[i], (i % 16 == 15 || i + 1 == t.choices.size()) ? "\n" : " ");
  }
  return out;
}

bool looks_like_tape(const std::string& text) { return text.rfind(kTapeMagic, 0) == 0; }

std::string parse_tape(const std::string& text, TapeFile& out) {
  std::istringstream in(text);
  std::string line;
  std::size_t n = 0;
  auto at = [&n](const std::string& why) { return fmt::format("line {}: {}", n, why); };
  if (!std::getline(in, line) || line != kTapeMagic) return fmt::format("line 1: not a tape (want '{}')", kTapeMagic);
  n = 1;
  std::uint64_t declared = 0;
  bool in_choices = false;
  while (std::getline(in, line)) {
    ++n;
    if (in_choices) {
      std::istringstream words(line);
      std::string w;
      while (words >> w) {
        std::uint64_t v = 0;
        if (!parse_u64(w, v)) return at("choice '" + w + "' is not an unsigned 64-bit number");
        out.choices.push_back(v);
      }
      continue;
    }
    if (line.empty()) continue;
    if (line[0] == '#') {
      out.comments.push_back(line.size() > 2 ? line.substr(2) : "");
      continue;
    }
    const auto space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "choices") {
      if (!parse_u64(value, declared)) return at("choices takes a count");
      in_choices = true;
      continue;
    }
    const std::string why = header_line(key, value, out);
    if (!why.empty()) return at(why);
  }
  if (!in_choices) return "no 'choices' line";
  if (out.choices.size() != declared) {
    return fmt::format("'choices {}' but {} values follow (a cut or edited tape)", declared, out.choices.size());
  }
  return "";
}

std::string read_whole_file(const std::string& path, std::string& out, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("{}: {}", path, std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  if (out.size() > max_bytes) return fmt::format("{}: larger than {} bytes", path, max_bytes);
  return "";
}

std::string write_whole_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return fmt::format("{}: {}", path, std::strerror(errno));
  f << text;
  f.close();
  if (!f) return fmt::format("{}: write failed", path);
  return "";
}

std::string failure_check(const std::string& failure) {
  std::string out;
  out.reserve(failure.size());
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  for (std::size_t i = 0; i < failure.size();) {
    std::size_t j = i;
    while (j < failure.size() && is_hex(failure[j])) ++j;
    const std::string_view run(failure.data() + i, j - i);
    const bool has_digit = run.find_first_of("0123456789") != std::string_view::npos;
    const bool word_edge = (i == 0 || !std::isalpha(static_cast<unsigned char>(failure[i - 1]))) &&
                           (j == failure.size() || !std::isalpha(static_cast<unsigned char>(failure[j])));
    if (j > i && has_digit && word_edge) {
      out += '#';
      i = j;
    } else {
      out += failure[i++];
    }
  }
  return out;
}

}  // namespace cairn::sim
