// Mount options beyond mount(2)'s flags (see mounts.h). Every path here is resolved inside the
// container's root (OpenInRoot: RESOLVE_IN_ROOT, no magic links), and everything after that works
// on the fds: an image's symlink at a destination, inside a directory being copied, or at a device
// path can only ever lead to another place inside the root.
#include "mounts.h"

#include <dirent.h>
#include <sys/sendfile.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

namespace tsrunc {

namespace {

int SetAttrs(int fd, uint64_t set, uint64_t clr, uint64_t propagation, bool recursive) {
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = set;
  a.attr_clr = clr;
  a.propagation = propagation;
  return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

// Copy the directory `src` into `dst` (both open directories): files, directories, symlinks (as
// symlinks: never followed, so an image's `/var/tmp/x -> /etc/shadow` copies the link, not the
// host's or the image's file), device nodes and FIFOs, with their mode and owner. Sockets are
// skipped (they cannot be copied). Every call is relative to a directory fd and O_NOFOLLOW.
void CopyTree(int src, int dst, const std::string &where, int depth) {
  if (depth > 256) Fail(ELOOP, "tmpcopyup: " + where + ": too deep");
  int dupfd = fcntl(src, F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) Fail(errno, "tmpcopyup: dup");
  DIR *d = fdopendir(dupfd);
  if (!d) { close(dupfd); Fail(errno, "tmpcopyup: read " + where); }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno) Fail(errno, "tmpcopyup: read " + where);
      break;
    }
    const char *n = e->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) continue;
    std::string path = where + "/" + n;
    struct stat st;
    if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0) Fail(errno, "tmpcopyup: stat " + path);
    mode_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst, n, 0700) < 0) Fail(errno, "tmpcopyup: mkdir " + path);
      Fd s(openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (s.fd < 0) Fail(errno, "tmpcopyup: open " + path);
      Fd t(openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (t.fd < 0) Fail(errno, "tmpcopyup: open the copy of " + path);
      CopyTree(s.fd, t.fd, path, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      Fd s(openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (s.fd < 0) Fail(errno, "tmpcopyup: open " + path);
      Fd t(openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (t.fd < 0) Fail(errno, "tmpcopyup: create the copy of " + path);
      for (;;) {
        ssize_t k = sendfile(t.fd, s.fd, nullptr, 1 << 20);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) Fail(errno, "tmpcopyup: copy " + path);
        if (k == 0) break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t k = readlinkat(src, n, &target[0], target.size());
      if (k < 0) Fail(errno, "tmpcopyup: readlink " + path);
      if (static_cast<size_t>(k) >= target.size()) Fail(ENAMETOOLONG, "tmpcopyup: readlink " + path);
      target.resize(static_cast<size_t>(k));
      if (symlinkat(target.c_str(), dst, n) < 0) Fail(errno, "tmpcopyup: symlink " + path);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      if (mknodat(dst, n, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0) Fail(errno, "tmpcopyup: mknod " + path);
    } else {
      continue;  // a socket
    }
    if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) Fail(errno, "tmpcopyup: chown " + path);
    // After the chown, which clears set-id bits. Symlinks have no mode of their own.
    if (!S_ISLNK(st.st_mode) && fchmodat(dst, n, perm, 0) < 0) Fail(errno, "tmpcopyup: chmod " + path);
  }
  closedir(d);
}

}  // namespace

void OpMountAttrs(const Op &op) {
  uint64_t set = static_cast<uint64_t>(op.ints.at(0)), clr = static_cast<uint64_t>(op.ints.at(1));
  bool recursive = op.ints.at(2) != 0;
  uint64_t propagation = static_cast<uint64_t>(op.ints.at(3));
  const std::string &dest = op.strs.at(0);
  // The destination resolves to the root of the mount the MOUNT op made there (the top of the
  // stack), which mount_setattr requires (EINVAL otherwise).
  Fd fd(OpenInRoot(g_root, dest, O_PATH));
  if (fd.fd < 0) Fail(errno, "open " + dest);
  if (SetAttrs(fd.fd, set, clr, propagation, recursive) < 0) Fail(errno, "mount_setattr");
}

void RemountExisting(const Op &op) {
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0));
  unsigned long prop = static_cast<unsigned long>(op.ints.at(1));
  bool procAllowed = op.ints.size() > 3 && op.ints.at(3) != 0;
  const std::string &src = op.strs.at(0), &dest = op.strs.at(1), &fstype = op.strs.at(2), &data = op.strs.at(3);
  // Nothing is created: `remount` changes the mount that an earlier entry (or the image's rootfs
  // mount) put at dest; mount(2) says EINVAL if dest is not a mount's root.
  Fd target(OpenInRoot(g_root, dest, O_PATH));
  if (target.fd < 0) Fail(errno, "open " + dest);
  if (!procAllowed && OnFs(target.fd, PROC_SUPER_MAGIC)) Fail(0, "\"" + dest + "\" cannot be mounted because it is inside /proc");
  // Before pivot_root /proc is still the host's own procfs (see FdPath).
  std::string t = FdPath(target.fd);
  if (mount(src.c_str(), t.c_str(), (flags & MS_BIND) ? nullptr : fstype.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0) {
    Fail(errno, "remount");
  }
  if (prop != 0 && SetAttrs(target.fd, 0, 0, prop & ~static_cast<unsigned long>(MS_REC), (prop & MS_REC) != 0) < 0) Fail(errno, "set propagation");
}

void OpTmpCopyUp(const Op &op) {
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0));
  unsigned long prop = static_cast<unsigned long>(op.ints.at(1));
  bool procAllowed = op.ints.at(3) != 0;
  const std::string &src = op.strs.at(0), &dest = op.strs.at(1), &fstype = op.strs.at(2), &data = op.strs.at(3);
  Fd made(MkdirAllInRoot(g_root, dest));
  if (made.fd < 0) Fail(errno, "mkdir " + dest);
  // The image's directory, held open: once the tmpfs covers dest this fd still reaches what was
  // there, so the copy needs no second path and no temporary mount point.
  Fd lower(OpenInRoot(g_root, dest, O_RDONLY | O_DIRECTORY));
  if (lower.fd < 0) Fail(errno, "open " + dest);
  if (!procAllowed && OnFs(lower.fd, PROC_SUPER_MAGIC)) Fail(0, "\"" + dest + "\" cannot be mounted because it is inside /proc");
  struct stat lst;
  if (fstat(lower.fd, &lst) < 0) Fail(errno, "stat " + dest);
  {
    Fd target(OpenInRoot(g_root, dest, O_PATH));
    if (target.fd < 0) Fail(errno, "open " + dest);
    // Writable until the copy is in; `ro` comes after it.
    if (mount(src.c_str(), FdPath(target.fd).c_str(), fstype.c_str(), flags & ~static_cast<unsigned long>(MS_RDONLY),
              data.empty() ? nullptr : data.c_str()) < 0) {
      Fail(errno, "mount");
    }
  }
  Fd upper(OpenInRoot(g_root, dest, O_RDONLY | O_DIRECTORY));
  if (upper.fd < 0) Fail(errno, "open " + dest);
  struct stat ust;
  if (fstat(upper.fd, &ust) < 0) Fail(errno, "stat " + dest);
  if (!OnFs(upper.fd, TMPFS_MAGIC) || ust.st_dev == lst.st_dev) Fail(EXDEV, "tmpcopyup: " + dest + " is not the new tmpfs");
  CopyTree(lower.fd, upper.fd, dest == "/" ? "" : dest, 0);
  // The tmpfs root takes the directory's owner and mode, as the copied entries do.
  if (fchown(upper.fd, lst.st_uid, lst.st_gid) < 0) Fail(errno, "tmpcopyup: chown " + dest);
  if (fchmod(upper.fd, lst.st_mode & 07777) < 0) Fail(errno, "tmpcopyup: chmod " + dest);
  if ((flags & MS_RDONLY) && SetAttrs(upper.fd, MOUNT_ATTR_RDONLY, 0, 0, false) < 0) Fail(errno, "remount read-only");
  if (prop != 0 && SetAttrs(upper.fd, 0, 0, prop & ~static_cast<unsigned long>(MS_REC), (prop & MS_REC) != 0) < 0) Fail(errno, "set propagation");
}

void CheckExistingDevice(const std::string &path, mode_t mode, dev_t dev) {
  Fd e(OpenInRoot(g_root, path, O_PATH));
  struct stat st;
  bool same = e.fd >= 0 && fstat(e.fd, &st) == 0 && (st.st_mode & S_IFMT) == (mode & S_IFMT) &&
              (S_ISFIFO(mode) || st.st_rdev == dev);
  if (!same) Fail(EEXIST, path + " exists and is not the requested device");
}

}  // namespace tsrunc
