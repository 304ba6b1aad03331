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
//   2   | BIND_ROOTFS     | -                                      | rootfs (absolute host path)
//   3   | MOUNT           | flags, propagation, isBind,            | source, dest (in rootfs), fstype, data
//       |                 | procAllowed (may land inside /proc)    |
//   4   | MKNOD           | mode (S_IFCHR|perm...), major, minor,  | path (in rootfs)
//       |                 | uid, gid                               |
//   5   | SYMLINK         | -                                      | target, linkpath (in rootfs)
//   6   | OPEN_FIFO       | -                                      | exec.fifo host path
//   7   | PIVOT_ROOT      | noPivot (0/1)                          | rootfs
//   8   | REMOUNT         | flags (added to MS_REMOUNT|MS_BIND)    | path (in the container, after pivot)
//   9   | MASK            | -                                      | path
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
