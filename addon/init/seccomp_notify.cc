// SECCOMP_LISTENER: the filter compiled by libseccomp in the parent (src/plan/seccomp.ts, as for
// SECCOMP), installed with SECCOMP_FILTER_FLAG_NEW_LISTENER. The listener fd is sent to `create`
// over the sync socket (SCM_RIGHTS) and closed here: the init and the container's program must
// not hold the fd that answers their own syscalls. Then wait for RESUME: the agent has the fd, so
// a notified syscall of the rest of the setup (or of the program) finds someone to answer it.
#include "seccomp_notify.h"
#include "../scm.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

namespace tsrunc {

void OpSeccompListener(const Op &op) {
  std::vector<sock_filter> prog = FilterFromHex(op.strs.at(0));
  struct sock_fprog fp;
  fp.len = static_cast<unsigned short>(prog.size());
  fp.filter = prog.data();
  unsigned long flags = static_cast<unsigned long>(op.ints.at(0)) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
  if (fd < 0) Fail(errno, "seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)");
  Fd listener(static_cast<int>(fd));

  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_SECCOMP_FD;
  ssize_t n = SendWithFd(g_sync, &m, sizeof m, listener.fd);
  if (n < 0) Fail(errno, "send the seccomp listener fd");
  close(listener.release());
  uint8_t b = 0;
  do n = recv(g_sync, &b, 1, 0); while (n < 0 && errno == EINTR);
  if (n != 1 || b != SYNC_RESUME) _exit(1);  // `create` failed to reach the agent, or died
}

}  // namespace tsrunc
