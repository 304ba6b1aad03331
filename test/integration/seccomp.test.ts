// linux.seccomp in real containers, each case run by tsrunc and, when it is installed, by runc
// 1.1.5 on the same bundle (differential: same exit code, same output). Checked from inside the
// container: a denied syscall fails with the configured errno, an allowed one works, an argument
// filter tells calls apart, a KILL_PROCESS default kills the process (exit 159 = 128+SIGSYS),
// /proc/self/status shows `Seccomp: 2`, with and without noNewPrivileges. A Docker-like default
// profile (default ERRNO, an allow list, conditional socket/personality/clone rules) runs a shell.
// Bad profiles are refused naming the field and leave nothing behind.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/seccomp.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, type OciConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { type CallResult, RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';

const P = `it-scmp-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const HAVE_RUNC = fs.existsSync(RUNC);

let tmp = '';
let rootfs = '';
let t: Tsrunc;
let runc: RuntimeCli | undefined;
const ids = new Set<string>();
let seq = 0;

function newId(tag: string): string {
  const id = `${P}-${tag}-${++seq}`;
  ids.add(id);
  return id;
}

before(() => {
  tmp = tmpDir('tsrunc-it-seccomp');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 15000);
  if (HAVE_RUNC) runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 15000 });
});

after(() => {
  if (runc) for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

// The syscalls Docker's default profile allows unconditionally on x86_64 (moby profiles/seccomp),
// the ones a busybox shell needs among them. Not listed, so denied with EPERM by the default:
// mount, unshare, setns, ptrace, reboot, ... (and clone with namespace flags, see below).
const ALLOW = [
  'accept', 'accept4', 'access', 'alarm', 'bind', 'brk', 'capget', 'capset', 'chdir', 'chmod', 'chown',
  'clock_getres', 'clock_gettime', 'clock_nanosleep', 'close', 'close_range', 'connect', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait',
  'eventfd', 'eventfd2', 'execve', 'execveat', 'exit', 'exit_group', 'faccessat', 'faccessat2', 'fadvise64',
  'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'fgetxattr',
  'flistxattr', 'flock', 'fork', 'fremovexattr', 'fsetxattr', 'fstat', 'fstatfs', 'fsync', 'ftruncate', 'futex',
  'futex_waitv', 'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'geteuid', 'getgid', 'getgroups',
  'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid',
  'getresuid', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'getsockname', 'getsockopt', 'gettid',
  'gettimeofday', 'getuid', 'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch',
  'ioctl', 'ioprio_get', 'kill', 'lchown', 'lgetxattr', 'link', 'linkat', 'listen', 'listxattr', 'llistxattr',
  'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'madvise', 'membarrier', 'memfd_create', 'mincore', 'mkdir',
  'mkdirat', 'mknod', 'mknodat', 'mlock', 'mmap', 'mprotect', 'mremap', 'msync', 'munlock', 'munmap', 'nanosleep',
  'newfstatat', 'open', 'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'poll',
  'ppoll', 'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64', 'pselect6', 'pwrite64', 'pwritev', 'pwritev2',
  'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recvfrom', 'recvmmsg', 'recvmsg', 'removexattr',
  'rename', 'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending',
  'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_tgsigqueueinfo',
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_yield', 'seccomp', 'select', 'sendfile', 'sendmmsg', 'sendmsg', 'sendto',
  'setfsgid', 'setfsuid', 'setgid', 'setgroups', 'setitimer', 'setpgid', 'setpriority', 'setregid', 'setresgid',
  'setresuid', 'setreuid', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_tid_address', 'setuid',
  'setxattr', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'socketpair', 'splice', 'stat', 'statfs', 'statx',
  'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create',
  'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_settime', 'timerfd_create', 'timerfd_gettime',
  'timerfd_settime', 'times', 'tkill', 'truncate', 'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat',
  'utimes', 'vfork', 'wait4', 'waitid', 'write', 'writev', 'arch_prctl', 'modify_ldt',
];

/** Docker's default profile as dockerd renders it for amd64 without CAP_SYS_ADMIN. */
function dockerLike(): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ALLOW, action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      ...[0, 8, 131072, 131080, 4294967295].map((v) => ({
        names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }],
      })),
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
}

interface Outcome { rc: number | null; out: string }

function bundle(tag: string, seccomp: Record<string, unknown>, script: string, nnp: boolean, edit?: (c: OciConfig) => void): string {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  fs.mkdirSync(dir);
  const c = defaultConfig(['sh', '-c', script]);
  c.root = { path: rootfs, readonly: false };
  c.process!.noNewPrivileges = nnp;
  // A fresh /tmp per container: the rootfs is shared by every case and both runtimes.
  c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  (c.linux as Record<string, unknown>).seccomp = seccomp;
  edit?.(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

function outcome(r: CallResult): Outcome {
  return { rc: r.status, out: r.stdout };
}

/** Run the bundle under tsrunc (and runc when installed); the two outcomes must agree. */
function runBoth(tag: string, dir: string, differential = true): Outcome {
  const id = newId(tag);
  const tr = t.call(['run', '--bundle', dir, id]);
  if (runc && differential) {
    const rr = runc.call(['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    runc.call(['delete', '--force', id]);
    assert.deepEqual(outcome(tr), outcome(rr), `tsrunc: ${show(tr)}\nrunc: ${show(rr)}`);
  }
  return outcome(tr);
}

const DENY_MKDIR = (extra: Record<string, unknown> = {}) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...extra }],
});

for (const nnp of [true, false]) {
  describe(`seccomp, noNewPrivileges ${nnp}`, () => {
    it('Docker\'s default-like profile: a shell runs, Seccomp: 2 inside, what it lacks fails with EPERM', () => {
      const dir = bundle('docker', dockerLike(), [
        'echo ok', 'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status', 'mkdir /tmp/d && echo mkdir-ok',
        'unshare -U true 2>/dev/null; echo unshare=$?', 'mount -t tmpfs t /mnt 2>/dev/null; echo mount=$?',
      ].join('; '), nnp);
      const o = runBoth('docker', dir);
      assert.equal(o.rc, 0);
      assert.equal(o.out, `ok\nNoNewPrivs:\t${nnp ? 1 : 0}\nSeccomp:\t2\nSeccomp_filters:\t1\nmkdir-ok\nunshare=1\nmount=1\n`);
    });

    it('a rule that denies mkdir with SCMP_ACT_ERRNO: EPERM (Operation not permitted)', () => {
      const o = runBoth('eperm', bundle('eperm', DENY_MKDIR(), 'mkdir /tmp/x 2>&1; echo rc=$?', nnp));
      assert.equal(o.out, "mkdir: can't create directory '/tmp/x': Operation not permitted\nrc=1\n");
    });

    it('errnoRet 38: ENOSYS (Function not implemented)', () => {
      const o = runBoth('enosys', bundle('enosys', DENY_MKDIR({ errnoRet: 38 }), 'mkdir /tmp/x 2>&1; echo rc=$?', nnp));
      assert.equal(o.out, "mkdir: can't create directory '/tmp/x': Function not implemented\nrc=1\n");
    });

    it('argument filters: EQ on the mode denies one chmod and not another; MASKED_EQ; two on one index are ORed (runc)', () => {
      // chmod(path, mode) has the mode at index 1, fchmodat(dirfd, path, mode) at index 2.
      const rule = (errnoRet: number, args: { value: number; valueTwo?: number; op: string }[]) => [
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet, args: args.map((a) => ({ index: 1, ...a })) },
        { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet, args: args.map((a) => ({ index: 2, ...a })) },
      ];
      const sc = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          ...rule(1, [{ value: 0o700, op: 'SCMP_CMP_EQ' }]),
          ...rule(13, [{ value: 0o7, valueTwo: 0o5, op: 'SCMP_CMP_MASKED_EQ' }]),
          // Same index twice: runc adds each condition as a rule of its own (mode 711 OR mode 733).
          ...rule(38, [{ value: 0o711, op: 'SCMP_CMP_EQ' }, { value: 0o733, op: 'SCMP_CMP_EQ' }]),
        ],
      };
      const script = 'touch /tmp/f; ' + ['700', '750', '755', '711', '733', '770'].map((m) => `chmod ${m} /tmp/f 2>&1 | sed 's/.*: //'; echo ${m}`).join('; ');
      const o = runBoth('args', bundle('args', sc, script, nnp));
      // 700: EQ; 755: (mode & 7) == 5; 711, 733: the split rule; 750, 770: allowed.
      assert.equal(o.out, 'Operation not permitted\n700\n750\nPermission denied\n755\nFunction not implemented\n711\nFunction not implemented\n733\n770\n');
    });

    it('defaultAction SCMP_ACT_KILL_PROCESS with an allow list that lacks mkdir: the process dies (128+SIGSYS)', () => {
      const sc = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ALLOW.filter((n) => n !== 'mkdir' && n !== 'mkdirat'), action: 'SCMP_ACT_ALLOW' }] };
      const dir = bundle('kill', sc, 'echo before; exec mkdir /tmp/x', nnp);
      const o = runBoth('kill', dir);
      assert.equal(o.rc, 159);
      assert.equal(o.out, 'before\n');
    });
  });
}

describe('seccomp: flags and refusals', () => {
  // runc 1.1.5 refuses every flag ("seccomp flags are not yet supported by runc"); runc 1.2 takes them.
  it('SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW are passed to seccomp(2) (the filter loads, the rule holds)', () => {
    const dir = bundle('flags', { ...DENY_MKDIR(), flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
      'mkdir /tmp/x 2>/dev/null; echo rc=$?; grep "^Seccomp:" /proc/self/status', true);
    const o = runBoth('flags', dir, false);
    assert.equal(o.out, 'rc=1\nSeccomp:\t2\n');
  });

  it('unknown syscall names are skipped (runc), the rest of the profile applies', () => {
    const sc = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const o = runBoth('unknown', bundle('unknown', sc, 'mkdir /tmp/x 2>/dev/null; echo rc=$?', true));
    assert.equal(o.out, 'rc=1\n');
  });

  it('create/start: the filter of a created container applies once started (noNewPrivileges: installed after the fifo)', () => {
    const id = newId('cs');
    const dir = bundle('cs', DENY_MKDIR(), 'mkdir /tmp/x 2>/dev/null; echo rc=$? > /out; grep "^Seccomp:" /proc/self/status >> /out', true);
    const c = t.call(['create', '--bundle', dir, id]);
    assert.equal(c.status, 0, show(c));
    const s = t.call(['start', id]);
    assert.equal(s.status, 0, show(s));
    t.waitStatus(id, 'stopped', 5000);
    assert.equal(fs.readFileSync(path.join(rootfs, 'out'), 'utf8'), 'rc=1\nSeccomp:\t2\n');
    fs.rmSync(path.join(rootfs, 'out'));
    assert.equal(t.call(['delete', id]).status, 0);
  });

  // NOTIFY itself: test/integration/seccomp-notify.test.ts.
  it('refused, naming the field, leaving nothing behind: NOTIFY without listenerPath, WAIT_KILLABLE_RECV without NOTIFY, an arch libseccomp lacks', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/listenerPath: SCMP_ACT_NOTIFY needs a listenerPath/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, /\/linux\/seccomp\/flags\/0/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_SH'] }, /\/linux\/seccomp\/architectures\/0/],
      [{ defaultAction: 'SCMP_ACT_DENY' }, /\/linux\/seccomp\/defaultAction/],
    ];
    for (const [sc, re] of cases) {
      const id = newId('bad');
      const before = snapshot(t.root, [id]);
      const r = t.call(['run', '--bundle', bundle('bad', sc, 'true', true), id]);
      assert.equal(r.status, 1, show(r));
      assert.match(errMsg(r), re);
      assert.deepEqual(leftovers(t.root, before, [id], [id]), []);
    }
  });
});
