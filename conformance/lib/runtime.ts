// A synchronous driver for a runc-compatible runtime binary (runc's command line: global --root,
// then create/start/state/kill/delete/run). Every call has a timeout, so a hanging runtime fails a
// check instead of hanging the suite.

import { spawnSync, StdioOptions } from 'node:child_process';

export interface CallResult {
  argv: string[];
  /** Exit status, or null if killed by a signal / timed out / could not be spawned. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Spawn error (ENOENT for a missing binary...). */
  error?: Error;
}

export interface CallOptions {
  /** stdio for the runtime process: fds or 'pipe'/'ignore'; extra entries become fds 3, 4, ... */
  stdio?: StdioOptions;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RuntimeOptions {
  /** Default per-call timeout (ms). */
  timeoutMs?: number;
  /** Environment for the runtime processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Prefix argv: run the runtime through a wrapper (e.g. [probe, "taint"]: the probe execs the rest of argv). */
  wrapper?: string[];
}

export interface StateJson {
  ociVersion?: unknown;
  id?: unknown;
  status?: unknown;
  pid?: unknown;
  bundle?: unknown;
  annotations?: unknown;
  [k: string]: unknown;
}

/** Block the thread for `ms` milliseconds (the suite is sequential by design). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function describe(r: CallResult): string {
  const how = r.error
    ? `could not run: ${r.error.message}`
    : r.timedOut
      ? 'timed out'
      : r.signal
        ? `killed by ${r.signal}`
        : `exit ${r.status}`;
  const err = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return `\`${r.argv.slice(1).join(' ')}\`: ${how}${err ? `: ${err}` : ''}`;
}

export class RuntimeCli {
  readonly timeoutMs: number;

  constructor(
    readonly bin: string,
    readonly root: string,
    readonly opts: RuntimeOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 15000;
  }

  /** Run `<bin> --root <root> ARGS...`. */
  call(args: string[], o: CallOptions = {}): CallResult {
    const argv = [...(this.opts.wrapper ?? []), this.bin, '--root', this.root, ...args];
    const r = spawnSync(argv[0], argv.slice(1), {
      stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'],
      cwd: o.cwd,
      input: o.input,
      timeout: o.timeoutMs ?? this.timeoutMs,
      killSignal: 'SIGKILL',
      env: o.env ?? this.opts.env ?? process.env,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    return {
      argv: [this.bin, ...args],
      status: r.status,
      signal: r.signal,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      timedOut,
      error: timedOut ? undefined : r.error,
    };
  }

  create(id: string, bundle: string, o: CallOptions & { extra?: string[] } = {}): CallResult {
    return this.call(['create', ...(o.extra ?? []), '--bundle', bundle, id], o);
  }

  start(id: string): CallResult {
    return this.call(['start', id]);
  }

  stateRaw(id: string): CallResult {
    return this.call(['state', id]);
  }

  /** Parsed `state` output, or an Error describing why there is none. */
  state(id: string): StateJson | Error {
    const r = this.stateRaw(id);
    if (r.status !== 0) return new Error(describe(r));
    try {
      const v = JSON.parse(r.stdout) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        return new Error(`\`state ${id}\` printed ${JSON.stringify(r.stdout.slice(0, 200))}, not an object`);
      }
      return v as StateJson;
    } catch (e) {
      return new Error(`\`state ${id}\` printed invalid JSON (${(e as Error).message}): ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
  }

  kill(id: string, signal?: string, extra: string[] = []): CallResult {
    return this.call(['kill', ...extra, id, ...(signal ? [signal] : [])]);
  }

  delete(id: string, force = false): CallResult {
    return this.call(['delete', ...(force ? ['--force'] : []), id]);
  }

  /**
   * Poll `state` until status is one of `want` (or the call fails, or `timeoutMs` passes).
   * Returns the last parsed state or error.
   */
  waitStatus(id: string, want: string[], timeoutMs = 10000): StateJson | Error {
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const s = this.state(id);
      if (s instanceof Error || want.includes(String(s.status)) || Date.now() > deadline) return s;
      sleepMs(delay);
      delay = Math.min(delay * 2, 50);
    }
  }
}
