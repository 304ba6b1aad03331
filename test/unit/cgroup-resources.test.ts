// The resource mapping tables (src/cgroup/resources-v1.ts, resources-v2.ts) against a temp dir
// that imitates cgroupfs: each control file the kernel would have exists (writes to a missing
// one fail with ENOENT, as O_WRONLY without O_CREAT does), and hooks model the kernel's answers
// (EBUSY for a memory limit below usage, cpu.shares clamping, EINVAL for a period).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type ResourceIo, type Resources, applyV1, applyV2, mergeResources, sharesToWeight, blkioToIoWeight, swapToV2,
  CgroupManager, nodeCgroupFs, resourcesOf,
} from '../../src/cgroup';
import { TsruncError } from '../../src/errors';

function errno(code: string): NodeJS.ErrnoException {
  const e = new Error(`${code} (fake)`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

const V1_FILES: Record<string, string[]> = {
  memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.oom_control',
    'memory.swappiness', 'memory.usage_in_bytes', 'memory.max_usage_in_bytes', 'memory.kmem.limit_in_bytes'],
  cpu: ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.cfs_burst_us', 'cpu.idle', 'cpu.rt_runtime_us', 'cpu.rt_period_us'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  pids: ['pids.max'],
  blkio: ['blkio.weight', 'blkio.weight_device', 'blkio.leaf_weight', 'blkio.leaf_weight_device', 'blkio.throttle.read_bps_device',
    'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device'],
  hugetlb: ['hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.rsvd.limit_in_bytes', 'hugetlb.1GB.limit_in_bytes', 'hugetlb.1GB.rsvd.limit_in_bytes'],
  net_cls: ['net_cls.classid'],
  net_prio: ['net_prio.ifpriomap'],
  rdma: ['rdma.max'],
};

const V2_FILES = ['cgroup.controllers', 'pids.max', 'memory.max', 'memory.low', 'memory.swap.max', 'memory.current', 'io.weight', 'io.max',
  'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max', 'rdma.max',
  'memory.high', 'cgroup.freeze'];

class FakeIo implements ResourceIo {
  writes: string[] = [];
  warnings: string[] = [];
  hooks = new Map<string, (value: string) => string | void>();
  constructor(readonly root: string) {}
  write(file: string, value: string): void {
    if (!fs.existsSync(file)) throw errno('ENOENT');
    const hook = this.hooks.get(path.basename(file));
    const stored = hook ? hook(value) : undefined;
    this.writes.push(`${path.relative(this.root, file)}=${value}`);
    fs.writeFileSync(file, stored ?? value);
  }
  read(file: string): string { return fs.readFileSync(file, 'utf8'); }
  exists(file: string): boolean { return fs.existsSync(file); }
  warn(msg: string): void { this.warnings.push(msg); }
}

function v1Tree(t: { after: (fn: () => void) => void }, omit: string[] = []): { paths: Record<string, string>; io: FakeIo } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-res-v1-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const paths: Record<string, string> = {};
  for (const [ctl, files] of Object.entries(V1_FILES)) {
    const dir = path.join(root, ctl, 'c1');
    fs.mkdirSync(dir, { recursive: true });
    paths[ctl] = dir;
    for (const f of files) if (!omit.includes(f)) fs.writeFileSync(path.join(dir, f), '0');
  }
  fs.writeFileSync(path.join(paths.memory, 'memory.limit_in_bytes'), '9223372036854771712');
  return { paths, io: new FakeIo(root) };
}

function v2Tree(t: { after: (fn: () => void) => void }, controllers = 'cpuset cpu io memory hugetlb pids rdma', omit: string[] = []): { dir: string; io: FakeIo } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-res-v2-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'c1');
  fs.mkdirSync(dir);
  const on = new Set(controllers.split(' '));
  for (const f of V2_FILES) {
    const ctl = f.split('.')[0];
    if (omit.includes(f) || (ctl !== 'cgroup' && !on.has(ctl))) continue;
    fs.writeFileSync(path.join(dir, f), '');
  }
  fs.writeFileSync(path.join(dir, 'cgroup.controllers'), controllers + '\n');
  return { dir, io: new FakeIo(root) };
}

const rel = (io: FakeIo) => io.writes;

// What Docker, Podman and containerd send on every run: nothing is written, nothing fails.
const NO_OPS: Resources[] = [
  { memory: { disableOOMKiller: false }, blockIO: { weight: 0 } },
  { cpu: { shares: 0, quota: 0, period: 0, cpus: '', mems: '' }, memory: { limit: 0, swap: 0, reservation: 0, kernel: 0 }, pids: { limit: 0 } },
  { memory: { swappiness: 18446744073709551615 } },
  { hugepageLimits: [], network: { priorities: [] }, rdma: {}, unified: {} },
];

test('v1 and v2: values that ask for nothing write nothing', (t) => {
  for (const r of NO_OPS) {
    const a = v1Tree(t);
    applyV1(r, a.paths, a.io);
    assert.deepEqual(rel(a.io), [], JSON.stringify(r));
    const b = v2Tree(t);
    applyV2(r, b.dir, b.io);
    assert.deepEqual(rel(b.io), [], JSON.stringify(r));
  }
});

test('v1: the mapping of every field', (t) => {
  const { paths, io } = v1Tree(t);
  applyV1({
    memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, disableOOMKiller: true, swappiness: 10 },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, idle: 0, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '0-1', mems: '0' },
    pids: { limit: 20 },
    blockIO: {
      weight: 500, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 200 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 100 } },
  }, paths, io);
  assert.deepEqual(rel(io), [
    // memory: the current limit (unlimited) is not below the new memsw, so the limit goes first (runc's order)
    'memory/c1/memory.limit_in_bytes=67108864', 'memory/c1/memory.memsw.limit_in_bytes=134217728',
    'memory/c1/memory.soft_limit_in_bytes=33554432', 'memory/c1/memory.oom_control=1', 'memory/c1/memory.swappiness=10',
    'cpu/c1/cpu.shares=512', 'cpu/c1/cpu.cfs_period_us=100000', 'cpu/c1/cpu.cfs_burst_us=1000', 'cpu/c1/cpu.cfs_quota_us=50000',
    'cpu/c1/cpu.idle=0', 'cpu/c1/cpu.rt_period_us=1000000', 'cpu/c1/cpu.rt_runtime_us=950000',
    'cpuset/c1/cpuset.cpus=0-1', 'cpuset/c1/cpuset.mems=0',
    'pids/c1/pids.max=20',
    'blkio/c1/blkio.weight=500', 'blkio/c1/blkio.leaf_weight=300', 'blkio/c1/blkio.weight_device=8:0 400',
    'blkio/c1/blkio.leaf_weight_device=8:0 200', 'blkio/c1/blkio.throttle.read_bps_device=8:0 1048576',
    'blkio/c1/blkio.throttle.write_bps_device=8:0 2097152', 'blkio/c1/blkio.throttle.read_iops_device=8:0 100',
    'blkio/c1/blkio.throttle.write_iops_device=8:0 200',
    'hugetlb/c1/hugetlb.2MB.limit_in_bytes=4194304', 'hugetlb/c1/hugetlb.2MB.rsvd.limit_in_bytes=4194304',
    'net_cls/c1/net_cls.classid=1048577', 'net_prio/c1/net_prio.ifpriomap=eth0 5',
    'rdma/c1/rdma.max=mlx5_1 hca_handle=3 hca_object=100',
  ]);
});

test('v1: memory order, -1, EBUSY text, missing memsw, swappiness range', (t) => {
  // Raising: the current limit is below the new memsw, so memsw goes first.
  let { paths, io } = v1Tree(t);
  fs.writeFileSync(path.join(paths.memory, 'memory.limit_in_bytes'), String(64 << 20));
  applyV1({ memory: { limit: 256 << 20, swap: 512 << 20 } }, paths, io);
  assert.deepEqual(rel(io), ['memory/c1/memory.memsw.limit_in_bytes=536870912', 'memory/c1/memory.limit_in_bytes=268435456']);
  // -1 without swap: both unlimited, memsw first.
  ({ paths, io } = v1Tree(t));
  applyV1({ memory: { limit: -1 } }, paths, io);
  assert.deepEqual(rel(io), ['memory/c1/memory.memsw.limit_in_bytes=-1', 'memory/c1/memory.limit_in_bytes=-1']);
  // -1 without swap accounting: the limit only.
  ({ paths, io } = v1Tree(t, ['memory.memsw.limit_in_bytes']));
  applyV1({ memory: { limit: -1 } }, paths, io);
  assert.deepEqual(rel(io), ['memory/c1/memory.limit_in_bytes=-1']);
  // A swap limit without swap accounting: a clear error naming the file.
  ({ paths, io } = v1Tree(t, ['memory.memsw.limit_in_bytes']));
  assert.throws(() => applyV1({ memory: { limit: 1 << 20, swap: 2 << 20 } }, paths, io),
    (e: TsruncError) => e.code === 'E_CGROUP' && /memory\.memsw\.limit_in_bytes` does not exist/.test(e.message));
  // EBUSY: runc's text with the usage.
  ({ paths, io } = v1Tree(t));
  fs.writeFileSync(path.join(paths.memory, 'memory.usage_in_bytes'), '1937408');
  fs.writeFileSync(path.join(paths.memory, 'memory.max_usage_in_bytes'), '2211840');
  io.hooks.set('memory.limit_in_bytes', () => { throw errno('EBUSY'); });
  assert.throws(() => applyV1({ memory: { limit: 1000 } }, paths, io),
    { message: 'unable to set memory limit to 1000 (current usage: 1937408, peak usage: 2211840)' });
  ({ paths, io } = v1Tree(t));
  assert.throws(() => applyV1({ memory: { swappiness: 101 } }, paths, io), { message: 'invalid value:101. valid memory swappiness range is 0-100' });
  // kernel memory: ignored with a warning, as runc 1.1.
  ({ paths, io } = v1Tree(t));
  applyV1({ memory: { kernel: 1 << 20, kernelTCP: 1 << 20 } }, paths, io);
  assert.deepEqual(rel(io), []);
  assert.equal(io.warnings.length, 2);
});

test('v1: cpu shares read back (runc texts), period EINVAL retried after the quota, pids negative = max', (t) => {
  let { paths, io } = v1Tree(t);
  io.hooks.set('cpu.shares', (v) => String(Math.min(Math.max(Number(v), 2), 262144)));
  assert.throws(() => applyV1({ cpu: { shares: 1 } }, paths, io), { message: 'the minimum allowed cpu-shares is 2' });
  assert.throws(() => applyV1({ cpu: { shares: 300000 } }, paths, io), { message: 'the maximum allowed cpu-shares is 262144' });
  ({ paths, io } = v1Tree(t));
  let first = true;
  io.hooks.set('cpu.cfs_period_us', (v) => { if (first) { first = false; throw errno('EINVAL'); } return v; });
  applyV1({ cpu: { quota: 10000, period: 20000 } }, paths, io);
  assert.deepEqual(rel(io), ['cpu/c1/cpu.cfs_quota_us=10000', 'cpu/c1/cpu.cfs_period_us=20000']);
  // EINVAL without a quota to write: an error naming the file.
  ({ paths, io } = v1Tree(t));
  io.hooks.set('cpu.cfs_period_us', () => { throw errno('EINVAL'); });
  assert.throws(() => applyV1({ cpu: { period: 20000 } }, paths, io), /cpu\.cfs_period_us`: EINVAL/);
  ({ paths, io } = v1Tree(t));
  applyV1({ pids: { limit: -5 } }, paths, io);
  applyV1({ cpu: { quota: -1 } }, paths, io);
  assert.deepEqual(rel(io), ['pids/c1/pids.max=max', 'cpu/c1/cpu.cfs_quota_us=-1']);
});

test('v1: bfq weight files when present; hugetlb rsvd only when present', (t) => {
  const { paths, io } = v1Tree(t, ['hugetlb.2MB.rsvd.limit_in_bytes', 'hugetlb.1GB.rsvd.limit_in_bytes']);
  fs.writeFileSync(path.join(paths.blkio, 'blkio.bfq.weight'), '100');
  fs.writeFileSync(path.join(paths.blkio, 'blkio.bfq.weight_device'), '');
  applyV1({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 16, weight: 200 }] }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }, { pageSize: '1GB', limit: 1073741824 }] }, paths, io);
  assert.deepEqual(rel(io), ['blkio/c1/blkio.bfq.weight=300', 'blkio/c1/blkio.bfq.weight_device=8:16 200',
    'hugetlb/c1/hugetlb.2MB.limit_in_bytes=0', 'hugetlb/c1/hugetlb.1GB.limit_in_bytes=1073741824']);
});

test('v1: refused — unified keys (runc text), a controller that is not mounted (runc text)', (t) => {
  const { paths, io } = v1Tree(t);
  assert.throws(() => applyV1({ unified: { 'memory.high': '1' } }, paths, io), { message: 'invalid configuration: cannot use unified on cgroup v1' });
  const { hugetlb: _h, net_cls: _n, ...fewer } = paths;
  assert.throws(() => applyV1({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }, fewer, io),
    { message: 'cannot set hugetlb limit: container could not join or create cgroup' });
  assert.throws(() => applyV1({ network: { classID: 1 } }, fewer, io),
    { message: 'cannot set net_cls limit: container could not join or create cgroup' });
  assert.deepEqual(rel(io), []);
});

test('v2: the mapping of every field, in runc\'s order', (t) => {
  const { dir, io } = v2Tree(t);
  applyV2({
    pids: { limit: 20 },
    memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20 },
    blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 1000 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 7 }], throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }] },
    cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 1, cpus: '0', mems: '0' },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    rdma: { mlx5_1: { hcaHandles: 3 } },
    unified: { 'memory.high': '50000000' },
  }, dir, io);
  assert.deepEqual(rel(io), [
    'c1/pids.max=20', 'c1/memory.swap.max=33554432', 'c1/memory.max=67108864', 'c1/memory.low=33554432',
    'c1/io.weight=4950', 'c1/io.weight=8:0 10000', 'c1/io.max=8:0 rbps=1048576', 'c1/io.max=8:0 wbps=7', 'c1/io.max=8:0 riops=100',
    'c1/io.max=8:0 wiops=200', 'c1/cpu.idle=1', 'c1/cpu.weight=39', 'c1/cpu.max.burst=1000', 'c1/cpu.max=50000 100000',
    'c1/cpuset.cpus=0', 'c1/cpuset.mems=0', 'c1/hugetlb.2MB.max=4194304', 'c1/hugetlb.2MB.rsvd.max=4194304',
    'c1/rdma.max=mlx5_1 hca_handle=3', 'c1/memory.high=50000000',
  ]);
});

test('v2: conversions and special values as runc', (t) => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioToIoWeight(0), 0);
  assert.equal(blkioToIoWeight(10), 1);
  assert.equal(blkioToIoWeight(1000), 10000);
  assert.equal(swapToV2(0, 0), 0);
  assert.equal(swapToV2(0, -1), -1);
  assert.equal(swapToV2(-1, 100), -1);
  assert.equal(swapToV2(300, 100), 200);
  assert.throws(() => swapToV2(300, 0), { message: 'unable to set swap limit without memory limit' });
  assert.throws(() => swapToV2(50, 100), { message: 'memory+swap limit should be >= memory limit' });
  let { dir, io } = v2Tree(t);
  applyV2({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 } }, dir, io);
  assert.deepEqual(rel(io), ['c1/pids.max=max', 'c1/memory.swap.max=max', 'c1/memory.max=max', 'c1/cpu.max=max']);
  ({ dir, io } = v2Tree(t));
  applyV2({ memory: { limit: 1 << 20, swap: 1 << 20 }, cpu: { period: 20000 } }, dir, io);
  assert.deepEqual(rel(io), ['c1/memory.swap.max=0', 'c1/memory.max=1048576', 'c1/cpu.max=max 20000']);
  // No swap accounting: max and 0 are skipped silently, a real swap limit is an error.
  ({ dir, io } = v2Tree(t, undefined, ['memory.swap.max']));
  applyV2({ memory: { limit: 1 << 20, swap: 1 << 20 } }, dir, io);
  assert.deepEqual(rel(io), ['c1/memory.max=1048576']);
  assert.throws(() => applyV2({ memory: { limit: 1 << 20, swap: 2 << 20 } }, dir, io), /memory\.swap\.max` does not exist/);
  // bfq present: weight raw, per-device weights there too.
  ({ dir, io } = v2Tree(t));
  fs.writeFileSync(path.join(dir, 'io.bfq.weight'), '');
  applyV2({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } }, dir, io);
  assert.deepEqual(rel(io), ['c1/io.bfq.weight=300', 'c1/io.bfq.weight=8:0 200']);
});

test('v2: ignored with a warning, refused, unified key checks (runc texts)', (t) => {
  let { dir, io } = v2Tree(t);
  applyV2({ memory: { disableOOMKiller: true, swappiness: 60, kernel: 1, kernelTCP: 1 }, blockIO: { leafWeight: 10 } }, dir, io);
  assert.deepEqual(rel(io), []);
  assert.equal(io.warnings.length, 5);
  assert.throws(() => applyV2({ cpu: { realtimeRuntime: 1000 } }, dir, io), /realtime/);
  assert.throws(() => applyV2({ network: { classID: 1 } }, dir, io), /network\.classID/);
  assert.throws(() => applyV2({ unified: { '../cgroup.procs': '1' } }, dir, io), { message: 'unified resource "../cgroup.procs" must be a file name (no slashes)' });
  assert.throws(() => applyV2({ unified: { '..': '1' } }, dir, io), /must be in the form CONTROLLER.PARAMETER/);
  assert.throws(() => applyV2({ unified: { nodot: '1' } }, dir, io), { message: 'unified resource "nodot" must be in the form CONTROLLER.PARAMETER' });
  ({ dir, io } = v2Tree(t, 'cpu pids'));
  assert.throws(() => applyV2({ unified: { 'memory.high': '1' } }, dir, io), { message: 'unified resource "memory.high" can\'t be set: controller "memory" not available' });
  assert.throws(() => applyV2({ memory: { limit: 1 << 20 } }, dir, io), /memory controller is not enabled/);
  assert.throws(() => applyV2({ unified: { 'cpu.nosuch': '1' } }, dir, io), /unable to set unified resource "cpu.nosuch".*ENOENT/);
});

test('update: mergeResources keeps what is absent or asks for nothing', () => {
  const old: Resources = { memory: { limit: 100, swap: 200, reservation: 50 }, cpu: { shares: 512, quota: 1000, period: 100000, cpus: '0' }, pids: { limit: 20 },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }], unified: { 'memory.high': '5' } };
  assert.deepEqual(mergeResources(old, { memory: { limit: 0 }, cpu: { cpus: '', shares: 0 }, pids: { limit: 0 } }), old);
  const m = mergeResources(old, { memory: { limit: 300 }, cpu: { quota: 2000 }, pids: { limit: -1 }, hugepageLimits: [{ pageSize: '1GB', limit: 2 }], unified: { 'pids.max': '3' } });
  assert.deepEqual(m, {
    memory: { limit: 300, swap: 200, reservation: 50 }, cpu: { shares: 512, quota: 2000, period: 100000, cpus: '0' }, pids: { limit: -1 },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '1GB', limit: 2 }], unified: { 'memory.high': '5', 'pids.max': '3' },
  });
  // -1 memory without a swap value: swap unlimited too (runc).
  assert.deepEqual(mergeResources(old, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1, reservation: 50 });
  assert.deepEqual(mergeResources({}, { blockIO: { weight: 300 } }), { blockIO: { weight: 300 } });
  assert.deepEqual(resourcesOf({ devices: [{ allow: false }], pids: { limit: 3 } }), { pids: { limit: 3 } });
});

test('CgroupManager.setResources picks the table of its mode', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-res-mgr-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const d of ['pids/c', 'unified/c', 'v2/c']) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ['pids/c/pids.max', 'v2/c/pids.max', 'v2/c/cgroup.controllers']) fs.writeFileSync(path.join(root, f), '');
  fs.writeFileSync(path.join(root, 'v2/c/cgroup.controllers'), 'pids\n');
  new CgroupManager({ paths: { pids: path.join(root, 'pids/c'), '': path.join(root, 'unified/c') } }, { fs: nodeCgroupFs }).setResources({ pids: { limit: 7 } });
  assert.equal(fs.readFileSync(path.join(root, 'pids/c/pids.max'), 'utf8'), '7');
  const warnings: string[] = [];
  new CgroupManager({ paths: { '': path.join(root, 'v2/c') } }).setResources({ pids: { limit: -1 }, memory: { disableOOMKiller: true } }, { warn: (m) => warnings.push(m) });
  assert.equal(fs.readFileSync(path.join(root, 'v2/c/pids.max'), 'utf8'), 'max');
  assert.equal(warnings.length, 1);
});
