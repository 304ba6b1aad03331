// tsrunc-seccomp-agent: a minimal seccomp notify agent for the SCMP_ACT_NOTIFY tests
// (test/integration/seccomp-notify.test.ts). Never run in a container.
//
//   tsrunc-seccomp-agent SOCKET OUT ERRNO
//
// Listens on the AF_UNIX SOCK_STREAM socket SOCKET, accepts one connection, receives the container
// process state (JSON payload) and the seccomp listener fd (SCM_RIGHTS), writes to OUT one line
// {"fds":N,"state":<the JSON as received>}, prints "ready" on stdout, then answers every
// notification: mkdir and mkdirat fail with ERRNO, anything else continues (CONTINUE flag). Each
// answered notification appends {"notified":"mkdirat","pid":P} to OUT. Exits 0 when the filter
// has no users left (POLLHUP: the container is gone).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

// Whether buf[0..len) holds one complete JSON object (braces balanced outside strings). The
// state may come in several sendmsg calls, and a runtime need not close the connection at once
// (runc 1.1.5 keeps a dup of it open until its garbage collector runs): read until this is true.
static int complete(const char *buf, size_t len) {
  int depth = 0, str = 0, esc = 0, seen = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = buf[i];
    if (str) {
      if (esc) esc = 0;
      else if (ch == '\\') esc = 1;
      else if (ch == '"') str = 0;
      continue;
    }
    if (ch == '"') str = 1;
    else if (ch == '{') { depth++; seen = 1; }
    else if (ch == '}') depth--;
  }
  return seen && depth == 0;
}

static void die(const char *what) {
  fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: tsrunc-seccomp-agent SOCKET OUT ERRNO\n");
    return 2;
  }
  int err = atoi(argv[3]);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) die("socket");
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(ls, 1) < 0) die("listen");
  FILE *out = fopen(argv[2], "w");
  if (!out) die("open OUT");
  printf("ready\n");
  fflush(stdout);
  int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die("accept");
  char buf[65536];
  size_t len = 0;
  int nfd = -1, nfds = 0;
  for (;;) {
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {buf + len, sizeof buf - 1 - len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("recvmsg");
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
        int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
          int fd;
          memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
          if (nfd < 0) nfd = fd;
          nfds++;
        }
      }
    }
    if (n == 0) break;  // the runtime closed the connection after one state
    len += (size_t)n;
    if (complete(buf, len)) break;
  }
  buf[len] = 0;
  close(c);
  fprintf(out, "{\"fds\":%d,\"state\":%s}\n", nfds, buf);
  fflush(out);
  if (nfd < 0) return 1;
  struct seccomp_notif_sizes sz;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) die("SECCOMP_GET_NOTIF_SIZES");
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
  for (;;) {
    struct pollfd p = {nfd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (p.revents & POLLIN) {
      memset(req, 0, sz.seccomp_notif);
      if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        die("SECCOMP_IOCTL_NOTIF_RECV");
      }
      memset(resp, 0, sz.seccomp_notif_resp);
      resp->id = req->id;
      int mk = req->data.nr == SYS_mkdirat || req->data.nr == SYS_mkdir;
      if (mk) resp->error = -err;
      else resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT) die("SECCOMP_IOCTL_NOTIF_SEND");
      fprintf(out, "{\"notified\":\"%s\",\"pid\":%u}\n", mk ? "mkdir" : "other", req->pid);
      fflush(out);
    } else if (p.revents & (POLLHUP | POLLERR)) {
      return 0;
    }
  }
}
