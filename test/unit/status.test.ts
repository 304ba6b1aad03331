import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkTransition, deriveStatus, type StatusProbe } from '../../src/lifecycle/status';
import type { Status } from '../../src/lifecycle/api';
import { parseStat, pidStartTime } from '../../src/sys/proc';
import { StateStore, cgroupPathProblem, mkdirP, writePidFile, type StateRecord } from '../../src/state/store';
import { spawnSync } from 'node:child_process';
import { TsruncError } from '../../src/errors';

const probe = (p: Partial<StatusProbe> & { st?: string | null }): StatusProbe => ({
  startTime: () => (p.st === undefined ? '100' : p.st),
  fifoExists: p.fifoExists ?? (() => false),
  frozen: p.frozen ?? (() => false),
});

test('status is derived from the live process, the fifo and the freezer', () => {
  assert.equal(deriveStatus(5, '100', probe({ st: null })), 'stopped');
  assert.equal(deriveStatus(5, '100', probe({ st: '999' })), 'stopped'); // pid reused
  assert.equal(deriveStatus(0, '100', probe({})), 'stopped');
  assert.equal(deriveStatus(5, '100', probe({ fifoExists: () => true })), 'created');
  assert.equal(deriveStatus(5, '100', probe({ frozen: () => true })), 'paused');
  assert.equal(deriveStatus(5, '100', probe({})), 'running');
});

test('transition table with runc texts', () => {
  const msg = (s: Status, v: Parameters<typeof checkTransition>[2], o = {}) => {
    try { checkTransition('c1', s, v, o); return 'ok'; } catch (e) { assert.ok(e instanceof TsruncError); return (e as Error).message; }
  };
  assert.equal(msg('created', 'start'), 'ok');
  assert.equal(msg('running', 'start'), 'cannot start an already running container');
  assert.equal(msg('stopped', 'start'), 'cannot start a container that has stopped');
  assert.equal(msg('stopped', 'kill'), 'container not running');
  assert.equal(msg('stopped', 'kill', { all: true }), 'ok');
  assert.equal(msg('paused', 'kill'), 'ok');
  assert.equal(msg('running', 'delete'), 'cannot delete container c1 that is not stopped: running');
  assert.equal(msg('running', 'delete', { force: true }), 'ok');
  assert.equal(msg('stopped', 'delete'), 'ok');
  assert.equal(msg('created', 'resume'), 'container not paused');
});

test('/proc/<pid>/stat parsing survives odd comm names and sees zombies as gone', () => {
  const fields = (state: string) => `1234 (a) b (c)) ${state} ` + Array.from({ length: 30 }, (_, i) => String(i + 4)).join(' ');
  assert.equal(parseStat(fields('S')), '22');
  assert.equal(parseStat(fields('Z')), null);
  assert.ok(pidStartTime(process.pid) !== null);
  assert.equal(pidStartTime(process.pid), pidStartTime(process.pid));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-proc-'));
  try {
    fs.mkdirSync(path.join(tmp, '7'));
    fs.writeFileSync(path.join(tmp, '7', 'stat'), fields('R'));
    assert.equal(pidStartTime(7, tmp), '22');
    assert.equal(pidStartTime(8, tmp), null);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('state store: exclusive create, atomic write, read, list, remove', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-store-'));
  try {
    const store = new StateStore(path.join(root, 'r'));
    assert.deepEqual(store.list(), []);
    store.createDir('a');
    assert.throws(() => store.createDir('a'), /container with given ID already exists/);
    assert.equal(fs.statSync(store.dir('a')).mode & 0o777, 0o711);
    const rec: StateRecord = {
      ociVersion: '1.3.0', id: 'a', pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/r',
      created: 'now', owner: '', cgroup: { paths: {} }, namespaces: ['pid'],
    };
    store.write(rec);
    assert.deepEqual(store.read('a'), rec);
    assert.deepEqual(fs.readdirSync(store.dir('a')), ['state.json']); // no temp file left
    assert.equal(fs.statSync(path.join(store.dir('a'), 'state.json')).mode & 0o777, 0o600);
    assert.deepEqual(store.list(), ['a']);
    assert.throws(() => store.read('b'), /container does not exist/);
    store.remove('a');
    assert.deepEqual(store.list(), []);
    const pf = path.join(root, 'pid');
    writePidFile(pf, 4321);
    assert.equal(fs.readFileSync(pf, 'utf8'), '4321');
    assert.throws(() => writePidFile(path.join(root, 'nodir', 'pid'), 1), /write pid file/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('state store: a symlinked id dir or state.json is never followed; foreign or forged records are refused', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-store-'));
  try {
    const store = new StateStore(path.join(root, 'r'));
    const rec: StateRecord = {
      ociVersion: '1.3.0', id: 'a', pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/r',
      created: 'now', owner: '', cgroup: { paths: {} }, namespaces: ['pid'],
    };
    // <root>/evil -> a directory outside the root holding a valid-looking state.json
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'state.json'), JSON.stringify({ ...rec, id: 'evil' }));
    fs.mkdirSync(store.root);
    fs.symlinkSync(outside, store.dir('evil'));
    assert.equal(store.exists('evil'), false);
    assert.throws(() => store.read('evil'), (e: unknown) => e instanceof TsruncError && e.code === 'E_STATE' &&
      e.message === `state directory \`${store.dir('evil')}\` is a symlink: refusing to follow it`);
    // state.json itself a symlink
    store.createDir('a');
    fs.symlinkSync(path.join(outside, 'state.json'), path.join(store.dir('a'), 'state.json'));
    assert.equal(store.exists('a'), false);
    assert.throws(() => store.read('a'), /state file `.*\/a\/state.json` is a symlink: refusing to follow it/);
    fs.rmSync(path.join(store.dir('a'), 'state.json'));
    // a FIFO as state.json does not block
    spawnSync('mkfifo', [path.join(store.dir('a'), 'state.json')]);
    assert.throws(() => store.read('a'), /is not a regular file/);
    fs.rmSync(path.join(store.dir('a'), 'state.json'));
    // runc's shape
    fs.writeFileSync(path.join(store.dir('a'), 'state.json'), JSON.stringify({ id: 'a', init_process_pid: 5, config: {}, cgroup_paths: {} }));
    assert.throws(() => store.read('a'), (e: unknown) => e instanceof TsruncError && e.code === 'E_STATE' &&
      e.message.startsWith('container `a`: state.json was not written by tsrunc'));
    fs.writeFileSync(path.join(store.dir('a'), 'state.json'), 'root:x:0:0');
    assert.throws(() => store.read('a'), (e: unknown) => e instanceof TsruncError && e.message === `parse state file \`${store.dir('a')}/state.json\`: invalid JSON`);
    // cgroup paths outside the cgroup mounts
    for (const p of ['/tmp/x', '/sys/fs/cgroup/../../tmp/x', 'sys/fs/cgroup/x', '/sys/fs/cgroup']) {
      store.write({ ...rec, cgroup: { paths: { pids: p } } });
      assert.throws(() => store.read('a'), (e: unknown) => e instanceof TsruncError && e.code === 'E_STATE' &&
        e.message.startsWith(`state file \`${store.dir('a')}/state.json\`: cgroup path ${JSON.stringify(p)} of \`pids\` must `), p);
    }
    store.write({ ...rec, cgroup: { paths: { pids: '/sys/fs/cgroup/pids/no-such-parent/x' } } });
    assert.equal(store.read('a').id, 'a');
    // entries: containers, dirs without state, symlinks; plain files and dot names are not listed
    store.createDir('b');
    fs.writeFileSync(path.join(store.root, 'file'), '');
    fs.mkdirSync(path.join(store.root, '.hidden'));
    assert.deepEqual(store.entries(), [{ id: 'a', kind: 'container' }, { id: 'b', kind: 'nostate' }, { id: 'evil', kind: 'notdir' }]);
    assert.deepEqual(store.list(), ['a']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('cgroupPathProblem: absolute, clean, below /sys/fs/cgroup/, never a hierarchy root', () => {
  const fsType = (t: number) => () => ({ type: t });
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/memory/x', fsType(0x27e0eb)), undefined);
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/x', fsType(0x63677270)), undefined);
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/memory', fsType(0x01021994 /* tmpfs */)), 'must not be the root of a cgroup hierarchy');
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/x', () => { throw Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'statfs' }); }), undefined);
  assert.equal(cgroupPathProblem('/tmp/x'), 'must be below /sys/fs/cgroup/');
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/'), 'must be a clean absolute path');
  assert.equal(cgroupPathProblem('/sys/fs/cgroup/a/./b'), 'must be a clean absolute path');
  assert.equal(cgroupPathProblem(7), 'must be a clean absolute path');
});

test('writePidFile: symlinks planted at the target or at temp names are never written through', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-pid-'));
  try {
    const victim = path.join(root, 'victim');
    fs.writeFileSync(victim, 'precious');
    const pf = path.join(root, 'pid');
    // every name the old code used, and plausible others
    for (const n of ['.pid', '.pid.tmp', 'pid.tmp', '.pid.0']) fs.symlinkSync(victim, path.join(root, n));
    fs.symlinkSync(victim, pf);
    writePidFile(pf, 4321);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.ok(fs.lstatSync(pf).isFile(), 'the symlink at the target is replaced by the file');
    assert.equal(fs.readFileSync(pf, 'utf8'), '4321');
    assert.deepEqual(fs.readdirSync(root).sort(), ['.pid', '.pid.0', '.pid.tmp', 'pid', 'pid.tmp', 'victim']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('mkdirP reports the real errno of the directory it could not create', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-mk-'));
  try {
    mkdirP(path.join(root, 'a', 'b', 'c'), 0o700);
    assert.ok(fs.statSync(path.join(root, 'a', 'b', 'c')).isDirectory());
    fs.writeFileSync(path.join(root, 'f'), '');
    assert.throws(() => mkdirP(path.join(root, 'f', 'x'), 0o700), /create state directory `.*\/f\/x`: ENOTDIR/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('pause and resume: pause from created or running (as runc) and a no-op when paused; a frozen created container is paused', () => {
  const msg = (s: Parameters<typeof checkTransition>[1], v: Parameters<typeof checkTransition>[2]) => {
    try { checkTransition('c1', s, v); return 'ok'; } catch (e) { return (e as Error).message; }
  };
  assert.equal(msg('running', 'pause'), 'ok');
  assert.equal(msg('created', 'pause'), 'ok');
  assert.equal(msg('paused', 'pause'), 'ok');
  assert.equal(msg('stopped', 'pause'), 'container not running');
  assert.equal(msg('paused', 'resume'), 'ok');
  assert.equal(msg('running', 'resume'), 'container not paused');
  assert.equal(msg('stopped', 'resume'), 'container not paused');
  const probe = { startTime: () => '100', fifoExists: () => true, frozen: () => true };
  assert.equal(deriveStatus(5, '100', probe), 'paused');
  assert.equal(deriveStatus(5, '100', { ...probe, frozen: () => false }), 'created');
});
