// Parent side of terminals, fd passing and sd_notify (src/lifecycle/console.ts, notify.ts, fds.ts):
// AF_UNIX sockets that Node's `net` and `dgram` cannot do (SCM_RIGHTS, SOCK_DGRAM), and terminal
// settings Node has no API for (window size, ONLCR).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include <napi.h>

#include "errors.h"
#include "scm.h"

namespace tsrunc {

namespace {

// A sockaddr_un for `path`; a leading '@' names an abstract socket (as Go's net package does, which
// is what runc's callers use: NOTIFY_SOCKET is often abstract). EINVAL when it does not fit (Go's
// error for a too long path too).
int UnixAddr(const std::string &path, struct sockaddr_un *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (path.empty() || path.size() > sizeof sa->sun_path - (path[0] == '@' ? 0 : 1)) return EINVAL;
  memcpy(sa->sun_path, path.data(), path.size());
  if (path[0] == '@') sa->sun_path[0] = 0;
  *len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  return 0;
}

std::string Str(const Napi::Value &v) { return v.As<Napi::String>().Utf8Value(); }
int Int(const Napi::Value &v) { return v.As<Napi::Number>().Int32Value(); }

// unixConnect(path, type: 'stream' | 'dgram') -> fd (O_CLOEXEC). A blocking connect: for a stream
// socket it returns as soon as the connection sits in the listener's backlog, before any accept.
Napi::Value UnixConnect(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = Str(info[0]);
  bool dgram = info.Length() > 1 && Str(info[1]) == "dgram";
  struct sockaddr_un sa;
  socklen_t len;
  if (int err = UnixAddr(path, &sa, &len)) throw ErrnoError(env, err, "connect", path);
  Fd s(socket(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!s.ok()) throw ErrnoError(env, errno, "socket");
  int rc;
  do rc = connect(s.get(), reinterpret_cast<struct sockaddr *>(&sa), len); while (rc < 0 && errno == EINTR);
  if (rc < 0) throw ErrnoError(env, errno, "connect", path);
  return Napi::Number::New(env, s.release());
}

// unixDgramBind(path) -> fd: a SOCK_DGRAM socket bound at path (the container's sd_notify socket).
Napi::Value UnixDgramBind(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = Str(info[0]);
  struct sockaddr_un sa;
  socklen_t len;
  if (int err = UnixAddr(path, &sa, &len)) throw ErrnoError(env, err, "bind", path);
  Fd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.ok()) throw ErrnoError(env, errno, "socket");
  if (bind(s.get(), reinterpret_cast<struct sockaddr *>(&sa), len) < 0) throw ErrnoError(env, errno, "bind", path);
  return Napi::Number::New(env, s.release());
}

// sendFd(sock, fd, payload): one message, `payload` as data and exactly one SCM_RIGHTS fd.
Napi::Value SendFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = Int(info[0]), fd = Int(info[1]);
  std::string payload = Str(info[2]);
  if (payload.empty()) throw ErrnoError(env, EINVAL, "sendmsg");  // a stream needs a byte to carry the fd
  ssize_t n = SendWithFd(sock, payload.data(), payload.size(), fd);
  if (n < 0) throw ErrnoError(env, errno, "sendmsg");
  if (static_cast<size_t>(n) != payload.size()) throw ErrnoError(env, EMSGSIZE, "sendmsg");
  return env.Undefined();
}

// sendData(sock, data: string): one send (a datagram on a SOCK_DGRAM socket).
Napi::Value SendData(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = Int(info[0]);
  std::string data = Str(info[1]);
  ssize_t n;
  do n = send(sock, data.data(), data.size(), MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, errno, "write");
  return env.Undefined();
}

// getWinsize(fd) -> {rows, cols}, or null when fd is not a terminal.
Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws;
  if (ioctl(Int(info[0]), TIOCGWINSZ, &ws) < 0) {
    if (errno == ENOTTY || errno == EBADF || errno == EINVAL) return env.Null();
    throw ErrnoError(env, errno, "ioctl(TIOCGWINSZ)");
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("rows", Napi::Number::New(env, ws.ws_row));
  r.Set("cols", Napi::Number::New(env, ws.ws_col));
  return r;
}

// setWinsize(fd, rows, cols)
Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = static_cast<unsigned short>(Int(info[1]));
  ws.ws_col = static_cast<unsigned short>(Int(info[2]));
  if (ioctl(Int(info[0]), TIOCSWINSZ, &ws) < 0) throw ErrnoError(env, errno, "ioctl(TIOCSWINSZ)");
  return env.Undefined();
}

// clearOnlcr(fd): no NL -> CR NL translation on the pty's output (runc's ClearONLCR for `run -t`
// in the foreground: the host terminal does that translation itself, and a redirected stdout gets
// plain lines).
Napi::Value ClearOnlcr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = Int(info[0]);
  struct termios t;
  if (tcgetattr(fd, &t) < 0) throw ErrnoError(env, errno, "tcgetattr");
  t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
  if (tcsetattr(fd, TCSANOW, &t) < 0) throw ErrnoError(env, errno, "tcsetattr");
  return env.Undefined();
}

// Wait for the container's sd_notify READY (runc's notify socket relay): returns 0 and the first
// `READY=...` line of a datagram that has one, or 0 and an empty line when `pidfd` says the
// process is gone; other datagrams (STATUS=..., WATCHDOG=1) are read and dropped, as runc does.
int NotifyLoop(int sock, int pidfd, std::string *line) {
  line->clear();
  for (;;) {
    struct pollfd p[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int rc = poll(p, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return errno;
    if (p[0].revents & POLLIN) {
      char buf[4096];
      ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return errno;
      std::string got(buf, static_cast<size_t>(n));
      size_t i = 0;
      while (i <= got.size()) {
        size_t j = got.find('\n', i);
        if (j == std::string::npos) j = got.size();
        if (got.compare(i, 6, "READY=") == 0) {
          *line = got.substr(i, j - i);
          return 0;
        }
        i = j + 1;
      }
      continue;
    }
    if (p[1].revents) return 0;
  }
}

Napi::Value NotifyResult(Napi::Env env, const std::string &line) {
  return line.empty() ? env.Null() : Napi::String::New(env, line);
}

// notifyWaitSync(sock, pidfd) -> the READY line, or null once the process is gone.
Napi::Value NotifyWaitSync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string line;
  if (int err = NotifyLoop(Int(info[0]), Int(info[1]), &line)) throw ErrnoError(env, err, "recv(notify socket)");
  return NotifyResult(env, line);
}

// notifyWait(sock, pidfd) -> Promise of the same, on a worker thread (`run` keeps relaying signals
// and the terminal meanwhile).
class NotifyWorker : public Napi::AsyncWorker {
 public:
  NotifyWorker(Napi::Env env, int sock, int pidfd)
      : Napi::AsyncWorker(env), sock_(sock), pidfd_(pidfd), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { err_ = NotifyLoop(sock_, pidfd_, &line_); }
  void OnOK() override {
    if (err_) deferred_.Reject(ErrnoError(Env(), err_, "recv(notify socket)").Value());
    else deferred_.Resolve(NotifyResult(Env(), line_));
  }

 private:
  int sock_, pidfd_, err_ = 0;
  std::string line_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value NotifyWait(const Napi::CallbackInfo &info) {
  auto *w = new NotifyWorker(info.Env(), Int(info[0]), Int(info[1]));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitConsole(Napi::Env env, Napi::Object exports) {
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect));
  exports.Set("unixDgramBind", Napi::Function::New(env, UnixDgramBind));
  exports.Set("sendFd", Napi::Function::New(env, SendFd));
  exports.Set("sendData", Napi::Function::New(env, SendData));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("clearOnlcr", Napi::Function::New(env, ClearOnlcr));
  exports.Set("notifyWaitSync", Napi::Function::New(env, NotifyWaitSync));
  exports.Set("notifyWait", Napi::Function::New(env, NotifyWait));
}

}  // namespace tsrunc
