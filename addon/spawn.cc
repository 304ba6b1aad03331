// Parent side of container creation: clone3 the container's first process out of the (multi-
// threaded) Node process and turn it into tsrunc-init, then speak the sync protocol with it.
//
// The process model (design §3), and why this file looks the way it does:
// - Node has several threads before any JS runs. unshare()/setns() in this process would fail
//   (EINVAL for user/mount namespaces) or silently affect one thread, so namespaces are created by
//   the clone3() flags only: a new child is single-threaded and starts in them.
// - Between clone3() and execveat() the child is a copy of one thread of a multi-threaded process:
//   other threads may have held the malloc, stdio or loader locks at the moment of the clone, and
//   glibc's fork handlers did not run (this is a raw syscall). So the child only makes raw
//   syscalls on memory prepared before the clone: no malloc, no C++, no JS, no errno-setting libc
//   wrappers that could take locks (syscall(2) itself only writes errno).
// - The child resets every signal disposition to SIG_DFL: Node ignores SIGPIPE, and ignored
//   signals survive execve (a container must not inherit that). All signals are blocked in the
//   parent thread around the clone, so no Node/libuv handler can run in the child before the reset;
//   tsrunc-init unblocks them once it has its own handlers.
// - CVE-2019-5736: no host binary may ever be the container's /proc/self/exe. The child execs
//   tsrunc-init from a memfd copy sealed against writes (F_SEAL_WRITE|GROW|SHRINK|SEAL), so even a
//   container that re-executes /proc/self/exe (a `#!/proc/self/exe` entrypoint) only reaches that
//   sealed copy, and opening it for writing fails with EPERM.
// - PR_SET_PDEATHSIG(SIGKILL) until the container is recorded: a `tsrunc create` killed while a
//   setup step blocks must not leave an init behind. It is set by the child right after the clone
//   (the parent here is Node's main thread, which lives as long as the process) and cleared by
//   tsrunc-init once `create` sends COMMIT (protocol.h): a created container outlives create. Had
//   create died before the prctl, the init reads EOF instead of SYNC_GO and exits.
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <napi.h>
#include <uv.h>

#include "errors.h"
#include "protocol.h"
#include "scm.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace tsrunc {

namespace {

struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

// The kernel's struct sigaction for rt_sigaction(2) (not glibc's).
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

// Copy the tsrunc-init binary into a sealed memfd (see the CVE note at the top).
int SealedInitCopy(const std::string &path, int *err, const char **what) {
  Fd src(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src.ok()) { *err = errno; *what = "open"; return -1; }
  struct stat st;
  if (fstat(src.get(), &st) < 0) { *err = errno; *what = "fstat"; return -1; }
  Fd mfd(static_cast<int>(syscall(SYS_memfd_create, "tsrunc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!mfd.ok()) { *err = errno; *what = "memfd_create"; return -1; }
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(mfd.get(), src.get(), nullptr, static_cast<size_t>(left));
    if (n < 0) { if (errno == EINTR) continue; *err = errno; *what = "sendfile"; return -1; }
    if (n == 0) break;
    left -= n;
  }
  if (fcntl(mfd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    *err = errno; *what = "fcntl(F_ADD_SEALS)"; return -1;
  }
  return mfd.release();
}

// Everything the clone child touches, prepared before the clone (no allocation after it).
struct ChildArgs {
  int memfd;
  int sock;       // child's end of the sync socket
  int planfd;
  int keepFds;    // --preserve-fds (+ LISTEN_FDS): fds 3..3+keepFds-1 go to the container
  char *const *argv;
  char *const *envp;
  bool userns;    // CLONE_NEWUSER: wait for the id maps and become root of the namespace first
  // linux.namespaces[].path: fds opened (and type-checked) by `create`, joined in this order.
  const int *joinFds;
  const int *joinTypes;
  int njoins;
  // fds tsrunc-init needs beyond the plan and the socket (exec: a pidfd of the container init).
  const int *passFds;
  int npass;
};

// Report a failed setns of join `index` (no allocation: the index is written by hand).
void ReportJoinError(int sock, int index, int err) {
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_ERROR;
  m.step = STEP_JOIN_NS;
  m.err = err;
  char digits[12];
  int n = 0;
  do { digits[n++] = static_cast<char>('0' + index % 10); index /= 10; } while (index > 0 && n < 11);
  for (int i = 0; i < n; i++) m.detail[i] = digits[n - 1 - i];
  syscall(SYS_sendto, sock, &m, sizeof m, MSG_NOSIGNAL, nullptr, 0);
}

// A new user namespace: wait until `create` has written the uid/gid maps (it sends SYNC_IDMAPS),
// then become uid/gid 0 of the namespace, before the exec. execve(2) recomputes capabilities and
// leaves none to a process that is not root in its user namespace; exec'd as the (unmapped)
// host uid, tsrunc-init could set nothing up. Raw syscalls only, like the rest of the child.
void BecomeMappedRoot(const ChildArgs &a) {
  uint8_t b = 0;
  long n;
  do n = syscall(SYS_recvfrom, a.sock, &b, 1, 0, nullptr, nullptr); while (n < 0 && errno == EINTR);
  if (n != 1 || b != SYNC_IDMAPS) syscall(SYS_exit_group, 1);  // `create` went away
  if (syscall(SYS_setgroups, 0, nullptr) < 0 || syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) {
    SyncMsg m;
    memset(&m, 0, sizeof m);
    m.type = SYNC_ERROR;
    m.step = STEP_USERNS;
    m.err = errno;
    syscall(SYS_sendto, a.sock, &m, sizeof m, MSG_NOSIGNAL, nullptr, 0);
    syscall(SYS_exit_group, 1);
  }
  // The uid change cleared the parent-death signal (prctl(2)): arm it again.
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

[[noreturn]] void ChildAfterClone(const ChildArgs &a) {
  // Raw syscalls only from here on (see the top of the file).
  struct kernel_sigaction dfl;
  memset(&dfl, 0, sizeof dfl);  // memset on our own stack: async-signal-safe
  dfl.handler = SIG_DFL;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8);
  }
  // The sync socket and the plan must survive the exec; everything else Node had open is
  // O_CLOEXEC or is closed by tsrunc-init before the container's exec (close_range).
  // Node marks its own stdio O_CLOEXEC at start-up; the container inherits tsrunc's stdio (as
  // runc's does when terminal is false), so clear it on 0-2 too.
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Namespaces to join (runc's order: user first, so that the others are joined with the
  // capabilities it gives). Not dumpable before the first join: until the execveat below this
  // process is a copy of node, and no process of a joined namespace may open its /proc/<pid>/exe,
  // fds or memory (CVE-2019-5736). A joined pid namespace only applies to children: tsrunc-init
  // forks (the FORK op). CLONE_FS is not set, so a mount namespace can be joined.
  syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (int i = 0; i < a.njoins; i++) {
    if (syscall(SYS_setns, a.joinFds[i], a.joinTypes[i]) < 0) {
      ReportJoinError(a.sock, i, errno);
      syscall(SYS_exit_group, 127);
    }
    // In a joined user namespace, become its root (as runc does): the execveat below recomputes
    // the capabilities, and keeps them only for the namespace's uid 0. setgroups may be denied
    // there (/proc/<pid>/setgroups "deny"); the groups are set again by the USER op.
    if (a.joinTypes[i] == CLONE_NEWUSER) {
      syscall(SYS_setgroups, 0, nullptr);
      if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) {
        ReportJoinError(a.sock, i, errno);
        syscall(SYS_exit_group, 127);
      }
      syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // an id change cleared it
    }
  }
  for (int i = 0; i < a.npass; i++) syscall(SYS_fcntl, a.passFds[i], F_SETFD, 0);
  for (int fd = 0; fd <= 2; fd++) syscall(SYS_fcntl, fd, F_SETFD, 0);
  // Node also marks every fd it inherited O_CLOEXEC at start-up, including the ones the caller
  // passes for --preserve-fds. fds 3..3+N-1 are passed as they are (create checked that the
  // caller gave them all: src/lifecycle/fds.ts), except the tsrunc-init memfd, which must not
  // outlive the exec into tsrunc-init.
  for (int fd = 3; fd < 3 + a.keepFds; fd++) {
    if (fd != a.memfd) syscall(SYS_fcntl, fd, F_SETFD, 0);
  }
  syscall(SYS_fcntl, a.sock, F_SETFD, 0);
  syscall(SYS_fcntl, a.planfd, F_SETFD, 0);
  if (a.userns) BecomeMappedRoot(a);
  syscall(SYS_execveat, a.memfd, "", a.argv, a.envp, AT_EMPTY_PATH);
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_ERROR;
  m.step = STEP_EXEC_INIT;
  m.err = errno;
  syscall(SYS_sendto, a.sock, &m, sizeof m, MSG_NOSIGNAL, nullptr, 0);
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

int WriteAll(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

// spawnInit({initPath, plan: Buffer, cloneFlags: number, keepFds?: number, cgroupFd?: number,
//            joins?: [{fd, nstype}], passFds?: number[]}) -> {pid, pidfd, sock}
Napi::Value SpawnInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "spawnInit: options object expected");
  Napi::Object o = info[0].As<Napi::Object>();
  std::string initPath = o.Get("initPath").As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> plan = o.Get("plan").As<Napi::Buffer<uint8_t>>();
  uint64_t cloneFlags = static_cast<uint64_t>(o.Get("cloneFlags").As<Napi::Number>().Int64Value());
  int keepFds = o.Has("keepFds") && o.Get("keepFds").IsNumber() ? o.Get("keepFds").As<Napi::Number>().Int32Value() : 0;
  if (keepFds < 0 || keepFds > 65536) throw Napi::RangeError::New(env, "spawnInit: keepFds out of range");
  int cgroupFd = o.Has("cgroupFd") && o.Get("cgroupFd").IsNumber() ? o.Get("cgroupFd").As<Napi::Number>().Int32Value() : -1;
  std::vector<int> joinFds, joinTypes, passFds;
  if (o.Has("joins") && o.Get("joins").IsArray()) {
    Napi::Array j = o.Get("joins").As<Napi::Array>();
    for (uint32_t i = 0; i < j.Length(); i++) {
      Napi::Object e = j.Get(i).As<Napi::Object>();
      joinFds.push_back(e.Get("fd").As<Napi::Number>().Int32Value());
      joinTypes.push_back(e.Get("nstype").As<Napi::Number>().Int32Value());
    }
  }
  if (o.Has("passFds") && o.Get("passFds").IsArray()) {
    Napi::Array j = o.Get("passFds").As<Napi::Array>();
    for (uint32_t i = 0; i < j.Length(); i++) passFds.push_back(j.Get(i).As<Napi::Number>().Int32Value());
  }

  int err = 0;
  const char *what = "";
  Fd memfd(SealedInitCopy(initPath, &err, &what));
  if (!memfd.ok()) throw ErrnoError(env, err, what, initPath);

  Fd planfd(static_cast<int>(syscall(SYS_memfd_create, "tsrunc-plan", MFD_CLOEXEC)));
  if (!planfd.ok()) throw ErrnoError(env, errno, "memfd_create");
  if (WriteAll(planfd.get(), plan.Data(), plan.Length()) < 0) throw ErrnoError(env, errno, "write(plan)");
  if (lseek(planfd.get(), 0, SEEK_SET) < 0) throw ErrnoError(env, errno, "lseek(plan)");

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw ErrnoError(env, errno, "socketpair");
  Fd parentSock(sv[0]), childSock(sv[1]);

  // argv/envp for tsrunc-init: built now, the child must not allocate.
  std::string a0 = "tsrunc-init", a1 = std::to_string(childSock.get()), a2 = std::to_string(planfd.get());
  char *argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  char *envp[] = {nullptr};
  ChildArgs ca{memfd.get(), childSock.get(), planfd.get(), keepFds, argv, envp, (cloneFlags & CLONE_NEWUSER) != 0,
               joinFds.data(), joinTypes.data(), static_cast<int>(joinFds.size()),
               passFds.data(), static_cast<int>(passFds.size())};

  int pidfd = -1;
  clone_args_v2 args;
  memset(&args, 0, sizeof args);
  args.flags = cloneFlags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroupFd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroupFd);
  }

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) ChildAfterClone(ca);
  int cloneErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw ErrnoError(env, cloneErr, "clone3");

  Napi::Object r = Napi::Object::New(env);
  r.Set("pid", Napi::Number::New(env, static_cast<double>(pid)));
  r.Set("pidfd", Napi::Number::New(env, pidfd));
  r.Set("sock", Napi::Number::New(env, parentSock.release()));
  return r;
}

// One protocol byte to the init (SYNC_GO, SYNC_COMMIT); 0 or an errno.
int SendByte(int sock, uint8_t b) {
  for (;;) {
    ssize_t n = send(sock, &b, 1, MSG_NOSIGNAL);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    return errno;
  }
}

// syncGo(sock): release the init (protocol step 1).
Napi::Value SyncGo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (int err = SendByte(info[0].As<Napi::Number>().Int32Value(), SYNC_GO)) throw ErrnoError(env, err, "send(sync go)");
  return env.Undefined();
}

// syncResume(sock): the prestart/createRuntime hooks succeeded, go on (protocol step h').
Napi::Value SyncResume(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (int err = SendByte(info[0].As<Napi::Number>().Int32Value(), SYNC_RESUME)) throw ErrnoError(env, err, "send(sync resume)");
  return env.Undefined();
}

// syncCommit(sock): the container is recorded (protocol step 3). Returns once the init has
// closed its end, i.e. has cleared its parent-death signal: exiting before that would kill it.
Napi::Value SyncCommit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  if (int err = SendByte(sock, SYNC_COMMIT)) throw ErrnoError(env, err, "send(sync commit)");
  for (;;) {
    uint8_t r;
    ssize_t n = recv(sock, &r, 1, 0);
    if (n == 0) return env.Undefined();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ErrnoError(env, errno, "recv(sync commit)");
  }
}

// syncWait(sock, timeoutMs) -> {type: 'ready'} | {type: 'error', step, errno, detail} | {type: 'eof'}
//   | {type: 'timeout'} | {type: 'pty', fd} (the pty master, O_CLOEXEC; the caller owns it and
//   calls syncWait again for READY) | {type: 'pid', pid} (FORK: the process that carries on)
//   | {type: 'hooks'} (HOOK_SYNC) | {type: 'seccompFd', fd} (the seccomp listener, ours to close)
// Blocks: create is a one-shot command and has nothing else to do while the init sets up. A dead
// init cannot hang it (its end of the socket closes with it, which reads as EOF), and an init
// stuck in a setup step (a hung mount source) is bounded by the timeout.
Napi::Value SyncWait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  int64_t timeoutMs = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : -1;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int wait = -1;
    if (timeoutMs >= 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
      wait = static_cast<int>(spent >= timeoutMs ? 0 : std::min<int64_t>(timeoutMs - spent, 1 << 30));
    }
    struct pollfd p = {sock, POLLIN, 0};
    int rc = poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw ErrnoError(env, errno, "poll(sync)");
    if (rc == 0) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("type", "timeout");
      return r;
    }
    break;
  }
  SyncMsg m;
  memset(&m, 0, sizeof m);
  // SyncMsg{PTY} carries the pty master, SyncMsg{SECCOMP_FD} the seccomp listener (SCM_RIGHTS);
  // any other fd, or a second one, is closed.
  int got = -1;
  bool truncated = false;
  ssize_t n = RecvWithFd(sock, &m, sizeof m, &got, &truncated);
  if (n < 0) throw ErrnoError(env, errno, "recv(sync)");
  Fd passed(got);
  Napi::Object r = Napi::Object::New(env);
  if (n > 0 && m.type == SYNC_SECCOMP_FD) {
    if (!passed.ok()) throw ErrnoError(env, EBADMSG, "recv(sync seccomp fd)");
    r.Set("type", "seccompFd");
    r.Set("fd", Napi::Number::New(env, passed.release()));
    return r;
  }
  if (n == 0) {
    r.Set("type", "eof");
    return r;
  }
  if (m.type == SYNC_READY) {
    r.Set("type", "ready");
    return r;
  }
  if (m.type == SYNC_PTY) {
    if (!passed.ok() || truncated) throw ErrnoError(env, EBADMSG, "recv(sync pty master)");
    r.Set("type", "pty");
    r.Set("fd", Napi::Number::New(env, passed.release()));
    return r;
  }
  if (m.type == SYNC_PID) {
    r.Set("type", "pid");
    r.Set("pid", Napi::Number::New(env, m.err));
    return r;
  }
  if (m.type == SYNC_HOOKS) {
    r.Set("type", "hooks");
    return r;
  }
  m.detail[sizeof m.detail - 1] = 0;
  r.Set("type", "error");
  r.Set("step", Napi::Number::New(env, m.step));
  r.Set("errno", Napi::Number::New(env, m.err));
  r.Set("detail", Napi::String::New(env, m.detail));
  return r;
}

// pidfdOpen(pid) -> fd
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw ErrnoError(env, errno, "pidfd_open", std::to_string(pid));
  // pidfd_open returns an fd with O_CLOEXEC set.
  return Napi::Number::New(env, static_cast<double>(fd));
}

// pidfdSendSignal(pidfd, sig)
Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) throw ErrnoError(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

// Reap the child behind `pidfd`; 0 or an errno. (libuv reaps only the children it spawned, and
// tsrunc never installs a SIGCHLD handler, so our clone3 child is ours to wait for.)
int WaitExit(int pidfd, siginfo_t *si) {
  memset(si, 0, sizeof *si);
  int rc;
  do rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), si, WEXITED); while (rc < 0 && errno == EINTR);
  return rc < 0 ? errno : 0;
}

Napi::Object ExitStatus(Napi::Env env, const siginfo_t &si) {
  Napi::Object r = Napi::Object::New(env);
  if (si.si_code == CLD_EXITED) {
    r.Set("code", Napi::Number::New(env, si.si_status));
    r.Set("signal", env.Null());
  } else {
    r.Set("code", env.Null());
    r.Set("signal", Napi::Number::New(env, si.si_status));
  }
  return r;
}

// waitPidfdSync(pidfd) -> {code, signal}
// waitPidfdSync(pidfd, timeoutMs?) -> {code, signal}, or null if it has not exited in time (a
// process in a frozen cgroup does not die of SIGKILL until it is thawed).
Napi::Value WaitPidfdSync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (info.Length() > 1 && info[1].IsNumber()) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, info[1].As<Napi::Number>().Int32Value()); while (rc < 0 && errno == EINTR);
    if (rc < 0) throw ErrnoError(env, errno, "poll(pidfd)");
    if (rc == 0) return env.Null();
  }
  siginfo_t si;
  if (int err = WaitExit(fd, &si)) throw ErrnoError(env, err, "waitid");
  return ExitStatus(env, si);
}

// waitPidfd(pidfd) -> Promise<{code, signal}>, so that `run` and `exec` keep relaying signals (and
// the terminal) while the container runs. A pidfd turns readable when its process exits
// (pidfd_open(2)), so the wait is a uv_poll in Node's own loop: an AsyncWorker would start libuv's
// thread pool, four threads (~1 ms here) for one wait.
struct PidfdWait {
  uv_poll_t poll;
  int fd;
  napi_env env;
  Napi::Promise::Deferred deferred;
  Napi::AsyncContext context;
  PidfdWait(Napi::Env e, int f) : fd(f), env(e), deferred(Napi::Promise::Deferred::New(e)), context(e, "tsrunc:waitPidfd") {}
};

void FreePidfdWait(uv_handle_t *h) { delete static_cast<PidfdWait *>(h->data); }

void OnPidfdReadable(uv_poll_t *handle, int /*status*/, int /*events*/) {
  auto *w = static_cast<PidfdWait *>(handle->data);
  uv_poll_stop(handle);
  // uv_poll_init made the pidfd non-blocking, and waitid(P_PIDFD) on a non-blocking pidfd fails
  // with EAGAIN while the child is not yet waitable (readability can come first, and a poll
  // error comes at any time): blocking again, the wait returns with the exit.
  int fl = fcntl(w->fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(w->fd, F_SETFL, fl & ~O_NONBLOCK);
  siginfo_t si;
  int err = WaitExit(w->fd, &si);
  // Closed (out of epoll) before the promise's reactions run: they close the pidfd. `w` lives on
  // until the close callback, on a later turn of the loop.
  uv_close(reinterpret_cast<uv_handle_t *>(handle), FreePidfdWait);
  Napi::Env env(w->env);
  Napi::HandleScope hs(env);
  // The reactions run when this scope closes, as after any callback from the loop.
  Napi::CallbackScope cs(env, w->context);
  if (err) w->deferred.Reject(ErrnoError(env, err, "waitid").Value());
  else w->deferred.Resolve(ExitStatus(env, si));
}

Napi::Value WaitPidfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t *loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) throw Napi::Error::New(env, "waitPidfd: no event loop");
  auto *w = new PidfdWait(env, fd);
  w->poll.data = w;
  Napi::Promise p = w->deferred.Promise();
  if (int rc = uv_poll_init(loop, &w->poll, fd); rc != 0) {
    w->deferred.Reject(ErrnoError(env, -rc, "uv_poll_init(pidfd)").Value());
    delete w;  // no handle was made
    return p;
  }
  if (int rc = uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable); rc != 0) {
    w->deferred.Reject(ErrnoError(env, -rc, "uv_poll_start(pidfd)").Value());
    uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), FreePidfdWait);
    return p;
  }
  return p;
}

}  // namespace

void InitSpawnLean(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
}

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("syncGo", Napi::Function::New(env, SyncGo));
  exports.Set("syncWait", Napi::Function::New(env, SyncWait));
  exports.Set("syncCommit", Napi::Function::New(env, SyncCommit));
  exports.Set("syncResume", Napi::Function::New(env, SyncResume));
  exports.Set("waitPidfdSync", Napi::Function::New(env, WaitPidfdSync));
  exports.Set("waitPidfd", Napi::Function::New(env, WaitPidfd));
}

}  // namespace tsrunc
