// Joining namespaces that exist already: a container whose linux.namespaces name a `path`, and
// every `tsrunc exec`. See join.h and the op table in plan.h.
#include "join.h"

#include <poll.h>

namespace tsrunc {

// setns(CLONE_NEWPID) changes only the namespace of the caller's future children (setns(2)), so
// the process that goes on with the plan must be a child of this one. CLONE_PARENT makes it a
// child of tsrunc instead (as runc's stage-2 child), so that `run` and `exec` reap it and get its
// exit status; this process reports its pid (protocol.h, SyncMsg{PID}) and exits. Nothing of the
// container's runs in between: this is tsrunc-init from its sealed memfd, not dumpable, and the
// child inherits both (CVE-2019-5736).
// ints: rearm (1: `create`, the child dies with its creator until COMMIT, as the init does).
void OpFork(const Op &op) {
  bool rearm = op.ints.at(0) != 0;
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) Fail(errno, "clone(CLONE_PARENT)");
  if (pid > 0) {
    SyncMsg m;
    memset(&m, 0, sizeof m);
    m.type = SYNC_PID;
    m.err = static_cast<int32_t>(pid);
    if (send(g_sync, &m, sizeof m, MSG_NOSIGNAL) < 0) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      _exit(1);
    }
    _exit(0);
  }
  // The parent-death signal is not inherited by a child: arm it again, then make sure tsrunc did
  // not go away before it was armed (its end of the socket would read as hung up).
  if (rearm && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_PDEATHSIG)");
  struct pollfd p = {g_sync, 0, 0};
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) _exit(1);
}

// `exec`: join every namespace of the container at once, through a pidfd of its init (setns(2)
// with a pidfd, Linux 5.8; this process is single-threaded, so user and mount namespaces can be
// joined). This is the first op: nothing of the container's has been looked at yet, and the
// container's `/` (the root of its mount namespace, which setns makes ours) is what every later
// path op resolves in. The pidfd is the only fd we hold besides the sync socket.
// ints: pidfd, CLONE_NEW* flags (those of the namespaces that differ from ours).
void OpJoin(const Op &op) {
  int fd = static_cast<int>(op.ints.at(0));
  int flags = static_cast<int>(op.ints.at(1));
  if (flags != 0 && setns(fd, flags) < 0) Fail(errno, "setns");
  close(fd);
  // A joined user namespace: become its root, as runc's exec does (nsexec's setuid(0)/setgid(0)).
  // setns leaves us the host's uid 0, which is not mapped there: what the process makes before
  // USER (its pty, owned by fsuid) would belong to the overflow uid, and chowning it to the
  // process's user would fail (EPERM: the inode's owner is not mapped). Becoming the namespace's
  // root keeps every capability (to its root, not from it). setgroups may be denied there
  // (/proc/<pid>/setgroups "deny"); USER sets the groups again.
  if (flags & CLONE_NEWUSER) {
    setgroups(0, nullptr);
    if (setresgid(0, 0, 0) < 0) Fail(errno, "setresgid(0) in the container's user namespace");
    if (setresuid(0, 0, 0) < 0) Fail(errno, "setresuid(0) in the container's user namespace");
    // An id change clears the parent-death signal: arm it again (EXEC_READY clears it for good).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_PDEATHSIG)");
  }
  g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) Fail(errno, "open /");
}

// The last step of an exec'd process before EXEC: it now belongs to the container and outlives
// `tsrunc exec` (-d returns at once; the process re-parents to the caller's subreaper), so the
// parent-death signal goes (USER arms it again). The sync socket is closed by the execve itself:
// an error-free EOF tells `tsrunc exec` that the process's own program runs, while a failed
// execve is still reported over it.
void OpExecReady() {
  if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) Fail(errno, "prctl(PR_SET_PDEATHSIG)");
  if (g_sync >= 0 && fcntl(g_sync, F_SETFD, FD_CLOEXEC) < 0) Fail(errno, "fcntl(FD_CLOEXEC)");
}

}  // namespace tsrunc
