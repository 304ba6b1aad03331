// PTY (plan op 40): the container's terminal, made from inside the container as runc does (after
// pivot_root for `create`; `exec` runs it once it has joined the container and holds its root).
//
// - The pty comes from the container's own devpts instance: `/dev/pts/ptmx` resolved inside the
//   root (RESOLVE_IN_ROOT, no magic links), first as O_PATH and checked to be the ptmx inode of a
//   devpts filesystem (char 5:2, inode 2; what runc checks since CVE-2025-52565), then opened for
//   real and checked to be that same inode. A host devpts never serves a container's pty, and an
//   image symlink or a config mount cannot make us open anything else (a FIFO, a host device).
// - The slave is opened from the master with TIOCGPTPEER (Linux 4.13): no path lookup of
//   /dev/pts/N, which the container could race.
// - /dev/console (create only) is a bind mount of the slave, made with open_tree + move_mount on
//   fds. The mount point is created inside the root, `O_NOFOLLOW`: a symlink planted at
//   /dev/console is refused, never followed (runc's mount of the slave followed it before 1.2.8).
// - The master goes to the parent over the sync socket (SyncMsg{PTY} + SCM_RIGHTS, protocol.h).
//   The init never connects to the console socket itself: that path is the caller's, on the host,
//   and the init holds no host fd while it resolves container paths. The parent forwards the
//   master to `--console-socket`, or keeps it to proxy the terminal (`run -t` in the foreground).
// - Then the init starts a new session (setsid), makes the slave its controlling terminal
//   (TIOCSCTTY) and its stdin, stdout and stderr. The caller's stdio is closed by that, so a
//   `create` whose output is captured is not held open by the waiting init.
#include "tty.h"
#include "../scm.h"

#include <sys/ioctl.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace tsrunc {

namespace {

constexpr long kDevptsMagic = 0x1cd1;  // DEVPTS_SUPER_MAGIC
constexpr unsigned kPtmxMajor = 5, kPtmxMinor = 2;
constexpr ino_t kPtmxIno = 2;          // devpts always makes ptmx inode 2 (fs/devpts/inode.c)

bool IsDevptsPtmx(int fd, struct stat *st) {
  return fstat(fd, st) == 0 && S_ISCHR(st->st_mode) && major(st->st_rdev) == kPtmxMajor &&
         minor(st->st_rdev) == kPtmxMinor && st->st_ino == kPtmxIno && OnFs(fd, kDevptsMagic);
}

// A new pty master from the container's devpts instance.
int OpenContainerPtmx() {
  const std::string path = "/dev/pts/ptmx";
  Fd handle(OpenInRoot(g_root, path, O_PATH | O_NOFOLLOW));
  if (handle.fd < 0) Fail(errno, "open " + path);
  struct stat want, got;
  if (!IsDevptsPtmx(handle.fd, &want)) Fail(0, path + " is not the ptmx device of a devpts filesystem");
  // Reopened by path (there is no trustworthy /proc here to reopen the O_PATH fd through); it must
  // be the very inode just checked.
  int fd = OpenInRoot(g_root, path, O_RDWR | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) Fail(errno, "open " + path);
  if (!IsDevptsPtmx(fd, &got) || got.st_dev != want.st_dev) {
    close(fd);
    Fail(0, path + " changed while it was opened");
  }
  return fd;
}

// Bind the slave over /dev/console (created as an empty file if missing, never through a symlink).
void BindConsole(int slave) {
  Fd dev(OpenInRoot(g_root, "/dev", O_DIRECTORY | O_RDONLY));
  if (dev.fd < 0) Fail(errno, "open /dev");
  Fd target(openat(dev.fd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (target.fd < 0 && errno == ENOENT) {
    Fd made(openat(dev.fd, "console", O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (made.fd < 0 && errno != EEXIST) Fail(errno, "create /dev/console");
    target.fd = openat(dev.fd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (target.fd < 0) Fail(errno, "open /dev/console");
  struct stat st;
  if (fstat(target.fd, &st) < 0) Fail(errno, "stat /dev/console");
  if (S_ISLNK(st.st_mode)) Fail(ELOOP, "/dev/console is a symlink: refusing to mount the console on it");
  if (S_ISDIR(st.st_mode)) Fail(EISDIR, "mount the console on /dev/console");
  Fd tree(open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree.fd < 0) Fail(errno, "clone the pty slave");
  if (AttachMount(tree.fd, target.fd) < 0) Fail(errno, "bind the pty slave on /dev/console");
}

void SendMaster(int master) {
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_PTY;
  if (SendWithFd(g_sync, &m, sizeof m, master) < 0) Fail(errno, "send the pty master");
}

}  // namespace

void OpPty(const Op &op) {
  bool bindConsole = op.ints.at(0) != 0;
  int64_t rows = op.ints.at(1), cols = op.ints.at(2), uid = op.ints.at(3);
  if (g_sync < 0) Fail(EINVAL, "pty: no sync socket to send the master on");
  Fd master(OpenContainerPtmx());
  int unlock = 0;
  if (ioctl(master.fd, TIOCSPTLCK, &unlock) < 0) Fail(errno, "unlock the pty (TIOCSPTLCK)");
  // process.consoleSize: applied when both are set, as runc does.
  if (rows > 0 && cols > 0) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    if (ioctl(master.fd, TIOCSWINSZ, &ws) < 0) Fail(errno, "set the console size (TIOCSWINSZ)");
  }
  Fd slave(static_cast<int>(ioctl(master.fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)));
  if (slave.fd < 0) Fail(errno, "open the pty slave (TIOCGPTPEER)");
  // The process's user must own its terminal to use it (runc's fixStdioPermissions); the group
  // stays what devpts gave it (its gid= option, tty in the usual configs).
  struct stat st;
  if (fstat(slave.fd, &st) < 0) Fail(errno, "stat the pty slave");
  if (uid >= 0 && st.st_uid != static_cast<uid_t>(uid) && fchown(slave.fd, static_cast<uid_t>(uid), static_cast<gid_t>(-1)) < 0) {
    Fail(errno, "chown the pty slave");
  }
  if (bindConsole) BindConsole(slave.fd);
  SendMaster(master.fd);
  close(master.release());
  if (setsid() < 0) Fail(errno, "setsid");
  if (ioctl(slave.fd, TIOCSCTTY, 0) < 0) Fail(errno, "make the pty the controlling terminal (TIOCSCTTY)");
  for (int fd = 0; fd <= 2; fd++) {
    if (slave.fd != fd && dup3(slave.fd, fd, 0) < 0) Fail(errno, "make the pty the process's stdio");
  }
}

}  // namespace tsrunc
