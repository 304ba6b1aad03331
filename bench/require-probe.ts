// A preload (`node -r dist/bench/require-probe.js SCRIPT ...`) that times every module load of the
// process and, at exit, writes a JSON report to $TSRUNC_BENCH_PROBE_OUT:
//   - Node's own start-up milestones (performance.nodeTiming), all in ms since the process's time
//     origin;
//   - when the first non-preload module started loading (the CLI's entry script) and when the
//     process exited;
//   - for every module (resolved file name, or node:<name> for built-ins) its inclusive and
//     exclusive ("self") load time and how often it was requested.
// Used by `bench.js --breakdown`. It changes nothing in the program under test except for wrapping
// Module._load, whose overhead (a few µs per require) is included in the numbers.
import * as fs from 'fs';
import Module = require('module');
import { performance } from 'perf_hooks';

interface ModuleStat {
  id: string;
  count: number;
  /** Wall ms, including nested requires. */
  inclusiveMs: number;
  /** Wall ms without nested requires: compile + top-level code. */
  selfMs: number;
  /** The same as CPU ms of the whole process (user+sys, all threads: process.cpuUsage()). */
  inclusiveCpuMs: number;
  selfCpuMs: number;
  /** The entry script: its "self" time is the program's own work done synchronously at load. */
  main?: boolean;
}

export interface ProbeReport {
  nodeTiming: Record<string, number>;
  probeLoadedAt: number;
  firstLoadAt: number | null;
  exitAt: number;
  exitCode: number | undefined;
  /** Time inside require() calls made by the entry script (nested loads counted once). */
  requireMs: number;
  requireCpuMs: number;
  /** Process CPU ms (user+sys) when the first module load started, and at exit. */
  firstLoadCpuMs: number | null;
  exitCpuMs: number;
  modules: ModuleStat[];
}

const out = process.env.TSRUNC_BENCH_PROBE_OUT;
if (out) {
  // Keep the program under test from passing the variable on (e.g. to a child node).
  delete process.env.TSRUNC_BENCH_PROBE_OUT;
  install(out);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function install(outFile: string): void {
  const probeLoadedAt = performance.now();
  const M = Module as unknown as {
    _load(request: string, parent: unknown, isMain: boolean): unknown;
    _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
    builtinModules: string[];
  };
  const builtins = new Set(M.builtinModules);
  const origLoad = M._load;
  const stats = new Map<string, ModuleStat>();
  const stack: { childMs: number; childCpuMs: number; main: boolean }[] = [];
  let firstLoadAt: number | null = null;
  let firstLoadCpuMs: number | null = null;
  let requireMs = 0;
  let requireCpuMs = 0;

  const keyOf = (request: string, parent: unknown, isMain: boolean): string => {
    const bare = request.startsWith('node:') ? request.slice(5) : request;
    if (builtins.has(bare)) return `node:${bare}`;
    try {
      return M._resolveFilename(request, parent, isMain);
    } catch {
      return request;
    }
  };

  M._load = function probedLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (firstLoadAt === null) {
      firstLoadAt = performance.now();
      firstLoadCpuMs = cpuMs();
    }
    const frame = { childMs: 0, childCpuMs: 0, main: isMain === true };
    const outer = stack.length === 0 || (stack.length === 1 && stack[0].main);
    stack.push(frame);
    const c0 = cpuMs();
    const t0 = performance.now();
    try {
      // eslint-disable-next-line prefer-rest-params
      return origLoad.apply(this, arguments as unknown as [string, unknown, boolean]);
    } finally {
      const dt = performance.now() - t0;
      const dc = cpuMs() - c0;
      stack.pop();
      if (stack.length > 0) {
        stack[stack.length - 1].childMs += dt;
        stack[stack.length - 1].childCpuMs += dc;
      }
      if (outer && !frame.main) {
        requireMs += dt;
        requireCpuMs += dc;
      }
      const id = keyOf(request, parent, isMain);
      const s = stats.get(id) ??
        { id, count: 0, inclusiveMs: 0, selfMs: 0, inclusiveCpuMs: 0, selfCpuMs: 0, ...(frame.main ? { main: true } : {}) };
      s.count++;
      s.inclusiveMs += dt;
      s.selfMs += dt - frame.childMs;
      s.inclusiveCpuMs += dc;
      s.selfCpuMs += dc - frame.childCpuMs;
      stats.set(id, s);
    }
  };

  process.on('exit', (code) => {
    const exitAt = performance.now();
    const exitCpuMs = cpuMs();
    const nt = performance.nodeTiming as unknown as Record<string, unknown>;
    const nodeTiming: Record<string, number> = {};
    for (const k of ['nodeStart', 'v8Start', 'environment', 'bootstrapComplete', 'loopStart']) {
      if (typeof nt[k] === 'number') nodeTiming[k] = nt[k] as number;
    }
    const report: ProbeReport = {
      nodeTiming,
      probeLoadedAt,
      firstLoadAt,
      exitAt,
      exitCode: code,
      requireMs,
      requireCpuMs,
      firstLoadCpuMs,
      exitCpuMs,
      modules: [...stats.values()],
    };
    try {
      fs.writeFileSync(outFile, JSON.stringify(report));
    } catch {
      /* the benchmark reports the missing file */
    }
  });
}
