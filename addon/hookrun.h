// Running one OCI hook (config.md "POSIX-platform Hooks"): shared by the parent side (the addon,
// runtime-namespace hooks: prestart, createRuntime, poststart, poststop) and tsrunc-init
// (container-namespace hooks: createContainer, startContainer). Header-only so that the static
// init and the N-API addon compile the same code.
//
// What runc's configs.Command.Run does, and so does this: the hook gets the state JSON on stdin,
// its stdout and stderr are captured (never passed through) and quoted in the error when it fails,
// argv is `args` as given (args[0] is argv[0], as execv; no args: argv = {path}), `env` is the
// whole environment (absent: the runtime's own, as Go's exec.Cmd with a nil Env), a timeout kills
// it with SIGKILL. Error texts are Go's: "exit status N", "signal: killed",
// "fork/exec PATH: no such file or directory", "hook ran past specified timeout of 1.0s".
//
// The child is cloned from a process that may be multi-threaded (Node): between clone and execve
// it only makes raw syscalls on memory prepared before (see addon/spawn.cc). It gets fresh pipes
// on 0-2, every other fd is closed by the exec (close_range CLOEXEC, so tsrunc's own fds, the sync
// socket or a --preserve-fds fd never reach a hook), every signal disposition back to default and
// an empty signal mask (Node ignores SIGPIPE; ignored signals survive execve).
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace tsrunc {
namespace hookrun {

struct Hook {
  std::string path;
  std::vector<std::string> args;  // argv; empty: {path}
  bool hasEnv = false;            // false: inherit the caller's environment
  std::vector<std::string> env;
  int64_t timeoutMs = 0;          // 0: none
  std::string cwd;                // "": the caller's
};

struct Result {
  bool started = false;
  int execErrno = 0;     // the execve failed with this
  bool timedOut = false;
  bool exited = false;   // exited (code) or killed (signal)
  int code = 0;
  int signal = 0;
  std::string out, err;  // captured, each at most kMaxOutput bytes
};

constexpr size_t kMaxOutput = 64 * 1024;

struct KSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

inline void CloseFd(int &fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

inline int64_t NowMs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// Raw syscalls only (see the top of the file).
[[noreturn]] inline void Child(int in, int out, int err, int errpipe, const char *cwd, const char *path, char *const *argv, char *const *envp) {
  KSigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.handler = SIG_DFL;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8);
  }
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, 8);
  // dup3 clears O_CLOEXEC on the new fd; the pipes' own fds are all >= 3 (0-2 are open in every
  // caller), so no pair here can alias.
  if (syscall(SYS_dup3, in, 0, 0) < 0 || syscall(SYS_dup3, out, 1, 0) < 0 || syscall(SYS_dup3, err, 2, 0) < 0) {
    int e = errno;
    syscall(SYS_write, errpipe, &e, sizeof e);
    syscall(SYS_exit_group, 127);
  }
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 4096; fd++) syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
  }
  if (cwd[0] && syscall(SYS_chdir, cwd) < 0) {
    int e = errno;
    syscall(SYS_write, errpipe, &e, sizeof e);
    syscall(SYS_exit_group, 127);
  }
  syscall(SYS_execve, path, argv, envp);
  int e = errno;
  syscall(SYS_write, errpipe, &e, sizeof e);
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Run `h` with `input` on its stdin. Returns 0, or an errno of the runtime's own (pipe, clone).
inline int Run(const Hook &h, const std::string &input, Result *r) {
  // Everything the child touches is built now.
  std::vector<char *> argv, envp;
  std::string path = h.path;
  if (h.args.empty()) argv.push_back(path.data());
  for (const std::string &a : h.args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  char *const *env = environ;
  if (h.hasEnv) {
    for (const std::string &e : h.env) envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);
    env = envp.data();
  }
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, pexec[2] = {-1, -1};
  auto closeAll = [&]() {
    for (int *p : {pin, pout, perr, pexec}) { CloseFd(p[0]); CloseFd(p[1]); }
  };
  if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 || pipe2(pexec, O_CLOEXEC) < 0) {
    int e = errno;
    closeAll();
    return e;
  }
  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);  // no handler of ours may run in the child
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) Child(pin[0], pout[1], perr[1], pexec[1], h.cwd.c_str(), path.c_str(), argv.data(), env);
  int cloneErr = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  CloseFd(pin[0]);
  CloseFd(pout[1]);
  CloseFd(perr[1]);
  CloseFd(pexec[1]);
  if (pid < 0) {
    closeAll();
    return cloneErr;
  }
  r->started = true;
  fcntl(pin[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (input.empty()) CloseFd(pin[1]);
  int64_t deadline = h.timeoutMs > 0 ? NowMs() + h.timeoutMs : -1;
  bool outOpen = true, errOpen = true, execOpen = true;
  while (outOpen || errOpen || execOpen) {
    struct pollfd p[4];
    int n = 0, iin = -1, iout = -1, ierr = -1, iexec = -1;
    if (pin[1] >= 0) { iin = n; p[n++] = {pin[1], POLLOUT, 0}; }
    if (outOpen) { iout = n; p[n++] = {pout[0], POLLIN, 0}; }
    if (errOpen) { ierr = n; p[n++] = {perr[0], POLLIN, 0}; }
    if (execOpen) { iexec = n; p[n++] = {pexec[0], POLLIN, 0}; }
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - NowMs();
      if (left <= 0) { r->timedOut = true; break; }
      wait = static_cast<int>(left);
    }
    int rc = poll(p, n, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    if (rc == 0) { r->timedOut = true; break; }
    if (iin >= 0 && p[iin].revents) {
      ssize_t w = write(pin[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      // EPIPE (Node ignores SIGPIPE; the init blocks it here): the hook does not read its stdin.
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) CloseFd(pin[1]);
    }
    auto drain = [&](int idx, int fd, std::string *to, bool *open) {
      if (idx < 0 || !p[idx].revents) return;
      char buf[4096];
      ssize_t k = read(fd, buf, sizeof buf);
      if (k > 0) {
        if (to && to->size() < kMaxOutput) to->append(buf, std::min(static_cast<size_t>(k), kMaxOutput - to->size()));
      } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
        *open = false;
      }
    };
    drain(iout, pout[0], &r->out, &outOpen);
    drain(ierr, perr[0], &r->err, &errOpen);
    if (iexec >= 0 && p[iexec].revents) {
      int e = 0;
      ssize_t k = read(pexec[0], &e, sizeof e);
      if (k == static_cast<ssize_t>(sizeof e)) r->execErrno = e;
      if (k >= 0 || (errno != EAGAIN && errno != EINTR)) execOpen = false;
    }
  }
  if (r->timedOut) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED); while (rc < 0 && errno == EINTR);
  close(pidfd);
  closeAll();
  if (rc == 0) {
    r->exited = true;
    if (si.si_code == CLD_EXITED) r->code = si.si_status;
    else r->signal = si.si_status;
  }
  return 0;
}

// Go's spelling of an errno (syscall.Errno.Error()): strerror with a lower-case first letter.
inline std::string ErrnoText(int e) {
  std::string s = strerror(e);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

// The failure as runc words it (configs.Command.Run), or "" when the hook succeeded.
inline std::string ErrorText(const Hook &h, const Result &r) {
  char buf[64];
  if (r.timedOut) {
    snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(h.timeoutMs) / 1000.0);
    return std::string("hook ran past specified timeout of ") + buf;
  }
  if (r.execErrno) return "fork/exec " + h.path + ": " + ErrnoText(r.execErrno);
  if (!r.exited) return "wait for the hook: " + ErrnoText(ECHILD);
  std::string why;
  if (r.signal) {
    why = std::string("signal: ") + strsignal(r.signal);
    if (why.size() > 8 && why[8] >= 'A' && why[8] <= 'Z') why[8] = static_cast<char>(why[8] - 'A' + 'a');
  } else if (r.code != 0) {
    why = "exit status " + std::to_string(r.code);
  } else {
    return "";
  }
  return "error running hook: " + why + ", stdout: " + r.out + ", stderr: " + r.err;
}

}  // namespace hookrun
}  // namespace tsrunc
