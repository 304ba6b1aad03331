// The sync protocol between `tsrunc create` (the addon, parent side) and tsrunc-init (the
// container side), over a SOCK_SEQPACKET socketpair (one message per send, no framing needed).
//
//   step | direction       | message            | meaning
//   -----+-----------------+--------------------+---------------------------------------------
//    1   | parent -> init  | SYNC_GO   (1 byte) | the init is in its cgroups (and, later, has its
//        |                 |                    | uid/gid maps): run the plan
//    h   | init -> parent  | SyncMsg{HOOKS}     | (HOOK_SYNC op, only with prestart/createRuntime
//        |                 |                    | hooks) the namespaces exist and the mounts are
//        |                 |                    | done, pivot_root is not: `create` runs the hooks
//        |                 |                    | (a hook can setns through /proc/<pid>/ns/*)
//    h'  | parent -> init  | SYNC_RESUME (1 b.) | the hooks succeeded: go on with the plan (on a
//        |                 |                    | failed hook `create` kills the init instead)
//    s   | init -> parent  | SyncMsg{SECCOMP_FD}| (SECCOMP_LISTENER op, SCMP_ACT_NOTIFY) the seccomp
//        |                 | + SCM_RIGHTS fd    | listener fd: `create` sends it with the container
//        |                 |                    | process state to the agent at listenerPath
//    s'  | parent -> init  | SYNC_RESUME (1 b.) | the agent has it: go on (else `create` kills it)
//    2   | init -> parent  | SyncMsg{READY}     | every setup step succeeded; the init waits for 3
//    2'  | init -> parent  | SyncMsg{ERROR}     | plan step `step` failed with `err`; the init exits
//    -   | init -> parent  | SyncMsg{PTY} + fd  | (before 2, PTY op: addon/init/tty.cc) the pty
//        |                 |                    | master, as SCM_RIGHTS; the parent hands it to
//        |                 |                    | the console socket or keeps it (`run -t`) and
//        |                 |                    | goes on waiting for READY/ERROR
//    -   | init -> parent  | EOF                | the init died without a word (killed, crashed)
//    3   | parent -> init  | SYNC_COMMIT (1 b.) | state.json and the pid file are written: the init
//        |                 |                    | clears its parent-death signal, closes the socket
//        |                 |                    | and blocks opening exec.fifo for writing
//    3'  | init -> parent  | EOF                | the parent waits for this close before it exits:
//        |                 |                    | exiting earlier would fire the parent-death signal
//    -   | parent -> init  | EOF (before 1 or 3)| `create` died: the init exits by itself
//
// `create` then exits. `start` opens exec.fifo for reading, which releases the init (see
// addon/init/init.cc, WAIT_START). The init writes one byte '0' and keeps its (O_CLOEXEC) end open
// until the execve of the container's program: `start` reads until EOF, so it returns only once
// the program runs (poststart hooks come after that). A startContainer hook that fails makes the
// init write runc's error text after the '0' and exit: `start` reports it. Until COMMIT the init also has PR_SET_PDEATHSIG(SIGKILL), set
// by the clone child, so a create killed while a setup step blocks leaves no init behind.
//
// The clone child (before it becomes tsrunc-init) reports a failed execveat as
// SyncMsg{ERROR, step = STEP_EXEC_INIT}.
//
// With a new user namespace, before step 1: `create` writes /proc/<pid>/{uid,gid}_map, then sends
// SYNC_IDMAPS (1 byte); the clone child becomes root of the namespace and only then execs
// tsrunc-init (a failure there: SyncMsg{ERROR, step = STEP_USERNS}). After SYNC_GO `create` may
// send fds (SCM_RIGHTS, one per message, 1 byte 'F' of payload) in the order the plan's ops
// receive them (RECV_FIFO, MOUNT_IDMAP).
//
// A failed setns of a namespace to join
// (linux.namespaces[].path) as SyncMsg{ERROR, step = STEP_JOIN_NS, detail = index of the join}.
//
// A joined pid namespace applies only to children (setns(2)): the FORK plan op (addon/init/join.cc)
// forks the process that goes on with the plan, with CLONE_PARENT so that it is tsrunc's child,
// and the forking process reports it before it exits:
//    -   | init -> parent  | SyncMsg{PID}       | `err` holds the host pid of the process that
//        |                 |                    | carries on; the sender exits right after
// (the same for `exec`, where the plan ends with EXEC and the sync socket is close-on-exec: EOF
// after an error-free run means the process's own program is running).
#pragma once
#include <stdint.h>

namespace tsrunc {

constexpr uint8_t SYNC_GO = 'G';
constexpr uint8_t SYNC_COMMIT = 'C';
constexpr uint8_t SYNC_IDMAPS = 'U';
constexpr uint8_t SYNC_FD = 'F';
constexpr uint8_t SYNC_RESUME = 'R';

enum SyncType : uint32_t { SYNC_READY = 1, SYNC_ERROR = 2, SYNC_PTY = 3, SYNC_PID = 4, SYNC_HOOKS = 5, SYNC_SECCOMP_FD = 6 };

// Steps below 0 are not plan steps; TS maps them to messages (src/plan/messages.ts).
constexpr int32_t STEP_EXEC_INIT = -1;  // execveat of the sealed tsrunc-init memfd failed
constexpr int32_t STEP_READ_PLAN = -2;  // the init could not read/decode the plan
constexpr int32_t STEP_USERNS = -3;     // the clone child could not become root of its user namespace
constexpr int32_t STEP_JOIN_NS = -4;    // the clone child's setns of a linux.namespaces[].path failed

struct SyncMsg {
  uint32_t type;
  int32_t step;
  int32_t err;        // positive errno, or 0 (detail then says what is wrong)
  uint32_t reserved;
  char detail[512];   // NUL-terminated extra context (e.g. the executable name)
};

}  // namespace tsrunc
