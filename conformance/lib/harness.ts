// The check harness: a check is a function that throws Failure (or any error) to fail and Skip to
// skip. Each check gets a T that makes bundles and containers and remembers every container id it
// created, so that the harness can `delete --force` them all afterwards, whatever happened.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { applyPatch, ConfigPatch, OciConfig } from './config';
import { Bundle, makeBundle } from './rootfs';
import { CallResult, describe, RuntimeCli, sleepMs, StateJson } from './runtime';

export class Failure extends Error {}
export class Skip extends Error {}

export interface CheckDef {
  group: string;
  name: string;
  /** Where the requirement comes from, e.g. "runtime.md#start" or "runc CLI contract §2". */
  spec: string;
  fn: (t: T) => void;
}

export type Outcome =
  | { status: 'passed' }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: string };

export interface SuiteContext {
  rt: RuntimeCli;
  /** The same runtime driven through the probe's `taint` wrapper (see probe.c). */
  taintedRt: RuntimeCli;
  probe: string;
  workDir: string;
  /** Results of expensive probes shared between checks (value or the error it threw). */
  shared: Map<string, { value?: unknown; error?: unknown }>;
  /** Unique suffix for ids and cgroup paths of this run. */
  runTag: string;
  counter: { n: number };
}

export type Patch = ConfigPatch | ((c: OciConfig) => OciConfig | void);

export interface Container {
  id: string;
  bundle: Bundle;
  /** Host path of the file the container's stdout goes to. */
  outFile: string;
  /** Host path of the file the container's (and create's) stderr goes to. */
  errFile: string;
  create: CallResult;
}

export interface ProbeResult<V = any> {
  json: V;
  container: Container;
  stdout: string;
  stderr: string;
}

// ------------------------------------------------------------------------------------------------
// assertions

export function fail(msg: string): never {
  throw new Failure(msg);
}

export function skip(msg: string): never {
  throw new Skip(msg);
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Failure(msg);
}

/** JSON.stringify that also shows bigints (as 0x... hex) and undefined. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

export function assertEq(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Failure(`${what}: got ${show(actual)}, want ${show(expected)}`);
  }
}

// ------------------------------------------------------------------------------------------------

export class T {
  /** Container ids created by this check, deleted (--force) afterwards. */
  readonly ids: string[] = [];
  /** Cleanup actions run after the containers are deleted (e.g. leftover cgroup dirs). */
  readonly afterCleanup: (() => void)[] = [];
  /** Bundle directories made by this check, removed after its containers are deleted. */
  readonly bundles: string[] = [];

  constructor(
    readonly ctx: SuiteContext,
    readonly check: CheckDef,
  ) {}

  get rt(): RuntimeCli {
    return this.ctx.rt;
  }

  /** A fresh, unique container id (registered for cleanup). */
  id(tag = 'c'): string {
    const id = `conf-${this.ctx.runTag}-${++this.ctx.counter.n}-${tag}`;
    this.ids.push(id);
    return id;
  }

  /** A fresh bundle dir with rootfs (with the probe at /probe) and config.json. */
  bundle(patch?: Patch, args?: string[]): Bundle {
    const dir = path.join(this.ctx.workDir, `b${++this.ctx.counter.n}`);
    this.bundles.push(dir);
    return makeBundle(dir, patch, { probe: this.ctx.probe, args: args ?? ['/probe', 'all'] });
  }

  /**
   * Run `create` for `id` and `bundleArg` with the container's stdout and stderr going to files in
   * `bundleDir` ("stdout", "stderr") and an extra fd (a canary the runtime must not pass on) as fd 3
   * of the runtime. Never uses pipes: a container that (wrongly) got created must not be able to
   * hold the suite's pipes open. Returns the call result (stderr read back from the file).
   */
  tryCreate(id: string, bundleDir: string, o: { extra?: string[]; rt?: RuntimeCli; cwd?: string; bundleArg?: string } = {}): CallResult {
    const out = fs.openSync(path.join(bundleDir, 'stdout'), 'w');
    const err = fs.openSync(path.join(bundleDir, 'stderr'), 'w');
    const canary = fs.openSync(path.join(this.ctx.workDir, 'canary'), fs.constants.O_RDONLY | fs.constants.O_CREAT);
    let r: CallResult;
    try {
      r = (o.rt ?? this.rt).create(id, o.bundleArg ?? bundleDir, {
        stdio: ['ignore', out, err, canary],
        extra: o.extra,
        cwd: o.cwd,
      });
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
      fs.closeSync(canary);
    }
    r.stderr = fs.readFileSync(path.join(bundleDir, 'stderr'), 'utf8');
    return r;
  }

  /**
   * `create` a container from `patch` (or from `o.bundle`) as tryCreate does, under a fresh id.
   * Fails the check if create fails.
   */
  create(
    patch?: Patch,
    o: { tag?: string; extra?: string[]; rt?: RuntimeCli; bundle?: Bundle; cwd?: string; bundleArg?: string } = {},
  ): Container {
    const bundle = o.bundle ?? this.bundle(patch);
    const id = this.id(o.tag);
    const r = this.tryCreate(id, bundle.dir, o);
    if (r.status !== 0) fail(`create failed: ${describe(r)}`);
    return { id, bundle, outFile: path.join(bundle.dir, 'stdout'), errFile: path.join(bundle.dir, 'stderr'), create: r };
  }

  /** A call that must succeed. */
  must(r: CallResult, what?: string): CallResult {
    if (r.status !== 0) fail(`${what ? `${what}: ` : ''}${describe(r)}`);
    return r;
  }

  /** A call that must fail (non-zero exit, not a crash or a timeout). */
  mustFail(r: CallResult, what: string): CallResult {
    if (r.error || r.timedOut || r.signal) fail(`${what}: ${describe(r)}`);
    if (r.status === 0) fail(`${what}: \`${r.argv.slice(1).join(' ')}\` succeeded (exit 0), want an error`);
    return r;
  }

  /** Parsed state that must exist. */
  state(id: string): StateJson {
    const s = this.rt.state(id);
    if (s instanceof Error) fail(s.message);
    return s;
  }

  /** Poll until the status is `want`; fail with the last status otherwise. */
  waitStatus(id: string, want: string, timeoutMs = 10000): StateJson {
    const s = this.rt.waitStatus(id, [want], timeoutMs);
    if (s instanceof Error) fail(`waiting for \`${want}\`: ${s.message}`);
    if (s.status !== want) fail(`status is still ${JSON.stringify(s.status)} after ${timeoutMs} ms, want ${JSON.stringify(want)}`);
    return s;
  }

  /** Wait until the container's stdout file contains `text` (for handshakes with the probe). */
  waitOutput(c: Container, text: string, timeoutMs = 10000): string {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = fs.readFileSync(c.outFile, 'utf8');
      if (s.includes(text)) return s;
      if (Date.now() > deadline) fail(`container output never contained ${JSON.stringify(text)}: ${JSON.stringify(s.slice(0, 300))}`);
      sleepMs(10);
    }
  }

  /**
   * The whole lifecycle for a probe run: create → start → wait `stopped` → read stdout → delete.
   * Returns the parsed JSON the probe printed.
   */
  probe<V = any>(args: string[], patch?: Patch, o: { tag?: string; rt?: RuntimeCli } = {}): ProbeResult<V> {
    const withArgs = (c: OciConfig): OciConfig => {
      if (typeof patch === 'function') c = patch(c) ?? c;
      else if (patch) applyPatch(c, patch);
      if (c.process) c.process.args = ['/probe', ...args];
      return c;
    };
    return this.runBundle<V>(this.bundle(withArgs), { tag: o.tag ?? args[0], rt: o.rt });
  }

  /**
   * Create → start → wait `stopped` → delete a container from a prepared bundle (whose
   * process.args run the probe) and return the JSON the probe printed.
   */
  runBundle<V = any>(bundle: Bundle, o: { tag?: string; rt?: RuntimeCli } = {}): ProbeResult<V> {
    const c = this.create(undefined, { bundle, tag: o.tag, rt: o.rt });
    this.must(this.rt.start(c.id), 'start');
    this.waitStatus(c.id, 'stopped');
    const stdout = fs.readFileSync(c.outFile, 'utf8');
    const stderr = fs.readFileSync(c.errFile, 'utf8');
    this.must(this.rt.delete(c.id), 'delete of the stopped container');
    let json: V;
    try {
      json = JSON.parse(stdout) as V;
    } catch (e) {
      fail(`the probe printed no JSON (${(e as Error).message}); stdout ${JSON.stringify(stdout.slice(0, 300))}, stderr ${JSON.stringify(stderr.slice(0, 300))}`);
    }
    return { json, container: c, stdout, stderr };
  }

  /** Replace process.args (or more) in a prepared bundle's config.json. */
  editConfig(bundle: Bundle, edit: (c: OciConfig) => void): void {
    const p = path.join(bundle.dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(p, 'utf8')) as OciConfig;
    edit(cfg);
    fs.writeFileSync(p, JSON.stringify(cfg, null, 2));
    bundle.config = cfg;
  }

  /** Memoize an expensive value across checks (its failure is every dependent check's failure). */
  shared<V>(key: string, fn: () => V): V {
    let e = this.ctx.shared.get(key);
    if (!e) {
      e = {};
      try {
        e.value = fn();
      } catch (err) {
        e.error = err;
      }
      this.ctx.shared.set(key, e);
    }
    if (e.error !== undefined) {
      const err = e.error;
      if (err instanceof Skip) throw err;
      fail(`(shared ${key}) ${err instanceof Error ? err.message : String(err)}`);
    }
    return e.value as V;
  }

  /** Delete every container this check created. Returns a failure reason, or undefined. */
  cleanup(): string | undefined {
    const problems: string[] = [];
    for (const id of this.ids) {
      const r = this.rt.delete(id, true);
      // `delete --force` of an id that no longer exists succeeds in runc; other runtimes may say
      // it does not exist. Either is fine as long as the container is gone afterwards.
      if (r.error || r.timedOut || r.signal) problems.push(`cleanup: ${describe(r)}`);
      const s = this.rt.stateRaw(id);
      if (s.status === 0) problems.push(`cleanup: container ${id} still exists after \`delete --force\``);
    }
    for (const d of this.bundles) {
      // A mount the runtime leaked into the host's mount namespace would make rm -r walk into it.
      const leaked = mountsUnder(d);
      if (leaked.length) {
        problems.push(`mounts leaked into the host mount namespace (bundle left in place): ${leaked.join(', ')}`);
        continue;
      }
      try {
        fs.rmSync(d, { recursive: true, force: true });
      } catch (e) {
        problems.push(`cleanup: removing ${d}: ${(e as Error).message}`);
      }
    }
    for (const f of this.afterCleanup) {
      try {
        f();
      } catch (e) {
        problems.push(`cleanup: ${(e as Error).message}`);
      }
    }
    return problems.length ? problems.join('; ') : undefined;
  }
}

/** Mount points in this process's mount namespace at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix));
}

/** Run one check with cleanup; never throws. */
export function runCheck(ctx: SuiteContext, check: CheckDef): Outcome {
  const t = new T(ctx, check);
  let outcome: Outcome;
  try {
    check.fn(t);
    outcome = { status: 'passed' };
  } catch (e) {
    if (e instanceof Skip) outcome = { status: 'skipped', reason: e.message };
    else if (e instanceof Failure) outcome = { status: 'failed', reason: e.message };
    else outcome = { status: 'failed', reason: `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
  }
  const problem = t.cleanup();
  if (problem) {
    outcome = outcome.status === 'failed' ? { status: 'failed', reason: `${outcome.reason}; ${problem}` } : { status: 'failed', reason: problem };
  }
  return outcome;
}
