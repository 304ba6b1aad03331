// seccompSendListener(path, fd, json): the runtime side of SCMP_ACT_NOTIFY (config-linux.md
// "Seccomp", listenerPath): connect to the agent's AF_UNIX SOCK_STREAM socket, send the container
// process state as the payload with the listener fd in SCM_RIGHTS, in one sendmsg, and close the
// connection (one state per connection). Throws {errno, syscall, path} on failure.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <napi.h>

#include <string>

#include "errors.h"
#include "scm.h"

namespace tsrunc {
namespace {

Napi::Value SendListener(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  std::string json = info[2].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) throw ErrnoError(env, ENAMETOOLONG, "connect", path);
  memcpy(addr.sun_path, path.data(), path.size());
  Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.ok()) throw ErrnoError(env, errno, "socket");
  int rc;
  do rc = connect(s.get(), reinterpret_cast<struct sockaddr *>(&addr), sizeof addr); while (rc < 0 && errno == EINTR);
  if (rc < 0) throw ErrnoError(env, errno, "connect", path);
  // The fd goes with the first sendmsg; the rest of a long state follows as plain payload.
  ssize_t first = SendWithFd(s.get(), json.data(), json.size(), fd);
  if (first < 0) throw ErrnoError(env, errno, "sendmsg", path);
  size_t sent = static_cast<size_t>(first);
  while (sent < json.size()) {
    ssize_t n = send(s.get(), json.data() + sent, json.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ErrnoError(env, errno, "sendmsg", path);
    sent += static_cast<size_t>(n);
  }
  return env.Undefined();
}

}  // namespace

void InitSeccompNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompSendListener", Napi::Function::New(env, SendListener));
}

}  // namespace tsrunc
