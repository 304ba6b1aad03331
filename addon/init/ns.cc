#include "ns.h"
#include "../scm.h"

#include <linux/nsfs.h>
#include <sys/ioctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace tsrunc {

namespace {

// One fd that `create` sent over the sync socket (protocol.h: SYNC_FD with SCM_RIGHTS), in plan
// order. Received only by the op that uses it, so no host fd waits in this process meanwhile.
int RecvFd(const char *what) {
  uint8_t b = 0;
  int fd = -1;
  bool truncated = false;
  ssize_t n = RecvWithFd(g_sync, &b, 1, &fd, &truncated);
  if (n < 0) Fail(errno, std::string("receive ") + what);
  if (n != 1 || b != SYNC_FD || fd < 0 || truncated) {
    if (fd >= 0) close(fd);
    Fail(EPROTO, std::string("receive ") + what);
  }
  return fd;
}

}  // namespace

// TIMENS: monotonic secs, nsecs, boottime secs, nsecs. The offsets of a time namespace can only be
// written while no process is in it (time_namespaces(7)), so: unshare(CLONE_NEWTIME) makes it our
// time_for_children, timens_offsets (which addresses time_for_children) takes the offsets, and
// setns() into it, which for a single-threaded process like this one takes effect at once. This
// runs first, while /proc is still the host's own procfs (nothing of the container is mounted);
// the files opened are checked to be on procfs.
void OpTimens(const Op &op) {
  if (unshare(CLONE_NEWTIME) < 0) Fail(errno, "unshare(CLONE_NEWTIME)");
  std::string offsets = "monotonic " + std::to_string(op.ints.at(0)) + " " + std::to_string(op.ints.at(1)) + "\n" +
                        "boottime " + std::to_string(op.ints.at(2)) + " " + std::to_string(op.ints.at(3)) + "\n";
  {
    Fd f(open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (f.fd < 0) Fail(errno, "open /proc/self/timens_offsets");
    if (!OnFs(f.fd, PROC_SUPER_MAGIC)) Fail(EXDEV, "/proc/self/timens_offsets is not on procfs");
    if (write(f.fd, offsets.data(), offsets.size()) != static_cast<ssize_t>(offsets.size())) Fail(errno, "write /proc/self/timens_offsets");
  }
  Fd ns(open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (ns.fd < 0) Fail(errno, "open /proc/self/ns/time_for_children");
  if (setns(ns.fd, CLONE_NEWTIME) < 0) Fail(errno, "setns(CLONE_NEWTIME)");
}

// JOIN_TIMENS: path. The path is the config's, on the host (config-linux.md); it must be a time
// namespace (NS_GET_NSTYPE), not whatever file is there.
void OpJoinTimens(const Op &op) {
  const std::string &path = op.strs.at(0);
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) Fail(errno, "open " + path);
  int type = ioctl(fd.fd, NS_GET_NSTYPE);
  if (type < 0) Fail(errno == ENOTTY ? 0 : errno, path + " is not a namespace file");
  if (type != CLONE_NEWTIME) Fail(0, path + " is not a time namespace");
  if (setns(fd.fd, CLONE_NEWTIME) < 0) Fail(errno, "setns(CLONE_NEWTIME)");
}

// RECV_FIFO: a mapped root (user namespace) cannot walk the state directory to open exec.fifo,
// so `create` opens it (O_PATH) and sends it; it must be a fifo (what OPEN_FIFO would have found).
void OpRecvFifo(const Op &) {
  g_fifo = RecvFd("exec.fifo");
  struct stat st;
  if (fstat(g_fifo, &st) < 0) Fail(errno, "stat exec.fifo");
  if (!S_ISFIFO(st.st_mode)) Fail(EINVAL, "exec.fifo is not a fifo");
}

// MOUNT_IDMAP: flags, propagation; source (for messages), dest. The idmapped tree comes from
// `create`; it is made read-only etc. while still detached, then attached on the destination,
// which is resolved inside the root like every mount target (an image symlink stays inside).
void OpMountIdmap(const Op &op) {
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0));
  unsigned long prop = static_cast<unsigned long>(op.ints.at(1));
  const std::string &dest = op.strs.at(1);
  Fd tree(RecvFd("idmapped mount"));
  struct stat st;
  if (fstat(tree.fd, &st) < 0) Fail(errno, "stat idmapped tree");
  if (S_ISDIR(st.st_mode)) {
    Fd d(MkdirAllInRoot(g_root, dest));
    if (d.fd < 0) Fail(errno, "mkdir " + dest);
  } else {
    std::string parent, base;
    ParentBase(dest, &parent, &base);
    Fd pd(MkdirAllInRoot(g_root, parent));
    if (pd.fd < 0) Fail(errno, "mkdir " + parent);
    Fd f(openat(pd.fd, base.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (f.fd < 0 && errno != EEXIST && errno != ELOOP) Fail(errno, "create " + dest);
  }
  Fd target(OpenInRoot(g_root, dest, O_PATH));
  if (target.fd < 0) Fail(errno, "open " + dest);
  if (OnFs(target.fd, PROC_SUPER_MAGIC)) Fail(0, "\"" + dest + "\" cannot be mounted because it is inside /proc");
  uint64_t attrs = MountAttrs(flags & ~(MS_BIND | MS_REC));
  if (attrs && AddMountAttrs(tree.fd, attrs) < 0) Fail(errno, "mount_setattr");
  if (AttachMount(tree.fd, target.fd) < 0) Fail(errno, "move_mount");
  if (prop != 0) {
    Fd again(OpenInRoot(g_root, dest, O_PATH));
    if (again.fd < 0) Fail(errno, "open " + dest);
    if (mount(nullptr, FdPath(again.fd).c_str(), nullptr, prop, nullptr) < 0) Fail(errno, "set propagation");
  }
}

// BIND_DEVICE: mode (S_IFCHR/S_IFBLK), major, minor; path. A user namespace cannot mknod, so the
// host's node of the same path is bound in (runc's way). The path is the config's: the host file
// must be that very device (type and number), not whatever the path names on the host, and it is
// bound by fd (open_tree of the opened node), onto a target resolved inside the root.
void OpBindDevice(const Op &op) {
  mode_t type = static_cast<mode_t>(op.ints.at(0)) & S_IFMT;
  dev_t dev = makedev(static_cast<unsigned>(op.ints.at(1)), static_cast<unsigned>(op.ints.at(2)));
  const std::string &path = op.strs.at(0);
  Fd src(open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (src.fd < 0) Fail(errno, "open the host's " + path);
  struct stat st;
  if (fstat(src.fd, &st) < 0) Fail(errno, "stat the host's " + path);
  if ((st.st_mode & S_IFMT) != type || st.st_rdev != dev) Fail(0, "the host's " + path + " is not the device the config names");
  std::string parent, base;
  ParentBase(path, &parent, &base);
  Fd pd(MkdirAllInRoot(g_root, parent));
  if (pd.fd < 0) Fail(errno, "mkdir " + parent);
  Fd f(openat(pd.fd, base.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (f.fd < 0 && errno != EEXIST) Fail(errno, "create " + path);
  Fd target(OpenInRoot(g_root, path, O_PATH));
  if (target.fd < 0) Fail(errno, "open " + path);
  if (OnFs(target.fd, PROC_SUPER_MAGIC)) Fail(0, "\"" + path + "\" cannot be mounted because it is inside /proc");
  Fd tree(open_tree(src.fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree.fd < 0) Fail(errno, "open_tree");
  if (AttachMount(tree.fd, target.fd) < 0) Fail(errno, "move_mount");
}

}  // namespace tsrunc
