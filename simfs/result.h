// Errors as values for every layer of cairn: an Error (kind + message + where) and
// Result<T>, which holds either a T or an Error. No exceptions cross a cairn API.
//
// An Error names where it happened when it is about stored data: stream, segment file,
// byte position and record offset (each optional). The message is for people; the
// fields are for programs (the simulator's oracle reads them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cairn {

enum class Errc : std::uint8_t {
  io_error,            // the device or OS reported EIO (or a simulated one)
  no_space,            // ENOSPC; a write may have been short
  not_found,           // file, directory, stream or offset does not exist
  already_exists,      // exclusive create of an existing file
  invalid_argument,    // the caller passed something out of contract
  corruption,          // stored bytes fail a CRC, the chain, or a structural check
  unsupported_format,  // unknown magic or format version
  record_too_large,    // a payload above max_record_bytes
  fail_stopped,        // a previous fsync failed; the store refuses writes until reopened
  closed,              // the store was closed
  locked,              // another writer holds the store's lock
  read_only,           // a write through a read-only open (file or store)
};

// "io_error", "no_space", ...
const char* errc_name(Errc code);

struct Error {
  Errc code = Errc::io_error;
  std::string message;
  std::optional<std::uint64_t> stream;
  std::string segment;  // file name of the segment (or other file), "" when none
  std::optional<std::uint64_t> byte_pos;
  std::optional<std::uint64_t> offset;

  // "corruption: <message>" followed by the location fields that are set.
  std::string to_string() const;
};

inline Error make_error(Errc code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  // By value, so `for (auto& x : f().value())` owns what it walks (a T&& into the
  // temporary Result would dangle).
  T value() && { return std::get<0>(std::move(v_)); }
  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace cairn

// Propagates an error from an expression yielding a Result. Used as a statement.
#define CAIRN_TRY(expr)                                   \
  do {                                                    \
    auto cairn_try_result_ = (expr);                      \
    if (!cairn_try_result_.ok()) {                        \
      return std::move(cairn_try_result_).error();        \
    }                                                     \
  } while (0)

// Binds the value of a Result-yielding expression or propagates its error.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(r_, __LINE__), lhs, expr)
#define CAIRN_CONCAT_INNER_(a, b) a##b
#define CAIRN_CONCAT_(a, b) CAIRN_CONCAT_INNER_(a, b)
#define CAIRN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).error();      \
  lhs = std::move(tmp).value()
