// The process attributes (src/plan/process.ts): their plan (golden), their checks with runc's
// texts, the cpu/node list parser, the host-dependent refusals (SELinux, Intel RDT), and the one
// error that lists every problem of a config at once (src/spec/load.ts loadCheckedSpec).
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile, checkSupported, unsupportedProblems, planProblems, type HostFacts } from '../../src/plan/compile';
import { dumpText } from '../../src/plan/dump';
import { netDeviceFacts, netDeviceOps, netDeviceProblems } from '../../src/plan/netdev';
import { hostProblems, nodeMask, parseIdList, processAttrOps, processAttrProblems } from '../../src/plan/process';
import { specProblems, specWarnings } from '../../src/spec/checks';
import { loadCheckedSpec } from '../../src/spec/load';
import { MAX_PROBLEMS } from '../../src/spec/validate';
import type { Spec } from '../../src/spec/types';
import { TsruncError } from '../../src/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const HYBRID: HostFacts = { cgroup: { mode: 'hybrid', v1: [] } };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-unit-process-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function base(): Spec {
  const s = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'configs', 'good', 'runc-spec.json'), 'utf8')) as Spec;
  s.process!.terminal = false;
  return s;
}

function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), `golden ${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

function allAttrs(): Spec {
  const s = base();
  s.process!.apparmorProfile = 'tsrunc-test';
  s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
  s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
  s.process!.execCPUAffinity = { initial: '0', final: '0-1' };
  s.linux!.personality = { domain: 'LINUX32' };
  s.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0,65', flags: ['MPOL_F_STATIC_NODES'] };
  return s;
}

test('golden: every process attribute, in runc\'s order, after the paths and before seccomp and the user change', () => {
  const p = compile(allAttrs(), { bundle: '/b', rootfs: '/b/rootfs', fifoPath: '/run/tsrunc/c/exec.fifo', noPivot: false, keepFds: 0, host: HYBRID });
  golden('process-attrs.hybrid.txt', dumpText(p));
  const names = p.ops.map((o) => o.op);
  const at = (n: string) => names.indexOf(n as never);
  for (const n of ['APPARMOR', 'SCHEDULER', 'IOPRIO', 'PERSONALITY', 'MEMORY_POLICY']) {
    assert.ok(at(n) > at('PROC_HANDLE') && at(n) < at('USER') && at(n) < names.indexOf('CAPS'), n);
  }
});

test('op values: the kernel encodings', () => {
  const ops = processAttrOps(allAttrs());
  const by = (n: string) => ops.find((o) => o.op === n)!;
  assert.deepEqual(by('APPARMOR').strs, ['tsrunc-test']);
  assert.deepEqual(by('SCHEDULER').ints, [1, 1, 0, 10, 0n, 0n, 0n]);
  assert.deepEqual(by('IOPRIO').ints, [(2 << 13) | 6]);
  assert.deepEqual(by('PERSONALITY').ints, [8]);
  // MPOL_INTERLEAVE (3) | MPOL_F_STATIC_NODES (1 << 15); nodes 0 and 65: two words.
  assert.deepEqual(by('MEMORY_POLICY').ints, [3 | (1 << 15), 128, 1n, 2n]);
  // execCPUAffinity is not applied to the container's init process (config.md).
  assert.equal(ops.length, 5);
  const d = base();
  d.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1e6, deadline: 1e7, period: 1e7 };
  d.linux!.memoryPolicy = { mode: 'MPOL_LOCAL' };
  const o2 = processAttrOps(d);
  assert.deepEqual(o2[0]!.ints, [6, 0, 0, 0, 1000000n, 10000000n, 10000000n]);
  assert.deepEqual(o2[1]!.ints, [4, 0]);
  assert.deepEqual(processAttrOps(base()), []);
});

test('cpu and node lists: runc\'s rules', () => {
  assert.deepEqual(parseIdList('0-3,7'), [0, 1, 2, 3, 7]);
  assert.deepEqual(parseIdList(' 1 , ,3-3,'), [1, 3]);
  assert.deepEqual(parseIdList(''), []);
  assert.throws(() => parseIdList('3-1'), /invalid range: 3-1/);
  assert.throws(() => parseIdList('x'), /"x" is not a number/);
  assert.throws(() => parseIdList('-1'), /is not a number/);
  assert.throws(() => parseIdList('70000'), /values larger than 65536/);
  assert.deepEqual(nodeMask([0, 63, 64]), [(1n << 63n) | 1n, 1n]);
});

test('checks: scheduler, execCPUAffinity, personality flags and memory policy, with runc\'s texts', () => {
  const cases: [string, (s: Spec) => void, string[]][] = [
    ['SCHED_ISO', (s) => { s.process!.scheduler = { policy: 'SCHED_ISO' }; }, ['/process/scheduler/policy: SCHED_ISO is not implemented by the Linux kernel']],
    ['nice', (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 }; }, ['/process/scheduler/nice: invalid scheduler.nice: 20 when scheduler.policy is SCHED_OTHER']],
    ['priority', (s) => { s.process!.scheduler = { policy: 'SCHED_BATCH', priority: 3 }; }, ['/process/scheduler/priority: scheduler.priority can only be specified for SchedFIFO or SchedRR policy']],
    ['rt priority', (s) => { s.process!.scheduler = { policy: 'SCHED_RR' }; }, ['/process/scheduler/priority: must be between 1 and 99 for SCHED_RR, got 0']],
    ['deadline', (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', runtime: 5 }; }, ['/process/scheduler: scheduler runtime/deadline/period can only be specified for SchedDeadline policy']],
    ['affinity', (s) => { s.process!.execCPUAffinity = { initial: '2-1', final: ',' }; }, [
      '/process/execCPUAffinity/initial: bad CPUAffinity.Initial: invalid range: 2-1',
      '/process/execCPUAffinity/final: bad CPUAffinity.Final: no members found in set ","',
    ]],
    ['personality flags', (s) => { s.linux!.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }; }, [
      '/linux/personality/flags: no personality flags are supported (runtime-spec 1.3 defines none), got ["ADDR_NO_RANDOMIZE"]',
    ]],
    ['mpol default nodes', (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_DEFAULT', nodes: '0-1' }; }, ['/linux/memoryPolicy/nodes: memory policy mode requires 0 nodes but got 2']],
    ['mpol bind no nodes', (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND' }; }, ['/linux/memoryPolicy/nodes: memory policy mode requires at least one node but got 0']],
    ['mpol bad nodes', (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: 'a' }; }, ['/linux/memoryPolicy/nodes: invalid memory policy nodes "a": "a" is not a number']],
    ['mpol flags', (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }; }, [
      '/linux/memoryPolicy/flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot be combined (set_mempolicy(2))',
    ]],
  ];
  for (const [name, edit, want] of cases) {
    const s = base();
    edit(s);
    assert.deepEqual(processAttrProblems(s).map((p) => `${p.pointer}: ${p.message}`), want, name);
    // ...and they are part of the semantic checks.
    for (const w of want) assert.ok(specProblems(s, { needProcess: true }).some((p) => w === `${p.pointer}: ${p.message}`), name);
  }
  assert.deepEqual(processAttrProblems(allAttrs()), []);
  const ok = base();
  ok.linux!.memoryPolicy = { mode: 'MPOL_PREFERRED' }; // zero or more nodes
  ok.process!.scheduler = { policy: 'SCHED_IDLE', nice: 40 }; // nice is not used by SCHED_IDLE
  assert.deepEqual(processAttrProblems(ok), []);
});

test('unknown capabilities are errors in every set, not warnings', () => {
  const s = base();
  s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_NOPE'], effective: ['x'], inheritable: ['CAP_CHOWN'], permitted: [], ambient: ['CAP_AMB'] };
  assert.deepEqual(specProblems(s, { needProcess: true }).map((p) => `${p.pointer}: ${p.message}`), [
    '/process/capabilities/bounding/1: unknown capability "CAP_NOPE"',
    '/process/capabilities/effective/0: unknown capability "x"',
    '/process/capabilities/ambient/0: unknown capability "CAP_AMB"',
  ]);
  assert.deepEqual(specWarnings(s), []);
});

test('host problems: SELinux disabled, no resctrl (runc\'s texts)', () => {
  const s = base();
  s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
  s.linux!.intelRdt = { closID: 'x', l3CacheSchema: 'L3:0=f', memBwSchema: 'MB:0=20' };
  assert.deepEqual(hostProblems(s, { selinux: false, resctrl: false }).map((p) => `${p.pointer}: ${p.message}`), [
    '/process/selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported',
    '/linux/intelRdt/l3CacheSchema: intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled',
    '/linux/intelRdt/memBwSchema: intelRdt.memBwSchema is specified in config, but Intel RDT/MBA is not enabled',
    '/linux/intelRdt: intelRdt is specified in config, but Intel RDT is not enabled (no resctrl filesystem is mounted)',
  ]);
  assert.deepEqual(hostProblems(s, { selinux: true, resctrl: true }), []);
  // Where the host has them, they are still not implemented: refused as such.
  assert.deepEqual(unsupportedProblems(s).map((p) => p.pointer), ['/process/selinuxLabel', '/linux/intelRdt']);
});

test('checkSupported reports every unsupported field at once', () => {
  const s = base();
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] };
  s.linux!.namespaces!.find((n) => n.type === 'network')!.path = '/proc/1/ns/net';
  s.linux!.netDevices = { eth0: {} };
  assert.throws(() => checkSupported(s), (e: unknown) => e instanceof TsruncError && e.code === 'E_UNSUPPORTED' &&
    e.message.split('\n').length === 2 && /\/linux\/seccomp\/architectures\/0/.test(e.message) &&
    /\/linux\/netDevices \(into a joined network namespace\)/.test(e.message));
});

test('planProblems: every refusal of the compiler, each with its path', () => {
  const s = base();
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts' && n.type !== 'network');
  s.hostname = 'h';
  s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.panic': '1' };
  s.mounts!.push({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs' });
  assert.deepEqual(planProblems(s).map((p) => `${p.pointer}: ${p.message}`), [
    `/mounts/${s.mounts!.length - 1}/destination: mount on \`/proc/sys\`: "/proc/sys" cannot be mounted because it is inside /proc`,
    '/linux/sysctl: sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
    '/linux/sysctl: sysctl "kernel.panic" is not in a separate kernel namespace',
    '/hostname: unable to set hostname without a private UTS namespace',
  ]);
});

function bundle(config: unknown): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'b-'));
  fs.mkdirSync(path.join(dir, 'rootfs'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function message(f: () => unknown): TsruncError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TsruncError, String(e));
    return e;
  }
  assert.fail('no error');
}

const NO_LSM = { host: { selinux: false, resctrl: false } };

test('create\'s check: schema, semantic, compiler, host and unsupported problems in one error', () => {
  const s = base() as unknown as Record<string, any>;
  s.process.user.uid = 'root'; // schema
  s.process.capabilities.bounding.push('CAP_NOPE'); // semantic
  s.process.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; // semantic
  s.process.ioPriority = { class: 'IOPRIO_CLASS_FOO', priority: 1 }; // schema: bad class
  s.process.scheduler = { policy: 'SCHED_OTHER', nice: 99 }; // semantic
  s.process.selinuxLabel = 'l'; // host
  s.linux.sysctl = { 'kernel.panic': '1' }; // compiler
  s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] }; // unsupported
  const e = message(() => loadCheckedSpec(bundle(s), { needProcess: true }, NO_LSM));
  assert.equal(e.code, 'E_CONFIG_INVALID');
  assert.deepEqual(e.message.split('\n'), [
    'config.json: /process/user/uid: must be integer',
    'config.json: /process/ioPriority/class: must be one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", got "IOPRIO_CLASS_FOO"',
    `config.json: /process/capabilities/bounding/${s.process.capabilities.bounding.length - 1}: unknown capability "CAP_NOPE"`,
    'config.json: /process/rlimits/0/type: unknown rlimit "RLIMIT_NOPE"',
    'config.json: /process/scheduler/nice: invalid scheduler.nice: 99 when scheduler.policy is SCHED_OTHER',
    'config.json: /linux/sysctl: sysctl "kernel.panic" is not in a separate kernel namespace',
    'config.json: /process/selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported',
    'config.json: /linux/seccomp/architectures/0: SCMP_ARCH_M68K is not supported by this libseccomp',
  ]);
  // Only unsupported fields: E_UNSUPPORTED, all of them.
  const u = base() as unknown as Record<string, any>;
  u.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] };
  u.linux.namespaces.find((n: { type: string }) => n.type === 'network').path = '/proc/1/ns/net';
  u.linux.netDevices = { eth0: {} };
  const e2 = message(() => loadCheckedSpec(bundle(u), { needProcess: true }, NO_LSM));
  assert.equal(e2.code, 'E_UNSUPPORTED');
  assert.deepEqual(e2.message.split('\n'), [
    'config.json: /linux/seccomp/architectures/0: SCMP_ARCH_M68K is not supported by this libseccomp',
    'config.json: /linux/netDevices (into a joined network namespace): not supported by this version of tsrunc',
  ]);
  // The cap of 20 lines holds over all the kinds together.
  const many = base() as unknown as Record<string, any>;
  many.process.capabilities.bounding = Array.from({ length: 30 }, (_, i) => `CAP_X${i}`);
  many.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] };
  const e3 = message(() => loadCheckedSpec(bundle(many), { needProcess: true }, NO_LSM));
  const lines = e3.message.split('\n');
  assert.equal(lines.length, MAX_PROBLEMS + 1);
  assert.equal(lines[MAX_PROBLEMS], 'and 11 more');
  // A config that is valid and supported loads.
  assert.equal(loadCheckedSpec(bundle(allAttrs()), { needProcess: true }, NO_LSM).process!.ioPriority!.priority, 6);
});

test('create\'s check: a value the schema rejected is not reported again by the later checks', () => {
  const s = base() as unknown as Record<string, any>;
  s.process.args = 'sh'; // schema; the semantic check would add "args must not be empty"
  s.process.capabilities = { bounding: 'CAP_KILL' };
  s.linux.namespaces[0].path = 7;
  const e = message(() => loadCheckedSpec(bundle(s), { needProcess: true }, NO_LSM));
  assert.deepEqual(e.message.split('\n'), [
    'config.json: /process/args: must be array',
    'config.json: /process/capabilities/bounding: must be array',
    'config.json: /linux/namespaces/0/path: must be string',
  ]);
  const r = base() as unknown as Record<string, any>;
  delete r.ociVersion;
  const e2 = message(() => loadCheckedSpec(bundle(r), { needProcess: true }, NO_LSM));
  assert.deepEqual(e2.message.split('\n'), ["config.json: /: must have required property 'ociVersion'"]);
});

test('netDevices: checks (runc\'s texts), facts, ops', () => {
  const s = base();
  s.linux!.netDevices = { eth0: { name: 'ceth0' }, eth1: {}, 'bad/name': {}, eth2: { name: 'ceth0' }, eth3: { name: 'lo' }, eth4: { name: 'c%d' }, eth5: { name: 'c%d' } };
  assert.deepEqual(netDeviceProblems(s).map((p) => `${p.pointer}: ${p.message}`), [
    '/linux/netDevices/bad~1name: invalid network device name "bad/name"',
    '/linux/netDevices/eth2: "eth0" is also moved in as "ceth0"',
    '/linux/netDevices/eth3: a network device named "lo" already exists in the container namespace',
  ]);
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  s.linux!.netDevices = { eth0: { name: 'a-name-longer-than-15' } };
  assert.deepEqual(netDeviceProblems(s).map((p) => `${p.pointer}: ${p.message}`), [
    '/linux/netDevices: unable to move network devices without a NET namespace',
    '/linux/netDevices/eth0/name: invalid network device name "a-name-longer-than-15"',
  ]);
  const ok = base();
  ok.linux!.netDevices = { veth7: { name: 'ceth0' }, veth8: {} };
  const addr = { family: 2, prefixlen: 24, scope: 0, flags: 0x80, address: Buffer.from([10, 0, 0, 7]) };
  const facts = netDeviceFacts(ok, (n) => ({ index: n === 'veth7' ? 7 : 8, addrs: n === 'veth7' ? [addr] : [] }));
  assert.deepEqual(facts.map((f) => [f.hostName, f.name, f.index]), [['veth7', 'ceth0', 7], ['veth8', 'veth8', 8]]);
  const ops = netDeviceOps(facts);
  assert.deepEqual(ops.map((o) => [o.op, o.ints, o.strs]), [['NETDEV', [7, 1, 2, 24, 0, 0x80], ['ceth0', '0a000007']], ['NETDEV', [8, 0], ['veth8']]]);
  const p = compile(ok, { bundle: '/b', rootfs: '/b/rootfs', noPivot: false, keepFds: 0, host: HYBRID, netDevices: facts });
  assert.equal(p.ops.filter((o) => o.op === 'NETDEV').length, 2);
  // Into a namespace joined by path: the device would have to go into that one, which the move
  // (to the init's namespace when it is released) does not do yet.
  const joined = base();
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'network' ? { ...n, path: '/run/netns/x' } : n));
  joined.linux!.netDevices = { eth0: {} };
  assert.deepEqual(netDeviceProblems(joined), []);
  assert.ok(unsupportedProblems(joined).some((p) => p.pointer === '/linux/netDevices (into a joined network namespace)'));
  assert.ok(!unsupportedProblems(ok).some((p) => p.pointer.startsWith('/linux/netDevices')));
  const missing = Object.assign(new Error('if_nametoindex'), { code: 'ENODEV' });
  assert.throws(() => netDeviceFacts(ok, () => { throw missing; }),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_CONFIG_INVALID' && e.message === 'config.json: /linux/netDevices/veth7: no network device "veth7" in the runtime\'s network namespace');
});
