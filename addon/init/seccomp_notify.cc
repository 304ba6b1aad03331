// SECCOMP_LISTENER: the filter compiled by libseccomp in the parent (src/plan/seccomp.ts, as for
// SECCOMP), installed with SECCOMP_FILTER_FLAG_NEW_LISTENER. The listener fd is sent to `create`
// over the sync socket (SCM_RIGHTS) and closed here: the init and the container's program must
// not hold the fd that answers their own syscalls. Then wait for RESUME: the agent has the fd, so
// a notified syscall of the rest of the setup (or of the program) finds someone to answer it.
#include "seccomp_notify.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

namespace tsrunc {

namespace {

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void OpSeccompListener(const Op &op) {
  const std::string &hex = op.strs.at(0);
  size_t bytes = hex.size() / 2;
  if (hex.size() % 2 || bytes == 0 || bytes % sizeof(sock_filter) || bytes / sizeof(sock_filter) > BPF_MAXINSNS) {
    Fail(EINVAL, "seccomp: bad program");
  }
  std::vector<sock_filter> prog(bytes / sizeof(sock_filter));
  uint8_t *out = reinterpret_cast<uint8_t *>(prog.data());
  for (size_t i = 0; i < bytes; i++) {
    int hi = Nibble(hex[2 * i]), lo = Nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) Fail(EINVAL, "seccomp: bad program");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
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
  struct iovec iov = {&m, sizeof m};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &listener.fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(g_sync, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) Fail(errno, "send the seccomp listener fd");
  close(listener.release());
  uint8_t b = 0;
  do n = recv(g_sync, &b, 1, 0); while (n < 0 && errno == EINTR);
  if (n != 1 || b != SYNC_RESUME) _exit(1);  // `create` failed to reach the agent, or died
}

}  // namespace tsrunc
