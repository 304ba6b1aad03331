// Registration only: the exports table of tsrunc_native.node.
//
// Two steps, because creating a function costs ~10 us here (V8 builds a FunctionTemplate for each)
// and the addon has ~30: the load registers what the lean commands (start, kill, delete) call,
// plus registerAll(exports), which adds the rest once some command needs it (src/sys/native.ts).
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <napi.h>

#include "bpf.h"
#include "errors.h"

namespace tsrunc {
void InitSpawnLean(Napi::Env env, Napi::Object exports);
void InitSpawn(Napi::Env env, Napi::Object exports);
void InitFsLean(Napi::Env env, Napi::Object exports);
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

/** registerAll(exports): every other function, onto the addon's exports object. */
static Napi::Value RegisterAll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "registerAll(exports): an object expected");
  }
  Napi::Object exports = info[0].As<Napi::Object>();
  tsrunc::InitSpawn(env, exports);
  tsrunc::InitFs(env, exports);
  tsrunc::InitNetdev(env, exports);
  tsrunc::InitUserns(env, exports);
  tsrunc::InitConsole(env, exports);
  tsrunc::InitHooks(env, exports);
  tsrunc::InitSeccompNotify(env, exports);
  InitBpf(env, exports);
  InitSeccomp(env, exports);
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tsrunc::InitFsLean(env, exports);
  tsrunc::InitSpawnLean(env, exports);
  exports.Set("registerAll", Napi::Function::New(env, RegisterAll));
  return exports;
}

NODE_API_MODULE(tsrunc_native, Init)
