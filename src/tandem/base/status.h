// Status and Result<T>: errors as values across module boundaries.
//
// Result<T> implements the subset of std::expected's API that tandem uses
// (has_value, operator bool, value, error, operator*, operator->, value_or),
// so it can be swapped for std::expected under C++23. No exception crosses a
// module boundary: adapters catch library exceptions and return a Status.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tandem {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed (config, plan, tool args)
  kNotFound,            // a file, key, model or record does not exist
  kAlreadyExists,
  kPermissionDenied,    // refused by policy (guardrail, path escape, sandbox)
  kFailedPrecondition,  // the world is not in the state the operation needs
  kUnavailable,         // transient: network, overloaded, rate limited
  kDeadlineExceeded,    // a timeout fired
  kCancelled,           // the user or a caller asked to stop
  kIo,                  // the operating system said no (disk full, EIO)
  kInternal,            // a bug in tandem
};

std::string_view StatusCodeName(StatusCode code);

template <typename E>
struct Unexpected;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // Lets TRY return its error from a function that returns Status.
  template <typename E>
  Status(Unexpected<E> u) : Status(std::move(u.error)) {}  // NOLINT: implicit by design

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "not_found: no such file: a.txt"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIo, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Wraps an error to construct the error side of a Result (like std::unexpected).
template <typename E>
struct Unexpected {
  explicit Unexpected(E e) : error(std::move(e)) {}
  E error;
};

// Result<T, E>: a T, or an error E (Status unless stated otherwise).
template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  template <typename U>
  Result(Unexpected<U> u) : data_(E(std::move(u.error))) {}  // NOLINT
  Result(E e) : data_(std::move(e)) {}  // NOLINT: implicit by design

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const { return has_value() ? value() : std::move(fallback); }

  const E& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, E> data_;
};

}  // namespace tandem

// RETURN_IF_ERROR(expr): expr yields a Status; returns it when not ok.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::tandem::Status _tandem_status = (expr);          \
    if (!_tandem_status.ok()) return _tandem_status;   \
  } while (0)

// TRY(expr): expr yields a Result<T>; evaluates to the T, or returns the error
// from the enclosing function (which must return Status or Result<U>).
// Uses a GNU statement expression (GCC and Clang), as ccache does.
#define TRY(expr)                                                          \
  ({                                                                       \
    auto&& _tandem_result = (expr);                                        \
    if (!_tandem_result) return ::tandem::Unexpected(_tandem_result.error()); \
    std::move(*_tandem_result);                                            \
  })
