#pragma once
// Status and Result<T>: errors as values, EdgeTable-wide.
//
// A Status is a code plus a message that names the culprit (attribute path,
// config key, byte offset). Result<T> holds either a T or a non-OK Status.
// Both are [[nodiscard]]: an ignored error is a compile warning.
// No exception crosses a module boundary; third-party exceptions are caught
// in the one module that wraps that library and become a Status there.
// Threads: values; safe to copy and move between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "edge/base/assert.h"

namespace edgetable {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,   // the caller's input is wrong; retrying will not help
    kNotFound,          // a named resource (table, stream, file) does not exist
    kConditionFailed,   // a caller-supplied condition was false; nothing changed
    kAlreadyExists,     // the resource exists / is in use
    kBusy,              // back-pressure: retry later (queue full, budget reached)
    kUnavailable,       // a peer or service cannot be reached now; retry later
    kCorruption,        // stored or received bytes fail verification
    kIOError,           // the operating system or SQLite failed an I/O
    kInternal,          // a bug or an unexpected library state
    kLimitExceeded,     // a size or count limit was passed
    kUnauthenticated,   // no or bad credentials
    kPermissionDenied,  // credentials valid, action not allowed
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status ConditionFailed(std::string m) { return {Code::kConditionFailed, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status LimitExceeded(std::string m) { return {Code::kLimitExceeded, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>" (same code).
  Status WithPrefix(std::string_view prefix) const;

  bool operator==(const Status& other) const = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

// Result<T>: a T, or the Status saying why there is none.
// REQUIRES: constructed from a non-OK Status when it holds no value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    ET_ASSERT(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { ET_ASSERT(ok()); return std::get<T>(v_); }
  const T& value() const& { ET_ASSERT(ok()); return std::get<T>(v_); }
  T&& value() && { ET_ASSERT(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgetable

// Evaluates expr (a Status); returns it from the enclosing function unless OK.
#define ET_CONCAT_INNER_(a, b) a##b
#define ET_CONCAT_(a, b) ET_CONCAT_INNER_(a, b)

// The temporary is named by line, so that nested uses (a lambda inside the
// argument) do not shadow each other.
#define ET_RETURN_IF_ERROR(expr) ET_RETURN_IF_ERROR_IMPL_(ET_CONCAT_(et_status_, __LINE__), expr)
#define ET_RETURN_IF_ERROR_IMPL_(tmp, expr)   \
  do {                                        \
    ::edgetable::Status tmp = (expr);         \
    if (!tmp.ok()) return tmp;                \
  } while (0)

// Evaluates rexpr (a Result<T>); on error returns its Status, else moves the
// value into lhs (a declaration such as `auto x` or an existing variable).
#define ET_ASSIGN_OR_RETURN(lhs, rexpr) \
  ET_ASSIGN_OR_RETURN_IMPL_(ET_CONCAT_(et_result_, __LINE__), lhs, rexpr)
#define ET_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
