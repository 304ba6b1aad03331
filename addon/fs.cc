// Small filesystem and process helpers Node lacks: mkfifo, flock, and the `start` side of the
// exec.fifo handshake.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <linux/nsfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include <napi.h>

#include "errors.h"

namespace tsrunc {
namespace {

// mkfifo(path, mode): mode is applied exactly (umask cleared by an explicit chmod).
Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  if (mkfifo(path.c_str(), mode) < 0) throw ErrnoError(env, errno, "mkfifo", path);
  if (chmod(path.c_str(), mode) < 0) throw ErrnoError(env, errno, "chmod", path);
  return env.Undefined();
}

// lockDir(path) -> fd: an exclusive flock(2) on the directory itself, held until the fd is closed
// or the process exits. Serialises operations on one container id. Nothing is created, so it works
// on a read-only or full state root (kill and delete must still stop a container there), and a
// symlink in place of the directory is refused (O_NOFOLLOW: ELOOP or ENOTDIR), never followed.
Napi::Value LockDir(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok()) throw ErrnoError(env, errno, "open", path);
  int rc;
  do rc = flock(fd.get(), LOCK_EX); while (rc < 0 && errno == EINTR);
  if (rc < 0) throw ErrnoError(env, errno, "flock", path);
  return Napi::Number::New(env, fd.release());
}

// fifoStart(path, pidfd) -> {result: 'started' | 'dead' | 'failed', message}
// The `start` half of the handshake (runc's handleFifo): open exec.fifo for reading without
// blocking, then poll it together with the init's pidfd. The init, blocked in open(O_WRONLY),
// wakes up, writes one byte and goes on to exec. If the init is dead, the pidfd turns readable
// instead and start reports that rather than hanging forever. After the byte, read until EOF (as
// runc's io.ReadAll): the init's end closes at the execve of the container's program, so 'started'
// means the program runs; text after the byte is a failed startContainer hook ('failed').
Napi::Value FifoStart(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int pidfd = info[1].As<Napi::Number>().Int32Value();
  Fd fifo(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo.ok()) throw ErrnoError(env, errno, "open", path);
  // From the moment a reader exists the init's open(O_WRONLY) returns and the container starts,
  // whether or not we live to read the byte: remove the fifo now, so that a `start` killed from
  // here on cannot leave a running container that `state` derives as `created`. (The init holds
  // the fifo's inode, not its name.) A read-only state root cannot lose it: start still works.
  if (unlink(path.c_str()) < 0 && errno != ENOENT && errno != EROFS) throw ErrnoError(env, errno, "unlink", path);
  auto result = [&](const char *what, const std::string &msg) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("result", what);
    r.Set("message", msg);
    return r;
  };
  bool gotByte = false;
  std::string msg;
  for (;;) {
    struct pollfd p[2] = {{fifo.get(), POLLIN, 0}, {pidfd, POLLIN, 0}};
    // Once the byte is in, only the fifo matters: its EOF comes with the exec or the init's exit.
    int n = poll(p, gotByte ? 1 : 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError(env, errno, "poll", path);
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char b[4096];
      ssize_t r = read(fifo.get(), b, sizeof b);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (p[0].revents & POLLIN) continue;
        r = 0;  // POLLHUP with nothing to read: the writer is gone
      }
      if (r < 0) throw ErrnoError(env, errno, "read", path);
      if (r == 0) {
        // The writer went away: without the byte the init died at the handshake.
        if (!gotByte) return result("dead", "");
        return msg.empty() ? result("started", "") : result("failed", msg);
      }
      size_t off = 0;
      if (!gotByte) { gotByte = true; off = 1; }
      if (msg.size() < 65536) msg.append(b + off, static_cast<size_t>(r) - off);
      continue;
    }
    if (!gotByte && p[1].revents) return result("dead", "");
  }
}

}  // namespace

// nsType(fd) -> the CLONE_NEW* flag of the namespace `fd` refers to (ioctl NS_GET_NSTYPE), so
// that a linux.namespaces[].path of the wrong type is refused before anything is made.
Napi::Value NsType(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int t = ioctl(fd, NS_GET_NSTYPE);
  if (t < 0) throw ErrnoError(env, errno, "ioctl(NS_GET_NSTYPE)");
  return Napi::Number::New(env, t);
}

void InitFsLean(Napi::Env env, Napi::Object exports) {
  exports.Set("lockDir", Napi::Function::New(env, LockDir));
  exports.Set("fifoStart", Napi::Function::New(env, FifoStart));
}

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("nsType", Napi::Function::New(env, NsType));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
}

}  // namespace tsrunc
