// Errors thrown to JS: Node's ErrnoException shape ({code, errno, syscall, path}) so TS can turn
// them into TsruncErrors naming the operation and the object. No strerror here: TS owns wording.
#pragma once
#include <napi.h>
#include <string>

namespace tsrunc {

Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall, const std::string &path = "");

// RAII for a file descriptor on the parent side.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  Fd(Fd &&o) noexcept : fd_(o.release()) {}
  Fd &operator=(Fd &&o) noexcept { reset(o.release()); return *this; }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace tsrunc
