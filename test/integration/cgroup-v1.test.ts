// The manager on this host's real v1 hierarchies (hybrid or v1 hosts, as root). Every cgroup made
// here is named tsrunc-test-* and removed again, also when an assertion fails.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CgroupManager, type CgroupRecord, readCgroupHost, readOwnCgroups, resolveCgroupPaths, deviceRulesForSpec,
} from '../../src/cgroup';

const host = readCgroupHost();
const skip = process.getuid?.() !== 0 ? 'needs root' : host.mode === 'v2' ? 'needs v1 hierarchies (hybrid or v1 host)' : false;

function testName(): string {
  return `tsrunc-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Last-resort cleanup: kill what is left, thaw, remove the leaves (children first). */
function cleanup(record: CgroupRecord, child?: cp.ChildProcess): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const frz = record.paths.freezer;
  if (frz && fs.existsSync(frz)) fs.writeFileSync(path.join(frz, 'freezer.state'), 'THAWED');
  for (const dir of new Set(Object.values(record.paths))) {
    for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
      try { fs.rmdirSync(dir); } catch { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); }
    }
  }
}

function exited(child: cp.ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not exit')), 5000);
    child.once('exit', (code, sig) => { clearTimeout(timer); resolve(sig ?? code); });
  });
}

const RUNC_115_LIST = ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
  'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm'];

test('v1: create, add a real process, devices.list as runc, freeze, kill --all, destroy', { skip }, async (t) => {
  const name = testName();
  // relative: under this process's own cgroups (its memory cgroup is not the root here)
  const record = resolveCgroupPaths(host, readOwnCgroups(), name, 'unused');
  let child: cp.ChildProcess | undefined;
  t.after(() => cleanup(record, child));
  const own = readOwnCgroups();
  for (const [k, dir] of Object.entries(record.paths)) {
    assert.equal(path.basename(dir), name, k);
    if (k !== '' && own.get(k) !== '/') assert.ok(dir.includes(own.get(k)!), `${k} nested under own cgroup`);
  }

  const cg = new CgroupManager(record);
  assert.deepEqual(cg.pids(), []);
  cg.create();
  for (const dir of Object.values(record.paths)) assert.ok(fs.statSync(dir).isDirectory(), dir);
  if (record.paths.cpuset) {
    const cpus = fs.readFileSync(path.join(record.paths.cpuset, 'cpuset.cpus'), 'utf8').trim();
    assert.notEqual(cpus, '');
    assert.equal(cpus, fs.readFileSync(path.join(path.dirname(record.paths.cpuset), 'cpuset.cpus'), 'utf8').trim());
  }

  cg.setDevices(deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }));
  const list = fs.readFileSync(path.join(record.paths.devices, 'devices.list'), 'utf8').trim().split('\n');
  assert.deepEqual(list, RUNC_115_LIST);

  child = cp.spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid!;
  cg.addPid(pid);
  const procCg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  for (const k of Object.keys(record.paths)) {
    const line = procCg.split('\n').find((l) => (k === '' ? l.startsWith('0::') : l.split(':')[1].split(',').includes(k)));
    assert.ok(line?.endsWith(`/${name}`), `${k}: ${line}`);
  }
  assert.deepEqual(cg.pids(), [pid]);

  if (record.paths.freezer) {
    cg.setFrozen(true);
    assert.equal(cg.freezerState(), 'frozen');
    assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^State:\s+[DS]/m);
    cg.setFrozen(false);
    assert.equal(cg.freezerState(), 'thawed');
    cg.setFrozen(true); // kill --all must work on a paused container too
  }
  cg.killAll(os.constants.signals.SIGKILL);
  assert.equal(await exited(child), 'SIGKILL');
  assert.equal(cg.freezerState(), 'thawed');
  cg.destroy();
  for (const dir of Object.values(record.paths)) assert.equal(fs.existsSync(dir), false, dir);
  for (const dir of Object.values(record.paths)) assert.ok(fs.existsSync(path.dirname(dir)), 'parent stays');
});

test('v1: the devices controller really refuses what the rules leave out', { skip }, async (t) => {
  const name = testName();
  const record = resolveCgroupPaths(host, readOwnCgroups(), `/${name}/ctr`, 'unused'); // absolute, two levels
  const parents = Object.values(record.paths).map((d) => path.dirname(d));
  let child: cp.ChildProcess | undefined;
  t.after(() => {
    cleanup(record, child);
    for (const p of new Set(parents)) try { fs.rmdirSync(p); } catch { /* reported by the asserts */ }
  });
  const cg = new CgroupManager(record);
  cg.create();
  // linux.devices redefines /dev/null without an allow rule: runc then drops its default 1:3 rule
  cg.setDevices(deviceRulesForSpec({ devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }], resources: { devices: [{ allow: false, access: 'rwm' }] } }));
  child = cp.spawn('sh', ['-c', 'read x; for d in /dev/null /dev/zero; do if ( : > $d ); then echo "$d ok"; else echo "$d denied"; fi; done'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  cg.addPid(child.pid!);
  let out = '';
  child.stdout!.on('data', (b) => { out += b; });
  child.stdin!.end('go\n');
  assert.equal(await exited(child), 0);
  assert.equal(out, '/dev/null denied\n/dev/zero ok\n');
  cg.destroy();
  for (const dir of Object.values(record.paths)) assert.equal(fs.existsSync(dir), false, dir);
  for (const p of new Set(parents)) fs.rmdirSync(p); // the test's own parent level
});
