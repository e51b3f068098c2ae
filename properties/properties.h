// cairn properties: ALWAYS / ALWAYS_OR_UNREACHABLE / SOMETIMES / REACHABLE / UNREACHABLE /
// NEVER, with the semantics of the Antithesis SDK assertions.
//
// Every call site is registered in a catalog during static initialisation, keyed by
// (file, line, message), so a site that never runs still appears in the run's report.
// Two sites with the same key are rejected at start-up: the program prints both
// locations to stderr and exits with status 2 before main().
//
//   ALWAYS(cond, "message", {{"key", value}, ...})  cond must be true every time it runs;
//                                                   must be reached at least once.
//   ALWAYS_OR_UNREACHABLE(cond, "message", ...)     as ALWAYS, but need not be reached.
//   NEVER(cond, "message", ...)                     cond must be false every time; need
//                                                   not be reached.
//   SOMETIMES(cond, "message", ...)                 cond must be true at least once.
//   REACHABLE("message", ...)                       must be reached at least once.
//   UNREACHABLE("message", ...)                     must never be reached.
//
// The message must be a string literal. Details are optional {key, value} pairs whose
// values are integers, bools or strings; they are evaluated only when the property
// fails. A failure (false ALWAYS, true NEVER, reached UNREACHABLE) calls the failure
// handler; the default handler prints file:line, message and details to stderr and
// records the failure. The program decides whether to stop (see failure_count()).
//
// With CAIRN_PROPERTIES_OFF defined (the props-off preset) every macro compiles to an
// unevaluated sizeof: conditions and details still type-check but never run.
//
// Thread-safety: counters are relaxed atomics; the handler may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#if !defined(__clang__)
#include <source_location>
#endif

namespace cairn::props {

enum class Kind : std::uint8_t {
  always,
  always_or_unreachable,
  sometimes,
  reachable,
  unreachable,
  never,
};

// Name used in reports: "ALWAYS", "SOMETIMES", ...
std::string_view kind_name(Kind kind);
// Antithesis "assert_type": "always", "sometimes" or "reachability".
std::string_view assert_type(Kind kind);
// Antithesis "display_type": "Always", "AlwaysOrUnreachable", ...
std::string_view display_type(Kind kind);
// True for ALWAYS, SOMETIMES, REACHABLE: a run that never hits them fails its report.
bool must_hit(Kind kind);

// One key/value detail attached to a property evaluation, rendered as JSON.
struct Detail {
  std::string_view key;
  std::string json_value;  // already JSON-encoded (number, bool or quoted string)

  template <typename T>
    requires std::is_integral_v<T>
  Detail(std::string_view k, T v) : key(k) {
    if constexpr (std::is_same_v<T, bool>) {
      json_value = v ? "true" : "false";
    } else {
      json_value = std::to_string(v);
    }
  }
  Detail(std::string_view k, std::string_view v);
  Detail(std::string_view k, const char* v) : Detail(k, std::string_view(v)) {}
  Detail(std::string_view k, const std::string& v) : Detail(k, std::string_view(v)) {}
};

// One call site. Metadata is fixed at registration; counters are per run.
class Site {
 public:
  Site(Kind kind, std::string_view file, unsigned line, unsigned column,
       std::string_view message, std::string_view condition);

  Kind kind() const { return kind_; }
  std::string_view file() const { return file_; }
  unsigned line() const { return line_; }
  unsigned column() const { return column_; }
  std::string_view message() const { return message_; }
  std::string_view condition_text() const { return condition_; }
  // "message (file:line)": unique within a catalog, used as the report id.
  std::string id() const;

  // Counts one evaluation with the condition's value. Returns true when this
  // evaluation is a violation (false ALWAYS*, true NEVER, any UNREACHABLE), in which
  // case the caller passes the details to fail().
  bool record(bool condition_value);
  // Records a violation and calls the failure handler.
  void fail(std::initializer_list<Detail> details);

  std::uint64_t evaluations() const { return evaluations_.load(std::memory_order_relaxed); }
  std::uint64_t true_count() const { return true_count_.load(std::memory_order_relaxed); }
  std::uint64_t false_count() const { return evaluations() - true_count(); }
  std::uint64_t violation_count() const { return violations_.load(std::memory_order_relaxed); }
  // JSON object text of the details of the first violation in this run, or "".
  const std::string& first_violation_details() const { return first_violation_; }
  void reset();

 private:
  Kind kind_;
  std::string_view file_;
  unsigned line_;
  unsigned column_;
  std::string_view message_;
  std::string_view condition_;
  std::atomic<std::uint64_t> evaluations_{0};
  std::atomic<std::uint64_t> true_count_{0};
  std::atomic<std::uint64_t> violations_{0};
  std::string first_violation_;
};

// The set of sites of one program (or of one test). Sites are not owned.
class Catalog {
 public:
  // Adds a site. Returns an empty string on success, or a message naming both
  // locations when a site with the same (file, line, message) is already present.
  std::string add(Site& site);
  // Sites ordered by (file, line, column, message): a stable, address-free order.
  std::vector<const Site*> sites() const;
  std::vector<Site*> mutable_sites();
  // Zeroes every site's counters (start of a simulator seed or fuzz input).
  void reset();
  // Number of violations recorded since the last reset().
  std::uint64_t failure_count() const;

 private:
  std::vector<Site*> sites_;
};

// The catalog that the macros register into.
Catalog& global_catalog();

using FailureHandler = std::function<void(const Site&, std::initializer_list<Detail>)>;
// Replaces the failure handler; returns the previous one. An empty handler restores
// the default (print to stderr).
FailureHandler set_failure_handler(FailureHandler handler);

// Convenience wrappers over global_catalog().
inline void reset() { global_catalog().reset(); }
inline std::uint64_t failure_count() { return global_catalog().failure_count(); }

// Writes the catalog as Antithesis local-output JSONL: one "antithesis_sdk" line, then
// one "antithesis_assert" line per site (sites never hit included).
void write_jsonl(const Catalog& catalog, std::string& out);
// Writes write_jsonl() output to `path`; with `partial`, a last line
// {"cairn_run":{"partial":true}} says the run was stopped before its end (cairn-props
// merge counts such runs). Returns "" or an error naming the path and the reason.
std::string write_jsonl_file(const Catalog& catalog, const std::string& path, bool partial = false);

namespace detail {

// A string literal usable as a template argument, so each call site gets its own
// static registration object.
template <std::size_t N>
struct FixedString {
  char chars[N]{};
  constexpr FixedString(const char (&s)[N]) {  // NOLINT: implicit by design
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

Site& register_site(Site& site);

// Owns one site and registers it on construction.
struct Registered {
  Site site;
  Registered(Kind kind, std::string_view file, unsigned line, unsigned column,
             std::string_view message, std::string_view condition)
      : site(kind, file, line, column, message, condition) {
    register_site(site);
  }
};

template <Kind K, FixedString File, unsigned Line, unsigned Column, FixedString Message,
          FixedString Condition>
struct SiteHolder {
  // Constructed (and so registered) during static initialisation because the macro
  // expansion odr-uses it, whether or not the expansion ever runs.
  static inline Registered holder{K, File.view(), Line, Column, Message.view(),
                                  Condition.view()};
};

}  // namespace detail
}  // namespace cairn::props

#if defined(__clang__)
#define CAIRN_PROP_COLUMN_ __builtin_COLUMN()
#else
#define CAIRN_PROP_COLUMN_ std::source_location::current().column()
#endif

#if defined(CAIRN_PROPERTIES_OFF)

#define CAIRN_PROP_(kind, cond, cond_text, msg, ...)                                   \
  ((void)sizeof(static_cast<bool>(cond)),                                               \
   (void)sizeof(std::initializer_list<::cairn::props::Detail>{__VA_ARGS__}),            \
   (void)sizeof(msg))

#else

#define CAIRN_PROP_(kind, cond, cond_text, msg, ...)                                   \
  do {                                                                                  \
    ::cairn::props::Site& cairn_prop_site_ = ::cairn::props::detail::SiteHolder<        \
        kind, __FILE__, __LINE__, CAIRN_PROP_COLUMN_, msg, cond_text>::holder.site;            \
    if (cairn_prop_site_.record(static_cast<bool>(cond))) {                             \
      cairn_prop_site_.fail({__VA_ARGS__});                                             \
    }                                                                                   \
  } while (0)

#endif

#define ALWAYS(cond, msg, ...) \
  CAIRN_PROP_(::cairn::props::Kind::always, cond, #cond, msg __VA_OPT__(, ) __VA_ARGS__)
#define ALWAYS_OR_UNREACHABLE(cond, msg, ...)                                        \
  CAIRN_PROP_(::cairn::props::Kind::always_or_unreachable, cond, #cond,              \
              msg __VA_OPT__(, ) __VA_ARGS__)
#define NEVER(cond, msg, ...) \
  CAIRN_PROP_(::cairn::props::Kind::never, cond, #cond, msg __VA_OPT__(, ) __VA_ARGS__)
#define SOMETIMES(cond, msg, ...) \
  CAIRN_PROP_(::cairn::props::Kind::sometimes, cond, #cond, msg __VA_OPT__(, ) __VA_ARGS__)
#define REACHABLE(msg, ...) \
  CAIRN_PROP_(::cairn::props::Kind::reachable, true, "", msg __VA_OPT__(, ) __VA_ARGS__)
#define UNREACHABLE(msg, ...) \
  CAIRN_PROP_(::cairn::props::Kind::unreachable, true, "", msg __VA_OPT__(, ) __VA_ARGS__)
