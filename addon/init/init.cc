// tsrunc-init: the container-side executor.
//
// `tsrunc create` clones a child straight into the container's new namespaces and that child
// immediately execs this program from a sealed memfd (addon/spawn.cc explains why). From here on
// the process is single-threaded and owns its address space, so ordinary C++ is fine: this is
// the place where the plan compiled by src/plan/compile.ts is carried out, one op at a time, in
// the order the compiler chose. It is also the small process that waits in `created` (target
// ≤ 2.5 MiB RSS), so it is static, built without exceptions or RTTI, and reads no file it does not
// need.
//
//   argv: tsrunc-init SYNC_FD PLAN_FD
//
// Errors: the failing op's index and errno go back over the sync socket (addon/protocol.h); the
// wording is done in TypeScript, which still has the plan. Nothing here prints unless the sync
// socket is already gone (after `start`, an exec failure can only go to the container's stderr).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
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
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

using namespace tsrunc;

namespace {

int g_sync = -1;          // sync socket to `tsrunc create` (closed at WAIT_START)
int g_step = STEP_READ_PLAN;
int g_fifo = -1;          // O_PATH fd of exec.fifo (OPEN_FIFO)
int g_procfd = -1;        // the host's /proc/self/fd, opened before pivot_root, to reopen g_fifo
int g_root = -1;          // the container's root while it is being built (BIND_ROOTFS)
std::string g_exec;       // the resolved executable (RESOLVE_EXEC)
std::string g_home = "/"; // HOME for the process when the config sets none (USER)

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
[[noreturn]] void Fail(int err, const std::string &what) {
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
void ExitOnSignal(int sig) { _exit(128 + sig); }

void SetupSignals() {
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
void ResetSignals() {
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

bool ReadAll(int fd, std::vector<uint8_t> *out) {
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

bool Decode(const std::vector<uint8_t> &buf, std::vector<Op> *ops) {
  Reader r{buf};
  if (r.u32() != PLAN_MAGIC || r.u32() != PLAN_VERSION) return false;
  uint32_t n = r.u32();
  if (!r.ok || n > 100000) return false;
  ops->resize(n);
  for (Op &op : *ops) {
    op.code = r.u32();
    uint32_t ni = r.u32(), ns = r.u32();
    if (!r.ok || ni > 100000 || ns > 100000) return false;
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
int OpenInRoot(int root, const std::string &path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  long fd;
  do fd = syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

std::vector<std::string> Split(const std::string &path) {
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
int MkdirAllInRoot(int root, const std::string &path) {
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
void ParentBase(const std::string &path, std::string *parent, std::string *base) {
  std::vector<std::string> parts = Split(path);
  *base = parts.empty() ? "" : parts.back();
  parent->clear();
  for (size_t i = 0; i + 1 < parts.size(); i++) *parent += "/" + parts[i];
  if (parent->empty()) *parent = "/";
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

unsigned long CurrentMountFlags(const std::string &target) {
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

// Remount the mount at `path` (inside root) with `add` flags on top of its current ones.
// MS_REMOUNT|MS_BIND replaces every per-mount flag, so the current ones are read back first
// (dropping nosuid/nodev/noexec by accident would be a privilege leak).
void RemountInRoot(int root, const std::string &path, unsigned long add, const char *what) {
  Fd fd(OpenInRoot(root, path, O_PATH));
  if (fd.fd < 0) Fail(errno, std::string("open ") + path);
  std::string t = FdPath(fd.fd);
  unsigned long flags = CurrentMountFlags(t) | add;
  if (mount(nullptr, t.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) < 0) Fail(errno, what);
}

// ---- ops ---------------------------------------------------------------------------------------

void OpMount(const Op &op) {
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0));
  unsigned long prop = static_cast<unsigned long>(op.ints.at(1));
  bool bind = op.ints.at(2) != 0;
  const std::string &src = op.strs.at(0), &dest = op.strs.at(1), &fstype = op.strs.at(2), &data = op.strs.at(3);

  // A bind mount of a file needs a file to mount on; everything else needs a directory.
  bool dir = true;
  if (bind) {
    struct stat st;
    if (stat(src.c_str(), &st) < 0) Fail(errno, "stat " + src);
    dir = S_ISDIR(st.st_mode);
  }
  if (dir) {
    Fd d(MkdirAllInRoot(g_root, dest));
    if (d.fd < 0) Fail(errno, "mkdir " + dest);
  } else {
    std::string parent, base;
    ParentBase(dest, &parent, &base);
    Fd p(MkdirAllInRoot(g_root, parent));
    if (p.fd < 0) Fail(errno, "mkdir " + parent);
    Fd existing(OpenInRoot(g_root, dest, O_PATH));
    if (existing.fd < 0) {
      Fd pd(OpenInRoot(g_root, parent, O_DIRECTORY | O_RDONLY));
      if (pd.fd < 0) Fail(errno, "open " + parent);
      Fd f(openat(pd.fd, base.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
      if (f.fd < 0 && errno != EEXIST) Fail(errno, "create " + dest);
    }
  }
  {
    Fd target(OpenInRoot(g_root, dest, O_PATH));
    if (target.fd < 0) Fail(errno, "open " + dest);
    std::string t = FdPath(target.fd);
    if (bind) {
      if (mount(src.c_str(), t.c_str(), nullptr, MS_BIND | (flags & MS_REC), nullptr) < 0) Fail(errno, "mount");
    } else {
      if (mount(src.c_str(), t.c_str(), fstype.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0) Fail(errno, "mount");
    }
  }
  // The fd above still points at the mountpoint underneath; remount and propagation changes
  // must address the new mount, so resolve the destination again (runc: reopenAfterMount).
  unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && extra != 0) {
    Fd target(OpenInRoot(g_root, dest, O_PATH));
    if (target.fd < 0) Fail(errno, "open " + dest);
    std::string t = FdPath(target.fd);
    unsigned long keep = CurrentMountFlags(t) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (mount(nullptr, t.c_str(), nullptr, MS_REMOUNT | MS_BIND | extra | keep, nullptr) < 0) Fail(errno, "remount");
  }
  if (prop != 0) {
    Fd target(OpenInRoot(g_root, dest, O_PATH));
    if (target.fd < 0) Fail(errno, "open " + dest);
    if (mount(nullptr, FdPath(target.fd).c_str(), nullptr, prop, nullptr) < 0) Fail(errno, "set propagation");
  }
}

void OpMknod(const Op &op) {
  mode_t mode = static_cast<mode_t>(op.ints.at(0));
  dev_t dev = makedev(static_cast<unsigned>(op.ints.at(1)), static_cast<unsigned>(op.ints.at(2)));
  uid_t uid = static_cast<uid_t>(op.ints.at(3));
  gid_t gid = static_cast<gid_t>(op.ints.at(4));
  std::string parent, base;
  ParentBase(op.strs.at(0), &parent, &base);
  Fd p(MkdirAllInRoot(g_root, parent));
  if (p.fd < 0) Fail(errno, "mkdir " + parent);
  Fd pd(OpenInRoot(g_root, parent, O_DIRECTORY | O_RDONLY));
  if (pd.fd < 0) Fail(errno, "open " + parent);
  if (mknodat(pd.fd, base.c_str(), mode, dev) < 0) {
    if (errno != EEXIST) Fail(errno, "mknod");
    return;  // the image or a bind mount already provides it
  }
  if (fchmodat(pd.fd, base.c_str(), mode & 07777, 0) < 0) Fail(errno, "chmod");
  if (fchownat(pd.fd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) Fail(errno, "chown");
}

void OpSymlink(const Op &op) {
  std::string parent, base;
  ParentBase(op.strs.at(1), &parent, &base);
  Fd p(MkdirAllInRoot(g_root, parent));
  if (p.fd < 0) Fail(errno, "mkdir " + parent);
  Fd pd(OpenInRoot(g_root, parent, O_DIRECTORY | O_RDONLY));
  if (pd.fd < 0) Fail(errno, "open " + parent);
  if (symlinkat(op.strs.at(0).c_str(), pd.fd, base.c_str()) < 0 && errno != EEXIST) Fail(errno, "symlink");
}

void OpPivot(const Op &op) {
  bool noPivot = op.ints.at(0) != 0;
  const std::string &rootfs = op.strs.at(0);
  if (chdir(rootfs.c_str()) < 0) Fail(errno, "chdir " + rootfs);
  if (noPivot) {
    // --no-pivot: move the rootfs over / and chroot (for ramfs roots where pivot_root is refused).
    if (mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) Fail(errno, "mount --move");
    if (chroot(".") < 0) Fail(errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; making it rslave before the
    // lazy unmount keeps the unmount from propagating back to the host's mounts.
    if (syscall(SYS_pivot_root, ".", ".") < 0) Fail(errno, "pivot_root");
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) Fail(errno, "make old root rslave");
    if (umount2(".", MNT_DETACH) < 0) Fail(errno, "unmount old root");
  }
  if (chdir("/") < 0) Fail(errno, "chdir /");
  close(g_root);
  g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) Fail(errno, "open /");
}

// The /dev/null we bind over masked files must really be the null device (CVE-2025-31133: the
// image could have made it a symlink to a host-sensitive file).
int OpenDevNull() {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, g_root, "dev/null", &how, sizeof how));
  if (fd < 0) Fail(errno, "open /dev/null");
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(errno, "stat /dev/null");
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) Fail(EINVAL, "/dev/null is not the null device");
  return fd;
}

void OpMask(const Op &op) {
  const std::string &path = op.strs.at(0);
  Fd fd(OpenInRoot(g_root, path, O_PATH));
  if (fd.fd < 0) {
    if (errno == ENOENT) return;  // nothing to hide
    Fail(errno, "open " + path);
  }
  struct stat st;
  if (fstat(fd.fd, &st) < 0) Fail(errno, "stat " + path);
  std::string t = FdPath(fd.fd);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", t.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) Fail(errno, "mount tmpfs");
  } else {
    Fd null(OpenDevNull());
    if (mount(FdPath(null.fd).c_str(), t.c_str(), nullptr, MS_BIND, nullptr) < 0) Fail(errno, "bind /dev/null");
  }
}

void OpReadonly(const Op &op) {
  const std::string &path = op.strs.at(0);
  {
    Fd fd(OpenInRoot(g_root, path, O_PATH));
    if (fd.fd < 0) {
      if (errno == ENOENT) return;
      Fail(errno, "open " + path);
    }
    std::string t = FdPath(fd.fd);
    if (mount(t.c_str(), t.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) Fail(errno, "bind");
  }
  RemountInRoot(g_root, path, MS_RDONLY, "remount read-only");
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// pivot_root(2) refuses (EINVAL) when the new root's parent mount is shared, and a bind mount of
// the rootfs under a shared parent would propagate back to the host's namespace. With
// rootfsPropagation "shared" the whole tree is shared at this point, so, as runc does, make the
// mount that contains the rootfs private in our namespace (rootfsPropagation is applied to the
// container's "/" after pivot_root).
void MakeParentMountPrivate(const std::string &rootfs) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) Fail(errno, "open /proc/self/mountinfo");
  std::string best;
  bool bestShared = false;
  char *line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    // id parent maj:min root mountpoint options [optional fields...] - fstype source superopts
    std::vector<std::string> fields;
    char *save = nullptr;
    for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(nullptr, " \n", &save)) fields.push_back(t);
    if (fields.size() < 7) continue;
    std::string mp = Unescape(fields[4]);
    bool under = mp == "/" || rootfs == mp || (rootfs.compare(0, mp.size(), mp) == 0 && rootfs[mp.size()] == '/');
    if (!under || mp.size() < best.size()) continue;
    bool shared = false;
    for (size_t i = 6; i < fields.size() && fields[i] != "-"; i++) {
      if (fields[i].compare(0, 7, "shared:") == 0) shared = true;
    }
    best = mp;
    bestShared = shared;  // later lines win on ties: the topmost mount of a stack
  }
  free(line);
  fclose(f);
  if (bestShared && mount(nullptr, best.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) Fail(errno, "make " + best + " private");
}

void WriteFile(const std::string &path, const std::string &value) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.fd < 0) Fail(errno, "open " + path);
  if (write(fd.fd, value.data(), value.size()) < 0) Fail(errno, "write " + path);
}

// Go's exec.LookPath, which runc uses: a name with a slash is used as is, otherwise each PATH
// entry is tried in order; the file must be a regular file with an execute bit.
void OpResolveExec(const Op &op) {
  bool hasPath = op.ints.at(0) != 0;
  const std::string &name = op.strs.at(0), &pathv = op.strs.at(1);
  auto executable = [](const std::string &p, int *err) {
    struct stat st;
    if (stat(p.c_str(), &st) < 0) { *err = errno; return false; }
    if (S_ISDIR(st.st_mode)) { *err = EISDIR; return false; }
    if ((st.st_mode & 0111) == 0) { *err = EACCES; return false; }
    return true;
  };
  int err = 0;
  if (name.find('/') != std::string::npos) {
    if (!executable(name, &err)) Fail(err, "stat");
    g_exec = name;
    return;
  }
  if (hasPath) {
    size_t i = 0;
    for (;;) {
      size_t j = pathv.find(':', i);
      std::string dir = pathv.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (dir.empty()) dir = ".";
      std::string cand = dir + "/" + name;
      if (executable(cand, &err)) { g_exec = cand; return; }
      if (j == std::string::npos) break;
      i = j + 1;
    }
  }
  Fail(0, "not found in $PATH");
}

// runc (and crun) give the process HOME when the config has none: the home directory of its uid
// in the container's /etc/passwd, or "/". containerd's `ctr run` configs have no env at all.
void LookupHome(uid_t uid) {
  FILE *f = fopen("/etc/passwd", "re");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    // name:passwd:uid:gid:gecos:home:shell
    char *fields[7] = {nullptr};
    int n = 0;
    char *p = line;
    fields[n++] = p;
    while (*p && n < 7) {
      if (*p == ':') { *p = 0; fields[n++] = p + 1; }
      p++;
    }
    if (n < 6) continue;
    char *end = nullptr;
    unsigned long u = strtoul(fields[2], &end, 10);
    if (end == fields[2] || *end != 0 || u != uid) continue;
    if (fields[5][0] != 0) g_home = fields[5];
    break;
  }
  fclose(f);
}

void OpUser(const Op &op) {
  uid_t uid = static_cast<uid_t>(op.ints.at(0));
  LookupHome(uid);
  gid_t gid = static_cast<gid_t>(op.ints.at(1));
  int64_t um = op.ints.at(2);
  std::vector<gid_t> gids;
  for (size_t i = 3; i < op.ints.size(); i++) gids.push_back(static_cast<gid_t>(op.ints[i]));
  // Keep the permitted set across the uid change; CAPS phase 1 then sets the final sets.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_KEEPCAPS)");
  if (setgroups(gids.size(), gids.empty() ? nullptr : gids.data()) < 0) Fail(errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0) Fail(errno, "setresgid");
  if (setresuid(uid, uid, uid) < 0) Fail(errno, "setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_KEEPCAPS)");
  if (um >= 0) umask(static_cast<mode_t>(um));
}

void OpCaps(const Op &op) {
  int phase = static_cast<int>(op.ints.at(0));
  uint64_t bounding = static_cast<uint64_t>(op.ints.at(1));
  uint64_t eff = static_cast<uint64_t>(op.ints.at(2)), perm = static_cast<uint64_t>(op.ints.at(3));
  uint64_t inh = static_cast<uint64_t>(op.ints.at(4)), amb = static_cast<uint64_t>(op.ints.at(5));
  int last = CAP_LAST_CAP;
  {
    // The running kernel may know more capabilities than our headers.
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char b[16] = {0};
      if (read(fd, b, sizeof b - 1) > 0) last = atoi(b);
      close(fd);
    }
  }
  if (phase == 0) {
    for (int c = 0; c <= last && c < 64; c++) {
      if (bounding & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) Fail(errno, "prctl(PR_CAPBSET_DROP)");
    }
    return;
  }
  struct __user_cap_header_struct hdr;
  struct __user_cap_data_struct data[2];
  memset(&hdr, 0, sizeof hdr);
  memset(data, 0, sizeof data);
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(eff >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(perm >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(inh >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) Fail(errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) Fail(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  for (int c = 0; c <= last && c < 64; c++) {
    if (!(amb & (1ULL << c))) continue;
    // The kernel only raises an ambient capability that is also permitted and inheritable.
    // runc's default spec lists ambient capabilities without inheritable ones and runc only
    // warns; do the same (the container simply gets no ambient set).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM) Fail(errno, "prctl(PR_CAP_AMBIENT_RAISE)");
  }
}

// The create/start handshake. READY tells `create` that every setup step worked; then this
// process blocks in open(exec.fifo, O_WRONLY) until `start` opens the read end. The fifo is
// reached through the O_PATH fd taken before pivot_root (the state dir is not visible from the
// container) and the host /proc/self/fd directory opened then too, so this works even if the
// container has no /proc.
void OpWaitStart() {
  if (g_root >= 0) {
    close(g_root);  // every path op is done: hold nothing but what the handshake needs
    g_root = -1;
  }
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_READY;
  if (send(g_sync, &m, sizeof m, MSG_NOSIGNAL) < 0) Fail(errno, "send ready");
  close(g_sync);
  g_sync = -1;
  if (g_fifo < 0) return;  // no fifo in the plan: start right away
  int fd;
  do fd = openat(g_procfd, std::to_string(g_fifo).c_str(), O_WRONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail(errno, "open exec.fifo");
  ssize_t n;
  do n = write(fd, "0", 1); while (n < 0 && errno == EINTR);
  if (n < 0) Fail(errno, "write exec.fifo");
  close(fd);
  close(g_fifo);
  close(g_procfd);
  g_fifo = g_procfd = -1;
}

[[noreturn]] void OpExec(const Op &op) {
  unsigned keep = static_cast<unsigned>(op.ints.at(0));
  size_t nargs = static_cast<size_t>(op.ints.at(1));
  std::vector<char *> argv, envp;
  bool hasHome = false;
  for (size_t i = 0; i < op.strs.size(); i++) {
    char *s = const_cast<char *>(op.strs[i].c_str());
    (i < nargs ? argv : envp).push_back(s);
    if (i >= nargs && op.strs[i].compare(0, 5, "HOME=") == 0) hasHome = true;
  }
  std::string home = "HOME=" + g_home;
  if (!hasHome) envp.push_back(const_cast<char *>(home.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  // stdio may be shared with a Node parent that set O_NONBLOCK; programs expect blocking fds.
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  // Every fd beyond stdio and --preserve-fds is closed by the exec, as late as possible
  // (CVE-2024-21626: a leaked host directory fd gave a container a host cwd).
  if (syscall(SYS_close_range, 3 + keep, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3 + static_cast<int>(keep); fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ResetSignals();
  execve(g_exec.c_str(), argv.data(), envp.data());
  Fail(errno, "exec " + g_exec);
}

// Node marks only the fds it finds at start-up (up to the first gap) close-on-exec, so fds the
// caller leaked beyond that reach us. They are closed right away rather than at the final exec:
// the waiting init must not hold a caller's pipe open during `created` (a caller reading it to EOF
// would hang), and no host fd should sit in a process inside the container's namespaces.
void CloseLeakedFds(unsigned keep) {
  unsigned lo = 3 + keep;
  unsigned sync = static_cast<unsigned>(g_sync);
  if (sync >= lo) {
    if (sync > lo) syscall(SYS_close_range, lo, sync - 1, 0);
    syscall(SYS_close_range, sync + 1, ~0U, 0);
  } else {
    syscall(SYS_close_range, lo, ~0U, 0);
  }
}

// A new session keyring named after the container, as runc does unless --no-new-keyring: the
// container must not inherit (and read, or add to) the caller's session keyring. Kernels without
// keyrings (ENOSYS) are fine; any other failure is an error. The keyring is then made searchable
// by its owner (runc's 0x080000), without which processes that change uid could not use it.
void OpSessionKeyring(const Op &op) {
  long id = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, op.strs.at(0).c_str());
  if (id < 0) {
    if (errno == ENOSYS) return;
    Fail(errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
  }
  char desc[512];
  long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc - 1);
  if (n < 0) Fail(errno, "keyctl(KEYCTL_DESCRIBE)");
  desc[sizeof desc - 1] = 0;
  // "type;uid;gid;perm;description", perm in hex.
  const char *p = desc;
  for (int semis = 0; semis < 3 && p; semis++) {
    p = strchr(p, ';');
    if (p) p++;
  }
  if (!p) Fail(EINVAL, "keyctl(KEYCTL_DESCRIBE): unexpected format");
  unsigned long perm = strtoul(p, nullptr, 16) | 0x080000;
  if (syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, id, perm) < 0) Fail(errno, "keyctl(KEYCTL_SETPERM)");
}

void RunOp(const Op &op) {
  switch (op.code) {
    case OP_ROOT_PROPAGATE:
      if (mount(nullptr, "/", nullptr, static_cast<unsigned long>(op.ints.at(0)), nullptr) < 0) Fail(errno, "mount");
      break;
    case OP_BIND_ROOTFS: {
      const std::string &rootfs = op.strs.at(0);
      MakeParentMountPrivate(rootfs);
      if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) Fail(errno, "bind");
      g_root = open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (g_root < 0) Fail(errno, "open");
      break;
    }
    case OP_MOUNT: OpMount(op); break;
    case OP_MKNOD: OpMknod(op); break;
    case OP_SYMLINK: OpSymlink(op); break;
    case OP_OPEN_FIFO:
      g_fifo = open(op.strs.at(0).c_str(), O_PATH | O_CLOEXEC);
      if (g_fifo < 0) Fail(errno, "open");
      g_procfd = open("/proc/self/fd", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
      if (g_procfd < 0) Fail(errno, "open /proc/self/fd");
      break;
    case OP_PIVOT_ROOT: OpPivot(op); break;
    case OP_REMOUNT: RemountInRoot(g_root, op.strs.at(0), static_cast<unsigned long>(op.ints.at(0)), "remount"); break;
    case OP_MASK: OpMask(op); break;
    case OP_READONLY: OpReadonly(op); break;
    case OP_HOSTNAME:
      if (sethostname(op.strs.at(0).data(), op.strs.at(0).size()) < 0) Fail(errno, "sethostname");
      break;
    case OP_DOMAINNAME:
      if (setdomainname(op.strs.at(0).data(), op.strs.at(0).size()) < 0) Fail(errno, "setdomainname");
      break;
    case OP_SYSCTL: WriteFile(op.strs.at(0), op.strs.at(1)); break;
    case OP_OOM_SCORE_ADJ: WriteFile("/proc/self/oom_score_adj", std::to_string(op.ints.at(0))); break;
    case OP_UNSHARE:
      if (unshare(static_cast<int>(op.ints.at(0))) < 0) Fail(errno, "unshare");
      break;
    case OP_CHDIR:
      if (chdir(op.strs.at(0).c_str()) < 0) Fail(errno, "chdir");
      break;
    case OP_RLIMIT: {
      struct rlimit rl;
      rl.rlim_cur = op.ints.at(1) < 0 ? RLIM_INFINITY : static_cast<rlim_t>(op.ints.at(1));
      rl.rlim_max = op.ints.at(2) < 0 ? RLIM_INFINITY : static_cast<rlim_t>(op.ints.at(2));
      if (setrlimit(static_cast<__rlimit_resource>(op.ints.at(0)), &rl) < 0) Fail(errno, "setrlimit");
      break;
    }
    case OP_RESOLVE_EXEC: OpResolveExec(op); break;
    case OP_USER: OpUser(op); break;
    case OP_CAPS: OpCaps(op); break;
    case OP_NO_NEW_PRIVS:
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
      break;
    case OP_WAIT_START: OpWaitStart(); break;
    case OP_SESSION_KEYRING: OpSessionKeyring(op); break;
    case OP_EXEC: OpExec(op);
    default: Fail(EINVAL, "unknown plan op " + std::to_string(op.code));
  }
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    // Someone ran this outside tsrunc (for example a container re-executing /proc/self/exe,
    // which here is the sealed copy): do nothing.
    fprintf(stderr, "tsrunc-init: internal program of tsrunc, not to be run by hand\n");
    return 2;
  }
  g_sync = atoi(argv[1]);
  int planfd = atoi(argv[2]);
  // Not dumpable: no other process in the container can ptrace us or open /proc/<pid>/fd,
  // /proc/<pid>/exe or our memory while we hold host fds.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_NAME, "tsrunc:[INIT]", 0, 0, 0);
  umask(0);  // modes from the plan are exact; USER sets the process's umask
  SetupSignals();

  std::vector<uint8_t> buf;
  std::vector<Op> ops;
  if (!ReadAll(planfd, &buf) || !Decode(buf, &ops)) Fail(EINVAL, "decode plan");
  close(planfd);
  std::vector<uint8_t>().swap(buf);
  if (ops.empty() || ops.back().code != OP_EXEC || ops.back().ints.empty()) Fail(EINVAL, "plan does not end with EXEC");
  CloseLeakedFds(static_cast<unsigned>(ops.back().ints[0]));

  uint8_t go = 0;
  ssize_t n;
  do n = recv(g_sync, &go, 1, 0); while (n < 0 && errno == EINTR);
  if (n != 1 || go != SYNC_GO) _exit(1);  // `create` went away before releasing us

  for (size_t i = 0; i < ops.size(); i++) {
    g_step = static_cast<int>(i);
    RunOp(ops[i]);
  }
  Fail(EINVAL, "plan ended without EXEC");
}
