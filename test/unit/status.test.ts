import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkTransition, deriveStatus, type StatusProbe } from '../../src/lifecycle/status';
import type { Status } from '../../src/lifecycle/api';
import { parseStat, pidStartTime } from '../../src/sys/proc';
import { StateStore, writePidFile, type StateRecord } from '../../src/state/store';
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
