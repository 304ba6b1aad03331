// The manager against a temp directory that imitates cgroupfs (FakeCgroupFs below models the
// kernel files the manager touches: devices.*, cgroup.procs, freezers, subtree_control, rmdir).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type CgroupFs, type BpfNative, CgroupManager, fromRecord, nodeCgroupFs, parseMountinfo, parseProcCgroup,
  resolveCgroupPaths, deviceRulesForSpec, compileDeviceProgram, emulateDeviceRules, parseDevicesList,
  stateExceptions, ruleToString, type DevRule,
} from '../../src/cgroup';
import { TsruncError } from '../../src/errors';

const SIGKILL = os.constants.signals.SIGKILL;
const SIGTERM = os.constants.signals.SIGTERM;

function errno(code: string): NodeJS.ErrnoException {
  const e = new Error(`${code} (fake)`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

class FakeCgroupFs implements CgroupFs {
  writes: Array<[string, string]> = [];
  failMkdir = new Map<string, string>();
  stuckFreezing = false;
  unavailable = new Set<string>(); // controllers subtree_control refuses

  private file(p: string, v?: string): string {
    if (v !== undefined) fs.writeFileSync(p, v);
    return fs.readFileSync(p, 'utf8');
  }

  mkdir(p: string): void {
    const err = this.failMkdir.get(p);
    if (err) throw errno(err);
    nodeCgroupFs.mkdir(p);
    const parent = path.dirname(p);
    const has = (f: string) => fs.existsSync(path.join(parent, f));
    fs.writeFileSync(path.join(p, 'cgroup.procs'), '');
    if (has('devices.list')) this.file(path.join(p, 'devices.list'), this.file(path.join(parent, 'devices.list')));
    if (has('freezer.state')) this.file(path.join(p, 'freezer.state'), 'THAWED\n');
    if (has('cpuset.cpus')) { this.file(path.join(p, 'cpuset.cpus'), '\n'); this.file(path.join(p, 'cpuset.mems'), '\n'); }
    if (has('cgroup.controllers')) {
      this.file(path.join(p, 'cgroup.controllers'), this.file(path.join(parent, 'cgroup.subtree_control')));
      this.file(path.join(p, 'cgroup.subtree_control'), '\n');
      this.file(path.join(p, 'cgroup.freeze'), '0\n');
      this.file(path.join(p, 'cgroup.events'), 'populated 0\nfrozen 0\n');
      this.file(path.join(p, 'cgroup.kill'), '');
    }
  }

  rmdir(p: string): void {
    if (!fs.existsSync(p)) throw errno('ENOENT');
    if (this.subdirs(p).length > 0 || this.file(path.join(p, 'cgroup.procs')).trim() !== '') throw errno('EBUSY');
    fs.rmSync(p, { recursive: true });
  }

  readFile(p: string): string { return nodeCgroupFs.readFile(p); }
  exists(p: string): boolean { return nodeCgroupFs.exists(p); }
  subdirs(p: string): string[] { return nodeCgroupFs.subdirs(p); }

  writeFile(p: string, data: string): void {
    if (!fs.existsSync(path.dirname(p))) throw errno('ENOENT');
    this.writes.push([p, data]);
    const dir = path.dirname(p);
    switch (path.basename(p)) {
      case 'devices.allow':
      case 'devices.deny': {
        const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]+)$/.exec(data);
        if (!m) throw errno('EINVAL');
        const num = (x: string) => (x === '*' ? -1 : Number(x));
        const rule: DevRule = { type: m[1] as 'a', major: num(m[2]), minor: num(m[3]), access: m[4], allow: path.basename(p) === 'devices.allow' };
        const s = emulateDeviceRules([rule], parseDevicesList(this.file(path.join(dir, 'devices.list'))));
        this.file(path.join(dir, 'devices.list'), s.defaultAllow ? 'a *:* rwm\n' : stateExceptions(s).map((r) => ruleToString(r) + '\n').join(''));
        return;
      }
      case 'cgroup.procs':
        fs.appendFileSync(p, `${data}\n`);
        return;
      case 'freezer.state':
        this.file(p, `${this.stuckFreezing && data === 'FROZEN' ? 'FREEZING' : data}\n`);
        return;
      case 'cgroup.freeze':
        this.file(p, `${data}\n`);
        this.file(path.join(dir, 'cgroup.events'), `populated 1\nfrozen ${data}\n`);
        return;
      case 'cgroup.subtree_control': {
        const avail = this.file(path.join(dir, 'cgroup.controllers')).split(/\s+/).filter(Boolean);
        const on = new Set(this.file(p).split(/\s+/).filter(Boolean));
        const req = data.split(' ').map((x) => x.slice(1));
        if (req.some((c) => !avail.includes(c) || this.unavailable.has(c))) throw errno('EINVAL');
        for (const c of req) on.add(c);
        this.file(p, [...on].join(' ') + '\n');
        return;
      }
      default:
        this.file(p, data);
    }
  }
}

function tmpRoot(t: { after: (fn: () => void) => void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-cg-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A hybrid host laid out under root, as this machine is under /sys/fs/cgroup. */
function hybridHost(root: string) {
  const ctrls = ['cpu', 'cpuset', 'devices', 'freezer', 'memory'];
  for (const c of [...ctrls, 'unified']) fs.mkdirSync(path.join(root, c));
  for (const c of [...ctrls, 'unified']) fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '1\n');
  fs.writeFileSync(path.join(root, 'cpuset/cpuset.cpus'), '0-3\n');
  fs.writeFileSync(path.join(root, 'cpuset/cpuset.mems'), '0\n');
  fs.writeFileSync(path.join(root, 'devices/devices.list'), 'a *:* rwm\n');
  fs.writeFileSync(path.join(root, 'freezer/freezer.state'), 'THAWED\n');
  fs.writeFileSync(path.join(root, 'unified/cgroup.controllers'), '\n');
  fs.writeFileSync(path.join(root, 'unified/cgroup.subtree_control'), '\n');
  const mi = ctrls.map((c, i) => `${31 + i} 30 0:${28 + i} / ${root}/${c} rw - cgroup cgroup rw,${c}`).join('\n') +
    `\n40 30 0:37 / ${root}/unified rw - cgroup2 cgroup2 rw\n`;
  return parseMountinfo(mi);
}

test('hybrid: create, add a pid, device rules, pids, freezer, kill, destroy (parents stay)', (t) => {
  const root = tmpRoot(t);
  const host = hybridHost(root);
  assert.equal(host.mode, 'hybrid');
  const own = parseProcCgroup('5:cpu:/\n4:cpuset:/\n3:devices:/\n2:freezer:/\n1:memory:/me\n0::/\n');
  const record = resolveCgroupPaths(host, own, '/default/c1', 'c1');
  const f = new FakeCgroupFs();
  const sleeps: number[] = [];
  const killed: Array<[number, number]> = [];
  const cg = new CgroupManager(record, { fs: f, sleep: (ms) => sleeps.push(ms), kill: (p, s) => killed.push([p, s]) });
  assert.equal(cg.mode, 'hybrid');
  assert.equal(cg.unifiedPath, `${root}/unified/default/c1`);
  assert.deepEqual(cg.pids(), []); // before create: nothing, no error

  cg.create();
  for (const c of ['cpu', 'cpuset', 'devices', 'freezer', 'memory', 'unified']) assert.ok(fs.existsSync(`${root}/${c}/default/c1`), c);
  for (const lvl of ['default', 'default/c1']) {
    assert.equal(fs.readFileSync(`${root}/cpuset/${lvl}/cpuset.cpus`, 'utf8').trim(), '0-3');
    assert.equal(fs.readFileSync(`${root}/cpuset/${lvl}/cpuset.mems`, 'utf8').trim(), '0');
  }
  assert.equal(f.writes.some(([p]) => p.endsWith('subtree_control')), false, 'no controllers enabled on hybrid');
  cg.create(); // idempotent

  f.writes = [];
  cg.addPid(4242);
  assert.deepEqual(f.writes.map(([p, v]) => [path.relative(root, p), v]), [
    ['cpu/default/c1/cgroup.procs', '4242'], ['cpuset/default/c1/cgroup.procs', '4242'],
    ['devices/default/c1/cgroup.procs', '4242'], ['freezer/default/c1/cgroup.procs', '4242'],
    ['memory/default/c1/cgroup.procs', '4242'], ['unified/default/c1/cgroup.procs', '4242'],
  ]);
  fs.mkdirSync(`${root}/devices/default/c1/sub`);
  fs.writeFileSync(`${root}/devices/default/c1/sub/cgroup.procs`, '4243\n');
  assert.deepEqual(cg.pids(), [4242, 4243]);
  fs.rmSync(`${root}/devices/default/c1/sub`, { recursive: true });

  f.writes = [];
  cg.setDevices(deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }] } }));
  const dev = (p: string) => path.relative(`${root}/devices/default/c1`, p);
  assert.deepEqual(f.writes.map(([p, v]) => `${dev(p)} ${v}`), [
    'devices.deny a *:* rwm', 'devices.allow b *:* m', 'devices.allow c *:* m', 'devices.allow c 1:3 rwm',
    'devices.allow c 1:5 rwm', 'devices.allow c 1:7 rwm', 'devices.allow c 1:8 rwm', 'devices.allow c 1:9 rwm',
    'devices.allow c 4:1 rw', 'devices.allow c 5:0 rwm', 'devices.allow c 5:2 rwm', 'devices.allow c 10:200 rwm',
    'devices.allow c 136:* rwm',
  ]);
  f.writes = [];
  cg.setDevices(deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }] } })); // update: drop 4:1
  assert.deepEqual(f.writes.map(([p, v]) => `${dev(p)} ${v}`), ['devices.deny c 4:1 rw']);

  assert.equal(cg.freezerState(), 'thawed');
  cg.setFrozen(true);
  assert.equal(cg.freezerState(), 'frozen');
  cg.killAll(SIGTERM); // stays frozen (paused container), pids signalled
  assert.deepEqual(killed, [[4242, SIGTERM]]);
  assert.equal(cg.freezerState(), 'frozen');
  f.writes = [];
  cg.killAll(SIGKILL); // cgroup.kill on the unified side, then thaw so the tasks can exit
  assert.deepEqual(f.writes.map(([p, v]) => [path.relative(root, p), v]),
    [['unified/default/c1/cgroup.kill', '1'], ['freezer/default/c1/freezer.state', 'THAWED']]);
  assert.equal(cg.freezerState(), 'thawed');

  // destroy while the process is still "exiting": EBUSY, retried with growing sleeps
  let exitAfter = 2;
  const cg2 = new CgroupManager(record, {
    fs: f,
    sleep: (ms) => {
      sleeps.push(ms);
      if (--exitAfter === 0) for (const c of ['cpu', 'cpuset', 'devices', 'freezer', 'memory', 'unified']) fs.writeFileSync(`${root}/${c}/default/c1/cgroup.procs`, '');
    },
  });
  cg2.destroy();
  assert.deepEqual(sleeps, [10, 20]);
  for (const c of ['cpu', 'cpuset', 'devices', 'freezer', 'memory', 'unified']) {
    assert.equal(fs.existsSync(`${root}/${c}/default/c1`), false, c);
    assert.equal(fs.existsSync(`${root}/${c}/default`), true, `${c} parent stays`);
  }
  cg2.destroy(); // already gone: fine
});

test('hybrid: kill without cgroup.kill freezes, signals each pid, thaws; ESRCH is ignored', (t) => {
  const root = tmpRoot(t);
  const record = resolveCgroupPaths(hybridHost(root), new Map(), '/c2', 'c2');
  delete record.paths['']; // a v1 host: no unified hierarchy
  const f = new FakeCgroupFs();
  const log: string[] = [];
  const cg = new CgroupManager(record, {
    fs: f,
    kill: (p, s) => {
      log.push(`kill ${p} ${s} while ${cg.freezerState()}`);
      if (p === 11) throw errno('ESRCH');
    },
  });
  assert.equal(cg.mode, 'v1');
  cg.create();
  cg.addPid(10);
  cg.addPid(11);
  cg.killAll(SIGKILL);
  assert.deepEqual(log, [`kill 10 ${SIGKILL} while frozen`, `kill 11 ${SIGKILL} while frozen`]);
  assert.equal(cg.freezerState(), 'thawed');
  const bad = new CgroupManager(record, { fs: f, kill: () => { throw errno('EPERM'); } });
  assert.throws(() => bad.killAll(SIGTERM), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `signal pid 10 of cgroup \`${root}/devices/c2\`: EPERM`);
  assert.equal(cg.freezerState(), 'thawed', 'thawed again after the failure');
});

test('v2: create enables controllers down the path, devices via the native BPF hook, freeze, kill', (t) => {
  const root = tmpRoot(t);
  const cg2 = path.join(root, 'cg2');
  fs.mkdirSync(cg2);
  fs.writeFileSync(path.join(cg2, 'cgroup.controllers'), 'cpu io memory pids\n');
  fs.writeFileSync(path.join(cg2, 'cgroup.subtree_control'), 'memory\n');
  fs.writeFileSync(path.join(cg2, 'cgroup.procs'), '1\n');
  const host = parseMountinfo(`24 18 0:21 / ${cg2} rw - cgroup2 cgroup2 rw\n`);
  const record = resolveCgroupPaths(host, parseProcCgroup('0::/\n'), '/a/b/c1', 'c1');
  assert.deepEqual(record.paths, { '': `${cg2}/a/b/c1` });
  const f = new FakeCgroupFs();
  f.unavailable.add('io'); // e.g. a controller the kernel refuses: the others still get enabled
  const attached: Array<[string, string]> = [];
  const native: BpfNative = {
    bpfAttachDeviceProgram: (d, insns) => { attached.push([d, insns.toString('hex')]); },
    bpfQueryDevicePrograms: () => [],
  };
  const killed: number[] = [];
  const cg = new CgroupManager(record, { fs: f, native, kill: (p) => killed.push(p), sleep: () => undefined });
  assert.equal(cg.mode, 'v2');
  cg.create();
  const ctl = (p: string) => fs.readFileSync(path.join(p, 'cgroup.subtree_control'), 'utf8').trim().split(' ').sort().join(' ');
  assert.equal(ctl(cg2), 'cpu memory pids');
  assert.equal(ctl(`${cg2}/a`), 'cpu memory pids');
  assert.equal(ctl(`${cg2}/a/b`), 'cpu memory pids');
  assert.equal(fs.readFileSync(`${cg2}/a/b/c1/cgroup.subtree_control`, 'utf8').trim(), '', 'leaf: nothing enabled');
  assert.equal(fs.readFileSync(`${cg2}/a/b/c1/cgroup.controllers`, 'utf8').trim().split(' ').sort().join(' '), 'cpu memory pids');

  const rules = deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }] } });
  cg.setDevices(rules);
  assert.deepEqual(attached, [[`${cg2}/a/b/c1`, compileDeviceProgram(rules).toString('hex')]]);

  cg.addPid(77);
  assert.deepEqual(cg.pids(), [77]);
  cg.setFrozen(true);
  assert.equal(cg.freezerState(), 'frozen');
  cg.setFrozen(false);
  assert.equal(cg.freezerState(), 'thawed');
  f.writes = [];
  cg.killAll(SIGTERM);
  assert.deepEqual(killed, [77]);
  assert.deepEqual(f.writes.map(([p, v]) => `${path.basename(p)}=${v}`), ['cgroup.freeze=1', 'cgroup.freeze=0']);
  f.writes = [];
  cg.killAll(SIGKILL);
  assert.deepEqual(f.writes.map(([p, v]) => `${path.basename(p)}=${v}`), ['cgroup.kill=1']);

  fs.writeFileSync(`${cg2}/a/b/c1/cgroup.procs`, '');
  cg.destroy();
  assert.equal(fs.existsSync(`${cg2}/a/b/c1`), false);
  assert.equal(fs.existsSync(`${cg2}/a/b`), true);

  const noNative = new CgroupManager(record, { fs: f });
  assert.throws(() => noNative.setDevices(rules), (e: unknown) => e instanceof TsruncError && e.code === 'E_INTERNAL');
  const failing = new CgroupManager(record, { fs: f, native: { ...native, bpfAttachDeviceProgram: () => {
    const e = errno('EPERM') as NodeJS.ErrnoException;
    e.message = 'bpf(BPF_PROG_ATTACH) `/x`: EPERM';
    throw e;
  } } });
  assert.throws(() => failing.setDevices(rules), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === 'set device rules: bpf(BPF_PROG_ATTACH) `/x`: EPERM');
});

test('destroy removes child cgroups the container made, and reports a lasting EBUSY', (t) => {
  const root = tmpRoot(t);
  const record = resolveCgroupPaths(hybridHost(root), new Map(), '/c3', 'c3');
  const f = new FakeCgroupFs();
  const cg = new CgroupManager(record, { fs: f, sleep: () => undefined });
  cg.create();
  f.mkdir(`${root}/memory/c3/inner`);
  f.mkdir(`${root}/memory/c3/inner/deeper`);
  fs.writeFileSync(`${root}/cpu/c3/cgroup.procs`, '99\n'); // a process that never exits
  assert.throws(() => cg.destroy(), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `remove cgroup \`${root}/cpu/c3\`: EBUSY`);
  // every other hierarchy was still cleaned up
  for (const c of ['cpuset', 'devices', 'freezer', 'memory', 'unified']) assert.equal(fs.existsSync(`${root}/${c}/c3`), false, c);
  fs.writeFileSync(`${root}/cpu/c3/cgroup.procs`, '');
  cg.destroy();
  assert.equal(fs.existsSync(`${root}/cpu/c3`), false);
});

test('errors name the operation and the path', (t) => {
  const root = tmpRoot(t);
  const record = resolveCgroupPaths(hybridHost(root), new Map(), '/default/c4', 'c4');
  const f = new FakeCgroupFs();
  f.failMkdir.set(`${root}/memory/default`, 'EACCES');
  const cg = new CgroupManager(record, { fs: f });
  assert.throws(() => cg.create(), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `create cgroup \`${root}/memory/default\`: EACCES`);
  assert.throws(() => cg.addPid(5), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    /^add pid 5 to cgroup `.*\/cgroup\.procs`: ENOENT$/.test(e.message));
});

test('setFrozen: a freeze that never completes is undone and reported', (t) => {
  const root = tmpRoot(t);
  const record = resolveCgroupPaths(hybridHost(root), new Map(), '/c5', 'c5');
  const f = new FakeCgroupFs();
  let slept = 0;
  const cg = new CgroupManager(record, { fs: f, sleep: (ms) => { slept += ms; } });
  cg.create();
  f.stuckFreezing = true;
  assert.throws(() => cg.setFrozen(true), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `freeze cgroup \`${root}/freezer/c5/freezer.state\`: timed out waiting for the state to change`);
  assert.ok(slept >= 2000);
  assert.equal(cg.freezerState(), 'thawed');
});

test('fromRecord validates what state.json gave back; toRecord round-trips', () => {
  const rec = { paths: { '': '/sys/fs/cgroup/unified/c1', memory: '/sys/fs/cgroup/memory/c1' } };
  const cg = fromRecord(JSON.parse(JSON.stringify(rec)));
  assert.deepEqual(cg.toRecord(), rec);
  assert.equal(cg.mode, 'hybrid');
  assert.equal(fromRecord({ paths: { '': '/sys/fs/cgroup/unified/c1' } }).mode, 'v2');
  for (const bad of [null, {}, { paths: {} }, { paths: [] }, { paths: { memory: 'rel/c1' } }, { paths: { memory: '/a/../b' } }, { paths: { memory: 3 } },
    // confined to the cgroup mounts, never the root of a hierarchy
    { paths: { memory: '/tmp/x' } }, { paths: { '': '/sys/fs/cgroup' } }, ...(fs.statfsSync('/sys/fs/cgroup').type !== 0x63677270 && fs.existsSync('/sys/fs/cgroup/memory') ? [{ paths: { memory: '/sys/fs/cgroup/memory' } }] : []),
    { paths: { memory: '/sys/fs/cgroup/memory/../../../tmp' } }, { paths: { memory: '/sys/fs/cgroup/memory/x/' } }]) {
    assert.throws(() => fromRecord(bad), (e: unknown) => e instanceof TsruncError && e.code === 'E_STATE', JSON.stringify(bad));
  }
});

test('nodeCgroupFs.writeFile never creates a file (a missing control file is ENOENT)', (t) => {
  const root = tmpRoot(t);
  assert.throws(() => nodeCgroupFs.writeFile(path.join(root, 'cgroup.kill'), '1'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.equal(fs.existsSync(path.join(root, 'cgroup.kill')), false);
  fs.writeFileSync(path.join(root, 'memory.max'), 'max\n');
  nodeCgroupFs.writeFile(path.join(root, 'memory.max'), '42');
  assert.equal(fs.readFileSync(path.join(root, 'memory.max'), 'utf8').slice(0, 2), '42');
});
