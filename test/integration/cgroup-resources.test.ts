// linux.resources on this (hybrid) host's v1 controllers with real containers: a memory hog
// killed at the memory limit, a fork bomb stopped at pids.max, cpu quota in cpu.cfs_quota_us
// (the same files as runc 1.1.5 writes for the same config), `update` of live limits (flags and
// --resources - on stdin, as containerd's shim sends it), and the values Docker, Podman and
// containerd send on every run accepted. Nothing is left behind (cleanup in `after`).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, type Bundle } from '../../conformance/lib/rootfs';
import { readCgroupHost } from '../../src/cgroup';
import { CGROUP_ROOT, Tsrunc, cgroupDirsNamed, cleanup, errMsg, pollUntil, show, tmpDir } from './support';

const host = readCgroupHost();
const skip = process.getuid?.() !== 0 ? 'needs root'
  : host.mode === 'v2' ? 'v1 controllers needed (hybrid host); v2: test/vm/cgroup2-resources.sh'
  : !fs.existsSync('/bin/busybox') ? 'busybox-static is not installed' : false;

const P = `it-res-${process.pid}`;
const ID = {
  oom: `${P}-oom`, fork: `${P}-fork`, cpu: `${P}-cpu`, runcCpu: `${P}-runc-cpu`, upd: `${P}-upd`, noop: `${P}-noop`,
  bad: `${P}-bad`,
};
const RUNC = '/usr/sbin/runc';

let tmp = '';
let t: Tsrunc;
let runcRoot = '';

function ok(r: ReturnType<Tsrunc['call']>, what = ''): void {
  assert.equal(r.status, 0, `${what} ${show(r)}`);
}

/** The container's directory in one v1 hierarchy. */
function cg(id: string, ctl: string): string {
  const d = cgroupDirsNamed(id).find((x) => x.startsWith(`${CGROUP_ROOT}/${ctl}/`));
  assert.ok(d, `no ${ctl} cgroup for ${id}`);
  return d;
}

function read(id: string, ctl: string, file: string): string {
  return fs.readFileSync(path.join(cg(id, ctl), file), 'utf8').trim();
}

function bundle(name: string, resources: Record<string, unknown>, args: string[]): Bundle {
  return makeBundle(path.join(tmp, name), (c) => {
    const linux = c.linux as Record<string, unknown>;
    linux.resources = { ...(linux.resources as object), ...resources };
    return c;
  }, { args });
}

before(() => {
  if (skip) return;
  tmp = tmpDir('tsrunc-it-res');
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 30000);
  runcRoot = path.join(tmp, 'runc-root');
});

after(() => {
  if (skip) return;
  if (fs.existsSync(RUNC)) spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', ID.runcCpu]);
  cleanup(t, Object.values(ID), tmp ? [tmp] : []);
});

describe('linux.resources on the v1 controllers', { skip }, () => {
  it('a memory hog is killed at memory.limit (no swap: memsw = limit)', () => {
    const MiB = 1024 * 1024;
    const b = bundle('b-oom', { memory: { limit: 32 * MiB, swap: 32 * MiB, disableOOMKiller: false } }, ['tail', '/dev/zero']);
    ok(t.call(['create', '-b', b.dir, ID.oom]));
    assert.equal(read(ID.oom, 'memory', 'memory.limit_in_bytes'), String(32 * MiB));
    ok(t.call(['start', ID.oom]));
    assert.equal(t.waitStatus(ID.oom, 'stopped', 20000), 'stopped');
    const oom = read(ID.oom, 'memory', 'memory.oom_control');
    assert.match(oom, /oom_kill [1-9]/, oom);
    assert.ok(Number(read(ID.oom, 'memory', 'memory.max_usage_in_bytes')) <= 32 * MiB);
    ok(t.call(['delete', ID.oom]));
    assert.deepEqual(cgroupDirsNamed(ID.oom), []);
  });

  it('a fork bomb stops at pids.max', () => {
    const b = bundle('b-fork', { pids: { limit: 10 } },
      // The inner shell dies when a fork fails; the outer one then execs (no fork): what was started stays.
      ['sh', '-c', 'sh -c "i=0; while [ \\$i -lt 40 ]; do sleep 100 & i=\\$((i+1)); done; wait" 2>/dev/null; exec sleep 100']);
    ok(t.call(['run', '-d', '-b', b.dir, ID.fork]));
    assert.equal(read(ID.fork, 'pids', 'pids.max'), '10');
    pollUntil(() => /max [1-9]/.test(read(ID.fork, 'pids', 'pids.events')), 10000);
    assert.match(read(ID.fork, 'pids', 'pids.events'), /max [1-9]/);
    const cur = Number(read(ID.fork, 'pids', 'pids.current'));
    assert.ok(cur >= 8 && cur <= 10, `pids.current ${cur}`);
    ok(t.call(['delete', '--force', ID.fork]));
    assert.deepEqual(cgroupDirsNamed(ID.fork), []);
  });

  it('cpu, memory, pids, cpuset and blkio land in the files runc 1.1.5 writes for the same config', () => {
    const blk = fs.existsSync('/sys/block/vda') ? fs.readFileSync('/sys/block/vda/dev', 'utf8').trim().split(':').map(Number) : undefined;
    const res: Record<string, unknown> = {
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, disableOOMKiller: true },
      pids: { limit: 100 },
    };
    if (blk) res.blockIO = { throttleReadBpsDevice: [{ major: blk[0], minor: blk[1], rate: 1048576 }], throttleWriteIOPSDevice: [{ major: blk[0], minor: blk[1], rate: 100 }] };
    const b = bundle('b-cpu', res, ['sleep', '1000']);
    ok(t.call(['create', '-b', b.dir, ID.cpu]));
    const files: [string, string][] = [['cpu', 'cpu.cfs_quota_us'], ['cpu', 'cpu.cfs_period_us'], ['cpu', 'cpu.shares'],
      ['memory', 'memory.limit_in_bytes'], ['memory', 'memory.memsw.limit_in_bytes'], ['memory', 'memory.soft_limit_in_bytes'],
      ['memory', 'memory.swappiness'], ['pids', 'pids.max'], ['cpuset', 'cpuset.cpus'], ['cpuset', 'cpuset.mems'],
      ...(blk ? [['blkio', 'blkio.throttle.read_bps_device'], ['blkio', 'blkio.throttle.write_iops_device']] as [string, string][] : [])];
    const mine = files.map(([c, f]) => `${f}=${read(ID.cpu, c, f)}`);
    assert.deepEqual(mine.slice(0, 10), ['cpu.cfs_quota_us=50000', 'cpu.cfs_period_us=100000', 'cpu.shares=512',
      `memory.limit_in_bytes=${64 << 20}`, `memory.memsw.limit_in_bytes=${128 << 20}`, `memory.soft_limit_in_bytes=${32 << 20}`,
      'memory.swappiness=10', 'pids.max=100', 'cpuset.cpus=0', 'cpuset.mems=0']);
    assert.match(read(ID.cpu, 'memory', 'memory.oom_control'), /oom_kill_disable 1/);
    if (blk) assert.deepEqual(mine.slice(10), [`blkio.throttle.read_bps_device=${blk[0]}:${blk[1]} 1048576`, `blkio.throttle.write_iops_device=${blk[0]}:${blk[1]} 100`]);
    if (fs.existsSync(RUNC)) {
      const r = spawnSync(RUNC, ['--root', runcRoot, 'create', '-b', b.dir, ID.runcCpu], { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'ignore', 'pipe'] });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(files.map(([c, f]) => `${f}=${read(ID.runcCpu, c, f)}`), mine);
      assert.match(read(ID.runcCpu, 'memory', 'memory.oom_control'), /oom_kill_disable 1/);
      spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', ID.runcCpu]);
    }
    ok(t.call(['delete', '--force', ID.cpu]));
  });

  it('update changes live limits (flags, then --resources - on stdin) and keeps them in state.json', () => {
    const b = bundle('b-upd', { memory: { limit: 64 << 20 }, pids: { limit: 20 }, cpu: { shares: 1024 } }, ['sleep', '1000']);
    ok(t.call(['run', '-d', '-b', b.dir, ID.upd]));
    ok(t.call(['update', '--memory', '100m', '--pids-limit', '30', ID.upd]));
    assert.equal(read(ID.upd, 'memory', 'memory.limit_in_bytes'), String(100 << 20));
    assert.equal(read(ID.upd, 'pids', 'pids.max'), '30');
    const json = path.join(tmp, 'upd.json');
    fs.writeFileSync(json, '{"memory":{"limit":83886080},"pids":{"limit":-1},"cpu":{"quota":20000,"period":100000}}\n');
    const fd = fs.openSync(json, 'r');
    try {
      ok(t.call(['update', '--resources', '-', ID.upd], { stdin: fd }));
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(read(ID.upd, 'memory', 'memory.limit_in_bytes'), String(80 << 20));
    assert.equal(read(ID.upd, 'pids', 'pids.max'), 'max');
    assert.equal(read(ID.upd, 'cpu', 'cpu.cfs_quota_us'), '20000');
    assert.equal(read(ID.upd, 'cpu', 'cpu.shares'), '1024');
    const st = JSON.parse(fs.readFileSync(path.join(t.root, ID.upd, 'state.json'), 'utf8')) as { resources: unknown };
    assert.deepEqual(st.resources, { memory: { limit: 80 << 20 }, pids: { limit: -1 }, cpu: { shares: 1024, quota: 20000, period: 100000 } });
    // Below the current usage: runc's text, and the old limit stays.
    const r = t.call(['update', '--memory', '4096', ID.upd]);
    assert.equal(r.status, 1, show(r));
    assert.match(errMsg(r), /^unable to set memory limit to 4096 \(current usage: \d+, peak usage: \d+\)$/);
    assert.equal(read(ID.upd, 'memory', 'memory.limit_in_bytes'), String(80 << 20));
    ok(t.call(['kill', ID.upd, 'KILL']));
    t.waitStatus(ID.upd, 'stopped', 5000);
    const s = t.call(['update', '--memory', '100m', ID.upd]);
    assert.equal(s.status, 1);
    assert.equal(errMsg(s), 'container not running');
    ok(t.call(['delete', ID.upd]));
  });

  it('the values Docker, Podman and containerd send on every run are accepted', () => {
    const b = bundle('b-noop', {
      memory: { disableOOMKiller: false, limit: 0, swappiness: 18446744073709551615 }, blockIO: { weight: 0 },
      pids: { limit: 2048 }, cpu: { shares: 1024, quota: 0, period: 0, cpus: '', mems: '' }, hugepageLimits: [], unified: {},
    }, ['true']);
    const r = t.call(['run', '-b', b.dir, ID.noop]);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stderr, '');
  });

  it('unified keys on a v1 host: runc\'s text, nothing left behind', () => {
    const b = bundle('b-bad', { unified: { 'memory.high': '1000000' } }, ['true']);
    const r = t.call(['create', '-b', b.dir, ID.bad]);
    assert.equal(r.status, 1);
    assert.equal(errMsg(r), 'tsrunc create failed: invalid configuration: cannot use unified on cgroup v1');
    assert.deepEqual(cgroupDirsNamed(ID.bad), []);
    assert.ok(!fs.existsSync(path.join(t.root, ID.bad)));
  });
});
