// tsrunc-probe: the conformance suite's in-container checker.
//
// It runs AS the container process (args ["/probe", CMD, ...]) and prints what it sees as one JSON
// document on stdout, followed by a newline. It is built static (no libc in the rootfs is needed)
// and is -Wall -Wextra clean. It never changes what it reports on: it installs no signal handlers,
// blocks nothing and opens nothing it keeps, except in `wait-signal` (which exists to observe a
// signal and says so).
//
//   probe all                 every no-argument report below, as one object keyed by name
//   probe hostname            {"hostname","domainname"} from uname(2)
//   probe ids                 real/effective/saved/fs uid+gid, supplementary groups, Cap* sets,
//                             NoNewPrivs (prctl and /proc/self/status), Umask, Seccomp
//   probe rlimits             {"RLIMIT_X": {"soft": "N"|..., "hard": "N"}} (decimal strings, uint64)
//   probe fds                 [{"fd": N, "target": readlink}] for /proc/self/fd (its own dir fd excluded)
//   probe mounts              /proc/self/mountinfo parsed, in order
//   probe sigs                SigPnd/ShdPnd/SigBlk/SigIgn/SigCgt masks (hex) from /proc/self/status
//   probe env                 environ as an array
//   probe cwd                 {"cwd": getcwd()}
//   probe ns                  {"pid": "pid:[4026531836]", ...} readlink of /proc/self/ns/*
//   probe pid                 {"pid": getpid(), "ppid": getppid()}
//   probe oom                 {"oom_score_adj": N} from /proc/self/oom_score_adj
//   probe sched               {"policy","flags","nice","priority","runtime","deadline","period"}
//                             (sched_getattr), "ioprio": {"class","priority"} (ioprio_get),
//                             "personality" (personality(0xffffffff)), "mempolicy": {"mode",
//                             "flags", "nodes": [..]} (get_mempolicy), "cpus" (Cpus_allowed_list),
//                             "apparmor" (/proc/self/attr/current or errno)
//   probe stat PATH...        {PATH: {type, mode, uid, gid, size, major, minor, mountFlags, link?} |
//                             {errno}}: lstat(2), plus statvfs(2) flags (ro nosuid nodev noexec)
//   probe read PATH...        {PATH: {type:"dir", entries} | {type, bytes, data} | {errno}}; reads at
//                             most 4096 bytes of a non-directory (never use it on a tty)
//   probe write PATH...       {PATH: "ok" | "EROFS" | ...}: a directory is tested by mkdir+rmdir of an
//                             entry in it, anything else by open(O_WRONLY|O_CREAT) (+unlink if created)
//   probe each CMD ARGS... [-- CMD ARGS...]...
//                             several of the reports above, as a JSON array in order
//   probe exit N              exit with status N, printing nothing
//   probe notify MSG...       sd_notify: each MSG as one datagram to $NOTIFY_SOCKET; prints
//                             {"notify": "ok" | "<errno name>" | "unset"} (exit 1 unless ok)
//   probe syscall NAME [N...] {"syscall": NAME, "ret": R, "errno": "EPERM"|null}: one raw
//                             syscall(2) with up to 6 integer arguments (names: the table in
//                             syscall_nr below), for seccomp checks from inside a container
//
// One host-side helper (the suite runs the runtime through it; it is never run in a container):
//   probe taint CMD ARGS...   exec CMD with SIGHUP, SIGPIPE and SIGUSR1 ignored, as nohup(1) or a
//                             careless caller would leave them (ignored dispositions survive
//                             execve): the container process must still start with every
//                             disposition default. (It does not block signals: runc 1.1.5 passes an
//                             inherited signal mask on to the container, see conformance/README.md.)
//   probe wait-signal         catch every catchable signal, print {"ready":true}, wait for one,
//                             print {"signal": N, "name": "SIGUSR1"} and exit 0
//
// Exit status: 0 on success (the report may still contain per-item errno values), 2 on bad usage.
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/personality.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

// ---------------------------------------------------------------------------------------------
// JSON output

static int first_item = 1; // comma bookkeeping for the innermost open container

static void jstr_n(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default:
      if (c < 0x20 || c == 0x7f)
        printf("\\u%04x", c);
      else
        putchar(c); // bytes >= 0x80 pass through: UTF-8 stays UTF-8, the reader replaces the rest
    }
  }
  putchar('"');
}

static void jstr(const char *s) { jstr_n(s, strlen(s)); }

static void sep(void) {
  if (!first_item) putchar(',');
  first_item = 0;
}

static void key(const char *k) {
  sep();
  jstr(k);
  putchar(':');
  first_item = 1; // the value that follows is not an item of this container
}

static void open_obj(void) { putchar('{'); first_item = 1; }
static void close_obj(void) { putchar('}'); first_item = 0; }
static void open_arr(void) { putchar('['); first_item = 1; }
static void close_arr(void) { putchar(']'); first_item = 0; }

static void kv_str(const char *k, const char *v) { key(k); jstr(v); first_item = 0; }
static void kv_long(const char *k, long long v) { key(k); printf("%lld", v); first_item = 0; }
static void kv_ull_str(const char *k, unsigned long long v) {
  char b[32];
  snprintf(b, sizeof b, "%llu", v);
  kv_str(k, b);
}
static void item_str(const char *v) { sep(); jstr(v); }
static void item_long(long long v) { sep(); printf("%lld", v); }

static const char *errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE)
    E(EROFS) E(EMLINK) E(EPIPE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOPNOTSUPP)
    E(ENOTCONN) E(ECONNREFUSED) E(ETIMEDOUT) E(EOVERFLOW) E(ENOMEDIUM)
#undef E
  default: {
    static char b[32];
    snprintf(b, sizeof b, "errno%d", e);
    return b;
  }
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) { close(fd); return NULL; }
  for (;;) {
    if (n == cap) {
      cap *= 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) { free(buf); close(fd); return NULL; }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

// Value of "Key:\t..." in /proc/self/status, copied into out (trimmed). Returns 0 if found.
static int status_field(const char *status, const char *k, char *out, size_t outsz) {
  size_t kl = strlen(k);
  for (const char *p = status; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t ll = eol ? (size_t)(eol - p) : strlen(p);
    if (ll > kl && strncmp(p, k, kl) == 0 && p[kl] == ':') {
      const char *v = p + kl + 1;
      while (v < p + ll && (*v == ' ' || *v == '\t')) v++;
      size_t vl = (size_t)(p + ll - v);
      while (vl > 0 && isspace((unsigned char)v[vl - 1])) vl--;
      if (vl >= outsz) vl = outsz - 1;
      memcpy(out, v, vl);
      out[vl] = 0;
      return 0;
    }
    p = eol ? eol + 1 : NULL;
  }
  out[0] = 0;
  return -1;
}

static const char *ftype(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "chr";
  if (S_ISBLK(m)) return "blk";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "sock";
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// reports

static void r_hostname(void) {
  struct utsname u;
  open_obj();
  if (uname(&u) == 0) {
    kv_str("hostname", u.nodename);
    kv_str("domainname", u.domainname);
  } else {
    kv_str("errno", errname(errno));
  }
  close_obj();
}

static void r_ids(void) {
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  open_obj();
  if (getresuid(&ru, &eu, &su) == 0) {
    kv_long("uid", ru);
    kv_long("euid", eu);
    kv_long("suid", su);
  }
  if (getresgid(&rg, &eg, &sg) == 0) {
    kv_long("gid", rg);
    kv_long("egid", eg);
    kv_long("sgid", sg);
  }
  gid_t groups[NGROUPS_MAX];
  int ng = getgroups(NGROUPS_MAX, groups);
  key("groups");
  open_arr();
  for (int i = 0; i < ng; i++) item_long(groups[i]);
  close_arr();
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  kv_long("noNewPrivs", nnp);
  char *st = read_file("/proc/self/status", NULL);
  key("status");
  open_obj();
  if (st) {
    static const char *keys[] = {"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
                                 "CapAmb", "NoNewPrivs", "Umask", "Seccomp"};
    char v[512];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (status_field(st, keys[i], v, sizeof v) == 0) kv_str(keys[i], v);
    free(st);
  }
  close_obj();
  close_obj();
}

static void r_rlimits(void) {
  static const struct { const char *name; int res; } lims[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  open_obj();
  for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
    struct rlimit rl;
    key(lims[i].name);
    open_obj();
    if (getrlimit(lims[i].res, &rl) == 0) {
      kv_ull_str("soft", (unsigned long long)rl.rlim_cur);
      kv_ull_str("hard", (unsigned long long)rl.rlim_max);
    } else {
      kv_str("errno", errname(errno));
    }
    close_obj();
  }
  close_obj();
}

static void r_fds(void) {
  open_arr();
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd == self) continue;
      char p[64], t[PATH_MAX + 1];
      snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(p, t, PATH_MAX);
      t[n < 0 ? 0 : n] = 0;
      sep();
      open_obj();
      kv_long("fd", fd);
      kv_str("target", n < 0 ? errname(errno) : t);
      close_obj();
    }
    closedir(d);
  }
  close_arr();
}

// Decode mountinfo's octal escapes (\040 etc.) in place.
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
        r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

static void csv_array(const char *k, char *s) {
  key(k);
  open_arr();
  for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    unescape(t);
    item_str(t);
  }
  close_arr();
}

static void r_mounts(void) {
  open_arr();
  char *mi = read_file("/proc/self/mountinfo", NULL);
  for (char *save = NULL, *line = mi ? strtok_r(mi, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[64];
    int nf = 0;
    for (char *s2 = NULL, *t = strtok_r(line, " ", &s2); t && nf < 64; t = strtok_r(NULL, " ", &s2))
      f[nf++] = t;
    int dash = -1;
    for (int i = 6; i < nf; i++)
      if (strcmp(f[i], "-") == 0) { dash = i; break; }
    if (nf < 6 || dash < 0 || dash + 3 > nf) continue;
    sep();
    open_obj();
    kv_long("id", atol(f[0]));
    kv_long("parent", atol(f[1]));
    kv_str("dev", f[2]);
    unescape(f[3]);
    kv_str("root", f[3]);
    unescape(f[4]);
    kv_str("mountpoint", f[4]);
    csv_array("options", f[5]);
    key("optional");
    open_arr();
    for (int i = 6; i < dash; i++) item_str(f[i]);
    close_arr();
    unescape(f[dash + 1]);
    kv_str("fstype", f[dash + 1]);
    unescape(f[dash + 2]);
    kv_str("source", f[dash + 2]);
    if (dash + 3 < nf)
      csv_array("super", f[dash + 3]);
    else {
      key("super");
      open_arr();
      close_arr();
    }
    close_obj();
  }
  free(mi);
  close_arr();
}

static void r_sigs(void) {
  open_obj();
  char *st = read_file("/proc/self/status", NULL);
  if (st) {
    static const char *keys[] = {"SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"};
    char v[128];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (status_field(st, keys[i], v, sizeof v) == 0) kv_str(keys[i], v);
    free(st);
  } else {
    kv_str("errno", errname(errno));
  }
  close_obj();
}

static void r_env(void) {
  open_arr();
  for (char **e = environ; e && *e; e++) item_str(*e);
  close_arr();
}

static void r_cwd(void) {
  char b[PATH_MAX + 1];
  open_obj();
  if (getcwd(b, sizeof b))
    kv_str("cwd", b);
  else
    kv_str("errno", errname(errno));
  close_obj();
}

static void r_ns(void) {
  open_obj();
  DIR *d = opendir("/proc/self/ns");
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char p[300], t[256];
      snprintf(p, sizeof p, "/proc/self/ns/%s", e->d_name);
      ssize_t n = readlink(p, t, sizeof t - 1);
      t[n < 0 ? 0 : n] = 0;
      kv_str(e->d_name, n < 0 ? errname(errno) : t);
    }
    closedir(d);
  } else {
    kv_str("errno", errname(errno));
  }
  close_obj();
}

static void r_pid(void) {
  open_obj();
  kv_long("pid", getpid());
  kv_long("ppid", getppid());
  close_obj();
}

static void r_oom(void) {
  open_obj();
  char *s = read_file("/proc/self/oom_score_adj", NULL);
  if (s)
    kv_long("oom_score_adj", atol(s));
  else
    kv_str("errno", errname(errno));
  free(s);
  close_obj();
}

static void r_sched(void) {
  struct {
    unsigned int size, policy;
    unsigned long long flags;
    int nice;
    unsigned int priority;
    unsigned long long runtime, deadline, period;
    unsigned int util_min, util_max;
  } a;
  memset(&a, 0, sizeof a);
  open_obj();
  if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0) {
    kv_long("policy", a.policy);
    kv_long("flags", (long long)a.flags);
    kv_long("nice", a.nice);
    kv_long("priority", a.priority);
    kv_long("runtime", (long long)a.runtime);
    kv_long("deadline", (long long)a.deadline);
    kv_long("period", (long long)a.period);
  } else {
    kv_str("errno", errname(errno));
  }
  key("ioprio");
  open_obj();
  long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  if (io >= 0) {
    kv_long("class", io >> 13);
    kv_long("priority", io & 0x1fff);
  } else {
    kv_str("errno", errname(errno));
  }
  close_obj();
  first_item = 0;
  kv_long("personality", personality(0xffffffff));
  key("mempolicy");
  open_obj();
  int mode = 0;
  unsigned long mask[16];
  memset(mask, 0, sizeof mask);
  if (syscall(SYS_get_mempolicy, &mode, mask, sizeof mask * 8, NULL, 0) == 0) {
    kv_long("mode", mode & 0xff);
    kv_long("flags", mode & ~0xff);
    key("nodes");
    open_arr();
    for (int i = 0; i < (int)(sizeof mask * 8); i++)
      if (mask[i / (8 * sizeof mask[0])] >> (i % (8 * sizeof mask[0])) & 1) {
        sep();
        printf("%d", i);
      }
    close_arr();
    first_item = 0;
  } else {
    kv_str("errno", errname(errno));
  }
  close_obj();
  first_item = 0;
  char *st = read_file("/proc/self/status", NULL);
  char *c = st ? strstr(st, "Cpus_allowed_list:") : NULL;
  if (c) {
    c += strlen("Cpus_allowed_list:");
    while (*c == ' ' || *c == '\t') c++;
    size_t n = strcspn(c, "\n");
    c[n] = 0;
    kv_str("cpus", c);
  }
  free(st);
  char *aa = read_file("/proc/self/attr/current", NULL);
  if (aa) {
    aa[strcspn(aa, "\n")] = 0;
    kv_str("apparmor", aa);
  } else {
    kv_str("apparmor", errname(errno));
  }
  free(aa);
  close_obj();
}

static void r_stat(int n, char **paths) {
  open_obj();
  for (int i = 0; i < n; i++) {
    struct stat sb;
    key(paths[i]);
    open_obj();
    if (lstat(paths[i], &sb) != 0) {
      kv_str("errno", errname(errno));
    } else {
      kv_str("type", ftype(sb.st_mode));
      kv_long("mode", sb.st_mode & 07777);
      kv_long("uid", sb.st_uid);
      kv_long("gid", sb.st_gid);
      kv_long("size", sb.st_size);
      kv_long("major", major(sb.st_rdev));
      kv_long("minor", minor(sb.st_rdev));
      struct statvfs vfs;
      if (statvfs(paths[i], &vfs) == 0) {
        key("mountFlags");
        open_arr();
        if (vfs.f_flag & ST_RDONLY) item_str("ro");
        if (vfs.f_flag & ST_NOSUID) item_str("nosuid");
        if (vfs.f_flag & ST_NODEV) item_str("nodev");
        if (vfs.f_flag & ST_NOEXEC) item_str("noexec");
        close_arr();
      }
      if (S_ISLNK(sb.st_mode)) {
        char t[PATH_MAX + 1];
        ssize_t l = readlink(paths[i], t, PATH_MAX);
        t[l < 0 ? 0 : l] = 0;
        kv_str("link", t);
      }
    }
    close_obj();
  }
  close_obj();
}

static void r_read(int n, char **paths) {
  open_obj();
  for (int i = 0; i < n; i++) {
    struct stat sb;
    key(paths[i]);
    open_obj();
    if (stat(paths[i], &sb) != 0) {
      kv_str("errno", errname(errno));
    } else if (S_ISDIR(sb.st_mode)) {
      kv_str("type", "dir");
      DIR *d = opendir(paths[i]);
      if (!d) {
        kv_str("errno", errname(errno));
      } else {
        key("entries");
        open_arr();
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
          if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) item_str(e->d_name);
        close_arr();
        closedir(d);
      }
    } else {
      kv_str("type", ftype(sb.st_mode));
      int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) {
        kv_str("errno", errname(errno));
      } else {
        static char buf[4096];
        size_t got = 0;
        int err = 0;
        while (got < sizeof buf) {
          ssize_t r = read(fd, buf + got, sizeof buf - got);
          if (r < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
          }
          if (r == 0) break;
          got += (size_t)r;
        }
        close(fd);
        if (err && got == 0) {
          kv_str("errno", errname(err));
        } else {
          kv_long("bytes", (long long)got);
          key("data");
          jstr_n(buf, got);
          first_item = 0;
        }
      }
    }
    close_obj();
  }
  close_obj();
}

static void r_write(int n, char **paths) {
  open_obj();
  for (int i = 0; i < n; i++) {
    struct stat sb;
    const char *res = "ok";
    if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
      char p[PATH_MAX];
      snprintf(p, sizeof p, "%s/.probe-write-%d", strcmp(paths[i], "/") == 0 ? "" : paths[i],
               (int)getpid());
      if (mkdir(p, 0700) != 0)
        res = errname(errno);
      else
        rmdir(p);
    } else {
      int existed = access(paths[i], F_OK) == 0;
      int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
      if (fd < 0) {
        res = errname(errno);
      } else {
        close(fd);
        if (!existed) unlink(paths[i]);
      }
    }
    kv_str(paths[i], res);
  }
  close_obj();
}

static volatile sig_atomic_t caught = 0;
static void on_signal(int s) { caught = s; }

static int r_wait_signal(void) {
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_BLOCK, &all, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);
  for (int s = 1; s < 32; s++)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
  fputs("{\"ready\":true}\n", stdout);
  fflush(stdout);
  while (!caught) sigsuspend(&none);
  printf("{\"signal\":%d,\"name\":", (int)caught);
  char nm[32];
  const char *abbrev = sigabbrev_np(caught);
  snprintf(nm, sizeof nm, "SIG%s", abbrev ? abbrev : "UNKNOWN");
  jstr(nm);
  fputs("}\n", stdout);
  return 0;
}

static void r_all(void) {
  // fds first: every later report opens (and closes) files of its own.
  open_obj();
  key("fds"); r_fds();
  key("hostname"); r_hostname();
  key("ids"); r_ids();
  key("rlimits"); r_rlimits();
  key("sigs"); r_sigs();
  key("env"); r_env();
  key("cwd"); r_cwd();
  key("ns"); r_ns();
  key("pid"); r_pid();
  key("oom"); r_oom();
  key("mounts"); r_mounts();
  close_obj();
}

static int taint(char **argv) {
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGUSR1, SIG_IGN);
  execvp(argv[0], argv);
  fprintf(stderr, "probe taint: exec %s: %s\n", argv[0], strerror(errno));
  return 127;
}

// sd_notify(3) without libsystemd: one datagram per message to the AF_UNIX socket $NOTIFY_SOCKET
// (a leading '@' names an abstract socket).
static int notify(int n, char **msgs) {
  const char *path = getenv("NOTIFY_SOCKET");
  const char *res = "ok";
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  int fd = -1;
  if (path == NULL || path[0] == 0) {
    res = "unset";
  } else if (strlen(path) >= sizeof sa.sun_path) {
    res = "ENAMETOOLONG";
  } else {
    strcpy(sa.sun_path, path);
    if (path[0] == '@') sa.sun_path[0] = 0;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + (path[0] == '@' ? 0 : 1));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) res = errname(errno);
    for (int i = 0; fd >= 0 && i < n; i++) {
      if (sendto(fd, msgs[i], strlen(msgs[i]), 0, (struct sockaddr *)&sa, len) < 0) {
        res = errname(errno);
        break;
      }
    }
    if (fd >= 0) close(fd);
  }
  printf("{\"notify\":\"%s\"}\n", res);
  fflush(stdout);
  return strcmp(res, "ok") == 0 ? 0 : 1;
}

static int usage(void);

// The syscalls `probe syscall` knows by name (x86_64 and the other archs with these SYS_ macros).
static long syscall_nr(const char *name) {
  static const struct { const char *name; long nr; } table[] = {
      {"getpid", SYS_getpid}, {"sethostname", SYS_sethostname}, {"add_key", SYS_add_key},
      {"clone3", SYS_clone3}, {"socket", SYS_socket}, {"io_uring_setup", SYS_io_uring_setup},
      {"swapon", SYS_swapon}, {"setns", SYS_setns}, {"unshare", SYS_unshare}, {"mkdirat", SYS_mkdirat},
      {"personality", SYS_personality}, {"bpf", SYS_bpf}, {"userfaultfd", SYS_userfaultfd},
      {"keyctl", SYS_keyctl}, {"getppid", SYS_getppid}, {"uname", SYS_uname},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(name, table[i].name) == 0) return table[i].nr;
  return -1;
}

static int r_syscall(int n, char **argv) {
  long nr = syscall_nr(argv[0]);
  if (nr < 0 || n > 7) return usage();
  long a[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 1; i < n; i++) a[i - 1] = strtol(argv[i], NULL, 0);
  errno = 0;
  long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  int e = errno;
  printf("{\"syscall\":\"%s\",\"ret\":%ld,\"errno\":", argv[0], ret);
  if (ret < 0) printf("\"%s\"}\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
  else printf("null}\n");
  return fflush(stdout) == 0 ? 0 : 1;
}

static int usage(void) {
  fputs("usage: probe all|hostname|ids|rlimits|fds|mounts|sigs|env|cwd|ns|pid|oom|sched|wait-signal\n"
        "       probe stat|read|write PATH...\n"
        "       probe each CMD ARGS... [-- CMD ARGS...]...\n"
        "       probe exit N\n"
        "       probe notify MSG...\n"
        "       probe syscall NAME [N...]\n"
        "       probe taint CMD ARGS...   (host side)\n",
        stderr);
  return 2;
}

// The reports that print one JSON value: name, whether it takes PATH arguments, and the function.
static const struct {
  const char *name;
  int paths; // 1: needs at least one PATH argument
  void (*noargs)(void);
  void (*withargs)(int, char **);
} reports[] = {
    {"all", 0, r_all, NULL},       {"hostname", 0, r_hostname, NULL}, {"ids", 0, r_ids, NULL},
    {"rlimits", 0, r_rlimits, NULL}, {"fds", 0, r_fds, NULL},         {"mounts", 0, r_mounts, NULL},
    {"sigs", 0, r_sigs, NULL},     {"env", 0, r_env, NULL},           {"cwd", 0, r_cwd, NULL},
    {"ns", 0, r_ns, NULL},         {"pid", 0, r_pid, NULL},           {"oom", 0, r_oom, NULL},       {"sched", 0, r_sched, NULL},
    {"stat", 1, NULL, r_stat},     {"read", 1, NULL, r_read},         {"write", 1, NULL, r_write},
};

// Index of the report for argv[0] with n-1 arguments, or -1.
static int find_report(int n, char **argv) {
  for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++)
    if (strcmp(argv[0], reports[i].name) == 0) return (reports[i].paths ? n > 1 : n == 1) ? (int)i : -1;
  return -1;
}

static void run_report(int idx, int n, char **argv) {
  if (reports[idx].paths)
    reports[idx].withargs(n - 1, argv + 1);
  else
    reports[idx].noargs();
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *c = argv[1];
  if (strcmp(c, "exit") == 0) return argc == 3 ? atoi(argv[2]) : usage();
  if (strcmp(c, "syscall") == 0) return argc > 2 ? r_syscall(argc - 2, argv + 2) : usage();
  if (strcmp(c, "wait-signal") == 0) return argc == 2 ? r_wait_signal() : usage();
  if (strcmp(c, "notify") == 0) return argc > 2 ? notify(argc - 2, argv + 2) : usage();
  if (strcmp(c, "taint") == 0) return argc > 2 ? taint(argv + 2) : usage();
  if (strcmp(c, "each") == 0) {
    // probe each CMD ARGS... -- CMD ARGS... : a JSON array with one report per segment.
    // Every segment is validated before anything is printed.
    for (int pass = 0; pass < 2; pass++) {
      if (pass == 1) open_arr();
      int start = 2;
      for (int i = 2; i <= argc; i++) {
        if (i < argc && strcmp(argv[i], "--") != 0) continue;
        int n = i - start, idx = n > 0 ? find_report(n, argv + start) : -1;
        if (idx < 0) return usage();
        if (pass == 1) {
          sep();
          run_report(idx, n, argv + start);
        }
        start = i + 1;
      }
      if (pass == 1) close_arr();
    }
  } else {
    int idx = find_report(argc - 1, argv + 1);
    if (idx < 0) return usage();
    run_report(idx, argc - 1, argv + 1);
  }
  putchar('\n');
  return fflush(stdout) == 0 ? 0 : 1;
}
