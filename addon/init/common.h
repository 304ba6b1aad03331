// Shared by the files of tsrunc-init: the process-wide state, fd RAII, failure reporting, signal
// set-up, plan decoding and the path helpers that resolve inside the container's root. Everything
// here is `inline` so that each op family can live in its own .cc file (ns.cc, tty.cc, ...) with
// one definition program-wide.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../protocol.h"
#include "plan.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif


namespace tsrunc {


inline int g_sync = -1;          // sync socket to `tsrunc create` (closed at WAIT_START)
inline int g_step = STEP_READ_PLAN;
inline int g_fifo = -1;          // O_PATH fd of exec.fifo (OPEN_FIFO): a fifo cannot be walked or chdir'ed to
inline int g_proc = -1;          // a private procfs (PROC_HANDLE), only to reopen g_fifo for writing
inline int g_root = -1;          // the container's root while it is being built (BIND_ROOTFS)
inline std::string g_exec;       // the resolved executable (RESOLVE_EXEC)
inline std::string g_home = "/"; // HOME for the process when the config sets none (USER)
inline std::vector<sock_filter> g_seccomp;  // a SECCOMP program EXEC installs right before execve
inline unsigned g_seccomp_flags = 0;
inline bool g_seccomp_late = false;

// RAII for fds in this process.
struct Fd {
  int fd;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() { if (fd >= 0) close(fd); }
  int release() { int f = fd; fd = -1; return f; }
};

// Report the current step's failure to `tsrunc create` and exit. `what` names the sub-operation
// (e.g. "mkdir", "mount") so a step with several syscalls is still precise.
[[noreturn]] inline void Fail(int err, const std::string &what) {
  if (g_sync >= 0) {
    SyncMsg m;
    memset(&m, 0, sizeof m);
    m.type = SYNC_ERROR;
    m.step = g_step;
    m.err = err;
    snprintf(m.detail, sizeof m.detail, "%s", what.c_str());
    send(g_sync, &m, sizeof m, MSG_NOSIGNAL);
  } else {
    fprintf(stderr, "tsrunc-init: %s: %s\n", what.c_str(), strerror(err));
  }
  _exit(1);
}

// While setting up and while waiting in `created`, this process is the pid-namespace init: the
// kernel drops signals it has no handler for (pid_namespaces(7)), so `tsrunc kill <created> TERM`
// would do nothing. Catch the terminating signals and exit, as runc's init does.
inline void ExitOnSignal(int sig) { _exit(128 + sig); }

inline void SetupSignals() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ExitOnSignal;
  sigfillset(&sa.sa_mask);
  const int fatal[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGPWR, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF};
  for (int s : fatal) sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Just before execve: every disposition back to default, nothing blocked (design §3: the
// container must not inherit ignored signals or a blocked mask from the runtime).
inline void ResetSignals() {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// ---- plan decoding ---------------------------------------------------------------------------

inline bool ReadAll(int fd, std::vector<uint8_t> *out) {
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; return false; }
    if (n == 0) return true;
    out->insert(out->end(), buf, buf + n);
  }
}

struct Reader {
  const std::vector<uint8_t> &b;
  size_t off = 0;
  bool ok = true;
  uint32_t u32() {
    if (off + 4 > b.size()) { ok = false; return 0; }
    uint32_t v;
    memcpy(&v, &b[off], 4);
    off += 4;
    return v;
  }
  int64_t i64() {
    if (off + 8 > b.size()) { ok = false; return 0; }
    int64_t v;
    memcpy(&v, &b[off], 8);
    off += 8;
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (!ok || off + n > b.size()) { ok = false; return std::string(); }
    std::string s(reinterpret_cast<const char *>(&b[off]), n);
    off += n;
    return s;
  }
};

inline bool Decode(const std::vector<uint8_t> &buf, std::vector<Op> *ops) {
  Reader r{buf};
  if (r.u32() != PLAN_MAGIC || r.u32() != PLAN_VERSION) return false;
  uint32_t n = r.u32();
  if (!r.ok || n > 1000000) return false;
  ops->resize(n);
  for (Op &op : *ops) {
    op.code = r.u32();
    uint32_t ni = r.u32(), ns = r.u32();
    if (!r.ok || ni > 1000000 || ns > 1000000) return false;
    for (uint32_t i = 0; i < ni; i++) op.ints.push_back(r.i64());
    for (uint32_t i = 0; i < ns; i++) op.strs.push_back(r.str());
    if (!r.ok) return false;
  }
  return r.off == buf.size();
}

// ---- paths inside the container's root --------------------------------------------------------

// Resolve `path` inside the directory `root` the way the container will see it: symlinks are
// followed but can never leave `root` (RESOLVE_IN_ROOT), and /proc magic links are refused. This
// is what keeps a malicious image's symlinks (`/dev -> /host/etc`, CVE-2026-41579 and the whole
// family of runc mount-target races) from redirecting a mount or mknod outside the rootfs.
inline int OpenInRoot(int root, const std::string &path, int flags, uint64_t resolve = 0) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  long fd;
  do fd = syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

inline std::vector<std::string> Split(const std::string &path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (!c.empty() && c != ".") parts.push_back(c);
    i = j + 1;
  }
  return parts;
}

// mkdir -p inside root; every level is resolved from root again, so symlinks stay inside.
inline int MkdirAllInRoot(int root, const std::string &path) {
  std::vector<std::string> parts = Split(path);
  std::string prefix;
  Fd cur(OpenInRoot(root, "/", O_PATH | O_DIRECTORY));
  if (cur.fd < 0) return -1;
  for (const std::string &c : parts) {
    prefix += "/" + c;
    if (mkdirat(cur.fd, c.c_str(), 0755) < 0 && errno != EEXIST) return -1;
    Fd next(OpenInRoot(root, prefix, O_PATH | O_DIRECTORY));
    if (next.fd < 0) return -1;
    close(cur.fd);
    cur.fd = next.release();
  }
  return cur.release();
}

// Split "/a/b/c" into the parent "/a/b" and "c".
inline void ParentBase(const std::string &path, std::string *parent, std::string *base) {
  std::vector<std::string> parts = Split(path);
  *base = parts.empty() ? "" : parts.back();
  parent->clear();
  for (size_t i = 0; i + 1 < parts.size(); i++) *parent += "/" + parts[i];
  if (parent->empty()) *parent = "/";
}

// "/proc/self/fd/N" names an fd of ours for mount(2), which takes paths only. Used before
// pivot_root alone, where /proc is still the host's own procfs (nothing of the container's is
// mounted over it yet); after pivot_root the container's /proc is image- or config-controlled, so
// everything from there on works on fds (mount_setattr, open_tree, move_mount, fsmount).
inline std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

inline unsigned long CurrentMountFlags(const std::string &target) {
  struct statvfs sv;
  if (statvfs(target.c_str(), &sv) < 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

// MS_* per-mount flags as mount_setattr(2) attributes.
inline uint64_t MountAttrs(unsigned long ms) {
  uint64_t a = 0;
  if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (ms & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
  if (ms & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  else if (ms & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

// Add attributes to the mount whose root `fd` is (EINVAL if fd is not a mount's root). Only the
// given attributes change: nosuid/nodev/noexec already set stay set, which MS_REMOUNT|MS_BIND
// would have reset unless every current flag was passed again.
inline int AddMountAttrs(int fd, uint64_t set) {
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = set;
  if (set & MOUNT_ATTR__ATIME) a.attr_clr = MOUNT_ATTR__ATIME;
  return mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof a);
}

// Attach the detached mount `tree` on top of what `target` (an fd) is: no path is looked up.
inline int AttachMount(int tree, int target) {
  return move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

// Remount the mount at `path` (inside root, which must be a mount's root) with `add` on top.
inline void RemountInRoot(int root, const std::string &path, unsigned long add, const char *what) {
  Fd fd(OpenInRoot(root, path, O_PATH));
  if (fd.fd < 0) Fail(errno, std::string("open ") + path);
  if (AddMountAttrs(fd.fd, MountAttrs(add)) < 0) Fail(errno, what);
}

// A private procfs instance (fsopen + fsmount): a detached mount that no path reaches, made in the
// container's pid namespace. Neither the image (its own /proc) nor a config mount over a /proc entry
// can stand in for it (CVE-2025-52881: redirected /proc writes). `pidOnly` asks for subset=pid
// (Linux 5.8; a full procfs where the kernel lacks it): just the process directories.
inline int OpenPrivateProc(bool pidOnly) {
  Fd ctx(fsopen("proc", FSOPEN_CLOEXEC));
  if (ctx.fd < 0) return -1;
  if (pidOnly) fsconfig(ctx.fd, FSCONFIG_SET_STRING, "subset", "pid", 0);
  if (fsconfig(ctx.fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return -1;
  Fd m(fsmount(ctx.fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (m.fd < 0) return -1;
  struct statfs sf;
  if (fstatfs(m.fd, &sf) < 0) return -1;
  if (sf.f_type != PROC_SUPER_MAGIC) { errno = EXDEV; return -1; }
  return m.release();
}

// Open `rel` beneath the directory fd `dir` without following any symlink or crossing a mount.
inline int OpenBeneath(int dir, const std::string &rel, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd;
  do fd = syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

inline bool OnFs(int fd, long magic) {
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == magic;
}

// ---- ops ---------------------------------------------------------------------------------------

// Lower-case hex, how the compiler encodes binary plan data (addresses, BPF programs), as bytes
// into `out` (hex.size()/2 of them); false on an odd length or a bad digit.
inline bool HexBytes(const std::string &hex, uint8_t *out) {
  auto nib = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  if (hex.size() % 2) return false;
  for (size_t i = 0; i < hex.size() / 2; i++) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// A SECCOMP / SECCOMP_LISTENER program: struct sock_filter[] as hex, 1 to BPF_MAXINSNS of them.
inline std::vector<sock_filter> FilterFromHex(const std::string &hex) {
  size_t bytes = hex.size() / 2;
  if (bytes == 0 || bytes % sizeof(sock_filter) || bytes / sizeof(sock_filter) > BPF_MAXINSNS) Fail(EINVAL, "seccomp: bad program");
  std::vector<sock_filter> prog(bytes / sizeof(sock_filter));
  if (!HexBytes(hex, reinterpret_cast<uint8_t *>(prog.data()))) Fail(EINVAL, "seccomp: bad program");
  return prog;
}

}  // namespace tsrunc
