// Integration: files outside the state root and hostile input files, attacked through the real CLI
// (issue 5 §3 and §5, the TypeScript side): --pid-file symlinks, a symlinked or forged state
// directory that would make `delete --force` signal a host process, config.json that is a symlink
// to a secret, a FIFO or deeply nested, NUL bytes, limits, bounded error output, a read-only --root
// parent, and state directories another runtime wrote into the same --root.
// Run under the subreaper (npm test, or build/Release/tsrunc-reaper node --test <this file>).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, defaultConfig, type ConfigPatch } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { pidStartTime } from '../../src/sys/proc';
import {
  Tsrunc, assertFails, cleanup, errMsg, isAlive, leftovers, pollUntil, show, snapshot, tmpDir,
} from './support';

const P = `it-hard-${process.pid}`;

let tmp = '';
let root = '';
let rootfs = '';
let t: Tsrunc;
const allIds = new Set<string>();
const sleepers: ChildProcess[] = [];

before(() => {
  tmp = tmpDir('tsrunc-it-hard');
  root = path.join(tmp, 'root');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(root, tmp);
});

after(() => {
  for (const s of sleepers) { try { s.kill('SIGKILL'); } catch { /* gone */ } }
  cleanup(t, allIds, tmp ? [tmp] : []);
});

function bundle(name: string, patch: ConfigPatch = {}, args = ['true']): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'),
    JSON.stringify(applyPatch(applyPatch(defaultConfig(args), { root: { path: rootfs } }), patch)));
  return dir;
}

/** A host process the attacks below aim at (a child of the test: killed in `after`). */
function victimProcess(): number {
  const s = spawn('sleep', ['1000'], { stdio: 'ignore' });
  sleepers.push(s);
  pollUntil(() => pidStartTime(s.pid!) !== null, 2000);
  return s.pid!;
}

/** A state.json in tsrunc's shape whose init is `pid` and whose cgroup is `cgdir`. */
function forgedState(id: string, pid: number, cgdir: string): string {
  return JSON.stringify({
    ociVersion: '1.3.0', id, pid, pidStartTime: pidStartTime(pid), bundle: tmp, rootfs, created: new Date().toISOString(),
    owner: '', cgroup: { paths: { pids: cgdir, '': cgdir } }, namespaces: ['pid'],
  });
}

describe('--pid-file', () => {
  it('symlinks planted at the target and at temp names are never followed: the victim is unchanged', () => {
    const id = `${P}-pid`;
    allIds.add(id);
    const dir = path.join(tmp, 'piddir');
    fs.mkdirSync(dir);
    const victim = path.join(tmp, 'victim-file');
    fs.writeFileSync(victim, 'precious');
    const pidFile = path.join(dir, 'pid');
    for (const n of ['.pid', 'pid.tmp', '.pid.tmp', '.pid.1', 'pid']) fs.symlinkSync(victim, path.join(dir, n));
    const r = t.call(['create', '--pid-file', pidFile, '--bundle', bundle('b-pid', {}, ['sleep', '1000']), id]);
    assert.equal(r.status, 0, show(r));
    try {
      assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
      assert.ok(fs.lstatSync(pidFile).isFile(), 'the target symlink is replaced, not written through');
      assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), t.state(id).pid);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['.pid', '.pid.1', '.pid.tmp', 'pid', 'pid.tmp'], 'no temp file left');
    } finally {
      assert.equal(t.call(['delete', '--force', id]).status, 0);
    }
  });
});

describe('forged state directories', () => {
  let sleeper = 0;
  let fakeCg = '';

  before(() => {
    sleeper = victimProcess();
    // A fake "cgroup" listing the victim, outside any cgroup mount.
    fakeCg = path.join(tmp, 'fake-cgroup');
    fs.mkdirSync(fakeCg);
    fs.writeFileSync(path.join(fakeCg, 'cgroup.procs'), `${sleeper}\n`);
    fs.writeFileSync(path.join(fakeCg, 'cgroup.kill'), '');
    fs.mkdirSync(root, { recursive: true });
  });

  it('<root>/<id> a symlink to a forged state outside the root: never followed, the host process lives', () => {
    const id = `${P}-symdir`;
    allIds.add(id);
    const outside = path.join(tmp, 'outside-state');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'state.json'), forgedState(id, sleeper, fakeCg));
    fs.symlinkSync(outside, path.join(root, id));
    try {
      const st = t.call(['state', id]);
      assertFails(st, (msg) => assert.ok(!/"pid"/.test(st.stdout) && /symlink|does not exist/.test(msg), msg));
      for (const args of [['kill', id, 'KILL'], ['kill', '--all', id, 'KILL'], ['delete', '--force', id], ['delete', id]]) {
        const r = t.call(args);
        assert.ok(!r.timedOut && r.signal === null, show(r));
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, show(r));
        assert.ok(isAlive(sleeper), `\`${args.join(' ')}\` signalled the host process: ${show(r)}`);
      }
      assert.equal(fs.readFileSync(path.join(fakeCg, 'cgroup.kill'), 'utf8'), '', 'wrote cgroup.kill of the fake cgroup');
      assert.ok(fs.existsSync(path.join(outside, 'state.json')), 'the directory outside the root was removed');
      const l = t.call(['list', '--format', 'json']);
      assert.equal(l.status, 0, show(l));
      assert.ok(!l.stdout.includes(id), `listed: ${show(l)}`);
      assert.match(l.stderr, new RegExp(`level=warning msg=".*${path.join(root, id).replace(/[.+]/g, '\\$&')}.* is not a directory`));
    } finally {
      fs.rmSync(path.join(root, id), { force: true });
    }
  });

  it('a real state dir whose cgroup path is outside the cgroup mounts: E_STATE naming the state file, the host process lives', () => {
    const id = `${P}-forged`;
    allIds.add(id);
    fs.mkdirSync(path.join(root, id));
    const file = path.join(root, id, 'state.json');
    fs.writeFileSync(file, forgedState(id, sleeper, fakeCg));
    try {
      const want = `state file \`${file}\`: cgroup path ${JSON.stringify(fakeCg)} of \`pids\` must be below /sys/fs/cgroup/`;
      assertFails(t.call(['delete', '--force', id]), want);
      assertFails(t.call(['kill', '--all', id, 'KILL']), want);
      assertFails(t.call(['state', id]), want);
      assert.ok(isAlive(sleeper), 'the host process was signalled');
      assert.equal(fs.readFileSync(path.join(fakeCg, 'cgroup.kill'), 'utf8'), '');
      // `..` out of the cgroup mount is refused the same way
      const dotdot = `/sys/fs/cgroup/pids/../../../..${fakeCg}`;
      fs.writeFileSync(file, forgedState(id, sleeper, dotdot));
      assertFails(t.call(['delete', '--force', id]), `state file \`${file}\`: cgroup path ${JSON.stringify(dotdot)} of \`pids\` must be a clean absolute path`);
      assert.ok(isAlive(sleeper));
    } finally {
      fs.rmSync(path.join(root, id), { recursive: true, force: true });
    }
  });

  it('another runtime\'s state.json (runc\'s shape) in the same --root: `state` fails clearly, `list` skips it with a warning', () => {
    const id = `${P}-runc`;
    const empty = `${P}-nostate`;
    const good = `${P}-good`;
    allIds.add(id).add(empty).add(good);
    fs.mkdirSync(path.join(root, id));
    fs.writeFileSync(path.join(root, id, 'state.json'), JSON.stringify({
      id, init_process_pid: sleeper, init_process_start: 1, created: '2026-01-01T00:00:00Z',
      config: { rootfs: '/x', labels: ['bundle=/x'] }, cgroup_paths: { pids: '/sys/fs/cgroup/pids/x' }, namespace_paths: {},
    }));
    fs.mkdirSync(path.join(root, empty));
    const r0 = t.call(['create', '--bundle', bundle('b-good', {}, ['sleep', '1000']), good]);
    assert.equal(r0.status, 0, show(r0));
    try {
      assertFails(t.call(['state', id]), `container \`${id}\`: state.json was not written by tsrunc (\`ociVersion\` is not a string)`);
      for (const fmt of ['json', 'table']) {
        const l = t.call(['list', '--format', fmt]);
        assert.equal(l.status, 0, show(l));
        assert.ok(l.stdout.includes(good), show(l));
        assert.ok(!l.stdout.includes(id) && !l.stdout.includes(empty), `listed: ${show(l)}`);
        const warnings = l.stderr.split('\n').filter(Boolean);
        assert.equal(warnings.length, 2, show(l));
        assert.ok(warnings.every((w) => /level=warning/.test(w)));
        assert.ok(l.stderr.includes(`container \`${id}\`: state.json was not written by tsrunc`), show(l));
        assert.ok(l.stderr.includes(`tsrunc delete --force ${empty}`), show(l));
      }
      const q = t.call(['list', '-q']);
      assert.equal(q.stdout, `${good}\n`, show(q));
      assert.ok(isAlive(sleeper));
    } finally {
      t.call(['delete', '--force', good]);
      fs.rmSync(path.join(root, id), { recursive: true, force: true });
      fs.rmSync(path.join(root, empty), { recursive: true, force: true });
    }
  });
});

describe('hostile config.json files', () => {
  it('a symlink to a secret file: the error gives the position, never the content', () => {
    const id = `${P}-secret`;
    allIds.add(id);
    const secretFile = path.join(tmp, 'shadow');
    fs.writeFileSync(secretFile, 'root:$6$TOPSECRETHASH:19000:0:99999:7:::\n');
    const dir = path.join(tmp, 'b-secret');
    fs.mkdirSync(dir);
    fs.symlinkSync(secretFile, path.join(dir, 'config.json'));
    const w = snapshot(root, [tmp]);
    const r = t.call(['run', '--bundle', dir, id]);
    assert.deepEqual(leftovers(root, w, [id], [tmp]), []);
    assertFails(r, /^\w+ run failed: config\.json: invalid JSON: unexpected token at line 1, column 1$/);
    assert.ok(!r.stderr.includes('TOPSECRET') && !r.stderr.includes('root:'), show(r));
  });

  it('a FIFO: refused at once (no hang), nothing left behind', () => {
    const id = `${P}-fifo`;
    allIds.add(id);
    const dir = path.join(tmp, 'b-fifo');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'config.json')]);
    const w = snapshot(root, [tmp]);
    const t0 = Date.now();
    const r = new Tsrunc(root, tmp, 5000).call(['create', '--bundle', dir, id]);
    assert.ok(Date.now() - t0 < 5000, 'took too long');
    assert.deepEqual(leftovers(root, w, [id], [tmp]), []);
    assertFails(r, `tsrunc create failed: config.json: \`${path.join(dir, 'config.json')}\` is not a regular file`);
  });

  const badConfigs: Array<[string, (c: Record<string, unknown>) => string, RegExp | string]> = [
    ['nesting 100 000 deep: exceeded max depth', (c) => JSON.stringify(c).replace('"hostname":"runc"', `"hostname":${'['.repeat(100000)}${']'.repeat(100000)}`),
      /^\w+ run failed: config\.json: invalid JSON: exceeded max depth 1000 at line 1, column \d+$/],
    ['NUL in cwd', (c) => JSON.stringify({ ...c, process: { ...(c.process as object), cwd: '/\u0000x' } }),
      /^\w+ run failed: config\.json: \/process\/cwd: must not contain a NUL byte$/],
    ['NUL in a mount destination and in a masked path', (c) => {
      const cfg = structuredClone(c) as { mounts: { destination: string }[]; linux: { maskedPaths: string[] } };
      cfg.mounts[1]!.destination = '/dev\u0000/x';
      cfg.linux.maskedPaths[0] = '/proc\u0000';
      return JSON.stringify(cfg);
    }, /^\w+ run failed: config\.json: \/mounts\/1\/destination: must not contain a NUL byte\nconfig\.json: \/linux\/maskedPaths\/0: must not contain a NUL byte$/],
    ['cpu.shares 1e12', (c) => JSON.stringify({ ...c, linux: { ...(c.linux as object), resources: { cpu: { shares: 1e12 } } } }),
      /^\w+ run failed: config\.json: \/linux\/resources\/cpu\/shares: the maximum allowed cpu-shares is 262144$/],
    ['100 001 additionalGids', (c) => {
      const cfg = structuredClone(c) as { process: { user: { additionalGids?: number[] } } };
      cfg.process.user.additionalGids = new Array(100001).fill(5);
      return JSON.stringify(cfg);
    }, /^\w+ run failed: config\.json: \/process\/user\/additionalGids: at most 65536 additional gids are allowed \(NGROUPS_MAX\), got 100001$/],
    ['150 000 maskedPaths', (c) => {
      const cfg = structuredClone(c) as { linux: { maskedPaths: string[] } };
      cfg.linux.maskedPaths = new Array(150000).fill('/proc/kcore');
      return JSON.stringify(cfg);
    }, /^\w+ run failed: config\.json: \/linux\/maskedPaths: at most 65536 entries are allowed, got 150000$/],
    ['50 000 wrongly typed args: 20 problems, then `and N more`', (c) => JSON.stringify({ ...c, process: { ...(c.process as object), args: new Array(50000).fill(1) } }),
      /^\w+ run failed: (config\.json: \/process\/args\/\d+: must be string\n){20}and 49980 more$/],
  ];
  for (const [name, make, want] of badConfigs) {
    it(`${name}: one short error line, nothing left`, () => {
      const id = `${P}-cfg-${badConfigs.findIndex((b) => b[0] === name)}`;
      allIds.add(id);
      const dir = path.join(tmp, `b-${id}`);
      fs.mkdirSync(dir);
      const base = JSON.parse(fs.readFileSync(path.join(bundle('b-base'), 'config.json'), 'utf8')) as Record<string, unknown>;
      base.hostname = 'runc';
      fs.writeFileSync(path.join(dir, 'config.json'), make(base));
      const w = snapshot(root, [tmp]);
      const r = t.call(['run', '--bundle', dir, id]);
      assert.deepEqual(leftovers(root, w, [id], [tmp]), []);
      assertFails(r, want);
      assert.ok(r.stderr.length < 4096, `error output of ${r.stderr.length} bytes`);
    });
  }
});

describe('--root whose parent is on a read-only file system', () => {
  it('reports EROFS (not ENOENT), naming the directory', () => {
    const id = `${P}-ro`;
    allIds.add(id);
    const mnt = path.join(tmp, 'ro');
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tsrunc-it-ro', mnt]);
    try {
      const ro = new Tsrunc(path.join(mnt, 'a', 'root'), tmp);
      const r = ro.call(['create', '--bundle', bundle('b-ro', {}, ['sleep', '1000']), id]);
      assertFails(r, `tsrunc create failed: create state directory \`${path.join(mnt, 'a')}\`: EROFS`);
      assert.equal(errMsg(ro.call(['list'])), '');
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
