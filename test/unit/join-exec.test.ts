// Plans for joined namespaces (linux.namespaces[].path) and for `exec`, and exec's command line.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile, type HostFacts } from '../../src/plan/compile';
import { compileExec } from '../../src/plan/exec';
import { dumpText } from '../../src/plan/dump';
import { CLONE } from '../../src/plan/ops';
import { parseCommand } from '../../src/cli/args';
import { command } from '../../src/cli/table';
import type { Process, Spec } from '../../src/spec/types';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const V2: HostFacts = { cgroup: { mode: 'v2', v1: [], unifiedDir: '/sys/fs/cgroup/default/c1' } };

function spec(namespaces: { type: string; path?: string }[]): Spec {
  const s = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'configs', 'good', 'runc-spec.json'), 'utf8')) as Spec;
  s.process!.terminal = false;
  s.linux!.namespaces = namespaces as never;
  return s;
}

function plan(s: Spec) {
  return compile(s, { bundle: '/b', rootfs: '/b/rootfs', fifoPath: '/run/tsrunc/c1/exec.fifo', noPivot: false, keepFds: 0, host: V2 });
}

function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

test('joined namespaces (a CRI container in its sandbox): joined in runc order, new ones cloned, FORK first for the pid namespace', () => {
  const p = plan(spec([
    { type: 'pid', path: '/proc/42/ns/pid' }, { type: 'network', path: '/proc/42/ns/net' }, { type: 'ipc', path: '/proc/42/ns/ipc' },
    { type: 'uts', path: '/proc/42/ns/uts' }, { type: 'mount' },
  ]));
  assert.equal(p.cloneFlags, CLONE.NEWNS);
  assert.deepEqual(p.joins!.map((j) => [j.type, j.path, j.field, j.nstype]), [
    ['ipc', '/proc/42/ns/ipc', '/linux/namespaces/2/path', CLONE.NEWIPC],
    ['uts', '/proc/42/ns/uts', '/linux/namespaces/3/path', CLONE.NEWUTS],
    ['network', '/proc/42/ns/net', '/linux/namespaces/1/path', CLONE.NEWNET],
    ['pid', '/proc/42/ns/pid', '/linux/namespaces/0/path', CLONE.NEWPID],
  ]);
  assert.deepEqual(p.ops[0], { op: 'FORK', what: 'fork: the joined pid namespace applies to children only', ints: [1], strs: [] });
  assert.equal(p.ops.filter((o) => o.op === 'FORK').length, 1);
  golden('join-cri.v2.txt', dumpText(p));
});

test('no FORK without a joined pid namespace; a joined cgroup namespace is not unshared', () => {
  const p = plan(spec([{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network', path: '/run/netns/x' }, { type: 'cgroup', path: '/proc/9/ns/cgroup' }]));
  assert.equal(p.cloneFlags, CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWUTS);
  assert.ok(!p.ops.some((o) => o.op === 'FORK'));
  assert.ok(!p.ops.some((o) => o.op === 'UNSHARE'));
  assert.deepEqual(p.joins!.map((j) => j.type), ['network', 'cgroup']);
});

test('a joined user namespace: the new namespaces are unshared inside it (then FORK for a new pid namespace), none cloned', () => {
  const p = plan(spec([{ type: 'user', path: '/proc/7/ns/user' }, { type: 'pid' }, { type: 'mount' }, { type: 'uts' }]));
  assert.equal(p.cloneFlags, 0);
  assert.equal(p.joins![0]!.type, 'user');
  assert.deepEqual(p.ops.slice(0, 2).map((o) => [o.op, o.ints]), [['UNSHARE', [CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS]], ['FORK', [1]]]);
  assert.ok(p.namespaces.filter((n) => n.type !== 'user').every((n) => n.how === 'unshare'));
});

test('a time namespace path is joined by the init (JOIN_TIMENS), not by the clone child', () => {
  const p = plan(spec([{ type: 'mount' }, { type: 'uts' }, { type: 'time', path: '/proc/1/ns/time' }]));
  assert.deepEqual(p.joins ?? [], []);
  assert.ok(p.ops.some((o) => o.op === 'JOIN_TIMENS' && o.strs[0] === '/proc/1/ns/time'));
});

const PROC: Process = { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], cwd: '/' };
const CAPS = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };

test('exec plan: JOIN first, FORK for a pid namespace, the process steps, EXEC_READY, EXEC; defaults from the container', () => {
  const p = compileExec(PROC, { capabilities: CAPS, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }] },
    { id: 'c1', pidfd: 17, nsFlags: CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWNET, keepFds: 2 });
  assert.deepEqual(p.ops.map((o) => o.op), ['JOIN', 'FORK', 'SESSION_KEYRING', 'CHDIR', 'RLIMIT', 'RESOLVE_EXEC', 'LOOKUP_HOME', 'CAPS', 'USER', 'CAPS', 'EXEC_READY', 'EXEC']);
  assert.deepEqual(p.ops[0]!.ints, [17, CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWNET]);
  assert.deepEqual(p.ops[1]!.ints, [0]); // an exec'd process outlives tsrunc exec: no parent-death signal
  assert.deepEqual(p.ops[4]!.ints, [7, 10, 20]);
  assert.deepEqual(p.ops[9]!.ints, [1, 1n << 5n, 1n << 5n, 1n << 5n, 0n, 0n]); // CAP_KILL = 5
  assert.deepEqual(p.ops.at(-1)!.ints, [2, 1]);
});

test('exec plan: the process\'s own caps and rlimits win; no pid namespace, no FORK; --no-new-keyring kept; seccomp late with no_new_privs', () => {
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const proc: Process = { ...PROC, env: ['HOME=/x'], noNewPrivileges: true, capabilities: { bounding: [] }, rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }] };
  const p = compileExec(proc, { capabilities: CAPS, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }], seccomp, noNewKeyring: true },
    { id: 'c1', pidfd: 5, nsFlags: CLONE.NEWNS, keepFds: 0 });
  assert.deepEqual(p.ops.map((o) => o.op), ['JOIN', 'CHDIR', 'RLIMIT', 'RESOLVE_EXEC', 'CAPS', 'USER', 'CAPS', 'NO_NEW_PRIVS', 'EXEC_READY', 'SECCOMP', 'EXEC']);
  assert.equal(p.ops[2]!.strs[0], 'RLIMIT_CORE');
  assert.equal(p.ops[4]!.ints[1], 0n);
  assert.deepEqual(p.ops[9]!.ints, [0, 1]);
  const oom = compileExec({ ...PROC, oomScoreAdj: -5 }, {}, { id: 'c1', pidfd: 5, nsFlags: CLONE.NEWNS, keepFds: 0 });
  assert.deepEqual(oom.ops.slice(0, 2).map((o) => [o.op, o.ints]), [['OOM_SCORE_ADJ', [-5]], ['JOIN', [5, CLONE.NEWNS]]], 'through the host\'s /proc, before joining');
  const early = compileExec({ ...PROC }, { seccomp }, { id: 'c1', pidfd: 5, nsFlags: 0, keepFds: 0 });
  assert.ok(early.ops.findIndex((o) => o.op === 'SECCOMP') < early.ops.findIndex((o) => o.op === 'USER'));
});

test('exec plan with a terminal: PTY (no /dev/console, the process\'s uid, consoleSize) after CHDIR, before rlimits, seccomp, USER and CAPS', () => {
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const proc: Process = { ...PROC, terminal: true, consoleSize: { height: 33, width: 101 }, user: { uid: 1000, gid: 1000 } };
  const p = compileExec(proc, { capabilities: CAPS, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }], seccomp },
    { id: 'c1', pidfd: 5, nsFlags: CLONE.NEWPID | CLONE.NEWNS, keepFds: 0 });
  assert.deepEqual(p.ops.map((o) => o.op), ['JOIN', 'FORK', 'SESSION_KEYRING', 'CHDIR', 'PTY', 'RLIMIT', 'RESOLVE_EXEC', 'LOOKUP_HOME', 'SECCOMP', 'CAPS', 'USER', 'CAPS', 'EXEC_READY', 'EXEC']);
  assert.deepEqual(p.ops[4]!.ints, [0, 33, 101, 1000]);
  const plain = compileExec({ ...PROC, consoleSize: { height: 33, width: 101 } }, {}, { id: 'c1', pidfd: 5, nsFlags: 0, keepFds: 0 });
  assert.ok(!plain.ops.some((o) => o.op === 'PTY'), 'no terminal, no PTY (consoleSize alone is ignored)');
  const noSize = compileExec({ ...PROC, terminal: true, consoleSize: { height: 0, width: 80 } }, {}, { id: 'c1', pidfd: 5, nsFlags: 0, keepFds: 0 });
  assert.deepEqual(noSize.ops.find((o) => o.op === 'PTY')!.ints, [0, 0, 0, 0], 'a size applies only when both are set');
});

test('exec command line: flags end at the container id (runc SkipArgReorder); -e, -c, -g and --cgroup repeat', () => {
  const r = parseCommand(command('exec').flags, ['-e', 'A=1', '--env=B=2', '-c', 'CAP_KILL', '-g', '5', '-g', '7', '--cgroup', 'memory:x', '-d', 'c1', 'ls', '-l', '--', '-e'], true);
  assert.deepEqual(r.args, ['c1', 'ls', '-l', '--', '-e']);
  assert.deepEqual(r.values.env, ['A=1', 'B=2']);
  assert.deepEqual(r.values.cap, ['CAP_KILL']);
  assert.deepEqual(r.values['additional-gids'], ['5', '7']);
  assert.deepEqual(r.values.cgroup, ['memory:x']);
  assert.equal(r.values.detach, true);
  assert.deepEqual(parseCommand(command('exec').flags, ['c1'], true).values.env, []);
});
