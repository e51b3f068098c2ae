// Catalog, sites, failure handler and the Antithesis-shaped JSONL writer.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <tuple>

#include <nlohmann/json.hpp>

#include "properties/properties.h"

namespace cairn::props {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::always: return "ALWAYS";
    case Kind::always_or_unreachable: return "ALWAYS_OR_UNREACHABLE";
    case Kind::sometimes: return "SOMETIMES";
    case Kind::reachable: return "REACHABLE";
    case Kind::unreachable: return "UNREACHABLE";
    case Kind::never: return "NEVER";
  }
  return "?";
}

std::string_view assert_type(Kind kind) {
  switch (kind) {
    case Kind::always:
    case Kind::always_or_unreachable:
    case Kind::never: return "always";
    case Kind::sometimes: return "sometimes";
    case Kind::reachable:
    case Kind::unreachable: return "reachability";
  }
  return "?";
}

std::string_view display_type(Kind kind) {
  switch (kind) {
    case Kind::always: return "Always";
    case Kind::always_or_unreachable: return "AlwaysOrUnreachable";
    case Kind::sometimes: return "Sometimes";
    case Kind::reachable: return "Reachable";
    case Kind::unreachable: return "Unreachable";
    case Kind::never: return "Never";
  }
  return "?";
}

bool must_hit(Kind kind) {
  return kind == Kind::always || kind == Kind::sometimes || kind == Kind::reachable;
}

Detail::Detail(std::string_view k, std::string_view v) : key(k), json_value(nlohmann::json(v).dump()) {}

Site::Site(Kind kind, std::string_view file, unsigned line, unsigned column,
           std::string_view message, std::string_view condition)
    : kind_(kind), file_(file), line_(line), column_(column), message_(message),
      condition_(condition) {}

std::string Site::id() const {
  return std::string(message_) + " (" + std::string(file_) + ":" + std::to_string(line_) + ")";
}

bool Site::record(bool condition_value) {
  evaluations_.fetch_add(1, std::memory_order_relaxed);
  if (condition_value) true_count_.fetch_add(1, std::memory_order_relaxed);
  switch (kind_) {
    case Kind::always:
    case Kind::always_or_unreachable: return !condition_value;
    case Kind::never: return condition_value;
    case Kind::unreachable: return true;
    case Kind::sometimes:
    case Kind::reachable: return false;
  }
  return false;
}

namespace {

std::mutex& handler_mutex() {
  static std::mutex m;
  return m;
}

FailureHandler& handler_slot() {
  static FailureHandler handler;
  return handler;
}

std::string details_json(std::initializer_list<Detail> details) {
  std::string out = "{";
  bool first = true;
  for (const Detail& d : details) {
    if (!first) out += ",";
    first = false;
    out += nlohmann::json(d.key).dump();
    out += ":";
    out += d.json_value;
  }
  out += "}";
  return out;
}

void default_handler(const Site& site, std::initializer_list<Detail> details) {
  std::string text;
  for (const Detail& d : details) {
    text += " ";
    text += d.key;
    text += "=";
    text += d.json_value;
  }
  std::fprintf(stderr, "%.*s:%u: %.*s failed: %.*s [%.*s]%s\n",
               static_cast<int>(site.file().size()), site.file().data(), site.line(),
               static_cast<int>(kind_name(site.kind()).size()), kind_name(site.kind()).data(),
               static_cast<int>(site.message().size()), site.message().data(),
               static_cast<int>(site.condition_text().size()), site.condition_text().data(),
               text.c_str());
}

}  // namespace

void Site::fail(std::initializer_list<Detail> details) {
  if (violations_.fetch_add(1, std::memory_order_relaxed) == 0) {
    first_violation_ = details_json(details);
  }
  FailureHandler handler;
  {
    std::lock_guard lock(handler_mutex());
    handler = handler_slot();
  }
  if (handler) {
    handler(*this, details);
  } else {
    default_handler(*this, details);
  }
}

void Site::reset() {
  evaluations_.store(0, std::memory_order_relaxed);
  true_count_.store(0, std::memory_order_relaxed);
  violations_.store(0, std::memory_order_relaxed);
  first_violation_.clear();
}

FailureHandler set_failure_handler(FailureHandler handler) {
  std::lock_guard lock(handler_mutex());
  FailureHandler previous = std::move(handler_slot());
  handler_slot() = std::move(handler);
  return previous;
}

std::string Catalog::add(Site& site) {
  for (const Site* s : sites_) {
    if (s->file() == site.file() && s->line() == site.line() && s->message() == site.message()) {
      return "duplicate property key " + std::string(site.file()) + ":" +
             std::to_string(site.line()) + " \"" + std::string(site.message()) +
             "\" (columns " + std::to_string(s->column()) + " and " +
             std::to_string(site.column()) + "); give each property its own message";
    }
  }
  sites_.push_back(&site);
  return {};
}

std::vector<const Site*> Catalog::sites() const {
  std::vector<const Site*> out(sites_.begin(), sites_.end());
  std::sort(out.begin(), out.end(), [](const Site* a, const Site* b) {
    return std::make_tuple(a->file(), a->line(), a->column(), a->message()) <
           std::make_tuple(b->file(), b->line(), b->column(), b->message());
  });
  return out;
}

std::vector<Site*> Catalog::mutable_sites() { return sites_; }

void Catalog::reset() {
  for (Site* s : sites_) s->reset();
}

std::uint64_t Catalog::failure_count() const {
  std::uint64_t n = 0;
  for (const Site* s : sites_) n += s->violation_count();
  return n;
}

Catalog& global_catalog() {
  static Catalog catalog;
  return catalog;
}

namespace detail {

Site& register_site(Site& site) {
  std::string error = global_catalog().add(site);
  if (!error.empty()) {
    std::fprintf(stderr, "cairn properties: %s\n", error.c_str());
    std::exit(2);
  }
  return site;
}

}  // namespace detail

namespace {

// Whether the property's own condition holds over this run (Antithesis "condition").
bool run_condition(const Site& s) {
  switch (s.kind()) {
    case Kind::always:
    case Kind::always_or_unreachable: return s.false_count() == 0;
    case Kind::never: return s.true_count() == 0;
    case Kind::sometimes: return s.true_count() > 0;
    case Kind::reachable: return s.evaluations() > 0;
    case Kind::unreachable: return s.evaluations() == 0;
  }
  return false;
}

}  // namespace

void write_jsonl(const Catalog& catalog, std::string& out) {
  nlohmann::json sdk = {{"antithesis_sdk",
                         {{"language", {{"name", "C++"}, {"version", "C++20"}}},
                          {"sdk_version", "cairn-properties 1"},
                          {"protocol_version", "1.1"}}}};
  out += sdk.dump();
  out += "\n";
  for (const Site* s : catalog.sites()) {
    nlohmann::json details = {{"evaluations", s->evaluations()},
                              {"true", s->true_count()},
                              {"false", s->false_count()},
                              {"violations", s->violation_count()},
                              {"kind", kind_name(s->kind())},
                              {"condition_text", s->condition_text()}};
    if (!s->first_violation_details().empty()) {
      details["first_violation"] = nlohmann::json::parse(s->first_violation_details());
    }
    nlohmann::json line = {
        {"antithesis_assert",
         {{"hit", s->evaluations() > 0},
          {"must_hit", must_hit(s->kind())},
          {"assert_type", assert_type(s->kind())},
          {"display_type", display_type(s->kind())},
          {"message", s->message()},
          {"condition", run_condition(*s)},
          {"id", s->id()},
          {"location",
           {{"class", ""}, {"function", ""}, {"file", s->file()},
            {"begin_line", s->line()}, {"begin_column", s->column()}}},
          {"details", details}}}};
    out += line.dump();
    out += "\n";
  }
}

std::string write_jsonl_file(const Catalog& catalog, const std::string& path, bool partial) {
  std::string text;
  write_jsonl(catalog, text);
  if (partial) text += "{\"cairn_run\":{\"partial\":true}}\n";
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return "cannot open " + path + " for writing: " + std::strerror(errno);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) return "write to " + path + " failed";
  return {};
}

}  // namespace cairn::props
