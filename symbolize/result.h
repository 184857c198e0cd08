// Result<T> and Error: how every library layer of goperf reports failure (no exceptions below profiler/).
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace goperf {

enum class ErrorCode {
  kInvalidArgument,  // the caller asked for something that cannot be
  kNotFound,         // a file, process, symbol or address that is not there
  kIo,               // a read or write failed (errno in the message)
  kFormat,           // the input is not of the expected format (not ELF, not Go, not a core, ...)
  kTruncated,        // the input ends before what it describes
  kUnsupported,      // a format version or kernel feature goperf does not handle
  kPermission,       // missing privilege (EPERM/EACCES); the message names what to change
  kUnavailable,      // memory not mapped, process gone, stack torn
  kInternal,
};

// An error: a code, a message, and context added as it travels up ("reading g at 0xc000001a0: ...").
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with what the caller was doing: "what: message".
  Error&& with_context(const std::string& what) && {
    message_ = what + ": " + message_;
    return std::move(*this);
  }
  Error with_context(const std::string& what) const& { return Error(code_, what + ": " + message_); }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that returns nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(ErrorCode code, std::string message) { return Error(code, std::move(message)); }

}  // namespace goperf
