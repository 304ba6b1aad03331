// Integration (issue 7): the commands that act on the container's cgroup — pause, resume, ps,
// events, kill --all — with real busybox containers on this (hybrid: v1 controllers) host, and
// differentially against runc 1.1.5 (/usr/sbin/runc) where runc's texts and JSON shape matter.
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/cgroup-commands.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, type Bundle } from '../../conformance/lib/rootfs';
import { RuntimeCli, sleepMs } from '../../conformance/lib/runtime';
import { readCgroupHost } from '../../src/cgroup';
import {
  TSRUNC, Tsrunc, cleanup, errMsg, isAlive, leftovers, pollUntil, processesInCgroupNamed, show, snapshot, tmpDir,
} from './support';

const RUNC = '/usr/sbin/runc';
const P = `it-cgc-${process.pid}`;
const ID = {
  steps: `${P}-steps`,
  rsteps: `${P}-rsteps`,
  created: `${P}-created`,
  pkill: `${P}-pkill`,
  pdel: `${P}-pdel`,
  all: `${P}-all`,
  allp: `${P}-allp`,
  ps: `${P}-ps`,
  stats: `${P}-stats`,
  rstats: `${P}-rstats`,
  oom: `${P}-oom`,
  pipe: `${P}-pipe`,
};

const host = readCgroupHost();
const skip = process.getuid?.() !== 0 ? 'needs root'
  : host.mode === 'v2' ? 'v1/hybrid host test (cgroup v2: test/vm/cgroup2-commands.sh)' : false;
const haveRunc = fs.existsSync(RUNC);

/** Tsrunc's file-based calls, for runc (its `run -d` child must not hold a pipe of ours). */
class Runc extends Tsrunc {
  constructor(root: string, ioDir: string) {
    super(root, ioDir);
    (this as { rt: RuntimeCli }).rt = new RuntimeCli(RUNC, root, { timeoutMs: 20000 });
  }
}

let tmp = '';
let t: Tsrunc;
let r: Runc;
const b: Record<string, Bundle> = {};

before(() => {
  if (skip) return;
  tmp = tmpDir('tsrunc-it-cgc');
  t = new Tsrunc(path.join(tmp, 'root'), tmp);
  r = new Runc(path.join(tmp, 'runc-root'), tmp);
  b.sleep = makeBundle(path.join(tmp, 'b-sleep'), undefined, { args: ['sleep', '1000'] });
  // Four shells that each log their own pid once per SIGUSR1 (the sleeps they run die of it).
  const logger = 'trap "echo \\$\\$ >> /log" USR1; while :; do sleep 1; done';
  b.usr1 = makeBundle(path.join(tmp, 'b-usr1'), { root: { readonly: false } }, {
    args: ['sh', '-c', `for i in 1 2 3; do sh -c '${logger}' & done; ${logger}`],
  });
  b.family = makeBundle(path.join(tmp, 'b-family'), undefined, { args: ['sh', '-c', 'sleep 1000 & sleep 1000 & sleep 1000 & wait'] });
  b.hog = makeBundle(path.join(tmp, 'b-hog'), undefined, {
    args: ['sh', '-c', 'sleep 1; a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done'],
  });
});

after(() => {
  if (skip) return;
  cleanup(t, Object.values(ID).filter((id) => !id.includes('-r')), []);
  cleanup(r, [ID.rsteps, ID.rstats], [tmp]);
});

function ok(res: ReturnType<Tsrunc['call']>, what = ''): void {
  assert.equal(res.status, 0, `${what} ${show(res)}`);
}

/** The cgroup paths tsrunc recorded for a container (state.json). */
function recordedPaths(id: string): Record<string, string> {
  const st = JSON.parse(fs.readFileSync(path.join(t.root, id, 'state.json'), 'utf8')) as { cgroup: { paths: Record<string, string> } };
  return st.cgroup.paths;
}

function psJson(rt: Tsrunc, id: string): number[] | null {
  const res = rt.call(['ps', '-f', 'json', id]);
  ok(res, 'ps -f json');
  assert.equal(res.stderr, '');
  return JSON.parse(res.stdout) as number[] | null;
}

// ---- pause / resume: the same steps under runc and tsrunc -----------------------------------------

describe('pause, resume, ps and events: step by step as runc 1.1.5', { skip }, () => {
  /** Each step's exit code and error text (and a normalised stdout), for one runtime. */
  function steps(rt: Tsrunc, id: string): string[] {
    const out: string[] = [];
    const step = (label: string, args: string[], norm: (s: string) => string = () => '') => {
      const res = rt.call(args);
      out.push(`${label}: rc ${res.status} ${res.status === 0 ? norm(res.stdout) : errMsg(res)}`);
      return res;
    };
    ok(rt.call(['run', '-d', '--bundle', b.sleep!.dir, id]), 'run -d');
    const status = () => String((JSON.parse(rt.call(['state', id]).stdout) as { status: string }).status);
    step('pause', ['pause', id]);
    out.push(`status ${status()}`);
    step('pause again', ['pause', id]);
    step('ps json (paused)', ['ps', '--format', 'json', id], (s) => (/^\[\d+\]\n$/.test(s) ? 'one pid' : s));
    step('events --stats (paused)', ['events', '--stats', id], (s) => (JSON.parse(s) as { type: string }).type);
    step('resume', ['resume', id]);
    out.push(`status ${status()}`);
    step('resume again', ['resume', id]);
    step('ps bad format', ['ps', '-f', 'xml', id]);
    step('events interval 0', ['events', '--interval', '0s', id]);
    step('kill', ['kill', id, 'KILL']);
    pollUntil(() => status() === 'stopped', 3000);
    out.push(`status ${status()}`);
    step('pause stopped', ['pause', id]);
    step('resume stopped', ['resume', id]);
    step('events stopped', ['events', '--stats', id], (s) => s);
    step('ps json stopped', ['ps', '-f', 'json', id], (s) => s);
    step('ps table stopped', ['ps', id], (s) => String(s.split('\n').length)); // header + ''
    step('delete', ['delete', id]);
    step('pause unknown', ['pause', id]);
    step('resume unknown', ['resume', id]);
    step('ps unknown', ['ps', id]);
    step('events unknown', ['events', id]);
    return out.map((l) => l.replaceAll(id, '<id>'));
  }

  it('every step gives runc\'s exit code and text', { skip: haveRunc ? false : 'runc not installed' }, () => {
    const mine = steps(t, ID.steps);
    const theirs = steps(r, ID.rsteps);
    // The one deliberate difference: pausing a paused container is not an error in tsrunc (the
    // cgroups issue asks for it); runc 1.1.5 refuses it.
    assert.ok(theirs.includes('pause again: rc 1 container not running'));
    assert.ok(mine.includes('pause again: rc 0 '));
    assert.deepEqual(mine.filter((l) => !l.startsWith('pause again:')), theirs.filter((l) => !l.startsWith('pause again:')));
    // What the other steps are, for the reader (runc 1.1.5 on this host):
    assert.ok(mine.includes('resume again: rc 1 container not paused'));
    assert.ok(mine.includes('events stopped: rc 1 container with id <id> is not running'));
    assert.ok(mine.includes('ps json stopped: rc 0 null\n'));
  });

  it('a created container can be paused (status paused), resumed (created again) and started', () => {
    const id = ID.created;
    const before = snapshot(t.root, []);
    ok(t.call(['create', '--bundle', b.sleep!.dir, id]), 'create');
    ok(t.call(['pause', id]), 'pause');
    assert.equal(t.status(id), 'paused');
    assert.equal(fs.readFileSync(path.join(recordedPaths(id).freezer!, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    ok(t.call(['resume', id]), 'resume');
    assert.equal(t.status(id), 'created');
    ok(t.call(['start', id]), 'start');
    assert.equal(t.status(id), 'running');
    ok(t.call(['delete', '--force', id]), 'delete --force');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });

  it('a paused container: kill KILL thaws it and it stops; delete then works', () => {
    const id = ID.pkill;
    const before = snapshot(t.root, []);
    ok(t.call(['run', '-d', '--bundle', b.sleep!.dir, id]), 'run -d');
    const pid = Number(t.state(id).pid);
    ok(t.call(['pause', id]), 'pause');
    ok(t.call(['kill', id, 'TERM']), 'kill TERM (pending while frozen)');
    assert.equal(t.status(id), 'paused');
    ok(t.call(['kill', id, 'KILL']), 'kill KILL');
    assert.equal(t.waitStatus(id, 'stopped', 3000), 'stopped');
    assert.ok(pollUntil(() => !isAlive(pid), 2000));
    ok(t.call(['delete', id]), 'delete');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });

  it('delete --force of a paused container kills every process of it', () => {
    const id = ID.pdel;
    const before = snapshot(t.root, []);
    ok(t.call(['run', '-d', '--bundle', b.family!.dir, id]), 'run -d');
    const pids = pollUntil(() => { const p = psJson(t, id); return p && p.length >= 4 ? p : null; }, 3000);
    assert.ok(pids, 'init and three sleeps');
    ok(t.call(['pause', id]), 'pause');
    const res = t.call(['delete', '--force', id]);
    ok(res, 'delete --force');
    assert.equal(res.stderr, '');
    assert.ok(pollUntil(() => pids.every((p) => !isAlive(p)), 3000), `still alive: ${pids.filter(isAlive).join(' ')}`);
    assert.deepEqual(processesInCgroupNamed(id), []);
    assert.equal(t.status(id), 'gone');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });
});

// ---- kill --all ------------------------------------------------------------------------------------

describe('kill --all: every process of the cgroup gets the signal exactly once', { skip }, () => {
  /** The pids the shells logged, once at least n lines are there (and a moment for extra ones). */
  function logged(n: number): string[] {
    const log = path.join(b.usr1!.rootfs, 'log');
    const read = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    pollUntil(() => read().length >= n, 5000);
    sleepMs(300); // a second delivery would show up by now
    return read();
  }

  for (const paused of [false, true]) {
    it(paused ? 'also when the container is paused (delivered on resume, stays paused until then)' : 'a running container', () => {
      const id = paused ? ID.allp : ID.all;
      const before = snapshot(t.root, []);
      fs.rmSync(path.join(b.usr1!.rootfs, 'log'), { force: true });
      ok(t.call(['run', '-d', '--bundle', b.usr1!.dir, id]), 'run -d');
      // 4 shells + their sleeps.
      assert.ok(pollUntil(() => (psJson(t, id) ?? []).length >= 8, 5000), `processes: ${JSON.stringify(psJson(t, id))}`);
      sleepMs(200); // the traps are set before the first sleep starts
      if (paused) ok(t.call(['pause', id]), 'pause');
      ok(t.call(['kill', '--all', id, 'USR1']), 'kill --all USR1');
      if (paused) {
        assert.equal(t.status(id), 'paused');
        sleepMs(300);
        assert.ok(!fs.existsSync(path.join(b.usr1!.rootfs, 'log')), 'nothing runs while paused');
        ok(t.call(['resume', id]), 'resume');
      }
      const lines = logged(4);
      assert.equal(lines.length, 4, `log: ${JSON.stringify(lines)}`);
      assert.equal(new Set(lines).size, 4, `each shell once: ${JSON.stringify(lines)}`);
      ok(t.call(['kill', '--all', id, 'KILL']), 'kill --all KILL');
      assert.equal(t.waitStatus(id, 'stopped', 3000), 'stopped');
      assert.deepEqual(pollUntil(() => processesInCgroupNamed(id).length === 0, 2000), true);
      ok(t.call(['delete', id]), 'delete');
      assert.deepEqual(leftovers(t.root, before, [id], []), []);
    });
  }
});

// ---- ps ----------------------------------------------------------------------------------------------

describe('ps', { skip }, () => {
  it('json: the host pids of the cgroup; table: ps -ef rows of those pids; extra args go to ps', () => {
    const id = ID.ps;
    const before = snapshot(t.root, []);
    ok(t.call(['run', '-d', '--bundle', b.family!.dir, id]), 'run -d');
    const pids = pollUntil(() => { const p = psJson(t, id); return p && p.length === 4 ? p : null; }, 3000);
    assert.ok(pids, `init and three sleeps: ${JSON.stringify(psJson(t, id))}`);
    assert.deepEqual([...pids].sort((x, y) => x - y), pids, 'ascending');
    assert.ok(pids.includes(Number(t.state(id).pid)), 'the init is listed');
    for (const p of pids) {
      assert.match(fs.readFileSync(`/proc/${p}/cgroup`, 'utf8'), new RegExp(`/${id}$`, 'm'));
    }

    const table = t.call(['ps', id]);
    ok(table, 'ps');
    assert.equal(table.stderr, '');
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.equal(lines.at(-1), '');
    const rows = lines.slice(1, -1);
    assert.deepEqual(rows.map((l) => Number(l.trim().split(/\s+/)[1])).sort((x, y) => x - y), pids);

    const custom = t.call(['ps', id, '-o', 'pid,comm']);
    ok(custom, 'ps -o pid,comm');
    const cl = custom.stdout.trimEnd().split('\n');
    assert.match(cl[0]!, /^\s*PID\s+COMMAND$/);
    assert.deepEqual(cl.slice(1).map((l) => l.trim().split(/\s+/)).sort((x, y) => Number(x[0]) - Number(y[0])),
      pids.map((p) => [String(p), p === Number(t.state(id).pid) ? 'sh' : 'sleep']));

    const noPid = t.call(['ps', id, '-o', 'comm']);
    assert.equal(noPid.status, 1);
    assert.equal(errMsg(noPid), "couldn't find PID field in ps output");
    const bad = t.call(['ps', id, '--no-such-ps-option']);
    assert.equal(bad.status, 1);
    assert.match(errMsg(bad), /^exit status 1: error: /);

    ok(t.call(['pause', id]), 'pause');
    assert.deepEqual(psJson(t, id), pids, 'paused: same pids');
    ok(t.call(['delete', '--force', id]), 'delete --force');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });
});

// ---- events ------------------------------------------------------------------------------------------

/** Fields that runc encodes with omitempty: present only when non-zero / non-empty. */
const OMITEMPTY = new Set([
  'cpu.usage.total', 'cpu.usage.percpu', 'cpu.usage.percpu_kernel', 'cpu.usage.percpu_user',
  'cpu.throttling.periods', 'cpu.throttling.throttledPeriods', 'cpu.throttling.throttledTime',
  'cpuset.cpus', 'cpuset.mems', 'memory.cache', 'memory.raw', 'pids.current', 'pids.limit',
  ...['usage', 'swap', 'kernel', 'kernelTCP'].flatMap((k) => [`memory.${k}.usage`, `memory.${k}.max`]),
  ...['ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive',
    'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive'].map((k) => `blkio.${k}`),
]);

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Field-by-field comparison of two `data` objects: same keys (omitempty aside), same kinds. */
function shapeDiff(a: unknown, b: unknown, at: string, out: string[]): void {
  if (kind(a) !== kind(b)) { out.push(`${at}: runc ${kind(a)}, tsrunc ${kind(b)}`); return; }
  if (kind(a) === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length > 0 && y.length > 0) shapeDiff(x[0], y[0], `${at}[0]`, out);
    return;
  }
  if (kind(a) !== 'object') return;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const raw = at === 'memory.raw' || at === 'hugetlb';
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const p = at === '' ? k : `${at}.${k}`;
    if (!(k in x) || !(k in y)) {
      if (!OMITEMPTY.has(p)) out.push(`${p}: only in ${k in x ? 'runc' : 'tsrunc'}`);
      continue;
    }
    if (!raw) shapeDiff(x[k], y[k], p, out);
    else if (kind(x[k]) !== kind(y[k])) out.push(`${p}: runc ${kind(x[k])}, tsrunc ${kind(y[k])}`);
  }
  if (!raw) {
    // Same field order as runc (Go encodes struct fields in declaration order).
    const common = Object.keys(x).filter((k) => k in y);
    const mine = Object.keys(y).filter((k) => k in x);
    if (common.join() !== mine.join()) out.push(`${at || '(top)'}: order runc ${common.join()} vs tsrunc ${mine.join()}`);
  }
}

/** Go's uint64 values survive only as text: the raw number of `"key":<digits>` in the line. */
function rawNumber(line: string, key: string): string | undefined {
  return new RegExp(`"${key}":(\\d+)`).exec(line)?.[1];
}

describe('events', { skip }, () => {
  it('--stats: one line in runc\'s shape, field by field, for the same container under runc', { skip: haveRunc ? false : 'runc not installed' }, () => {
    ok(t.call(['run', '-d', '--bundle', b.sleep!.dir, ID.stats]), 'tsrunc run -d');
    ok(r.call(['run', '-d', '--bundle', b.sleep!.dir, ID.rstats]), 'runc run -d');
    const mine = t.call(['events', '--stats', ID.stats]);
    const theirs = r.call(['events', '--stats', ID.rstats]);
    ok(mine, 'tsrunc events --stats');
    ok(theirs, 'runc events --stats');
    assert.equal(mine.stderr, '');
    assert.match(mine.stdout, /^\{"type":"stats","id":"[^"]+","data":\{"cpu":\{"usage":\{.*\}\}\n$/);
    assert.equal(mine.stdout.split('\n').length, 2, 'one line');
    const a = JSON.parse(theirs.stdout) as { type: string; id: string; data: Record<string, unknown> };
    const m = JSON.parse(mine.stdout) as { type: string; id: string; data: Record<string, unknown> };
    assert.deepEqual(Object.keys(m), ['type', 'id', 'data']);
    assert.equal(m.type, 'stats');
    assert.equal(m.id, ID.stats);
    const diffs: string[] = [];
    shapeDiff(a.data, m.data, '', diffs);
    assert.deepEqual(diffs, []);
    // Values that do not depend on what ran: limits (exact 64-bit text), cpuset, pids, raw keys.
    for (const k of ['limit', 'hierarchical_memory_limit', 'hierarchical_memsw_limit']) {
      assert.equal(rawNumber(mine.stdout, k), rawNumber(theirs.stdout, k), k);
    }
    assert.deepEqual(m.data.cpuset, a.data.cpuset);
    assert.deepEqual(m.data.pids, { current: 1 });
    assert.deepEqual(m.data.pids, a.data.pids);
    assert.deepEqual(m.data.hugetlb, a.data.hugetlb);
    // Not blkio's values: they count the container's own I/O, and the first of the two to start
    // may read busybox from disk (a fresh rootfs) where the second finds it in the page cache (seen
    // in a fresh-clone CI run). Its keys and entries' fields are in shapeDiff above.
    assert.deepEqual(m.data.intel_rdt, {});
    assert.equal(m.data.network_interfaces, null);
    const raw = (d: Record<string, unknown>) => Object.keys((d.memory as { raw: object }).raw);
    assert.deepEqual(raw(m.data), raw(a.data));
    const usage = (m.data.cpu as { usage: { total?: number; percpu?: number[] } }).usage;
    assert.ok((usage.total ?? 0) > 0, 'cpu time used');
    assert.equal(usage.percpu?.length, (a.data.cpu as { usage: { percpu: number[] } }).usage.percpu.length);
    ok(t.call(['delete', '--force', ID.stats]), 'tsrunc delete');
    ok(r.call(['delete', '--force', ID.rstats]), 'runc delete');
  });

  it('the stream: stats every --interval and an oom event when a memory hog hits its limit; ends on delete', async () => {
    const id = ID.oom;
    const before = snapshot(t.root, []);
    ok(t.call(['create', '--bundle', b.hog!.dir, id]), 'create');
    // The limit, written into the container's own v1 memory cgroup (no swap on this host; memsw
    // too, where swap accounting exists, so the hog cannot escape into swap).
    const mem = recordedPaths(id).memory!;
    fs.writeFileSync(path.join(mem, 'memory.limit_in_bytes'), String(32 << 20));
    if (fs.existsSync(path.join(mem, 'memory.memsw.limit_in_bytes'))) fs.writeFileSync(path.join(mem, 'memory.memsw.limit_in_bytes'), String(32 << 20));
    // events must be up (its first stats line out, so it has read the OOM counter) before the
    // hog starts: a loaded machine can take longer than any fixed delay to start node.
    const child = spawn(TSRUNC, ['--root', t.root, 'events', '--interval', '300ms', id], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(); });
      child.on('exit', () => reject(new Error(`events exited before a line: ${out}`)));
    });
    ok(t.call(['start', id]), 'start');
    assert.equal(t.waitStatus(id, 'stopped', 15000), 'stopped', 'the hog is OOM-killed');
    sleepMs(800); // ≥ 2 intervals after the kill
    ok(t.call(['delete', id]), 'delete (removes the cgroup: the stream ends)');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, `events exit status; stdout: ${out.slice(0, 400)}`);
    const lines = out.split('\n');
    assert.equal(lines.pop(), '');
    type Entry = { limit?: number; max?: number };
    const events = lines.map((l) => JSON.parse(l) as { type: string; id: string; data?: { memory?: { usage?: Entry; swap?: Entry } } });
    assert.ok(events.every((e) => e.id === id));
    const ooms = events.filter((e) => e.type === 'oom');
    assert.equal(ooms.length, 1, out.slice(0, 400));
    assert.deepEqual(Object.keys(ooms[0]!), ['type', 'id']);
    const stats = events.filter((e) => e.type === 'stats');
    assert.ok(stats.length >= 3, `stats events: ${stats.length}`);
    assert.equal(stats.at(-1)!.data?.memory?.usage?.limit, 32 << 20);
    assert.equal(stats.at(-1)!.data?.memory?.usage?.max, 32 << 20, 'the peak usage reached the limit');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });

  it('the stream stops when its reader goes away (as runc dies of SIGPIPE)', async () => {
    const id = ID.pipe;
    const before = snapshot(t.root, []);
    ok(t.call(['run', '-d', '--bundle', b.sleep!.dir, id]), 'run -d');
    const child = spawn(TSRUNC, ['--root', t.root, 'events', '--interval', '100ms', id], { stdio: ['ignore', 'pipe', 'ignore'] });
    const first = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
      child.on('exit', () => reject(new Error(`exited before a line: ${buf}`)));
    });
    assert.match(first, /^\{"type":"stats","id":"[^"]+","data":\{/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdout!.destroy();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, 'exits by itself, rc 0');
    ok(t.call(['delete', '--force', id]), 'delete --force');
    assert.deepEqual(leftovers(t.root, before, [id], []), []);
  });
});
