// Golden tests of the pure plan compiler: the exact sequence of operations tsrunc-init carries
// out for known configs on known hosts. Regenerate after an intended change with
//   UPDATE_GOLDEN=1 node --test dist/test/unit/plan.test.js
// and review the diff of test/golden/ like code.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile, parseMountOptions, checkSupported, type HostFacts } from '../../src/plan/compile';
import { dumpJson, dumpText } from '../../src/plan/dump';
import { encodeOps } from '../../src/plan/encode';
import { CLONE, MS } from '../../src/plan/ops';
import type { Spec } from '../../src/spec/types';
import { TsruncError } from '../../src/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'configs', 'good');
const GOLDEN = path.join(ROOT, 'test', 'golden');

const HYBRID: HostFacts = {
  cgroup: {
    mode: 'hybrid',
    v1: [
      { name: 'cpu,cpuacct', options: 'cpu,cpuacct', containerDir: '/sys/fs/cgroup/cpu,cpuacct/default/c1' },
      { name: 'memory', options: 'memory', containerDir: '/sys/fs/cgroup/memory/default/c1' },
      { name: 'devices', options: 'devices', containerDir: '/sys/fs/cgroup/devices/default/c1' },
      { name: 'systemd', options: 'name=systemd', containerDir: '/sys/fs/cgroup/systemd/default/c1' },
    ],
  },
};
const V2: HostFacts = { cgroup: { mode: 'v2', v1: [], unifiedDir: '/sys/fs/cgroup/default/c1' } };

function load(name: string): Spec {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Spec;
}

function plan(spec: Spec, host: HostFacts, extra: Partial<Parameters<typeof compile>[1]> = {}) {
  return compile(spec, {
    bundle: '/bundle', rootfs: '/bundle/rootfs', fifoPath: '/run/tsrunc/c1/exec.fifo', noPivot: false,
    keepFds: 0, host, ...extra,
  });
}

function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) {
    fs.mkdirSync(GOLDEN, { recursive: true });
    fs.writeFileSync(file, text);
  }
  assert.equal(text, fs.readFileSync(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

function terminalOff(s: Spec): Spec {
  if (s.process) s.process.terminal = false;
  return s;
}

test('golden: runc spec config on a hybrid host', () => {
  golden('runc-spec.hybrid.txt', dumpText(plan(terminalOff(load('runc-spec.json')), HYBRID)));
});

test('golden: runc spec config with a cgroup namespace on a v2 host (json)', () => {
  const s = terminalOff(load('runc-spec.json'));
  s.linux!.namespaces!.push({ type: 'cgroup' });
  golden('runc-spec.cgroupns.v2.json', dumpJson(plan(s, V2)));
});

test('golden: runc spec config with its terminal (PTY right after pivot_root)', () => {
  const s = load('runc-spec.json');
  s.process!.consoleSize = { height: 40, width: 120 };
  s.process!.user = { uid: 1000, gid: 1000 };
  const p = plan(s, HYBRID);
  golden('runc-spec.terminal.hybrid.txt', dumpText(p));
  const i = p.ops.findIndex((o) => o.op === 'PTY');
  assert.equal(p.ops[i - 1]!.op, 'PIVOT_ROOT');
  assert.deepEqual(p.ops[i]!.ints, [1, 40, 120, 1000]);
  // Before anything is made read-only: root.readonly comes later.
  assert.ok(p.ops.findIndex((o) => o.op === 'REMOUNT') > i);
  // No terminal: no PTY op; half a consoleSize is not applied (runc: both or nothing).
  assert.equal(plan(terminalOff(load('runc-spec.json')), HYBRID).ops.some((o) => o.op === 'PTY'), false);
  const half = load('runc-spec.json');
  half.process!.consoleSize = { height: 40, width: 0 };
  assert.deepEqual(plan(half, HYBRID).ops.find((o) => o.op === 'PTY')!.ints, [1, 0, 0, 0]);
});

test('a read-only bind of /dev is made read-only only after /dev/console is created in it', () => {
  const s = load('runc-spec.json');
  s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/dev'));
  s.mounts.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'ro'] });
  const p = plan(s, HYBRID);
  const pty = p.ops.findIndex((o) => o.op === 'PTY');
  const remount = p.ops.findIndex((o) => o.op === 'REMOUNT' && o.strs[0] === '/dev');
  assert.ok(pty >= 0 && remount > pty, p.ops.map((o) => o.what).join('\n'));
});

test('golden: containerd ctr run config, --no-pivot, preserved fds', () => {
  golden('ctr-run.hybrid.txt', dumpText(plan(load('containerd-ctr-run.json'), HYBRID, { noPivot: true, keepFds: 2 })));
});

test('clone flags carry every new namespace but cgroup, which the init unshares', () => {
  const s = terminalOff(load('runc-spec.json'));
  s.linux!.namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'cgroup' }];
  delete s.hostname; // no UTS namespace
  const p = plan(s, HYBRID);
  assert.equal(p.cloneFlags, CLONE.NEWNS | CLONE.NEWPID);
  assert.deepEqual(p.namespaces.map((n) => `${n.type}:${n.how}`), ['mount:clone', 'pid:clone', 'cgroup:unshare']);
  assert.equal(p.ops[0]!.op, 'UNSHARE');
});

test('sysfs is mounted fresh even without a network namespace (as runc does as root)', () => {
  const s = terminalOff(load('runc-spec.json'));
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  const op = plan(s, HYBRID).ops.find((o) => o.op === 'MOUNT' && o.strs[1] === '/sys')!;
  assert.deepEqual(op.strs, ['sysfs', '/sys', 'sysfs', '']);
  assert.equal(Number(op.ints[2]), 0);
});

test('exec lookup: PATH from the config env, none when env has no PATH (runc semantics)', () => {
  const s = terminalOff(load('runc-spec.json'));
  let op = plan(s, HYBRID).ops.find((o) => o.op === 'RESOLVE_EXEC')!;
  assert.equal(Number(op.ints[0]), 1);
  assert.match(op.strs[1]!, /\/bin/);
  delete s.process!.env;
  op = plan(s, HYBRID).ops.find((o) => o.op === 'RESOLVE_EXEC')!;
  assert.equal(Number(op.ints[0]), 0);
});

test('mount options split into flags, propagation and data', () => {
  const o = parseMountOptions(['nosuid', 'noexec', 'rw', 'ro', 'rprivate', 'mode=755', 'size=65536k', 'strictatime']);
  assert.equal(o.flags, MS.NOSUID | MS.NOEXEC | MS.RDONLY | MS.STRICTATIME);
  assert.equal(o.propagation, MS.PRIVATE | MS.REC);
  assert.deepEqual(o.data, ['mode=755', 'size=65536k']);
  assert.equal(parseMountOptions(['ro', 'rw']).flags & MS.RDONLY, 0);
});

test('rlimit values of 2^64-1 mean unlimited', () => {
  const s = terminalOff(load('runc-spec.json'));
  s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }];
  const op = plan(s, HYBRID).ops.find((o) => o.op === 'RLIMIT')!;
  assert.deepEqual(op.ints, [4, -1, -1]);
});

test('what this version cannot honour is refused, naming the field', () => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['seccomp arch', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] }; }, /\/linux\/seccomp\/architectures\/0/],
  ];
  for (const [name, mutate, re] of cases) {
    const s = terminalOff(load('runc-spec.json'));
    mutate(s);
    assert.throws(() => checkSupported(s), (e: unknown) => e instanceof TsruncError && e.code === 'E_UNSUPPORTED' && re.test(e.message), name);
  }
  const ok = terminalOff(load('runc-spec.json'));
  ok.linux!.resources = { cpu: { shares: 1024 }, devices: [{ allow: false, access: 'rwm' }] };
  checkSupported(ok);
});

test('encoding: header, op count and strings round-trip in the documented layout', () => {
  const buf = encodeOps([{ op: 'HOSTNAME', what: 'x', ints: [-1, 2n ** 40n], strs: ['héllo'] }]);
  assert.equal(buf.readUInt32LE(0), 0x50525354);
  assert.equal(buf.readUInt32LE(4), 1);
  assert.equal(buf.readUInt32LE(8), 1);
  assert.equal(buf.readUInt32LE(12), 11); // OP.HOSTNAME
  assert.equal(buf.readUInt32LE(16), 2);
  assert.equal(buf.readUInt32LE(20), 1);
  assert.equal(buf.readBigInt64LE(24), -1n);
  assert.equal(buf.readBigInt64LE(32), 2n ** 40n);
  const len = buf.readUInt32LE(40);
  assert.equal(buf.subarray(44, 44 + len).toString('utf8'), 'héllo');
  assert.equal(buf.length, 44 + len);
});

test('hostname or domainname without a UTS namespace is refused (runc), never applied to the host', () => {
  const s = terminalOff(load('runc-spec.json'));
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
  assert.throws(() => plan(s, HYBRID), /\/hostname: unable to set hostname without a private UTS namespace/);
  s.hostname = '';
  s.domainname = 'example';
  assert.throws(() => plan(s, HYBRID), /\/domainname: unable to set domainname without a private UTS namespace/);
  delete s.domainname;
  assert.ok(!plan(s, HYBRID).ops.some((o) => o.op === 'HOSTNAME'));
});

test('a new session keyring `_ses.<id>` unless --no-new-keyring (runc)', () => {
  const s = terminalOff(load('runc-spec.json'));
  const withRing = plan(s, HYBRID, { sessionKeyring: '_ses.c1' }).ops.find((o) => o.op === 'SESSION_KEYRING');
  assert.deepEqual(withRing?.strs, ['_ses.c1']);
  assert.ok(!plan(s, HYBRID).ops.some((o) => o.op === 'SESSION_KEYRING'));
});

test('rootfsPropagation: the tree first (never unbindable: binds would fail), the new / last', () => {
  const s = terminalOff(load('runc-spec.json'));
  for (const [value, pre, post] of [
    ['rshared', MS.SHARED | MS.REC, MS.SHARED | MS.REC],
    ['private', MS.PRIVATE, MS.PRIVATE],
    ['runbindable', MS.SLAVE | MS.REC, MS.UNBINDABLE | MS.REC],
  ] as const) {
    s.linux!.rootfsPropagation = value;
    const ops = plan(s, HYBRID).ops;
    const props = ops.map((o, i) => [o, i] as const).filter(([o]) => o.op === 'ROOT_PROPAGATE');
    assert.deepEqual(props.map(([o]) => Number(o.ints[0])), [pre, post], value);
    const lastMask = ops.map((o) => o.op).lastIndexOf('MASK');
    assert.ok(props[1]![1] > lastMask && props[1]![1] > ops.findIndex((o) => o.op === 'PIVOT_ROOT'), `${value}: applied after pivot and masks`);
  }
});

// ---- hostile paths (issue: security) -----------------------------------------------------------

function withNs(types: string[], extra: Partial<Spec> = {}): Spec {
  const s = terminalOff(load('runc-spec.json'));
  s.linux!.namespaces = types.map((type) => ({ type })) as never;
  return { ...s, ...extra };
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TsruncError, String(e));
    assert.equal(e.code, 'E_CONFIG_INVALID');
    return e.message;
  }
  assert.fail('expected a config error');
}

test('sysctl: only namespaced keys with their namespace new (runc rules and texts), relative to a private procfs', () => {
  const ops = (sysctl: Record<string, string>, ns = ['mount', 'ipc', 'network', 'uts']) =>
    plan({ ...withNs(ns), hostname: '', linux: { ...withNs(ns).linux, sysctl } }, HYBRID).ops.filter((o) => o.op === 'SYSCTL').map((o) => o.strs);
  assert.deepEqual(ops({ 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '2', 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'd' }), [
    ['sys/kernel/shmmax', '1'], ['sys/fs/mqueue/msg_max', '2'], ['sys/net/ipv4/ip_forward', '1'], ['sys/kernel/domainname', 'd'],
  ]);
  assert.deepEqual(ops({ 'net/ipv4/conf/eth0.100/forwarding': '1' }), [['sys/net/ipv4/conf/eth0.100/forwarding', '1']]);
  const err = (k: string, ns?: string[]) => configError(() => ops({ [k]: '1' }, ns));
  assert.match(err('fs.file-max'), /sysctl "fs.file-max" is not in a separate kernel namespace$/);
  assert.match(err('kernel.core_pattern'), /is not in a separate kernel namespace$/);
  assert.match(err('kernel.hostname'), /sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field$/);
  assert.match(err('net.ipv4.ip_forward', ['mount', 'ipc']), /sysctl "net.ipv4.ip_forward" not allowed in host network namespace$/);
  assert.match(err('kernel.shmmax', ['mount', 'network']), /sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace$/);
  assert.match(err('kernel.domainname', ['mount']), /is not in a separate kernel namespace$/);
  for (const k of ['net./../kernel.core_pattern', 'net.ipv4/../../kernel/core_pattern', 'net..x', 'net.', '/net/x']) {
    assert.match(err(k), /not a valid sysctl name$/, k);
  }
});

test('mounts inside /proc: proc on /proc and runc\'s lxcfs list only; the init re-checks the rest', () => {
  const mountOps = (mounts: Spec['mounts']) => plan({ ...withNs(['mount', 'uts']), mounts }, HYBRID).ops.filter((o) => o.op === 'MOUNT');
  const proc = mountOps([{ destination: '/proc', type: 'proc', source: 'proc' }]);
  assert.equal(proc[0]!.ints[3], 1);
  const lxcfs = mountOps([{ destination: '/proc/uptime', type: 'bind', source: '/x', options: ['bind'] }]);
  assert.equal(lxcfs[0]!.ints[3], 1);
  const onProc = mountOps([{ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] }]);
  assert.equal(onProc[0]!.ints[3], 2, 'a bind on /proc: the init checks that the source is a procfs');
  const elsewhere = mountOps([{ destination: '/mnt', type: 'tmpfs', source: 'tmpfs' }]);
  assert.equal(elsewhere[0]!.ints[3], 0);
  assert.match(configError(() => mountOps([{ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: '/x', options: ['bind'] }])),
    /"\/proc\/sys\/net\/ipv4\/ip_forward" cannot be mounted because it is inside \/proc$/);
  assert.match(configError(() => mountOps([{ destination: 'proc/sys/../sys/kernel', type: 'tmpfs', source: 'tmpfs' }])),
    /"\/proc\/sys\/kernel" cannot be mounted because it is inside \/proc$/);
  assert.match(configError(() => mountOps([{ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }])),
    /"\/proc" cannot be mounted because it is not of type proc$/);
});

test('a read-only mount that later steps write into is made read-only after it is populated', () => {
  const s = terminalOff(load('runc-spec.json'));
  const dev = s.mounts!.find((m) => m.destination === '/dev')!;
  dev.options = [...(dev.options ?? []), 'ro'];
  const ops = plan(s, HYBRID).ops;
  const devMount = ops.find((o) => o.op === 'MOUNT' && o.strs[1] === '/dev')!;
  assert.equal(Number(devMount.ints[0]) & MS.RDONLY, 0, 'mounted writable');
  const remount = ops.findIndex((o) => o.op === 'REMOUNT' && o.strs[0] === '/dev');
  assert.ok(remount > ops.findIndex((o) => o.op === 'PIVOT_ROOT'), 'made read-only after the devices and /dev/pts');
  assert.equal(ops[remount]!.ints[0], MS.RDONLY);
  // sysfs stays read-only from the start: a cgroup mount point under it creates nothing.
  const sys = ops.find((o) => o.op === 'MOUNT' && o.strs[1] === '/sys')!;
  assert.equal(Number(sys.ints[0]) & MS.RDONLY, MS.RDONLY);
  assert.ok(!ops.some((o) => o.op === 'REMOUNT' && o.strs[0] === '/sys'));
});

test('setup order: every config/image path is resolved before the private procfs is taken; a missing user is 0:0', () => {
  const s = terminalOff(load('runc-spec.json'));
  delete (s.process as { user?: unknown }).user;
  s.process!.env = (s.process!.env ?? []).filter((e) => !e.startsWith('HOME='));
  const names = plan(s, HYBRID).ops.map((o) => o.op);
  const at = (n: string) => names.indexOf(n as never);
  for (const before of ['MKDIR', 'CHDIR', 'RESOLVE_EXEC', 'LOOKUP_HOME', 'MASK', 'READONLY']) assert.ok(at(before) < at('PROC_HANDLE'), before);
  assert.ok(at('MKDIR') < at('READONLY'), 'cwd created before the read-only remounts');
  assert.ok(at('PROC_HANDLE') < at('USER'));
  const user = plan(s, HYBRID).ops.find((o) => o.op === 'USER')!;
  assert.deepEqual(user.ints.slice(0, 2), [0, 0]);
  s.process!.env!.push('HOME=/h');
  assert.ok(!plan(s, HYBRID).ops.some((o) => o.op === 'LOOKUP_HOME'), 'no /etc/passwd read when the config sets HOME');
  assert.ok(!plan(s, HYBRID, { fifoPath: undefined }).ops.some((o) => o.op === 'PROC_HANDLE'), 'run without a fifo needs no procfs');
});
