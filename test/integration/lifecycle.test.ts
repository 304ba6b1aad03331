// Integration: the container lifecycle through the real CLI (bin/tsrunc), with busybox containers.
// Run under the subreaper (npm test, or build/Release/tsrunc-reaper node --test <this file>).
// Expectations are runc 1.1.5's (reference/runc-cli-contract.md §2-§4, §6), checked against runc on
// this host where the contract is silent (TERM to a pid-namespace init, HOME, device access).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRootfs, makeBundle, type Bundle } from '../../conformance/lib/rootfs';
import { sleepMs } from '../../conformance/lib/runtime';
import {
  CGROUP_ROOT, RFC3339, TSRUNC, Tsrunc, cgroupDirsNamed, cleanup, errMsg, isAlive, leftovers, pollUntil,
  show, snapshot, tmpDir,
} from './support';

const P = `it-lc-${process.pid}`;
const ID = {
  main: `${P}-main`,
  relpid: `${P}-relpid`,
  fg: `${P}-fg`,
  fgkill: `${P}-fgkill`,
  det: `${P}-det`,
  keep: `${P}-keep`,
  cgabs: `${P}-cgabs`,
  cgrel: `${P}-cgrel`,
  dev: `${P}-dev`,
  inside: `${P}-inside`,
  fds: `${P}-fds`,
  explain: `${P}-explain`,
  spec: `${P}-spec`,
  nopidKill: `${P}-nopid-kill`,
  termCreated: `${P}-term-created`,
  fgterm: `${P}-fgterm`,
  nopidDelete: `${P}-nopid-delete`,
};
/** Parent of the relative cgroupsPath test's leaf (left by delete, like runc; removed in after). */
const CG_REL_PARENT = `${P}-cg`;
const CG_ABS_PARENT = 'tsrunc-it';

let tmp = '';
let root = '';
let t: Tsrunc;
const bundles: Record<string, Bundle> = {};

/** Go's encoder sorts map keys and escapes < > & (go-runc and people compare the bytes). */
const ANNOTATIONS = { 'org.example.key': 'v1', 'io.b': '2', 'x.html': 'a<b>&c' };

/** The busybox `sleep` as pid 1: no handler for TERM. */
const SLEEP = ['sleep', '1000'];

before(() => {
  tmp = tmpDir('tsrunc-it-lc');
  root = path.join(tmp, 'root');
  t = new Tsrunc(root, tmp);
  bundles.sleep = makeBundle(path.join(tmp, 'b-sleep'), { annotations: ANNOTATIONS }, { args: SLEEP });
  bundles.plain = makeBundle(path.join(tmp, 'b-plain'), undefined, { args: SLEEP });
});

after(() => {
  cleanup(t, [...Object.values(ID), CG_REL_PARENT], tmp ? [tmp] : []);
  // The absolute cgroupsPath's parent, left by delete (runc does the same): only if now empty.
  for (const h of fs.readdirSync(CGROUP_ROOT)) {
    try { fs.rmdirSync(path.join(CGROUP_ROOT, h, CG_ABS_PARENT)); } catch { /* absent or in use */ }
  }
});

function ok(r: ReturnType<Tsrunc['call']>, what = ''): void {
  assert.equal(r.status, 0, `${what} ${show(r)}`);
}

function pidFileContent(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function parseTime(s: string): number {
  // JS parses at most milliseconds: cut the fraction to 3 digits.
  return Date.parse(s.replace(/(\.\d{3})\d*/, '$1'));
}

/** The caller's cgroup of controller `key` ('' = cgroup2) and where its hierarchy is mounted. */
function ownCgroupDir(key: string): string {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')
    .find((l) => { const f = l.split(':'); return key === '' ? f[0] === '0' && f[1] === '' : f[1]!.split(',').includes(key); });
  assert.ok(line, `no ${key} line in /proc/self/cgroup`);
  const own = line.split(':').slice(2).join(':');
  for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const fstype = f[sep + 1];
    const super_ = f[sep + 3] ?? '';
    const match = key === '' ? fstype === 'cgroup2' : fstype === 'cgroup' && super_.split(',').includes(key);
    if (match && f[4]!.startsWith(CGROUP_ROOT)) return path.join(f[4]!, path.relative(f[3]!, own));
  }
  throw new Error(`hierarchy ${key} is not mounted`);
}

const DEFAULT_DEVICES_LIST = [
  'b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm',
  'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm',
];

function devicesList(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').split('\n').filter(Boolean).sort();
}

// ---- one container, create → start → kill → delete ---------------------------------------------

describe('lifecycle: create, state, start, kill, delete', () => {
  const id = ID.main;
  let pidFile = '';
  let pid = 0;

  it('create exits 0 with nothing on stdout or stderr, and writes the --pid-file (absolute path)', () => {
    pidFile = path.join(tmp, 'main.pid');
    const r = t.call(['create', '--bundle', bundles.sleep!.dir, '--pid-file', pidFile, id]);
    ok(r, 'create');
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const text = pidFileContent(pidFile);
    assert.match(text, /^[1-9]\d*$/, `pid file content ${JSON.stringify(text)}: decimal, no newline`);
    pid = Number(text);
    assert.ok(isAlive(pid), `init ${pid} is not alive after create`);
    // runc's layout (contract §4): <root>/<id> 0711, exec.fifo a FIFO 0622 until start.
    assert.equal(fs.statSync(path.join(root, id)).mode & 0o7777, 0o711);
    const fifo = fs.statSync(path.join(root, id, 'exec.fifo'));
    assert.ok(fifo.isFIFO(), 'exec.fifo is not a FIFO');
    assert.equal(fifo.mode & 0o7777, 0o622);
  });

  it('state of a created container: runc\'s fields, 2-space JSON, no trailing newline, nothing on stderr', () => {
    const r = t.call(['state', id]);
    ok(r, 'state');
    assert.equal(r.stderr, '', 'nothing on stderr (go-runc parses stdout+stderr combined)');
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    const goEscaped = JSON.stringify(s, null, 2).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
    assert.equal(r.stdout, goEscaped, '2-space indent, no trailing newline, Go\'s escaping of < > &');
    assert.deepEqual(Object.keys(s), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    assert.equal(typeof s.ociVersion, 'string');
    assert.equal(s.id, id);
    assert.equal(s.status, 'created');
    assert.equal(s.pid, pid, 'state pid is the pid-file pid (the host pid of the init)');
    assert.equal(s.bundle, bundles.sleep!.dir);
    assert.ok(path.isAbsolute(String(s.bundle)));
    assert.equal(s.rootfs, bundles.sleep!.rootfs);
    assert.match(String(s.created), RFC3339);
    assert.ok(Math.abs(parseTime(String(s.created)) - Date.now()) < 120_000, `created ${String(s.created)} is not now`);
    assert.deepEqual(s.annotations, ANNOTATIONS);
    assert.deepEqual(Object.keys(s.annotations as object), Object.keys(ANNOTATIONS).sort(), 'annotations in sorted key order');
    assert.equal(typeof s.owner, 'string');
  });

  it('--root isolates containers: another root does not see it', () => {
    const other = new Tsrunc(path.join(tmp, 'other-root'), tmp);
    const r = other.call(['state', id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'container does not exist');
    const l = other.call(['list', '-q']);
    ok(l, 'list -q in another root');
    assert.equal(l.stdout, '');
    assert.ok(isAlive(pid));
  });

  it('the cgroup exists while the container lives (default cgroupsPath: <id> under our own cgroup)', () => {
    const dir = path.join(ownCgroupDir('devices'), id);
    assert.ok(fs.existsSync(dir), `${dir} missing`);
    assert.ok(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), `init ${pid} not in ${dir}`);
    assert.deepEqual(devicesList(dir), [...DEFAULT_DEVICES_LIST].sort());
    const mem = path.join(ownCgroupDir('memory'), id);
    assert.ok(fs.existsSync(mem), `${mem} missing`);
  });

  it('start exits 0 silently; state says running with the same pid', () => {
    const r = t.call(['start', id]);
    ok(r, 'start');
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const s = t.state(id);
    assert.equal(s.status, 'running');
    assert.equal(s.pid, pid);
    assert.ok(!fs.existsSync(path.join(root, id, 'exec.fifo')), 'exec.fifo left after start');
  });

  it('kill with the default signal (TERM): pid 1 of a pid namespace without a handler ignores it, as with runc', () => {
    const r = t.call(['kill', id]);
    ok(r, 'kill');
    assert.equal(r.stderr, '');
    sleepMs(200);
    assert.ok(isAlive(pid), 'runc 1.1.5 leaves a `sleep` init running after TERM');
    assert.equal(t.status(id), 'running');
  });

  it('kill with signal 0 checks that the init exists (rc 0, as runc) and changes nothing', () => {
    ok(t.call(['kill', id, '0']), 'kill 0');
    assert.equal(t.status(id), 'running');
  });

  it('kill KILL: stopped within 2 s, pid 0', () => {
    ok(t.call(['kill', id, 'KILL']), 'kill KILL');
    // Wait for the init to go (cheaper than polling `state`), then ask once.
    pollUntil(() => !isAlive(pid), 2000);
    const s = t.state(id);
    assert.equal(s.status, 'stopped');
    assert.equal(s.pid, 0);
    assert.equal(s.id, id);
    assert.equal(s.bundle, bundles.sleep!.dir);
  });

  it('kill of a stopped container: `container not running` (rc 1); with --all rc 0', () => {
    const r = t.call(['kill', id, 'KILL']);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'container not running');
    const z = t.call(['kill', id, '0']);
    assert.equal(z.status, 1, show(z));
    assert.equal(errMsg(z), 'container not running');
    const a = t.call(['kill', '--all', id, 'KILL']);
    ok(a, 'kill --all of a stopped container');
  });

  it('delete removes it: state fails with `container does not exist` (rc 1); cgroup and state dir gone', () => {
    const r = t.call(['delete', id]);
    ok(r, 'delete');
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const s = t.call(['state', id]);
    assert.equal(s.status, 1, show(s));
    assert.equal(s.stdout, '');
    assert.equal(errMsg(s), 'container does not exist');
    assert.ok(!fs.existsSync(path.join(root, id)), 'state dir left');
    assert.deepEqual(cgroupDirsNamed(id), []);
    assert.ok(!isAlive(pid));
  });
});

describe('created containers', () => {
  it('kill (TERM) of a created container stops it, as runc; kill again: `container not running`', () => {
    const id = ID.termCreated;
    const pidFile = path.join(tmp, 'term-created.pid');
    ok(t.call(['create', '--pid-file', pidFile, '--bundle', bundles.plain!.dir, id]), 'create');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    ok(t.call(['kill', id]), 'kill');
    assert.ok(pollUntil(() => !isAlive(pid), 2000), 'the waiting init survived TERM');
    const again = t.call(['kill', id]);
    assert.equal(again.status, 1, show(again));
    assert.equal(errMsg(again), 'container not running');
    ok(t.call(['delete', id]), 'delete');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('--pid-file and --bundle relative to the cwd (state.bundle absolute); no annotations when the config has none; delete of a created container', () => {
    const id = ID.relpid;
    const r = t.call(['create', '--bundle', path.basename(bundles.plain!.dir), '--pid-file', 'rel.pid', id], { cwd: tmp });
    ok(r, 'create');
    const text = pidFileContent(path.join(tmp, 'rel.pid'));
    assert.match(text, /^[1-9]\d*$/);
    const s = t.state(id);
    assert.equal(s.pid, Number(text));
    assert.equal(s.status, 'created');
    assert.equal(s.bundle, bundles.plain!.dir);
    assert.equal(s.rootfs, bundles.plain!.rootfs);
    assert.ok(!('annotations' in s), `annotations present: ${JSON.stringify(s)}`);
    const d = t.call(['delete', id]);
    ok(d, 'delete of a created container');
    assert.ok(!fs.existsSync(path.join(root, id)), 'state dir left');
    assert.ok(!isAlive(Number(text)), 'the created init survived delete');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });
});

// ---- run -----------------------------------------------------------------------------------------

describe('run', () => {
  let detPid = 0;
  it('foreground: returns the exit code (7); the caller\'s stdin reaches the container, its stdout and stderr the caller; state removed', () => {
    const id = ID.fg;
    const b = makeBundle(path.join(tmp, 'b-exit7'), undefined, { args: ['sh', '-c', 'read l; echo "to-stdout $l"; echo to-stderr >&2; exit 7'] });
    const input = path.join(tmp, 'fg.in');
    fs.writeFileSync(input, 'from-stdin\n');
    const stdin = fs.openSync(input, 'r');
    let r;
    try {
      r = t.call(['run', '--bundle', b.dir, id], { stdin });
    } finally {
      fs.closeSync(stdin);
    }
    assert.equal(r.status, 7, show(r));
    assert.equal(r.stdout, 'to-stdout from-stdin\n');
    assert.equal(r.stderr, 'to-stderr\n');
    assert.ok(!fs.existsSync(path.join(root, id)), 'run without --keep must remove the container');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('foreground: 137 when the container is killed with KILL from another process', { timeout: 30000 }, async () => {
    const id = ID.fgkill;
    const out = fs.openSync(path.join(tmp, 'fgkill.out'), 'w');
    const err = fs.openSync(path.join(tmp, 'fgkill.err'), 'w');
    const pidFile = path.join(tmp, 'fgkill.pid');
    const child = spawn(TSRUNC, ['--root', root, 'run', '--pid-file', pidFile, '--bundle', bundles.plain!.dir, id], { stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20000);
    try {
      pollUntil(() => fs.existsSync(pidFile), 10000);
      assert.equal(t.waitStatus(id, 'running', 5000), 'running');
      ok(t.call(['kill', id, 'KILL']), 'kill KILL');
      const res = await exited;
      assert.deepEqual(res, { code: 137, signal: null }, `stderr: ${fs.readFileSync(path.join(tmp, 'fgkill.err'), 'utf8')}`);
    } finally {
      clearTimeout(guard);
    }
    assert.ok(!fs.existsSync(path.join(root, id)), 'run without --keep must remove the container');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('foreground: SIGTERM to the runtime is forwarded to the container (its handler\'s exit code comes back)', { timeout: 30000 }, async () => {
    const id = ID.fgterm;
    const b = makeBundle(path.join(tmp, 'b-trap'), undefined, {
      args: ['sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done'],
    });
    const outFile = path.join(tmp, 'fgterm.out');
    const out = fs.openSync(outFile, 'w');
    const err = fs.openSync(path.join(tmp, 'fgterm.err'), 'w');
    const child = spawn(TSRUNC, ['--root', root, 'run', '--bundle', b.dir, id], { stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20000);
    try {
      // the trap is set once the script has printed `ready`
      assert.ok(pollUntil(() => fs.readFileSync(outFile, 'utf8').includes('ready'), 10000), 'container did not start');
      child.kill('SIGTERM');
      const res = await exited;
      assert.deepEqual(res, { code: 42, signal: null }, `stderr: ${fs.readFileSync(path.join(tmp, 'fgterm.err'), 'utf8')}`);
      assert.equal(fs.readFileSync(outFile, 'utf8'), 'ready\ngot-term\n');
    } finally {
      clearTimeout(guard);
    }
    assert.ok(!fs.existsSync(path.join(root, id)), 'run without --keep must remove the container');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('run -d returns 0 at once and leaves it running', () => {
    const r = t.call(['run', '-d', '--bundle', bundles.plain!.dir, ID.det]);
    ok(r, 'run -d');
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const s = t.state(ID.det);
    assert.equal(s.status, 'running');
    detPid = Number(s.pid);
    assert.ok(isAlive(detPid));
  });

  it('run --keep leaves a stopped container', () => {
    const b = makeBundle(path.join(tmp, 'b-keep'), undefined, { args: ['sh', '-c', 'exit 3'] });
    const r = t.call(['run', '--keep', '--bundle', b.dir, ID.keep]);
    assert.equal(r.status, 3, show(r));
    const s = t.state(ID.keep);
    assert.equal(s.status, 'stopped');
    assert.equal(s.pid, 0);
  });

  it('list: table', () => {
    const r = t.call(['list']);
    ok(r, 'list');
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.deepEqual(lines[0]!.split(/\s+/), ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((x) => x[0]), [ID.det, ID.keep], 'one row per container, sorted by id');
    assert.deepEqual(rows[0]!.slice(0, 4), [ID.det, String(detPid), 'running', bundles.plain!.dir]);
    assert.match(rows[0]![4]!, RFC3339);
    assert.equal(rows[0]![5], 'root');
    assert.deepEqual(rows[1]!.slice(1, 3), ['0', 'stopped']);
    // columns are aligned: every row's STATUS starts where the header's does
    const col = lines[0]!.indexOf('STATUS');
    for (const l of lines.slice(1)) assert.match(l.slice(col), /^(running|stopped)/, `misaligned row ${JSON.stringify(l)}`);
  });

  it('list -f json: one compact line, owner root; -q: ids only', () => {
    const r = t.call(['list', '-f', 'json']);
    ok(r, 'list -f json');
    assert.ok(r.stdout.endsWith('\n') && !r.stdout.slice(0, -1).includes('\n'), `not one line: ${JSON.stringify(r.stdout)}`);
    const arr = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(r.stdout, JSON.stringify(arr) + '\n', 'compact');
    assert.deepEqual(arr.map((x) => [x.id, x.status, x.owner]), [[ID.det, 'running', 'root'], [ID.keep, 'stopped', 'root']]);
    const q = t.call(['list', '-q']);
    ok(q, 'list -q');
    assert.equal(q.stdout, `${ID.det}\n${ID.keep}\n`);
  });

  it('delete --force of a running container', () => {
    const r = t.call(['delete', '--force', ID.det]);
    ok(r, 'delete --force');
    assert.ok(!fs.existsSync(path.join(root, ID.det)), 'state dir left');
    assert.ok(!isAlive(detPid));
    assert.deepEqual(cgroupDirsNamed(ID.det), []);
  });

  it('delete of the kept (stopped) container; then list -f json prints null (also for a missing root)', () => {
    ok(t.call(['delete', ID.keep]), 'delete');
    const j = t.call(['list', '-f', 'json']);
    ok(j);
    assert.equal(j.stdout, 'null\n');
    const missing = new Tsrunc(path.join(tmp, 'no-such-root'), tmp);
    const m = missing.call(['list', '--format', 'json']);
    ok(m, 'list with a missing root');
    assert.equal(m.stdout, 'null\n');
  });
});

// ---- processes that outlive the init (no pid namespace of its own) ----------------------------

describe('a container without its own pid namespace, whose init exits before its child', () => {
  let b: Bundle;

  before(() => {
    b = makeBundle(path.join(tmp, 'b-nopidns'), (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
    }, { args: ['sh', '-c', 'sleep 1000 & exit 0'] });
  });

  /** run -d, then wait for the init to exit; returns the pids left in the container's cgroup. */
  function runAndOrphan(id: string): number[] {
    const pidFile = path.join(tmp, `${id}.pid`);
    ok(t.call(['run', '-d', '--pid-file', pidFile, '--bundle', b.dir, id]), 'run -d');
    const init = Number(fs.readFileSync(pidFile, 'utf8'));
    pollUntil(() => !isAlive(init), 2000);
    const procs = path.join(ownCgroupDir('pids'), id, 'cgroup.procs');
    const left = fs.readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
    assert.equal(left.length, 1, `want the one \`sleep\` left in ${procs}, got ${JSON.stringify(left)}`);
    assert.equal(t.status(id), 'stopped');
    return left;
  }

  it('kill --all KILL of the stopped container kills what is left in its cgroup (what containerd does before delete)', () => {
    const id = ID.nopidKill;
    const left = runAndOrphan(id);
    ok(t.call(['kill', '--all', id, 'KILL']), 'kill --all');
    assert.ok(pollUntil(() => left.every((p) => !isAlive(p)), 2000), `still alive: ${left.filter(isAlive)}`);
    ok(t.call(['delete', id]), 'delete');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('delete of the stopped container kills what is left and removes it all, as runc (rc 0)', () => {
    const id = ID.nopidDelete;
    const left = runAndOrphan(id);
    const r = t.call(['delete', id]);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(left.filter(isAlive), [], 'processes of the container survived delete');
    assert.ok(!fs.existsSync(path.join(root, id)), 'state dir left');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });
});

// ---- logging -------------------------------------------------------------------------------------

describe('logging', () => {
  it('--log FILE --log-format json: a json line {level,msg,time} in the file, and the plain error on stderr', () => {
    const log = path.join(tmp, 'log.json');
    const r = t.call(['state', `${P}-nope`], { globals: ['--log', log, '--log-format', 'json'] });
    assert.equal(r.status, 1, show(r));
    assert.equal(r.stderr, 'container does not exist\n');
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), ['level', 'msg', 'time']);
    assert.equal(o.level, 'error');
    assert.equal(o.msg, 'container does not exist');
    assert.match(String(o.time), RFC3339);
    assert.ok(Math.abs(parseTime(String(o.time)) - Date.now()) < 120_000);
  });
});

// ---- cgroups and devices -----------------------------------------------------------------------

describe('cgroups', () => {
  it('absolute cgroupsPath (/tsrunc-it/<id>): the path from the root of every hierarchy, with the config\'s device rules; removed by delete', () => {
    const id = ID.cgabs;
    const cg = `/${CG_ABS_PARENT}/${id}`;
    const b = makeBundle(path.join(tmp, 'b-cgabs'), {
      linux: {
        cgroupsPath: cg,
        resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] },
      },
    }, { args: SLEEP });
    const pidFile = path.join(tmp, 'cgabs.pid');
    ok(t.call(['create', '--pid-file', pidFile, '--bundle', b.dir, id]), 'create');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const dir = path.join(CGROUP_ROOT, 'devices', CG_ABS_PARENT, id);
    assert.ok(fs.existsSync(dir), `${dir} missing`);
    assert.deepEqual(devicesList(dir), [...DEFAULT_DEVICES_LIST, 'c 10:229 rw'].sort());
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
    for (const l of lines) assert.ok(l.endsWith(`:${cg}`), `init's cgroup line ${JSON.stringify(l)} is not ${cg}`);
    ok(t.call(['delete', id]), 'delete');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('relative cgroupsPath: under our own cgroup in each hierarchy; --debug create logs phase timings', () => {
    const id = ID.cgrel;
    const cg = `${CG_REL_PARENT}/${id}`;
    const b = makeBundle(path.join(tmp, 'b-cgrel'), { linux: { cgroupsPath: cg } }, { args: SLEEP });
    const r = t.call(['create', '--bundle', b.dir, id], { globals: ['--debug'] });
    ok(r, 'create');
    const debug = r.stderr.split('\n').filter(Boolean);
    assert.ok(debug.every((l) => /level=debug/.test(l)), `non-debug lines on stderr: ${r.stderr}`);
    const phases = debug.map((l) => /msg="?([^"]*?): (\d+(?:\.\d+)?) ?ms"?/.exec(l)?.[1]).filter(Boolean);
    assert.ok(new Set(phases).size >= 3, `want ≥ 3 timed phases in --debug output, got: ${r.stderr}`);
    for (const key of ['devices', 'memory', 'pids']) {
      const dir = path.join(ownCgroupDir(key), cg);
      assert.ok(fs.existsSync(dir), `${dir} missing`);
    }
    ok(t.call(['delete', id]), 'delete');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('a container cannot open a device node the config creates without an allow rule (EPERM); allowed ones work', () => {
    const b = makeBundle(path.join(tmp, 'b-dev'), {
      linux: { devices: [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 }] },
    }, {
      args: ['sh', '-c', 'ls -l /dev/kmsg; dd if=/dev/kmsg of=/dev/null count=0; echo kmsg=$?; ' +
        'dd if=/dev/zero of=/dev/full count=1; echo full=$?; dd if=/dev/zero of=/dev/null count=1; echo null=$?'],
    });
    const r = t.call(['run', '--bundle', b.dir, ID.dev]);
    assert.equal(r.status, 0, show(r));
    const all = show(r);
    assert.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+11 .*\/dev\/kmsg$/m, `the node is created: ${all}`);
    assert.match(r.stderr, /can't open '\/dev\/kmsg': Operation not permitted/, all);
    assert.match(r.stdout, /^kmsg=1$/m, all);
    assert.match(r.stderr, /'\/dev\/full': No space left on device/, `/dev/full is allowed: the write reaches the driver: ${all}`);
    assert.match(r.stdout, /^full=1$/m, all);
    assert.match(r.stdout, /^null=0$/m, all);
  });
});

// ---- what the process sees -----------------------------------------------------------------------

describe('the container process', () => {
  let out = '';
  let err = '';
  const script = [
    'echo hostname=$(hostname)',
    'echo cwd=$(pwd)',
    'tr "\\0" "\\n" </proc/1/environ | sed s/^/env:/',
    'grep -E "^(Uid|Gid|Groups):" /proc/self/status',
    'grep "Max open files" /proc/self/limits',
    'touch /it-probe; echo touch=$?',
  ].join('; ');

  before(() => {
    const b = makeBundle(path.join(tmp, 'b-inside'), {
      hostname: 'it-host',
      root: { readonly: true },
      process: {
        cwd: '/etc',
        user: { uid: 1000, gid: 1001, additionalGids: [2000, 2001] },
        env: ['PATH=/usr/bin:/bin', 'IT_FOO=bar baz'],
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }],
      },
    }, { args: ['sh', '-c', script] });
    const r = t.call(['run', '--bundle', b.dir, ID.inside]);
    assert.equal(r.status, 0, show(r));
    out = r.stdout;
    err = r.stderr;
  });

  it('hostname', () => assert.match(out, /^hostname=it-host$/m));
  it('cwd', () => assert.match(out, /^cwd=\/etc$/m));
  it('env is the config\'s, plus HOME from the rootfs /etc/passwd ("/" for an unknown uid), as runc', () => {
    const env = out.split('\n').filter((l) => l.startsWith('env:')).map((l) => l.slice(4));
    assert.deepEqual(env, ['PATH=/usr/bin:/bin', 'IT_FOO=bar baz', 'HOME=/']);
  });
  it('uid, gid and additionalGids', () => {
    assert.match(out, /^Uid:\t1000\t1000\t1000\t1000$/m);
    assert.match(out, /^Gid:\t1001\t1001\t1001\t1001$/m);
    assert.match(out, /^Groups:\t2000 2001 ?$/m);
  });
  it('rlimits', () => assert.match(out, /^Max open files\s+123\s+456\s+files/m));
  it('readonly root', () => {
    assert.match(err, /touch: \/it-probe: Read-only file system/);
    assert.match(out, /^touch=1$/m);
  });
});

describe('--preserve-fds', () => {
  it('--preserve-fds 2 passes the caller\'s fds 3 and 4, and nothing else', () => {
    const b = makeBundle(path.join(tmp, 'b-fds'), undefined, { args: ['ls', '-l', '/proc/self/fd'] });
    const f3 = path.join(tmp, 'preserved-three');
    const f4 = path.join(tmp, 'preserved-four');
    const f5 = path.join(tmp, 'canary-five');
    const fds = [f3, f4, f5].map((f) => fs.openSync(f, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o644));
    let r;
    try {
      r = t.call(['run', '--preserve-fds', '2', '--bundle', b.dir, ID.fds], { fds });
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    assert.equal(r.status, 0, show(r));
    const links = new Map<number, string>();
    let unreadable = 0;
    for (const l of r.stdout.split('\n')) {
      const m = /\s(\d+) -> (.*)$/.exec(l);
      if (m) links.set(Number(m[1]), m[2]!);
      else if (/^l\S+\s.*\s\d+$/.test(l)) unreadable++; // ls's own directory fd, closed before it is read
    }
    assert.deepEqual([...links.keys()].sort((a, b2) => a - b2), [0, 1, 2, 3, 4], `fds seen: ${r.stdout}`);
    assert.ok(links.get(3)!.endsWith('preserved-three'), `fd 3 -> ${links.get(3)}`);
    assert.ok(links.get(4)!.endsWith('preserved-four'), `fd 4 -> ${links.get(4)}`);
    assert.ok(unreadable <= 1, r.stdout);
  });
});

// ---- explain and spec ----------------------------------------------------------------------------

describe('explain and spec', () => {
  it('explain -b prints the plan (text and --format json) and creates nothing', () => {
    const id = ID.explain;
    const before0 = snapshot(root, [tmp]);
    const r = t.call(['explain', '-b', bundles.plain!.dir, id]);
    ok(r, 'explain');
    assert.match(r.stdout, /namespaces:/);
    assert.match(r.stdout, /\bpid\b/);
    const j = t.call(['explain', '-b', bundles.plain!.dir, '--format', 'json', id]);
    ok(j, 'explain --format json');
    const plan = JSON.parse(j.stdout) as { namespaces?: { type: string }[] };
    assert.ok(Array.isArray(plan.namespaces), j.stdout.slice(0, 300));
    assert.deepEqual(plan.namespaces!.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(leftovers(root, before0, [id], [tmp]), []);
  });

  it('spec writes a config.json that run can use once terminal is false and args are set', () => {
    const dir = path.join(tmp, 'b-spec');
    fs.mkdirSync(dir);
    const r = t.call(['spec', '-b', dir]);
    ok(r, 'spec');
    assert.equal(r.stdout, '');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
      process: { terminal: boolean; args: string[] }; root: { path: string; readonly: boolean };
    };
    assert.equal(cfg.process.terminal, true);
    assert.deepEqual(cfg.process.args, ['sh']);
    assert.deepEqual(cfg.root, { path: 'rootfs', readonly: true });
    cfg.process.terminal = false;
    cfg.process.args = ['sh', '-c', 'echo spec-ok'];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    buildRootfs(path.join(dir, 'rootfs'));
    const run = t.call(['run', '--bundle', dir, ID.spec]);
    assert.equal(run.status, 0, show(run));
    assert.equal(run.stdout, 'spec-ok\n');
    assert.ok(!fs.existsSync(path.join(root, ID.spec)));
  });
});
