// Registration only: the exports table of tsrunc_native.node.
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <napi.h>

#include "bpf.h"
#include "errors.h"

namespace tsrunc {
void InitSpawn(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitNetdev(Napi::Env env, Napi::Object exports);
void InitUserns(Napi::Env env, Napi::Object exports);
void InitConsole(Napi::Env env, Napi::Object exports);
void InitHooks(Napi::Env env, Napi::Object exports);
void InitSeccompNotify(Napi::Env env, Napi::Object exports);

Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall, const std::string &path) {
  // errno names come from Node's own table on the TS side (os.constants.errno); here we only
  // attach the numbers. `code` is filled in by src/sys/native.ts.
  std::string msg = std::string(syscall) + (path.empty() ? "" : " `" + path + "`") + ": errno " +
                    std::to_string(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}
}  // namespace tsrunc

void InitSeccomp(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tsrunc::InitSpawn(env, exports);
  tsrunc::InitFs(env, exports);
  tsrunc::InitNetdev(env, exports);
  tsrunc::InitUserns(env, exports);
  tsrunc::InitConsole(env, exports);
  tsrunc::InitHooks(env, exports);
  tsrunc::InitSeccompNotify(env, exports);
  InitBpf(env, exports);
  InitSeccomp(env, exports);
  return exports;
}

NODE_API_MODULE(tsrunc_native, Init)
