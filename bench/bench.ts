// tsrunc vs runc vs `node empty.js`: a benchmark script (not a test). See bench/README.md.
//
//   npm run bench -- [--runs N] [--warmup N] [--json] [--only run,cycle,state,mem,ecosystem] [--ecosystem]
//                    [--breakdown [N]] [--tsrunc PATH] [--runc PATH] [--no-reaper]
//
// Everything is measured in the same invocation, as interleaved runs (tsrunc, runc, node, tsrunc,
// runc, node, ...) after warm-ups, and reported as medians. Each call is one spawnSync timed with
// process.hrtime, so the spawn overhead is the same on every side. The exit status is 0 whether or
// not the targets are met; it is 1 only when something failed to run.
//
// Every container gets a unique id and is registered before it is created; the finally block
// force-deletes whatever is still registered (and whatever `list` still shows under the private
// --root dirs), then removes the temp dir.
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeBundle, repoRoot } from '../conformance/lib/rootfs';
import type { ProbeReport } from './require-probe';
import { benchEcosystem } from './ecosystem';

// ---- options -----------------------------------------------------------------------------------

const SECTIONS = ['run', 'cycle', 'state', 'mem', 'ecosystem'] as const;
// Slow (a dockerd and a podman): only with --only ecosystem or --ecosystem.
const OFF_BY_DEFAULT: readonly Section[] = ['ecosystem'];
type Section = (typeof SECTIONS)[number];

interface Options {
  runs: number;
  warmup: number;
  json: boolean;
  only: Set<Section>;
  breakdown: number;
  tsrunc: string;
  runc: string;
  reaper: boolean;
  scrubNodeEnv: boolean;
  /** Parent of the --root dirs (default: /dev/shm when it is a tmpfs, else the temp dir). */
  stateDir?: string;
}

/** Environment variables that change what every node process does at start-up. */
const NODE_ENV_VARS = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_USE_SYSTEM_CA', 'NODE_COMPILE_CACHE', 'NODE_V8_COVERAGE'];

const USAGE = `usage: node dist/bench/bench.js [options]
  --runs N         measured runs per operation and runtime (default 20)
  --warmup N       warm-up runs per operation and runtime (default 3)
  --json           print the results as JSON instead of tables
  --only LIST      comma-separated subset of: ${SECTIONS.join(',')} (default: all but ecosystem)
  --ecosystem      add the ecosystem section: docker/podman run --rm IMG true with each runtime
  --breakdown [N]  also profile N (default 5) \`tsrunc --debug run\` and \`tsrunc state\` calls:
                   phase timings from --debug and per-module require() times
  --tsrunc PATH    tsrunc executable (default <repo>/bin/tsrunc)
  --runc PATH      runc executable (default runc from PATH)
  --state-dir DIR  where to make the runtimes' --root dirs (default /dev/shm if it is a tmpfs, like
                   /run/runc normally is; else the temp dir, where tsrunc's state fsync costs more)
  --no-reaper      do not re-run under build/Release/tsrunc-reaper (a child subreaper)
  --scrub-node-env run every measured process without ${NODE_ENV_VARS.join(', ')}
                   (NODE_EXTRA_CA_CERTS alone costs each node start-up ~50 ms here)
`;

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const root = repoRoot();
  const o: Options = {
    runs: 20,
    warmup: 3,
    json: false,
    only: new Set(SECTIONS.filter((s) => !OFF_BY_DEFAULT.includes(s))),
    breakdown: 0,
    tsrunc: path.join(root, 'bin', 'tsrunc'),
    runc: 'runc',
    reaper: true,
    scrubNodeEnv: false,
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < min) throw new UsageError(`${name} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--runs': o.runs = int('--runs', value(), 1); break;
      case '--warmup': o.warmup = int('--warmup', value(), 0); break;
      case '--json': o.json = true; break;
      case '--no-reaper': o.reaper = false; break;
      case '--scrub-node-env': o.scrubNodeEnv = true; break;
      case '--ecosystem': o.only.add('ecosystem'); break;
      case '--state-dir': o.stateDir = path.resolve(value() ?? ''); break;
      case '--tsrunc': o.tsrunc = path.resolve(value() ?? ''); break;
      case '--runc': o.runc = value() ?? 'runc'; break;
      case '--only': {
        const list = (value() ?? '').split(',').filter(Boolean);
        for (const s of list) if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: unknown section ${s}`);
        if (list.length === 0) throw new UsageError('--only needs a list');
        o.only = new Set(list as Section[]);
        break;
      }
      case '--breakdown':
        if (inline !== undefined) o.breakdown = int('--breakdown', inline, 1);
        else if (argv[i + 1] !== undefined && /^\d+$/.test(argv[i + 1])) o.breakdown = int('--breakdown', argv[++i], 1);
        else o.breakdown = 5;
        break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown argument ${a}`);
    }
  }
  return o;
}

// ---- statistics --------------------------------------------------------------------------------

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summary(xs: readonly number[]): { median: number; min: number; max: number; n: number } {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

// ---- processes ---------------------------------------------------------------------------------

class BenchError extends Error {}

let interrupted: NodeJS.Signals | null = null;
let firstSignalAt = 0;

/** Let signal handlers run between (never during) measured calls. */
async function tick(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (interrupted) throw new BenchError(`interrupted by ${interrupted}`);
}

let clkTck = 100;

/** user+sys CPU ms of this process's waited-for children (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return ((Number(f[13]) + Number(f[14])) * 1000) / clkTck; // fields 16 cutime, 17 cstime
}

interface Call {
  argv: string[];
  ms: number;
  cpuMs: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/**
 * Run argv synchronously with stdin /dev/null and stdout/stderr to two files (never pipes: a
 * created container inherits them and would keep a pipe open), timing only the spawnSync.
 */
class Runner {
  private readonly outFd: number;
  private readonly errFd: number;

  constructor(private readonly dir: string, private readonly env: NodeJS.ProcessEnv) {
    this.outFd = fs.openSync(path.join(dir, 'stdout.log'), 'a+');
    this.errFd = fs.openSync(path.join(dir, 'stderr.log'), 'a+');
  }

  exec(argv: string[], extraEnv?: NodeJS.ProcessEnv): Call {
    fs.ftruncateSync(this.outFd, 0);
    fs.ftruncateSync(this.errFd, 0);
    const env = extraEnv ? { ...this.env, ...extraEnv } : this.env;
    const cpu0 = childrenCpuMs();
    const t0 = process.hrtime.bigint();
    const r: SpawnSyncReturns<Buffer> = spawnSync(argv[0], argv.slice(1), {
      stdio: ['ignore', this.outFd, this.errFd],
      env,
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpuMs = childrenCpuMs() - cpu0;
    return {
      argv, ms, cpuMs, status: r.status, signal: r.signal, error: r.error,
      stdout: this.read(this.outFd), stderr: this.read(this.errFd),
    };
  }

  /** exec, and throw unless it exited 0. */
  ok(argv: string[], extraEnv?: NodeJS.ProcessEnv): Call {
    const c = this.exec(argv, extraEnv);
    if (c.error || c.status !== 0) throw new BenchError(describe(c));
    return c;
  }

  private read(fd: number): string {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return '';
    const n = Math.min(size, 64 * 1024);
    const b = Buffer.alloc(n);
    fs.readSync(fd, b, 0, n, size - n);
    return b.toString('utf8');
  }

  close(): void {
    for (const fd of [this.outFd, this.errFd]) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }
}

function describe(c: Call): string {
  const how = c.error ? `could not run: ${c.error.message}` : c.signal ? `killed by ${c.signal}` : `exit ${c.status}`;
  const err = c.stderr.trim().split('\n').slice(-3).join(' | ');
  return `\`${c.argv.join(' ')}\`: ${how}${err ? `: ${err}` : ''}`;
}

// ---- runtimes and containers -------------------------------------------------------------------

type Side = 'tsrunc' | 'runc';

class Runtime {
  /** Ids that may exist under this runtime's root: force-deleted by cleanup(). */
  readonly live = new Set<string>();

  constructor(readonly side: Side, readonly bin: string, readonly root: string) {}

  argv(...args: string[]): string[] {
    return [this.bin, '--root', this.root, ...args];
  }

  /** Best effort: force-delete every container this runtime may still have. Returns failures. */
  cleanup(x: Runner): string[] {
    const failures: string[] = [];
    const ids = new Set(this.live);
    const l = x.exec(this.argv('list', '-q'));
    if (!l.error && l.status === 0) for (const id of l.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) ids.add(id);
    for (const id of ids) {
      const c = x.exec(this.argv('delete', '--force', id));
      if (c.error || c.status !== 0) {
        // Already gone is fine; anything else is reported.
        if (!/does not exist/.test(c.stderr)) failures.push(describe(c));
      }
      this.live.delete(id);
    }
    return failures;
  }
}

let idSeq = 0;
const ID_PREFIX = `tsb${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

function newId(rt: Runtime, what: string): string {
  const id = `${ID_PREFIX}-${rt.side === 'tsrunc' ? 't' : 'r'}-${what}-${++idSeq}`;
  rt.live.add(id);
  return id;
}

function readPid(file: string): number {
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new BenchError(`bad pid file ${file}`);
  return pid;
}

interface ProcMem { comm: string; vmRssKiB: number; rssAnonKiB: number; rssFileKiB: number; rssShmemKiB: number }

function procMem(pid: number): ProcMem {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : NaN;
  };
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  return { comm, vmRssKiB: kib('VmRSS'), rssAnonKiB: kib('RssAnon'), rssFileKiB: kib('RssFile'), rssShmemKiB: kib('RssShmem') };
}

/** Poll until pid has exited (gone, or a zombie: both runtimes call that `stopped`). */
function waitStopped(pid: number, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > deadline) throw new BenchError(`container process ${pid} still running after ${timeoutMs} ms`);
    Atomics.wait(sleeper, 0, 0, 0.2);
  }
}

// ---- measurements ------------------------------------------------------------------------------

interface Ctx {
  o: Options;
  x: Runner;
  ts: Runtime;
  rc: Runtime;
  bundle: string;
  nodeEmpty: string[];
  tmp: string;
}

type Samples = Record<string, number[]>;

function push(s: Samples, k: string, v: number): void {
  (s[k] ??= []).push(v);
}

/** Interleave: for each of warmup+runs iterations, run every step in order; keep measured ones. */
async function interleave(o: Options, steps: Array<(measured: boolean) => void>): Promise<void> {
  for (let i = 0; i < o.warmup + o.runs; i++) {
    for (const step of steps) {
      await tick();
      step(i >= o.warmup);
    }
  }
}

/** (1) `run /bin/true`. */
async function benchRun(c: Ctx): Promise<{ ms: Samples; cpu: Samples }> {
  const ms: Samples = {};
  const cpu: Samples = {};
  const runStep = (rt: Runtime) => (measured: boolean) => {
    const id = newId(rt, 'run');
    const r = c.x.ok(rt.argv('run', '--bundle', c.bundle, id));
    rt.live.delete(id); // run deletes the container when it exits
    if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
  };
  await interleave(c.o, [
    runStep(c.ts),
    runStep(c.rc),
    (measured) => {
      const r = c.x.ok(c.nodeEmpty);
      if (measured) { push(ms, 'node', r.ms); push(cpu, 'node', r.cpuMs); }
    },
  ]);
  return { ms, cpu };
}

/** (2) create + start + wait + delete as three CLI calls; (4a) VmRSS of the process waiting in created. */
async function benchCycle(c: Ctx): Promise<{ ms: Samples; cpu: Samples; mem: Record<Side, ProcMem[]> }> {
  const ms: Samples = {};
  const cpu: Samples = {};
  const mem: Record<Side, ProcMem[]> = { tsrunc: [], runc: [] };
  const pidFile = path.join(c.tmp, 'cycle.pid');
  const cycleStep = (rt: Runtime) => (measured: boolean) => {
    const id = newId(rt, 'cyc');
    fs.rmSync(pidFile, { force: true });
    const cr = c.x.ok(rt.argv('create', '--bundle', c.bundle, '--pid-file', pidFile, id));
    const pid = readPid(pidFile);
    const m = procMem(pid);
    const st = c.x.ok(rt.argv('start', id));
    const t0 = process.hrtime.bigint();
    waitStopped(pid);
    const waitMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const del = c.x.ok(rt.argv('delete', id));
    rt.live.delete(id);
    if (!measured) return;
    mem[rt.side].push(m);
    const k = rt.side;
    push(ms, `${k}.create`, cr.ms);
    push(ms, `${k}.start`, st.ms);
    push(ms, `${k}.wait`, waitMs);
    push(ms, `${k}.delete`, del.ms);
    push(ms, k, cr.ms + st.ms + waitMs + del.ms);
    push(cpu, k, cr.cpuMs + st.cpuMs + del.cpuMs);
  };
  await interleave(c.o, [
    cycleStep(c.ts),
    cycleStep(c.rc),
    (measured) => {
      // The baseline for three CLI calls: three `node empty.js` in a row.
      let t = 0;
      let u = 0;
      for (let j = 0; j < 3; j++) {
        const r = c.x.ok(c.nodeEmpty);
        t += r.ms;
        u += r.cpuMs;
      }
      if (measured) { push(ms, 'node', t); push(cpu, 'node', u); }
    },
  ]);
  return { ms, cpu, mem };
}

/** (3) `state` of a created container; (4a) its waiting process; (4b) CLI peak RSS of `state`. */
async function benchState(c: Ctx, doState: boolean, doMem: boolean): Promise<{
  ms: Samples; cpu: Samples; mem: Record<Side, ProcMem[]>; peakKiB: Samples | null; peakSkipped?: string;
}> {
  const ms: Samples = {};
  const cpu: Samples = {};
  const mem: Record<Side, ProcMem[]> = { tsrunc: [], runc: [] };
  const ids: Record<Side, string> = { tsrunc: '', runc: '' };
  const pids: Record<Side, number> = { tsrunc: 0, runc: 0 };
  try {
    for (const rt of [c.ts, c.rc]) {
      const id = newId(rt, 'st');
      const pidFile = path.join(c.tmp, `state-${rt.side}.pid`);
      c.x.ok(rt.argv('create', '--bundle', c.bundle, '--pid-file', pidFile, id));
      ids[rt.side] = id;
      pids[rt.side] = readPid(pidFile);
      mem[rt.side].push(procMem(pids[rt.side]));
    }
    const stateStep = (rt: Runtime) => (measured: boolean) => {
      const r = c.x.ok(rt.argv('state', ids[rt.side]));
      let status: unknown;
      try { status = (JSON.parse(r.stdout) as { status?: unknown }).status; } catch { status = undefined; }
      if (status !== 'created') throw new BenchError(`${rt.side} state ${ids[rt.side]}: expected status "created", got ${r.stdout.trim().slice(0, 200)}`);
      if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
    };
    if (doState) {
      await interleave(c.o, [
        stateStep(c.ts),
        stateStep(c.rc),
        (measured) => {
          const r = c.x.ok(c.nodeEmpty);
          if (measured) { push(ms, 'node', r.ms); push(cpu, 'node', r.cpuMs); }
        },
      ]);
    }
    let peakKiB: Samples | null = null;
    let peakSkipped: string | undefined;
    if (doMem) {
      // The waiting processes again, after the state calls (they must not have grown).
      for (const rt of [c.ts, c.rc]) mem[rt.side].push(procMem(pids[rt.side]));
      const time = '/usr/bin/time';
      if (!fs.existsSync(time)) {
        peakSkipped = `${time} is not installed (the benchmark installs nothing)`;
      } else {
        peakKiB = {};
        const out = path.join(c.tmp, 'time.out');
        const timed = (key: string, argv: string[]) => (measured: boolean) => {
          fs.rmSync(out, { force: true });
          c.x.ok([time, '-f', '%M', '-o', out, ...argv]);
          const kib = Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
          if (!Number.isFinite(kib) || kib <= 0) throw new BenchError(`${time}: no %M in ${out}`);
          if (measured) push(peakKiB!, key, kib);
        };
        await interleave({ ...c.o, runs: Math.min(c.o.runs, 10), warmup: Math.min(c.o.warmup, 1) }, [
          timed('tsrunc', c.ts.argv('state', ids.tsrunc)),
          timed('runc', c.rc.argv('state', ids.runc)),
          timed('node', c.nodeEmpty),
        ]);
      }
    }
    return { ms, cpu, mem, peakKiB, peakSkipped };
  } finally {
    for (const rt of [c.ts, c.rc]) {
      if (!ids[rt.side]) continue;
      const d = c.x.exec(rt.argv('delete', '--force', ids[rt.side]));
      if (!d.error && d.status === 0) rt.live.delete(ids[rt.side]);
    }
  }
}

// ---- breakdown (--breakdown) ---------------------------------------------------------------------

interface Breakdown {
  command: string;
  runs: number;
  /** Medians over the runs of each quantity (ms); wall clock, and CPU (user+sys, all threads). */
  wallMs: number;
  bootMs: number;
  requireMs: number;
  /** The entry script's self time: the command's synchronous work outside require(). */
  ownMs: number;
  asyncMs: number;
  outsideMs: number;
  cpu: { bootMs: number; requireMs: number; ownMs: number; asyncMs: number; totalMs: number };
  nodeTiming: Record<string, number>;
  phases: Array<{ phase: string; deltaMs: number }>;
  /** Sorted by self CPU. */
  modules: Array<{ id: string; selfMs: number; inclusiveMs: number; selfCpuMs: number; inclusiveCpuMs: number }>;
}

/** `name: X ms` debug lines → per-phase deltas (each lifecycle function restarts its own clock). */
function phaseDeltas(stderr: string): Array<{ phase: string; ms: number }> {
  const out: Array<{ phase: string; ms: number }> = [];
  let prev = 0;
  let group = 0;
  for (const m of stderr.matchAll(/level=debug msg="?([^":]+): ([0-9.]+) ms"?/g)) {
    const v = Number(m[2]);
    if (v < prev) group++;
    const d = v < prev ? v : v - prev;
    out.push({ phase: `${group}:${m[1]}`, ms: d });
    prev = v;
  }
  return out;
}

function shortModule(id: string, root: string): string {
  if (id.startsWith(root + path.sep)) return id.slice(root.length + 1);
  return id;
}

async function breakdown(c: Ctx): Promise<Breakdown[]> {
  const probe = path.join(__dirname, 'require-probe.js');
  const probeOut = path.join(c.tmp, 'probe.json');
  const pidFile = path.join(c.tmp, 'breakdown.pid');
  const names = {
    node: 'node empty.js',
    run: 'tsrunc --debug run /bin/true',
    create: 'tsrunc --debug create',
    start: 'tsrunc --debug start',
    delete: 'tsrunc --debug delete (stopped)',
    state: 'tsrunc --debug state (created)',
  };
  type Kind = keyof typeof names;
  const acc = {} as Record<Kind, { walls: number[]; reports: ProbeReport[]; phases: Record<string, number[]> }>;
  for (const k of Object.keys(names) as Kind[]) acc[k] = { walls: [], reports: [], phases: {} };
  const probed = (kind: Kind, argv: string[], measured: boolean): void => {
    fs.rmSync(probeOut, { force: true });
    const r = c.x.ok([process.execPath, '-r', probe, ...argv], { TSRUNC_BENCH_PROBE_OUT: probeOut });
    if (!measured) return;
    const a = acc[kind];
    a.walls.push(r.ms);
    a.reports.push(JSON.parse(fs.readFileSync(probeOut, 'utf8')) as ProbeReport);
    for (const p of phaseDeltas(r.stderr)) (a.phases[p.phase] ??= []).push(p.ms);
  };
  let stateId = '';
  try {
    stateId = newId(c.ts, 'bd');
    c.x.ok(c.ts.argv('create', '--bundle', c.bundle, stateId));
    for (let i = 0; i < c.o.breakdown + 1; i++) {
      const measured = i > 0; // the first round is a warm-up
      await tick();
      probed('node', c.nodeEmpty.slice(1), measured);
      await tick();
      const runId = newId(c.ts, 'bd');
      probed('run', c.ts.argv('--debug', 'run', '--bundle', c.bundle, runId), measured);
      c.ts.live.delete(runId);
      await tick();
      const id = newId(c.ts, 'bd');
      fs.rmSync(pidFile, { force: true });
      probed('create', c.ts.argv('--debug', 'create', '--bundle', c.bundle, '--pid-file', pidFile, id), measured);
      const pid = readPid(pidFile);
      probed('start', c.ts.argv('--debug', 'start', id), measured);
      waitStopped(pid);
      probed('delete', c.ts.argv('--debug', 'delete', id), measured);
      c.ts.live.delete(id);
      await tick();
      probed('state', c.ts.argv('--debug', 'state', stateId), measured);
    }
  } finally {
    if (stateId) {
      const d = c.x.exec(c.ts.argv('delete', '--force', stateId));
      if (!d.error && d.status === 0) c.ts.live.delete(stateId);
    }
  }
  const root = repoRoot();
  return (Object.keys(names) as Kind[]).map((k) => summarizeProbes(names[k], acc[k].walls, acc[k].reports, acc[k].phases, root));
}

function summarizeProbes(command: string, walls: number[], reports: ProbeReport[], phases: Record<string, number[]>, root: string): Breakdown {
  const med = (f: (p: ProbeReport, i: number) => number) => r2(median(reports.map(f)));
  const nodeTiming: Record<string, number> = {};
  for (const key of Object.keys(reports[0]?.nodeTiming ?? {})) nodeTiming[key] = med((p) => p.nodeTiming[key]);
  const entry = (p: ProbeReport) => p.modules.find((m) => m.main);
  const first = (p: ProbeReport) => p.firstLoadAt ?? 0;
  const firstCpu = (p: ProbeReport) => p.firstLoadCpuMs ?? 0;
  const mods: Record<string, { self: number[]; incl: number[]; selfCpu: number[]; inclCpu: number[] }> = {};
  for (const rep of reports) {
    for (const m of rep.modules) {
      if (m.main) continue;
      const e = (mods[m.id] ??= { self: [], incl: [], selfCpu: [], inclCpu: [] });
      e.self.push(m.selfMs);
      e.incl.push(m.inclusiveMs);
      e.selfCpu.push(m.selfCpuMs);
      e.inclCpu.push(m.inclusiveCpuMs);
    }
  }
  // A module loaded in only some runs counts 0 in the others.
  const pad = (v: number[]) => [...v, ...new Array<number>(Math.max(0, reports.length - v.length)).fill(0)];
  const modules = Object.entries(mods)
    .map(([id, e]) => ({
      id: shortModule(id, root),
      selfMs: r2(median(pad(e.self))),
      inclusiveMs: r2(median(pad(e.incl))),
      selfCpuMs: r2(median(pad(e.selfCpu))),
      inclusiveCpuMs: r2(median(pad(e.inclCpu))),
    }))
    .sort((a, b) => b.selfCpuMs - a.selfCpuMs);
  return {
    command,
    runs: reports.length,
    wallMs: r2(median(walls)),
    bootMs: med(first),
    requireMs: med((p) => p.requireMs),
    ownMs: med((p) => entry(p)?.selfMs ?? 0),
    asyncMs: med((p) => p.exitAt - first(p) - p.requireMs - (entry(p)?.selfMs ?? 0)),
    outsideMs: r2(median(reports.map((p, i) => walls[i] - p.exitAt))),
    cpu: {
      bootMs: med(firstCpu),
      requireMs: med((p) => p.requireCpuMs),
      ownMs: med((p) => entry(p)?.selfCpuMs ?? 0),
      asyncMs: med((p) => p.exitCpuMs - firstCpu(p) - p.requireCpuMs - (entry(p)?.selfCpuMs ?? 0)),
      totalMs: med((p) => p.exitCpuMs),
    },
    nodeTiming,
    phases: Object.entries(phases).map(([phase, v]) => ({ phase: phase.replace(/^\d+:/, ''), deltaMs: r2(median(v)) })),
    modules,
  };
}

// ---- report ------------------------------------------------------------------------------------

interface Row {
  operation: string;
  unit: 'ms' | 'MiB';
  tsrunc: number;
  runc: number;
  node: number | null;
  /** The node column is `nodeCalls` × `node empty.js` (three-call cycle) */
  nodeCalls?: number;
  ratioRunc: number;
  ratioNode: number | null;
  /** Median of the per-iteration ratios (pairs measured next to each other). */
  pairedRatioRunc?: number;
  pairedRatioNode?: number;
  target?: { text: string; met: boolean };
  indent?: boolean;
  cpuMs?: { tsrunc: number; runc: number; node: number | null };
}

function pairedMedian(a: number[] | undefined, b: number[] | undefined): number | undefined {
  if (!a || !b || a.length !== b.length || a.length === 0) return undefined;
  return r2(median(a.map((x, i) => x / b[i])));
}

function mean(xs: number[] | undefined): number {
  if (!xs || xs.length === 0) return NaN;
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function timeRow(operation: string, ms: Samples, cpu: Samples | null, tsKey: string, rcKey: string, nodeKey: string | null): Row {
  const t = median(ms[tsKey]);
  const r = median(ms[rcKey]);
  const n = nodeKey ? median(ms[nodeKey]) : null;
  return {
    operation,
    unit: 'ms',
    tsrunc: r2(t),
    runc: r2(r),
    node: n === null ? null : r2(n),
    ratioRunc: r2(t / r),
    ratioNode: n === null ? null : r2(t / n),
    pairedRatioRunc: pairedMedian(ms[tsKey], ms[rcKey]),
    pairedRatioNode: nodeKey ? pairedMedian(ms[tsKey], ms[nodeKey]) : undefined,
    cpuMs: cpu ? { tsrunc: r2(mean(cpu[tsKey])), runc: r2(mean(cpu[rcKey])), node: nodeKey ? r2(mean(cpu[nodeKey])) : null } : undefined,
  };
}

function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  return x.toFixed(digits);
}

function printTable(rows: Row[], meta: Record<string, unknown>, notes: string[], bds: Breakdown[]): void {
  const w = (s: string, n: number, left = false) => (left ? s.padEnd(n) : s.padStart(n));
  const lines: string[] = [];
  lines.push(`tsrunc benchmark: ${meta.runs} runs after ${meta.warmup} warm-ups each, interleaved tsrunc/runc/node; medians`);
  lines.push(`  ${meta.tsruncVersion}; ${meta.runcVersion}; node ${meta.nodeVersion}; kernel ${meta.kernel}; ${meta.cpus} CPUs; loadavg ${meta.loadBefore} -> ${meta.loadAfter}`);
  lines.push(`  --root dirs in ${meta.stateDir}; bundle ${meta.bundleDir}`);
  lines.push('');
  const head = `${w('operation', 34, true)} ${w('tsrunc', 9)} ${w('runc', 9)} ${w('node', 9)} ${w('ts/runc', 8)} ${w('ts/node', 8)}  target`;
  lines.push(head);
  lines.push('-'.repeat(head.length + 24));
  for (const r of rows) {
    const name = (r.indent ? '  ' : '') + r.operation + (r.unit === 'MiB' ? ' (MiB)' : ' (ms)');
    const node = r.node === null ? '-' : (r.nodeCalls ? `${r.nodeCalls}x ` : '') + fmt(r.node);
    const tgt = r.target ? `${r.target.text}: ${r.target.met ? 'met' : 'not met'}` : '';
    lines.push(`${w(name, 34, true)} ${w(fmt(r.tsrunc, r.unit === 'MiB' ? 2 : 1), 9)} ${w(fmt(r.runc, r.unit === 'MiB' ? 2 : 1), 9)} ${w(node, 9)} ` +
      `${w(r.ratioRunc === null ? '-' : fmt(r.ratioRunc, 2) + 'x', 8)} ${w(r.ratioNode === null ? '-' : fmt(r.ratioNode, 2) + 'x', 8)}  ${tgt}`);
  }
  const cpuRows = rows.filter((r) => r.cpuMs);
  if (cpuRows.length > 0) {
    lines.push('');
    lines.push('CPU user+sys per operation, mean ms (10 ms clock ticks; the runtimes\' waited-for children included):');
    for (const r of cpuRows) {
      lines.push(`  ${w(r.operation, 32, true)} tsrunc ${w(fmt(r.cpuMs!.tsrunc, 0), 5)}  runc ${w(fmt(r.cpuMs!.runc, 0), 5)}  node ${w(fmt(r.cpuMs!.node, 0), 5)}`);
    }
  }
  const paired = rows.filter((r) => r.pairedRatioRunc !== undefined);
  if (paired.length > 0) {
    lines.push('');
    lines.push('Median of the per-iteration ratios (each tsrunc call against the runc/node call next to it):');
    for (const r of paired) {
      const nodeR = r.pairedRatioNode === undefined ? '' : `   ts/node ${fmt(r.pairedRatioNode, 2)}x`;
      lines.push(`  ${w(r.operation, 32, true)} ts/runc ${fmt(r.pairedRatioRunc, 2)}x${nodeR}`);
    }
  }
  if (bds.length > 0) {
    lines.push('');
    lines.push(`Where the time goes (${bds[0].runs} runs each under node -r require-probe, interleaved; medians of each column, ms):`);
    lines.push(`  ${w('', 32, true)} ${w('wall clock', 41, true)}  ${w('CPU user+sys, all threads', 33, true)}`);
    lines.push(`  ${w('command', 32, true)} ${w('total', 6)} ${w('boot', 6)} ${w('req', 6)} ${w('own', 6)} ${w('async', 6)} ${w('outside', 7)}  ` +
      `${w('at exit', 7)} ${w('boot', 6)} ${w('req', 6)} ${w('own', 6)} ${w('async', 6)}`);
    for (const b of bds) {
      lines.push(`  ${w(b.command, 32, true)} ${w(fmt(b.wallMs), 6)} ${w(fmt(b.bootMs), 6)} ${w(fmt(b.requireMs), 6)} ${w(fmt(b.ownMs), 6)} ` +
        `${w(fmt(b.asyncMs), 6)} ${w(fmt(b.outsideMs), 7)}  ${w(fmt(b.cpu.totalMs), 7)} ${w(fmt(b.cpu.bootMs), 6)} ${w(fmt(b.cpu.requireMs), 6)} ` +
        `${w(fmt(b.cpu.ownMs), 6)} ${w(fmt(b.cpu.asyncMs), 6)}`);
    }
    lines.push('  boot: process start (time origin) to the first require of the entry script (Node bootstrap);');
    lines.push('  req: inside require() of the CLI\'s modules (nested counted once); own: the command\'s synchronous');
    lines.push('  work outside require (the entry script runs it from its top level); async: after the first await, up to');
    lines.push('  process.exit; outside: wall minus process.exit time (exec of node before the time origin, exit, spawn).');
    for (const b of bds) {
      if (b.modules.length === 0 && b.phases.length === 0) continue;
      lines.push(`  ${b.command}:`);
      if (b.phases.length > 0) lines.push(`    --debug phases (wall deltas): ${b.phases.map((p) => `${p.phase} ${fmt(p.deltaMs)}`).join(', ')}`);
      if (b.modules.length > 0) {
        lines.push('    costliest module loads, self CPU (compile + top-level code) / inclusive CPU / self wall:');
        lines.push('      ' + b.modules.slice(0, 6).map((m) =>
          `${m.id.replace(/^dist\//, '')} ${fmt(m.selfCpuMs)}/${fmt(m.inclusiveCpuMs)}/${fmt(m.selfMs)}`).join(', '));
      }
    }
  }
  if (notes.length > 0) {
    lines.push('');
    for (const n of notes) lines.push(`note: ${n}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// ---- main --------------------------------------------------------------------------------------

function firstLine(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return (r.stdout ?? '').split('\n')[0].trim() || `${argv[0]}: ${r.error?.message ?? `exit ${r.status}`}`;
}

const TMPFS_MAGIC = 0x01021994;

function fsType(dir: string): string {
  try {
    const t = Number(fs.statfsSync(dir).type);
    return t === TMPFS_MAGIC ? 'tmpfs' : t === 0xef53 ? 'ext4' : `fs type 0x${t.toString(16)}`;
  } catch {
    return 'unknown fs';
  }
}

function defaultStateDir(): string {
  return fsType('/dev/shm') === 'tmpfs' ? '/dev/shm' : os.tmpdir();
}

function resolveRunc(name: string): string {
  if (name.includes('/')) return path.resolve(name);
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = path.join(d, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  throw new BenchError(`${name} not found in PATH`);
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n${USAGE}`);
    return 2;
  }

  // Orphaned container processes (after `start`, the runtime has exited) must be reaped promptly,
  // and PID 1 here does it lazily: re-run under the project's child-subreaper wrapper.
  const reaper = path.join(repoRoot(), 'build', 'Release', 'tsrunc-reaper');
  if (o.reaper && process.env.TSRUNC_BENCH_REAPED !== '1' && fs.existsSync(reaper)) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { /* the child handles it */ });
    const r = spawnSync(reaper, [process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, TSRUNC_BENCH_REAPED: '1' },
    });
    if (r.error) throw r.error;
    return r.status ?? 1;
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // A Ctrl-C arrives twice at once (from the terminal, and forwarded by tsrunc-reaper): only a
      // signal a second or more after the first gives up on cleanup.
      if (interrupted && Date.now() - firstSignalAt >= 1000) process.exit(130);
      if (!interrupted) firstSignalAt = Date.now();
      interrupted = sig;
    });
  }
  try {
    clkTck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  } catch { /* keep 100 */ }

  const notes: string[] = [];
  if (process.geteuid?.() !== 0) notes.push('not running as root: both runtimes will probably fail');
  if (!fs.existsSync(o.tsrunc)) throw new BenchError(`${o.tsrunc} does not exist (build first: npx tsc -p tsconfig.json && node scripts/gen-bin.js)`);
  const runcPath = resolveRunc(o.runc);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
  const env = { ...process.env };
  delete env.TSRUNC_BENCH_REAPED;
  const nodeVars = NODE_ENV_VARS.filter((k) => env[k] !== undefined);
  if (o.scrubNodeEnv) {
    for (const k of nodeVars) delete env[k];
    if (nodeVars.length > 0) notes.push(`removed from the measured processes' environment: ${nodeVars.join(', ')}`);
  } else if (nodeVars.length > 0) {
    notes.push(`the measured processes inherit ${nodeVars.map((k) => `${k}=${env[k]}`).join(' ')}; ` +
      'this slows every node start-up (tsrunc and node empty.js, not runc); --scrub-node-env removes it');
  }
  let stateTmp: string;
  try {
    stateTmp = fs.mkdtempSync(path.join(o.stateDir ?? defaultStateDir(), 'tsrunc-bench-state-'));
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const x = new Runner(tmp, env);
  const ts = new Runtime('tsrunc', o.tsrunc, path.join(stateTmp, 'root-tsrunc'));
  const rc = new Runtime('runc', runcPath, path.join(stateTmp, 'root-runc'));
  const meta = {
    runs: o.runs,
    warmup: o.warmup,
    tsrunc: o.tsrunc,
    runc: runcPath,
    tsruncVersion: firstLine([o.tsrunc, '--version']),
    runcVersion: firstLine([runcPath, '--version']),
    scrubbedNodeEnv: o.scrubNodeEnv ? nodeVars : [],
    stateDir: `${stateTmp} (${fsType(stateTmp)})`,
    bundleDir: `${tmp}/bundle (${fsType(tmp)})`,
    nodeVersion: process.version,
    node: process.execPath,
    kernel: os.release(),
    cpus: os.cpus().length,
    loadBefore: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    loadAfter: '',
    timeMs: 0,
  };
  const t0 = Date.now();
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  let bds: Breakdown[] = [];
  let error: string | undefined;
  let failed = false;
  try {
    fs.mkdirSync(ts.root, { mode: 0o700 });
    fs.mkdirSync(rc.root, { mode: 0o700 });
    // One bundle for both runtimes: runc spec's config (terminal false) running /bin/true.
    const bundle = makeBundle(path.join(tmp, 'bundle'), undefined, { args: ['/bin/true'] }).dir;
    const emptyJs = path.join(tmp, 'empty.js');
    fs.writeFileSync(emptyJs, '');
    const ctx: Ctx = { o, x, ts, rc, bundle, nodeEmpty: [process.execPath, emptyJs], tmp };

    if (o.only.has('run')) {
      const r = await benchRun(ctx);
      raw.run = r.ms;
      const row = timeRow('run /bin/true', r.ms, r.cpu, 'tsrunc', 'runc', 'node');
      row.target = { text: '<= 1.9x runc', met: row.ratioRunc <= 1.9 };
      rows.push(row);
    }
    let waiting: Record<Side, ProcMem[]> = { tsrunc: [], runc: [] };
    if (o.only.has('cycle')) {
      const r = await benchCycle(ctx);
      raw.cycle = r.ms;
      waiting = r.mem;
      const row = timeRow('create+start+wait+delete', r.ms, r.cpu, 'tsrunc', 'runc', 'node');
      row.nodeCalls = 3;
      rows.push(row);
      for (const p of ['create', 'start', 'wait', 'delete']) {
        const sub = timeRow(p, r.ms, null, `tsrunc.${p}`, `runc.${p}`, null);
        if (p !== 'wait') {
          // Against one `node empty.js` (a third of the three-call baseline).
          sub.node = r2(median(r.ms.node) / 3);
          sub.ratioNode = r2(sub.tsrunc / sub.node);
        }
        sub.indent = true;
        rows.push(sub);
      }
      notes.push('create+start+wait+delete: the node column is three `node empty.js` in a row; sub-rows compare with one. ' +
        '"wait" polls /proc/<pid>/stat every 0.2 ms until the container process is gone or a zombie.');
    }
    let peak: Samples | null = null;
    if (o.only.has('state') || o.only.has('mem')) {
      const r = await benchState(ctx, o.only.has('state'), o.only.has('mem'));
      if (o.only.has('state')) {
        raw.state = r.ms;
        const row = timeRow('state (created container)', r.ms, r.cpu, 'tsrunc', 'runc', 'node');
        row.target = { text: '<= 1.10x node empty.js', met: row.ratioNode !== null && row.ratioNode <= 1.1 };
        rows.push(row);
      }
      if (o.only.has('mem')) {
        for (const s of ['tsrunc', 'runc'] as const) waiting[s].push(...r.mem[s]);
        peak = r.peakKiB;
        if (r.peakSkipped) notes.push(`CLI peak RSS skipped: ${r.peakSkipped}`);
      }
    }
    if (o.only.has('mem') || o.only.has('cycle')) {
      const t = median(waiting.tsrunc.map((m) => m.vmRssKiB)) / 1024;
      const r = median(waiting.runc.map((m) => m.vmRssKiB)) / 1024;
      rows.push({
        operation: 'waiting in created: VmRSS',
        unit: 'MiB',
        tsrunc: r2(t),
        runc: r2(r),
        node: null,
        ratioRunc: r2(t / r),
        ratioNode: null,
        target: { text: '<= 2.5 MiB', met: t <= 2.5 },
      });
      raw.waiting = waiting;
      const comms = (s: Side) => [...new Set(waiting[s].map((m) => m.comm))].join(',');
      notes.push(`waiting processes (comm): tsrunc ${comms('tsrunc')}, runc ${comms('runc')}; ` +
        `${waiting.tsrunc.length}/${waiting.runc.length} samples; tsrunc RssAnon/RssFile/RssShmem median ` +
        `${median(waiting.tsrunc.map((m) => m.rssAnonKiB))}/${median(waiting.tsrunc.map((m) => m.rssFileKiB))}/` +
        `${median(waiting.tsrunc.map((m) => m.rssShmemKiB))} KiB, runc ` +
        `${median(waiting.runc.map((m) => m.rssAnonKiB))}/${median(waiting.runc.map((m) => m.rssFileKiB))}/` +
        `${median(waiting.runc.map((m) => m.rssShmemKiB))} KiB`);
    }
    if (peak) {
      const t = median(peak.tsrunc) / 1024;
      const r = median(peak.runc) / 1024;
      const n = median(peak.node) / 1024;
      rows.push({
        operation: 'state CLI: peak RSS',
        unit: 'MiB',
        tsrunc: r2(t),
        runc: r2(r),
        node: r2(n),
        ratioRunc: r2(t / r),
        ratioNode: r2(t / n),
        target: { text: '<= 48 MiB (perf-anchors §6)', met: t <= 48 },
      });
      raw.peakKiB = peak;
      notes.push(`peak RSS from /usr/bin/time -f %M, ${peak.tsrunc.length} runs each (at most 10)`);
    }

    if (o.only.has('ecosystem')) {
      await benchEcosystem({
        runs: o.runs, warmup: o.warmup, tsrunc: o.tsrunc, runc: runcPath, env, dir: stateTmp, tick,
        row: (op, ms) => { raw[op] = ms; rows.push(timeRow(op, ms, null, 'tsrunc', 'runc', null)); },
        note: (n) => notes.push(n),
      });
    }
    if (o.breakdown > 0) bds = await breakdown(ctx);
  } catch (e) {
    failed = true;
    error = e instanceof BenchError ? e.message : e instanceof Error ? String(e.stack) : String(e);
    process.stderr.write(`bench: ${error}\n`);
  } finally {
    const failures = [...ts.cleanup(x), ...rc.cleanup(x)];
    x.close();
    for (const f of failures) process.stderr.write(`bench: cleanup: ${f}\n`);
    for (const d of [stateTmp, tmp]) {
      try {
        fs.rmSync(d, { recursive: true, force: true });
      } catch (e) {
        process.stderr.write(`bench: cleanup: remove ${d}: ${(e as Error).message}\n`);
        failed = true;
      }
    }
    if (failures.length > 0) failed = true;
  }
  // Whatever was measured is printed, also when a later step failed.
  meta.loadAfter = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  meta.timeMs = Date.now() - t0;
  if (error) notes.push(`INCOMPLETE: a step failed (see stderr); the rows above are the steps that finished`);
  if (o.json) {
    process.stdout.write(JSON.stringify({ meta, rows, breakdown: bds, notes, samples: raw, ...(error ? { error } : {}) }, null, 2) + '\n');
  } else if (rows.length > 0 || bds.length > 0) {
    printTable(rows, meta, notes, bds);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
