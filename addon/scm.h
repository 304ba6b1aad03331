// Passing one fd over a unix socket (SCM_RIGHTS), shared by the addon (console socket, seccomp
// agent, the sync socket's receiving side) and tsrunc-init (pty master, seccomp listener, fds from
// `create`). Plain libc calls on caller-owned memory: safe in the static init as in Node.
#pragma once
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tsrunc {

// One sendmsg of `len` bytes of `data` with `fd` attached (MSG_NOSIGNAL: a gone peer is EPIPE, not
// a signal). A stream socket needs at least one byte of data to carry the fd. Returns what
// sendmsg returns (bytes sent, or -1 with errno).
inline ssize_t SendWithFd(int sock, const void *data, size_t len, int fd) {
  struct iovec iov = {const_cast<void *>(data), len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n;
}

// One recvmsg into `buf` (MSG_CMSG_CLOEXEC). *fd gets the first fd passed (-1 if none); any other
// fd that came along is closed, so nothing leaks into this process. *truncated is set when the
// kernel cut the control data (MSG_CTRUNC: an fd may have been lost). Returns what recvmsg returns.
inline ssize_t RecvWithFd(int sock, void *buf, size_t len, int *fd, bool *truncated) {
  struct iovec iov = {buf, len};
  union {
    char buf[CMSG_SPACE(4 * sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof u.buf;
  *fd = -1;
  ssize_t n;
  do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int f;
      memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
      if (*fd < 0) *fd = f;
      else close(f);
    }
  }
  *truncated = (mh.msg_flags & MSG_CTRUNC) != 0;
  return n;
}

}  // namespace tsrunc
