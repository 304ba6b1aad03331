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
#include "common.h"
#include "netdev.h"
#include "process.h"
#include "ns.h"
#include "mounts.h"
#include "tty.h"
#include "join.h"

#include <algorithm>
#include "hooks.h"
#include "seccomp_notify.h"

using namespace tsrunc;

namespace {

void OpMount(const Op &op) {
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0));
  unsigned long prop = static_cast<unsigned long>(op.ints.at(1));
  bool bind = op.ints.at(2) != 0;
  // 0: outside /proc; 1: allowed inside /proc; 2: a bind on /proc itself, of a procfs only.
  int64_t procPolicy = op.ints.size() > 3 ? op.ints.at(3) : 0;
  bool procAllowed = procPolicy != 0;
  const std::string &src = op.strs.at(0), &dest = op.strs.at(1), &fstype = op.strs.at(2), &data = op.strs.at(3);
  if (flags & MS_REMOUNT) {
    RemountExisting(op);
    return;
  }

  // procfs and sysfs only on a real directory (runc's rule): an image that made /proc a symlink
  // (to /tmp, to anywhere) must not decide where the container's procfs lands.
  if (!bind && (fstype == "proc" || fstype == "sysfs")) {
    Fd d(OpenInRoot(g_root, dest, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS));
    struct stat st;
    if (d.fd < 0 ? errno != ENOENT : (fstat(d.fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
      Fail(0, "filesystem \"" + fstype + "\" must be mounted on ordinary directory");
    }
  }
  if (bind && procPolicy == 2) {
    struct statfs sf;
    if (statfs(src.c_str(), &sf) < 0) Fail(errno, "statfs " + src);
    if (sf.f_type != PROC_SUPER_MAGIC) Fail(0, "\"" + dest + "\" cannot be mounted because it is not of type proc");
  }

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
    // Nothing but proc itself (and runc's few lxcfs-style files) may be mounted inside /proc:
    // a mount over /proc/sys/... would redirect sysctl writes (CVE-2025-52881). The compiler
    // refuses such destinations by name; this catches the ones an image symlink leads into /proc.
    if (!procAllowed && OnFs(target.fd, PROC_SUPER_MAGIC)) Fail(0, "\"" + dest + "\" cannot be mounted because it is inside /proc");
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
    unsigned long cur = CurrentMountFlags(t);
    unsigned long keep = cur & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (mount(nullptr, t.c_str(), nullptr, MS_REMOUNT | MS_BIND | extra | keep, nullptr) < 0) {
      // In a user namespace, a bind of a mount from a more privileged namespace has its flags
      // locked (mount_namespaces(7)): read-only and the atime flags must stay as they are too.
      unsigned long locked = cur & (MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
      if (errno != EPERM || mount(nullptr, t.c_str(), nullptr, MS_REMOUNT | MS_BIND | extra | keep | locked, nullptr) < 0) Fail(errno, "remount");
    }
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
    // The image or a bind mount already provides it. linux.devices (strict): it must be that
    // device (config-linux.md); the default devices are kept whatever they are, as in runc.
    if (op.ints.size() > 5 && op.ints.at(5) != 0) CheckExistingDevice(op.strs.at(0), mode, dev);
    return;
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

// The mountinfo lines (split into fields) of this mount namespace, read once.
std::vector<std::vector<std::string>> MountInfo() {
  std::vector<std::vector<std::string>> out;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) Fail(errno, "open /proc/self/mountinfo");
  char *line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    // id parent maj:min root mountpoint options [optional fields...] - fstype source superopts
    std::vector<std::string> fields;
    char *save = nullptr;
    for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(nullptr, " \n", &save)) fields.push_back(t);
    if (fields.size() >= 7) out.push_back(fields);
  }
  free(line);
  fclose(f);
  return out;
}

// The filesystem type of a mountinfo line (the field after "-").
std::string MountFsType(const std::vector<std::string> &fields) {
  for (size_t i = 6; i + 1 < fields.size(); i++) if (fields[i] == "-") return fields[i + 1];
  return "";
}

bool PathUnder(const std::string &p, const std::string &dir) {
  return p == dir || (p.compare(0, dir.size(), dir) == 0 && (dir == "/" || p[dir.size()] == '/'));
}

void HideHostProcAndSys(const std::string &rootfs) {
  for (const auto &fields : MountInfo()) {
    std::string type = MountFsType(fields);
    std::string mp = Unescape(fields[4]);
    if ((type != "proc" && type != "sysfs") || fields[3] != "/" || PathUnder(mp, rootfs)) continue;
    // rslave first, so that the unmount does not propagate back to the host.
    if (mount(nullptr, mp.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;  // already gone with a parent detached before it
      Fail(errno, "make " + mp + " rslave");
    }
    if (umount2(mp.c_str(), MNT_DETACH) < 0) {
      if (errno != EINVAL && errno != EPERM) Fail(errno, "unmount " + mp);
      // A mount we may not unmount (locked): cover it instead.
      if (mount("tmpfs", mp.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) Fail(errno, "cover " + mp);
    }
  }
}

void OpPivot(const Op &op) {
  int64_t mode = op.ints.at(0);
  bool noPivot = mode == 1;
  const std::string &rootfs = op.strs.at(0);
  if (chdir(rootfs.c_str()) < 0) Fail(errno, "chdir " + rootfs);
  if (mode == 2) {
    // No mount namespace: the caller's mounts must stay as they are, so only chroot (runc too).
    if (chroot(".") < 0) Fail(errno, "chroot");
  } else if (noPivot) {
    // --no-pivot: move the rootfs over / and chroot (for ramfs roots where pivot_root is refused).
    // chroot leaves the old root's mounts in the namespace. The kernel lets a process that makes
    // a new user namespace mount a fresh procfs/sysfs only if no fully visible one is in its mount
    // namespace (mount_too_revealing): the host's /proc and /sys would count, and the container
    // could mount an unmasked /proc. Detach them (or cover them) first, as runc does.
    HideHostProcAndSys(rootfs);
    if (mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) Fail(errno, "mount --move");
    if (chroot(".") < 0) Fail(errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; making it rslave before the
    // lazy unmount keeps the unmount from propagating back to the host's mounts.
    // After pivot_root our cwd is still the new root's own directory (the old root is stacked on
    // top of it), so "." must be made to mean the old root first: without the fchdir the rslave
    // below would hit the new root and every config mount under it, turning a `shared` mount
    // private. The fd is the host's `/`, held only across these three calls.
    Fd oldroot(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (oldroot.fd < 0) Fail(errno, "open old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) Fail(errno, "pivot_root");
    if (fchdir(oldroot.fd) < 0) Fail(errno, "fchdir old root");
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
  int fd = OpenInRoot(g_root, "/dev/null", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
  if (fd < 0) Fail(errno, "open /dev/null");
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(errno, "stat /dev/null");
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) Fail(EINVAL, "/dev/null is not the null device");
  return fd;
}

// maskedPaths and readonlyPaths run after pivot_root: the mounts are made detached (fsmount,
// open_tree) and attached by fd (move_mount), so no path through the container's /proc, which the
// image or the config controls, is ever used.
void OpMask(const Op &op) {
  const std::string &path = op.strs.at(0);
  Fd fd(OpenInRoot(g_root, path, O_PATH));
  if (fd.fd < 0) {
    if (errno == ENOENT) return;  // nothing to hide
    Fail(errno, "open " + path);
  }
  struct stat st;
  if (fstat(fd.fd, &st) < 0) Fail(errno, "stat " + path);
  Fd tree;
  if (S_ISDIR(st.st_mode)) {
    // An empty read-only tmpfs over a directory (runc's mask).
    Fd ctx(fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (ctx.fd < 0) Fail(errno, "fsopen tmpfs");
    // What mount("tmpfs", path, "tmpfs", MS_RDONLY) gives: source "tmpfs", a read-only superblock.
    // linux.mountLabel: runc mounts this tmpfs with `context=<label>` (a kernel without SELinux
    // refuses the option, as it refuses runc's mount).
    if (fsconfig(ctx.fd, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 || fsconfig(ctx.fd, FSCONFIG_SET_FLAG, "ro", nullptr, 0) < 0 ||
        (op.strs.size() > 1 && fsconfig(ctx.fd, FSCONFIG_SET_STRING, "context", op.strs[1].c_str(), 0) < 0) ||
        fsconfig(ctx.fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
      Fail(errno, "create tmpfs");
    }
    tree.fd = fsmount(ctx.fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    if (tree.fd < 0) Fail(errno, "fsmount tmpfs");
  } else {
    Fd null(OpenDevNull());
    tree.fd = open_tree(null.fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree.fd < 0) Fail(errno, "clone /dev/null");
  }
  if (AttachMount(tree.fd, fd.fd) < 0) Fail(errno, S_ISDIR(st.st_mode) ? "mount tmpfs" : "bind /dev/null");
}

void OpReadonly(const Op &op) {
  const std::string &path = op.strs.at(0);
  Fd fd(OpenInRoot(g_root, path, O_PATH));
  if (fd.fd < 0) {
    if (errno == ENOENT) return;
    Fail(errno, "open " + path);
  }
  // A recursive bind of the path, made read-only while still detached, then put over it: there is
  // no moment where the path is covered but writable.
  Fd tree(open_tree(fd.fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  if (tree.fd < 0) Fail(errno, "bind");
  if (AddMountAttrs(tree.fd, MOUNT_ATTR_RDONLY) < 0) Fail(errno, "remount read-only");
  if (AttachMount(tree.fd, fd.fd) < 0) Fail(errno, "bind");
}

// pivot_root(2) refuses (EINVAL) when the new root's parent mount is shared, and a bind mount of
// the rootfs under a shared parent would propagate back to the host's namespace. With
// rootfsPropagation "shared" the whole tree is shared at this point, so, as runc does, make the
// mount that contains the rootfs private in our namespace (rootfsPropagation is applied to the
// container's "/" after pivot_root).
void MakeParentMountPrivate(const std::string &rootfs) {
  std::string best;
  bool bestShared = false;
  for (const auto &fields : MountInfo()) {
    std::string mp = Unescape(fields[4]);
    if (!PathUnder(rootfs, mp) || mp.size() < best.size()) continue;
    bool shared = false;
    for (size_t i = 6; i < fields.size() && fields[i] != "-"; i++) {
      if (fields[i].compare(0, 7, "shared:") == 0) shared = true;
    }
    best = mp;
    bestShared = shared;  // later lines win on ties: the topmost mount of a stack
  }
  if (bestShared && mount(nullptr, best.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) Fail(errno, "make " + best + " private");
}

void WriteFile(const std::string &path, const std::string &value) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.fd < 0) Fail(errno, "open " + path);
  if (write(fd.fd, value.data(), value.size()) < 0) Fail(errno, "write " + path);
}

// linux.sysctl. The compiler lets through only keys of namespaces the container has its own of
// (runc's rules) and gives the file relative to /proc (`sys/net/ipv4/ip_forward`). It is opened in
// a private procfs, beneath it, following no symlink, and must be on procfs: no mount over /proc
// and no image-made /proc can redirect the write to the host (CVE-2025-52881). Net, ipc and uts
// sysctls act on the namespaces of the process that opens them, which is this one.
void OpSysctl(const Op &op) {
  const std::string &rel = op.strs.at(0), &value = op.strs.at(1);
  Fd proc(OpenPrivateProc(false));
  if (proc.fd < 0) Fail(errno, "mount a private procfs");
  Fd f(OpenBeneath(proc.fd, rel, O_WRONLY));
  if (f.fd < 0) Fail(errno, "open /proc/" + rel);
  if (!OnFs(f.fd, PROC_SUPER_MAGIC)) Fail(EXDEV, "/proc/" + rel + " is not on procfs");
  if (write(f.fd, value.data(), value.size()) < 0) Fail(errno, "write /proc/" + rel);
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
// The file is the image's: resolved inside the root with no magic link (a symlink to
// /proc/self/fd/N/../.. must not reach a host file), opened without blocking and read only if it
// is a regular file (a FIFO would hang us, a device could be endless).
void OpLookupHome(const Op &op) {
  uid_t uid = static_cast<uid_t>(op.ints.at(0));
  Fd fd(OpenInRoot(g_root, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (fd.fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    Fail(errno, "open /etc/passwd");
  }
  struct stat st;
  if (fstat(fd.fd, &st) < 0) Fail(errno, "stat /etc/passwd");
  if (!S_ISREG(st.st_mode)) Fail(0, "/etc/passwd is not a regular file");
  FILE *f = fdopen(fd.fd, "re");
  if (!f) Fail(errno, "read /etc/passwd");
  fd.release();
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
    char *nl = strchr(fields[5], '\n');
    if (nl) *nl = 0;
    if (fields[5][0] != 0) g_home = fields[5];
    break;
  }
  fclose(f);
}

// process.cwd, as runc does since 1.1.12 (CVE-2024-21626): created if missing (MKDIR, before the
// read-only remounts), resolved inside the root without following magic links (`/proc/self/fd/N`
// would name one of our fds), entered by fd, and then checked: getcwd(2) must give a path under
// the root (the kernel writes "(unreachable)..." otherwise).
void OpChdir(const Op &op) {
  const std::string &cwd = op.strs.at(0);
  Fd d(OpenInRoot(g_root, cwd, O_PATH | O_DIRECTORY));
  if (d.fd < 0) Fail(errno, "open " + cwd);
  if (fchdir(d.fd) < 0) Fail(errno, "chdir " + cwd);
  char buf[4097];
  if (syscall(SYS_getcwd, buf, sizeof buf) < 0) Fail(errno, "getcwd");
  if (buf[0] != '/') Fail(0, "current working directory is outside of container mount namespace root -- possible container breakout detected");
}

void OpUser(const Op &op) {
  uid_t uid = static_cast<uid_t>(op.ints.at(0));
  gid_t gid = static_cast<gid_t>(op.ints.at(1));
  int64_t um = op.ints.at(2);
  std::vector<gid_t> gids;
  for (size_t i = 3; i < op.ints.size(); i++) gids.push_back(static_cast<gid_t>(op.ints[i]));
  // Keep the permitted set across the uid change; CAPS phase 1 then sets the final sets.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_KEEPCAPS)");
  if (setgroups(gids.size(), gids.empty() ? nullptr : gids.data()) < 0) Fail(errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0) Fail(errno, "setresgid");
  if (setresuid(uid, uid, uid) < 0) Fail(errno, "setresuid");
  // A change of effective uid/gid clears the parent-death signal (prctl(2)): arm it again, the
  // init must still die with `tsrunc create` until the container is recorded (WAIT_START).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_PDEATHSIG)");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_KEEPCAPS)");
  if (um >= 0) umask(static_cast<mode_t>(um));
}

void OpCaps(const Op &op) {
  int phase = static_cast<int>(op.ints.at(0));
  uint64_t bounding = static_cast<uint64_t>(op.ints.at(1));
  uint64_t eff = static_cast<uint64_t>(op.ints.at(2)), perm = static_cast<uint64_t>(op.ints.at(3));
  uint64_t inh = static_cast<uint64_t>(op.ints.at(4)), amb = static_cast<uint64_t>(op.ints.at(5));
  // The running kernel may know more capabilities than our headers: ask it, not a file. (This
  // runs after pivot_root, where /proc/sys/kernel/cap_last_cap would be the image's to forge, and a
  // low number would leave capabilities in the bounding set.)
  int last = 0;
  while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) last++;
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

// The create/start handshake. READY tells `create` that every setup step worked; the init then
// waits for COMMIT, which `create` sends once state.json (and the pid file) are written: if create
// dies before that (killed, crashed), the socket reads EOF and the init exits, so a half-made
// container never outlives its creator (the parent-death signal covers the steps before). Only
// then does it block in open(exec.fifo, O_WRONLY) until `start` opens the read end. The fifo is
// reopened from its O_PATH fd (OPEN_FIFO) through the private procfs taken at PROC_HANDLE, so
// this needs no /proc in the container and no host directory fd at any time.
void OpWaitStart() {
  if (g_root >= 0) {
    close(g_root);  // every path op is done: hold nothing but what the handshake needs
    g_root = -1;
  }
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_READY;
  if (send(g_sync, &m, sizeof m, MSG_NOSIGNAL) < 0) Fail(errno, "send ready");
  uint8_t commit = 0;
  ssize_t n;
  do n = recv(g_sync, &commit, 1, 0); while (n < 0 && errno == EINTR);
  if (n != 1 || commit != SYNC_COMMIT) _exit(1);  // `create` went away before recording us
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);            // recorded: from now on we outlive `create`
  close(g_sync);
  g_sync = -1;
  if (g_fifo < 0) return;  // no fifo in the plan: start right away
  int fd;
  std::string self = "self/fd/" + std::to_string(g_fifo);
  do fd = openat(g_proc, self.c_str(), O_WRONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail(errno, "open exec.fifo");
  close(g_proc);
  close(g_fifo);
  g_fifo = g_proc = -1;
  do n = write(fd, "0", 1); while (n < 0 && errno == EINTR);
  if (n < 0) Fail(errno, "write exec.fifo");
  // Kept open (O_CLOEXEC) until the execve: `start` returns once it reads EOF (protocol.h).
  g_start_fd = fd;
}

// Install a seccomp filter compiled by libseccomp in the parent (src/plan/seccomp.ts,
// addon/seccomp.cc): this program only hands the ready BPF to the kernel.
int InstallSeccomp(std::vector<sock_filter> &prog, unsigned flags) {
  struct sock_fprog fp;
  fp.len = static_cast<unsigned short>(prog.size());
  fp.filter = prog.data();
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
  if (rc < 0 && errno == ENOSYS && flags == 0) rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0);
  return rc < 0 ? -1 : 0;
}

// SECCOMP: flags, late; the program as hex. late: keep it for EXEC (with noNewPrivileges the
// filter comes as late as possible, so the init's own remaining syscalls are only execve).
void OpSeccomp(const Op &op) {
  std::vector<sock_filter> prog = FilterFromHex(op.strs.at(0));
  unsigned flags = static_cast<unsigned>(op.ints.at(0));
  if (op.ints.at(1) != 0) {
    g_seccomp.swap(prog);
    g_seccomp_flags = flags;
    g_seccomp_late = true;
    return;
  }
  if (InstallSeccomp(prog, flags) < 0) Fail(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
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
  if (g_seccomp_late && InstallSeccomp(g_seccomp, g_seccomp_flags) < 0) Fail(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
  execve(g_exec.c_str(), argv.data(), envp.data());
  Fail(errno, "exec " + g_exec);
}

// Node marks only the fds it finds at start-up (up to the first gap) close-on-exec, so fds the
// caller leaked beyond that reach us. They are closed right away rather than at the final exec:
// the waiting init must not hold a caller's pipe open during `created` (a caller reading it to EOF
// would hang), and no host fd should sit in a process inside the container's namespaces.
void CloseLeakedFds(unsigned keep, std::vector<int> held) {
  held.push_back(g_sync);
  std::sort(held.begin(), held.end());
  unsigned lo = 3 + keep;
  for (int fd : held) {
    if (fd < 0 || static_cast<unsigned>(fd) < lo) continue;
    if (static_cast<unsigned>(fd) > lo) syscall(SYS_close_range, lo, static_cast<unsigned>(fd) - 1, 0);
    lo = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, lo, ~0U, 0);
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
      // 1: no mount namespace of our own. The caller's mounts are left as they are; only the new
      // bind is made private, so that what is mounted under it stays out of other namespaces.
      bool callerNs = !op.ints.empty() && op.ints[0] == 1;
      if (!callerNs) MakeParentMountPrivate(rootfs);
      if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) Fail(errno, "bind");
      if (callerNs && mount(nullptr, rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) Fail(errno, "make the rootfs bind private");
      g_root = open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (g_root < 0) Fail(errno, "open");
      break;
    }
    case OP_MOUNT: OpMount(op); break;
    case OP_MKNOD: OpMknod(op); break;
    case OP_SYMLINK: OpSymlink(op); break;
    case OP_OPEN_FIFO:
      // O_PATH|O_NOFOLLOW of the fifo itself: not a directory, so nothing can be walked from it.
      g_fifo = open(op.strs.at(0).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (g_fifo < 0) Fail(errno, "open");
      break;
    case OP_PROC_HANDLE:
      g_proc = OpenPrivateProc(true);
      if (g_proc < 0) Fail(errno, "mount a private procfs");
      break;
    case OP_LOOKUP_HOME: OpLookupHome(op); break;
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
    case OP_SYSCTL: OpSysctl(op); break;
    case OP_OOM_SCORE_ADJ: WriteFile("/proc/self/oom_score_adj", std::to_string(op.ints.at(0))); break;
    case OP_UNSHARE:
      if (unshare(static_cast<int>(op.ints.at(0))) < 0) Fail(errno, "unshare");
      break;
    case OP_CHDIR: OpChdir(op); break;
    case OP_MKDIR: {
      Fd d(MkdirAllInRoot(g_root, op.strs.at(0)));
      if (d.fd < 0) Fail(errno, "mkdir " + op.strs.at(0));
      break;
    }
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
    case OP_SECCOMP: OpSeccomp(op); break;
    case OP_APPARMOR: OpAppArmor(op); break;
    case OP_SCHEDULER: OpScheduler(op); break;
    case OP_IOPRIO: OpIoprio(op); break;
    case OP_PERSONALITY: OpPersonality(op); break;
    case OP_MEMORY_POLICY: OpMemoryPolicy(op); break;
    case OP_NETDEV: OpNetdev(op); break;
    case OP_TIMENS: OpTimens(op); break;
    case OP_JOIN_TIMENS: OpJoinTimens(op); break;
    case OP_RECV_FIFO: OpRecvFifo(op); break;
    case OP_MOUNT_IDMAP: OpMountIdmap(op); break;
    case OP_BIND_DEVICE: OpBindDevice(op); break;
    case OP_MOUNT_ATTRS: OpMountAttrs(op); break;
    case OP_TMPCOPYUP: OpTmpCopyUp(op); break;
    case OP_PTY: OpPty(op); break;
    case OP_FORK: OpFork(op); break;
    case OP_JOIN: OpJoin(op); break;
    case OP_EXEC_READY: OpExecReady(); break;
    case OP_HOOK_SYNC: OpHookSync(); break;
    case OP_HOOK: OpHook(op); break;
    case OP_SECCOMP_LISTENER: OpSeccompListener(op); break;
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
  std::vector<int> held;  // the pidfd a JOIN op joins through
  for (const Op &op : ops) if (op.code == OP_JOIN && !op.ints.empty()) held.push_back(static_cast<int>(op.ints[0]));
  CloseLeakedFds(static_cast<unsigned>(ops.back().ints[0]), held);

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
