// The plan wire format: what `tsrunc create` (src/plan/encode.ts) hands to tsrunc-init.
// Keep this table identical to src/plan/ops.ts (OP codes and field order).
//
// Buffer, little endian:
//   u32 magic 'TSRP' (0x50525354), u32 version (1), u32 op count, then per op:
//   u32 code, u32 nint, u32 nstr, nint x i64, nstr x (u32 len, bytes)
//
//  code | name            | ints                                   | strs
//  -----+-----------------+----------------------------------------+---------------------------------
//   1   | ROOT_PROPAGATE  | flags (MS_REC|MS_SLAVE|...)            | -            (mount "" on "/")
//   2   | BIND_ROOTFS     | callerNs (1: no mount namespace of its | rootfs (absolute host path)
//       |                 | own: leave the parent mount, make the  |
//       |                 | bind private)                          |
//   3   | MOUNT           | flags, propagation, isBind,            | source, dest (in rootfs), fstype, data
//       |                 | procAllowed (may land inside /proc)    |
//   4   | MKNOD           | mode (S_IFCHR|perm...), major, minor,  | path (in rootfs)
//       |                 | uid, gid[, strict]                     |
//   5   | SYMLINK         | -                                      | target, linkpath (in rootfs)
//   6   | OPEN_FIFO       | -                                      | exec.fifo host path
//   7   | PIVOT_ROOT      | mode (0: pivot_root, 1: --no-pivot,    | rootfs
//       |                 | 2: chroot only, no mount namespace)    |
//   8   | REMOUNT         | flags (added to MS_REMOUNT|MS_BIND)    | path (in the container, after pivot)
//   9   | MASK            | -                                      | path[, mountLabel (context=)]
//  10   | READONLY        | -                                      | path
//  11   | HOSTNAME        | -                                      | name
//  12   | DOMAINNAME      | -                                      | name
//  13   | SYSCTL          | -                                      | path under /proc (sys/...), value
//  14   | OOM_SCORE_ADJ   | value                                  | -
//  15   | UNSHARE         | clone flags                            | -
//  16   | CHDIR           | -                                      | dir
//  17   | RLIMIT          | resource, soft, hard (-1 = infinity)   | name
//  18   | RESOLVE_EXEC    | hasPath (env has PATH)                 | name (args[0]), PATH value
//  19   | USER            | uid, gid, umask (-1: leave), gids...   | -
//  20   | CAPS            | phase (0: drop bounding, before USER;  | -
//       |                 | 1: set the rest, after USER), bounding,|
//       |                 | effective, permitted, inheritable,     |
//       |                 | ambient (bit masks)                    |
//  21   | NO_NEW_PRIVS    | -                                      | -
//  22   | WAIT_START      | -                                      | -
//  23   | EXEC            | keepFds (fds 3..3+n-1 stay open), nargs| argv..., then envp
//  24   | SESSION_KEYRING | -                                      | name (`_ses.<id>`)
//  25   | PROC_HANDLE     | -                                      | -   (private procfs to reopen the fifo)
//  26   | LOOKUP_HOME     | uid                                    | -   (HOME from the image's /etc/passwd)
//  27   | MKDIR           | -                                      | path (mkdir -p inside the root)
//  28   | SECCOMP         | flags (SECCOMP_FILTER_FLAG_*), late    | program: struct sock_filter[] as hex
//       |                 | (1: installed by EXEC right before     | (compiled by libseccomp in the
//       |                 | execve, with noNewPrivileges; 0: now,  | parent; the compiler emits the
//       |                 | before the capabilities are dropped)   | filter JSON, create links it)
//  60   | APPARMOR        | -                                      | profile ("exec <profile>" written
//       |                 |                                        | to the init's attr/apparmor/exec)
//  61   | SCHEDULER       | policy, flags, nice, priority, runtime,| -   (sched_setattr on the init)
//       |                 | deadline, period (ns)                  |
//  62   | IOPRIO          | class << 13 | priority                 | -   (ioprio_set on the init)
//  63   | PERSONALITY     | persona (PER_LINUX, PER_LINUX32)       | -
//  64   | MEMORY_POLICY   | mode | flags, maxnode (bits), nodemask | -   (set_mempolicy)
//       |                 | as 64-bit words...                     |
//  65   | NETDEV          | ifindex, naddrs, then per address:     | name (for messages), then each
//       |                 | family, prefixlen, scope, flags        | address as hex (re-added, then up)
//  30   | TIMENS          | monotonic secs, nsecs, boottime secs,  | -   (unshare a time namespace,
//       |                 | nsecs                                  |     write its offsets, enter it)
//  31   | JOIN_TIMENS     | -                                      | path (a time namespace file)
//  32   | RECV_FIFO       | -                                      | exec.fifo host path (for messages;
//       |                 |                                        | the O_PATH fd comes over the sync
//       |                 |                                        | socket: a mapped root cannot open it)
//  33   | MOUNT_IDMAP     | flags, propagation                     | source (for messages), dest; the
//       |                 |                                        | idmapped tree comes over the sync
//       |                 |                                        | socket (made by `create`)
//  34   | BIND_DEVICE     | mode (S_IFCHR/S_IFBLK), major, minor   | path (the host's node of this path,
//       |                 |                                        | checked to be that device, is bound
//       |                 |                                        | on the same path in the rootfs)
//  50   | MOUNT_ATTRS     | attr_set, attr_clr (MOUNT_ATTR_*),     | dest (resolved in the root; a
//       |                 | recursive (AT_RECURSIVE), propagation  | mount's root): mount_setattr(2)
//       |                 | (MS_SHARED... without MS_REC; 0: none) | (rro..., extra propagation)
//  51   | TMPCOPYUP       | as MOUNT (a tmpfs)                     | as MOUNT: the tmpfs gets a copy of
//       |                 |                                        | the image's dest (no symlink followed)
//
// MOUNT with MS_REMOUNT in its flags changes the mount already at dest (nothing is created).
// MKNOD has a 6th int, strict (linux.devices): an existing file must be that device.
//  40   | PTY             | bindConsole (0/1), rows, cols (both    | -   (addon/init/tty.cc: a pty of the
//       |                 | non-zero: TIOCSWINSZ), uid (owner of   | devpts at /dev/pts; the master goes
//       |                 | the slave, -1: leave)                  | to the parent as SyncMsg{PTY} + fd;
//       |                 |                                        | the slave becomes stdio + ctty)
//  90   | FORK            | rearm (1: parent-death signal again)   | -   (clone CLONE_PARENT; the parent
//       |                 |                                        |     reports the child's pid, exits)
//  91   | JOIN            | pidfd, CLONE_NEW* flags                | -   (exec: setns into the container,
//       |                 |                                        |     then `/` becomes the root fd)
//  92   | EXEC_READY      | -                                      | -   (exec: no parent-death signal,
//       |                 |                                        |     sync socket close-on-exec)
//  70   | HOOK_SYNC       | -                                      | -   (report SYNC_HOOKS, wait for
//       |                 |                                        |     SYNC_RESUME: `create` runs the
//       |                 |                                        |     prestart/createRuntime hooks)
//  71   | HOOK            | kind (0 createContainer, 1             | path, state JSON before the pid,
//       |                 | startContainer), index, timeoutMs      | state JSON after it, cwd ("":
//       |                 | (0: none), nargs, hasEnv (0: inherit)  | keep), args..., env...
//  80   | SECCOMP_LISTENER| flags (SECCOMP_FILTER_FLAG_*; the init  | program (as SECCOMP): installed
//       |                 | adds NEW_LISTENER)                     | now; the listener fd goes to
//       |                 |                                        | `create` (SyncMsg{SECCOMP_FD} +
//       |                 |                                        | SCM_RIGHTS), then wait for RESUME
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

namespace tsrunc {

enum OpCode : uint32_t {
  OP_ROOT_PROPAGATE = 1,
  OP_BIND_ROOTFS = 2,
  OP_MOUNT = 3,
  OP_MKNOD = 4,
  OP_SYMLINK = 5,
  OP_OPEN_FIFO = 6,
  OP_PIVOT_ROOT = 7,
  OP_REMOUNT = 8,
  OP_MASK = 9,
  OP_READONLY = 10,
  OP_HOSTNAME = 11,
  OP_DOMAINNAME = 12,
  OP_SYSCTL = 13,
  OP_OOM_SCORE_ADJ = 14,
  OP_UNSHARE = 15,
  OP_CHDIR = 16,
  OP_RLIMIT = 17,
  OP_RESOLVE_EXEC = 18,
  OP_USER = 19,
  OP_CAPS = 20,
  OP_NO_NEW_PRIVS = 21,
  OP_WAIT_START = 22,
  OP_EXEC = 23,
  OP_SESSION_KEYRING = 24,
  OP_PROC_HANDLE = 25,
  OP_LOOKUP_HOME = 26,
  OP_MKDIR = 27,
  OP_SECCOMP = 28,
  OP_APPARMOR = 60,
  OP_SCHEDULER = 61,
  OP_IOPRIO = 62,
  OP_PERSONALITY = 63,
  OP_MEMORY_POLICY = 64,
  OP_NETDEV = 65,
  OP_TIMENS = 30,
  OP_JOIN_TIMENS = 31,
  OP_RECV_FIFO = 32,
  OP_MOUNT_IDMAP = 33,
  OP_BIND_DEVICE = 34,
  OP_MOUNT_ATTRS = 50,
  OP_TMPCOPYUP = 51,
  OP_PTY = 40,
  OP_FORK = 90,
  OP_JOIN = 91,
  OP_EXEC_READY = 92,
  OP_HOOK_SYNC = 70,
  OP_HOOK = 71,
  OP_SECCOMP_LISTENER = 80,
};

constexpr uint32_t PLAN_MAGIC = 0x50525354;  // "TSRP"
constexpr uint32_t PLAN_VERSION = 1;

struct Op {
  uint32_t code = 0;
  std::vector<int64_t> ints;
  std::vector<std::string> strs;
};

}  // namespace tsrunc
