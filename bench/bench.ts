// tsrunc vs runc vs `node empty.js`: a benchmark script (not a test). See bench/README.md.
//
//   npm run bench -- [--runs N] [--warmup N] [--json] [--only SECTION,...] [--allow-load]
//                    [--create-series N] [--breakdown [N]] [--tsrunc PATH] [--runc PATH]
//                    [--keep-node-env] [--no-reaper]
//
// Everything is measured in the same invocation, as interleaved runs (tsrunc, runc, node, tsrunc,
// runc, node, ...) after warm-ups, and reported as medians. Each call is one spawnSync timed with
// process.hrtime, so the spawn overhead is the same on every side. Each section (operation) is
// load-gated: its verdicts are withheld when other work loaded the machine meanwhile. The exit
// status is 0 whether or not the targets are met; it is 1 only when something failed to run.
//
// Every container gets a unique id and is registered before it is created; the finally block
// force-deletes whatever is still registered (and whatever `list` still shows under the private
// --root dirs), then removes the temp dir.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeBundle, repoRoot } from '../conformance/lib/rootfs';
import type { ProbeReport } from './require-probe';
import { benchEcosystem } from './ecosystem';
import {
  BenchError, Call, Ctx, describe, handleSignals, interleave, loadMonitor, median, NODE_ENV_VARS, nodeStep, Options,
  ProcMem, procMem, push, r2, readPid, Row, Runner, Runtime, Samples, Section, SectionOut, setClockTicks, Side, tick,
  timeRow, UsageError, vsNode, vsRunc, waitStopped, newId,
} from './lib';

// ---- sections ----------------------------------------------------------------------------------

/** `create --pid-file` (untimed unless the caller keeps the Call): the id, the init's pid, the call. */
function createWithPid(c: Ctx, rt: Runtime, what: string, bundle = c.bundle): { id: string; pid: number; call: Call } {
  const id = newId(rt, what);
  const pidFile = path.join(c.tmp, `${what}-${rt.side}.pid`);
  fs.rmSync(pidFile, { force: true });
  const call = c.x.ok(rt.argv('create', '--bundle', bundle, '--pid-file', pidFile, id));
  return { id, pid: readPid(pidFile), call };
}

/** Untimed `delete` of a container that is known to be stopped (throws if the runtime refuses). */
function deleteStopped(c: Ctx, rt: Runtime, id: string): void {
  c.x.ok(rt.argv('delete', id));
  rt.live.delete(id);
}

/** A section's own containers are force-deleted when it ends, also when it failed. */
function forceDeleteAll(c: Ctx, ids: Record<Side, Iterable<string>>): void {
  const failures = [...c.ts.forceDelete(c.x, ids.tsrunc), ...c.rc.forceDelete(c.x, ids.runc)];
  // What is left stays registered: main's cleanup tries again and reports it.
  for (const f of failures) process.stderr.write(`bench: cleanup: ${f}\n`);
}

function checkStatus(rt: Runtime, id: string, call: Call, want: string): void {
  let status: unknown;
  try { status = (JSON.parse(call.stdout) as { status?: unknown }).status; } catch { status = undefined; }
  if (status !== want) throw new BenchError(`${rt.side} state ${id}: expected status "${want}", got ${call.stdout.trim().slice(0, 200)}`);
}

/** `run /bin/true`. */
const runSection: Section = {
  name: 'run',
  about: '`run` of a container running /bin/true (target <= 1.9x runc)',
  async run(c, out) {
    const ms: Samples = {};
    const cpu: Samples = {};
    const runStep = (rt: Runtime) => (measured: boolean) => {
      const id = newId(rt, 'run');
      const r = c.x.ok(rt.argv('run', '--bundle', c.bundle, id));
      rt.live.delete(id); // run deletes the container when it exits
      if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
    };
    await interleave(c.o, [runStep(c.ts), runStep(c.rc), nodeStep(c, ms, cpu)]);
    out.samples.ms = ms;
    out.rows.push(vsRunc(timeRow('run /bin/true', ms, cpu, 'tsrunc', 'runc', 'node'), 1.9));
  },
};

/** create + start + wait + delete as three CLI calls, with a sub-row per call. */
const cycleSection: Section = {
  name: 'cycle',
  about: 'create, start, wait, delete of one container as three CLI calls (no target; sub-rows)',
  async run(c, out) {
    const ms: Samples = {};
    const cpu: Samples = {};
    const cycleStep = (rt: Runtime) => (measured: boolean) => {
      const { id, pid, call: cr } = createWithPid(c, rt, 'cyc');
      const st = c.x.ok(rt.argv('start', id));
      const t0 = process.hrtime.bigint();
      waitStopped(pid);
      const waitMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const del = c.x.ok(rt.argv('delete', id));
      rt.live.delete(id);
      if (!measured) return;
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
    out.samples.ms = ms;
    const row = timeRow('create+start+wait+delete', ms, cpu, 'tsrunc', 'runc', 'node');
    row.nodeCalls = 3;
    out.rows.push(row);
    for (const p of ['create', 'start', 'wait', 'delete']) {
      const sub = timeRow(p, ms, null, `tsrunc.${p}`, `runc.${p}`, null);
      if (p !== 'wait') {
        // Against one `node empty.js` (a third of the three-call baseline).
        sub.node = r2(median(ms.node) / 3);
        sub.ratioNode = r2(sub.tsrunc / sub.node);
      }
      sub.indent = true;
      out.rows.push(sub);
    }
    out.notes.push('create+start+wait+delete: the node column is three `node empty.js` in a row; sub-rows compare with one ' +
      '(no targets here: the `start` and `delete` rows measure those with their own node baseline). ' +
      '"wait" polls /proc/<pid>/stat every 0.2 ms until the container process is gone or a zombie.');
  },
};

/**
 * One created container per runtime, made untimed, and a timed query interleaved with node:
 * `state <id>` or `list`. The container stays in `created` for the whole section.
 */
function querySection(name: 'state' | 'list', about: string): Section {
  return {
    name,
    about,
    async run(c, out) {
      const ms: Samples = {};
      const cpu: Samples = {};
      const ids: Record<Side, string[]> = { tsrunc: [], runc: [] };
      try {
        for (const rt of [c.ts, c.rc]) ids[rt.side].push(createWithPid(c, rt, name).id);
        const step = (rt: Runtime) => (measured: boolean) => {
          const id = ids[rt.side][0];
          if (name === 'state') {
            const r = c.x.ok(rt.argv('state', id));
            checkStatus(rt, id, r, 'created');
            if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
          } else {
            const r = c.x.ok(rt.argv('list'));
            // The table: a header and exactly our container, in `created`.
            const lines = r.stdout.trim().split('\n');
            if (lines.length !== 2 || !new RegExp(`^${id}\\s+\\d+\\s+created\\s`).test(lines[1])) {
              throw new BenchError(`${rt.side} list: expected a header and ${id} (created), got ${r.stdout.trim().slice(0, 300)}`);
            }
            if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
          }
        };
        await interleave(c.o, [step(c.ts), step(c.rc), nodeStep(c, ms, cpu)]);
      } finally {
        forceDeleteAll(c, ids);
      }
      out.samples.ms = ms;
      const op = name === 'state' ? 'state (created container)' : 'list (one created container)';
      out.rows.push(vsNode(timeRow(op, ms, cpu, 'tsrunc', 'runc', 'node'), 1.1));
    },
  };
}

/**
 * A timed call on a fresh container per iteration: `prepare` makes it (untimed), `timed` is the
 * measured call, `finish` cleans up (untimed). Interleaved with one `node empty.js`.
 */
function freshContainerSection(spec: {
  name: string;
  about: string;
  operation: string;
  nodeFactor: number;
  /** Make the container (untimed); returns its id and init pid. */
  prepare: (c: Ctx, rt: Runtime) => { id: string; pid: number };
  timed: (rt: Runtime, id: string) => string[];
  /** Untimed, after the timed call. */
  finish: (c: Ctx, rt: Runtime, id: string, pid: number) => void;
}): Section {
  return {
    name: spec.name,
    about: spec.about,
    async run(c, out) {
      const ms: Samples = {};
      const cpu: Samples = {};
      const step = (rt: Runtime) => (measured: boolean) => {
        const { id, pid } = spec.prepare(c, rt);
        const r = c.x.ok(spec.timed(rt, id));
        spec.finish(c, rt, id, pid);
        if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
      };
      await interleave(c.o, [step(c.ts), step(c.rc), nodeStep(c, ms, cpu)]);
      out.samples.ms = ms;
      out.rows.push(vsNode(timeRow(spec.operation, ms, cpu, 'tsrunc', 'runc', 'node'), spec.nodeFactor));
    },
  };
}

const killSection = freshContainerSection({
  name: 'kill',
  about: '`kill <id> KILL` of a created container, a fresh one per call (target <= 1.10x node)',
  operation: 'kill KILL (created container)',
  nodeFactor: 1.1,
  prepare: (c, rt) => createWithPid(c, rt, 'kill'),
  timed: (rt, id) => rt.argv('kill', id, 'KILL'),
  finish: (c, rt, id, pid) => {
    waitStopped(pid);
    deleteStopped(c, rt, id);
  },
});

const startSection = freshContainerSection({
  name: 'start',
  about: '`start` of a created container running /bin/true, a fresh one per call (target <= 1.10x node)',
  operation: 'start (created container)',
  nodeFactor: 1.1,
  prepare: (c, rt) => createWithPid(c, rt, 'start'),
  timed: (rt, id) => rt.argv('start', id),
  finish: (c, rt, id, pid) => {
    waitStopped(pid);
    deleteStopped(c, rt, id);
  },
});

const deleteSection = freshContainerSection({
  name: 'delete',
  about: '`delete` of a stopped container, a fresh one per call (target <= 1.15x node)',
  operation: 'delete (stopped container)',
  nodeFactor: 1.15,
  prepare: (c, rt) => {
    const made = createWithPid(c, rt, 'del');
    c.x.ok(rt.argv('start', made.id));
    waitStopped(made.pid);
    return made;
  },
  timed: (rt, id) => rt.argv('delete', id),
  finish: (_c, rt, id) => {
    rt.live.delete(id);
  },
});

/** A running `sleep` container per runtime (create + start, untimed), to exec into. */
function startSleepers(c: Ctx, ids: Record<Side, string[]>, what: string): Record<Side, string> {
  const running = {} as Record<Side, string>;
  for (const rt of [c.ts, c.rc]) {
    const { id } = createWithPid(c, rt, what, c.sleepBundle());
    ids[rt.side].push(id);
    c.x.ok(rt.argv('start', id));
    running[rt.side] = id;
  }
  return running;
}

const execSection: Section = {
  name: 'exec',
  about: '`exec <id> /bin/true` into a running container (target <= 1.8x runc, perf-anchors)',
  async run(c, out) {
    const ms: Samples = {};
    const cpu: Samples = {};
    const ids: Record<Side, string[]> = { tsrunc: [], runc: [] };
    try {
      const running = startSleepers(c, ids, 'exec');
      const step = (rt: Runtime) => (measured: boolean) => {
        const r = c.x.ok(rt.argv('exec', running[rt.side], '/bin/true'));
        if (measured) { push(ms, rt.side, r.ms); push(cpu, rt.side, r.cpuMs); }
      };
      await interleave(c.o, [step(c.ts), step(c.rc), nodeStep(c, ms, cpu)]);
      // The exec'd processes must not have disturbed the container.
      for (const rt of [c.ts, c.rc]) checkStatus(rt, running[rt.side], c.x.ok(rt.argv('state', running[rt.side])), 'running');
    } finally {
      forceDeleteAll(c, ids);
    }
    out.samples.ms = ms;
    out.rows.push(vsRunc(timeRow('exec /bin/true (running)', ms, cpu, 'tsrunc', 'runc', 'node'), 1.8));
  },
};

const seriesSection: Section = {
  name: 'series',
  about: '--create-series N (default 50) `create`s in a row, all kept until the end; median per create (target <= 2x runc)',
  async run(c, out) {
    const ms: Samples = {};
    const cpu: Samples = {};
    const ids: Record<Side, string[]> = { tsrunc: [], runc: [] };
    const n = c.o.createSeries;
    try {
      // Warm-ups: created and deleted before the series, so that the series starts from empty roots.
      for (let i = 0; i < c.o.warmup; i++) {
        for (const rt of [c.ts, c.rc]) {
          await tick();
          const id = newId(rt, 'serw');
          c.x.ok(rt.argv('create', '--bundle', c.bundle, id));
          c.x.ok(rt.argv('delete', '--force', id));
          rt.live.delete(id);
        }
      }
      for (let i = 0; i < n; i++) {
        for (const rt of [c.ts, c.rc]) {
          await tick();
          const id = newId(rt, 'ser');
          ids[rt.side].push(id);
          const r = c.x.ok(rt.argv('create', '--bundle', c.bundle, id));
          push(ms, rt.side, r.ms);
          push(cpu, rt.side, r.cpuMs);
        }
      }
    } finally {
      forceDeleteAll(c, ids);
    }
    out.samples.ms = ms;
    out.rows.push(vsRunc(timeRow(`create x${n} in a row: per create`, ms, cpu, 'tsrunc', 'runc', null), 2));
    const part = (s: Side, from: number, to: number) => r2(median(ms[s].slice(from, to)));
    const k = Math.max(1, Math.floor(n / 5));
    out.notes.push(`create x${n}: each create leaves its container in \`created\` until the series ends (interleaved tsrunc, runc); ` +
      `median of the first ${k} / last ${k} creates: tsrunc ${part('tsrunc', 0, k)} / ${part('tsrunc', n - k, n)} ms, ` +
      `runc ${part('runc', 0, k)} / ${part('runc', n - k, n)} ms`);
  },
};

const PARALLEL = 10;

const parallelSection: Section = {
  name: 'parallel',
  about: `${PARALLEL} concurrent \`create\`s, then ${PARALLEL} concurrent \`start\`s, until all exited: wall time (target <= 1.5x runc)`,
  async run(c, out) {
    const ms: Samples = {};
    const runs = Math.min(c.o.runs, 10);
    const warmup = Math.min(c.o.warmup, 1);
    const round = async (rt: Runtime): Promise<number> => {
      const made: Array<{ id: string; pidFile: string }> = [];
      try {
        for (let j = 0; j < PARALLEL; j++) {
          const id = newId(rt, 'par');
          made.push({ id, pidFile: path.join(c.tmp, `par-${rt.side}-${j}.pid`) });
          fs.rmSync(made[j].pidFile, { force: true });
        }
        const t0 = process.hrtime.bigint();
        const creates = await Promise.all(made.map((m) => c.x.execAsync(rt.argv('create', '--bundle', c.bundle, '--pid-file', m.pidFile, m.id))));
        for (const r of creates) if (r.error || r.status !== 0) throw new BenchError(describe(r));
        const pids = made.map((m) => readPid(m.pidFile));
        const starts = await Promise.all(made.map((m) => c.x.execAsync(rt.argv('start', m.id))));
        for (const r of starts) if (r.error || r.status !== 0) throw new BenchError(describe(r));
        for (const pid of pids) waitStopped(pid);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      } finally {
        // A failed round leaves created or running containers: force, not plain delete.
        const ids = { tsrunc: [] as string[], runc: [] as string[] };
        ids[rt.side] = made.map((m) => m.id);
        forceDeleteAll(c, ids);
      }
    };
    for (let i = 0; i < warmup + runs; i++) {
      for (const rt of [c.ts, c.rc]) {
        await tick();
        const t = await round(rt);
        if (i >= warmup) push(ms, rt.side, t);
      }
    }
    out.samples.ms = ms;
    out.rows.push(vsRunc(timeRow(`${PARALLEL} parallel create+start+exit`, ms, null, 'tsrunc', 'runc', null), 1.5));
    out.notes.push(`${PARALLEL} in parallel: ${runs} runs after ${warmup} warm-up (at most 10), each runtime alternately; ` +
      'async spawns; the wall time ends when every container process has exited');
  },
};

/** Commands whose peak RSS the `mem` section measures, in the order they run each iteration. */
const PEAK_COMMANDS = ['run', 'create', 'state', 'list', 'start', 'delete', 'kill', 'exec'] as const;

const memSection: Section = {
  name: 'mem',
  about: 'VmRSS of the process waiting in `created` (target <= 1 MiB) and peak RSS of each CLI command (/usr/bin/time)',
  async run(c, out) {
    const time = '/usr/bin/time';
    const runs = Math.min(c.o.runs, 10);
    const warmup = Math.min(c.o.warmup, 1);
    const waiting: Record<Side, ProcMem[]> = { tsrunc: [], runc: [] };
    const peak: Samples = {};
    const haveTime = fs.existsSync(time);
    const ids: Record<Side, string[]> = { tsrunc: [], runc: [] };
    try {
      const running = haveTime ? startSleepers(c, ids, 'memx') : null;
      const outFile = path.join(c.tmp, 'time.out');
      /** argv under /usr/bin/time -f %M; the peak RSS in KiB. */
      const timed = (key: string, argv: string[], measured: boolean): void => {
        if (!haveTime) {
          c.x.ok(argv);
          return;
        }
        fs.rmSync(outFile, { force: true });
        c.x.ok([time, '-f', '%M', '-o', outFile, ...argv]);
        const kib = Number(fs.readFileSync(outFile, 'utf8').trim().split('\n').pop());
        if (!Number.isFinite(kib) || kib <= 0) throw new BenchError(`${time}: no %M in ${outFile}`);
        if (measured) push(peak, key, kib);
      };
      // Per runtime, the container the create/state/list/start/delete steps work on.
      const cur = {} as Record<Side, { id: string; pid: number }>;
      const steps: Array<(measured: boolean) => void> = [];
      const both = (f: (rt: Runtime, measured: boolean) => void) => {
        for (const rt of [c.ts, c.rc]) steps.push((measured) => f(rt, measured));
      };
      both((rt, m) => {
        const id = newId(rt, 'memr');
        timed(`${rt.side}.run`, rt.argv('run', '--bundle', c.bundle, id), m);
        rt.live.delete(id);
      });
      both((rt, m) => {
        const id = newId(rt, 'mem');
        const pidFile = path.join(c.tmp, `mem-${rt.side}.pid`);
        fs.rmSync(pidFile, { force: true });
        timed(`${rt.side}.create`, rt.argv('create', '--bundle', c.bundle, '--pid-file', pidFile, id), m);
        cur[rt.side] = { id, pid: readPid(pidFile) };
        if (m) waiting[rt.side].push(procMem(cur[rt.side].pid));
      });
      both((rt, m) => timed(`${rt.side}.state`, rt.argv('state', cur[rt.side].id), m));
      steps.push((m) => timed('node', c.nodeEmpty, m));
      both((rt, m) => {
        timed(`${rt.side}.list`, rt.argv('list'), m);
        // The waiting process again, after state and list: it must not have grown.
        if (m) waiting[rt.side].push(procMem(cur[rt.side].pid));
      });
      both((rt, m) => {
        timed(`${rt.side}.start`, rt.argv('start', cur[rt.side].id), m);
        waitStopped(cur[rt.side].pid);
      });
      both((rt, m) => {
        timed(`${rt.side}.delete`, rt.argv('delete', cur[rt.side].id), m);
        rt.live.delete(cur[rt.side].id);
      });
      both((rt, m) => {
        const k = createWithPid(c, rt, 'memk');
        timed(`${rt.side}.kill`, rt.argv('kill', k.id, 'KILL'), m);
        waitStopped(k.pid);
        deleteStopped(c, rt, k.id);
      });
      if (running) both((rt, m) => timed(`${rt.side}.exec`, rt.argv('exec', running[rt.side], '/bin/true'), m));
      await interleave({ runs, warmup }, steps);
    } finally {
      forceDeleteAll(c, ids);
    }

    const t = median(waiting.tsrunc.map((m) => m.vmRssKiB)) / 1024;
    const r = median(waiting.runc.map((m) => m.vmRssKiB)) / 1024;
    out.rows.push({
      operation: 'waiting in created: VmRSS',
      unit: 'MiB',
      tsrunc: r2(t),
      runc: r2(r),
      node: null,
      ratioRunc: r2(t / r),
      ratioNode: null,
      target: { text: '<= 1 MiB', met: t <= 1 },
    });
    out.samples.waiting = waiting;
    const comms = (s: Side) => [...new Set(waiting[s].map((m) => m.comm))].join(',');
    const parts = (s: Side) => ['rssAnonKiB', 'rssFileKiB', 'rssShmemKiB'].map((k) => median(waiting[s].map((m) => m[k as keyof ProcMem] as number))).join('/');
    out.notes.push(`waiting processes (comm): tsrunc ${comms('tsrunc')}, runc ${comms('runc')}; ` +
      `${waiting.tsrunc.length}/${waiting.runc.length} samples (after create, and after state+list); ` +
      `RssAnon/RssFile/RssShmem median: tsrunc ${parts('tsrunc')} KiB, runc ${parts('runc')} KiB`);
    if (!haveTime) {
      out.notes.push(`CLI peak RSS skipped: ${time} is not installed (the benchmark installs nothing)`);
      return;
    }
    out.samples.peakKiB = peak;
    const n = median(peak.node) / 1024;
    for (const cmd of PEAK_COMMANDS) {
      const ts = median(peak[`tsrunc.${cmd}`]) / 1024;
      const rc = median(peak[`runc.${cmd}`]) / 1024;
      const row: Row = {
        operation: `peak RSS: ${cmd}`,
        unit: 'MiB',
        tsrunc: r2(ts),
        runc: r2(rc),
        node: r2(n),
        ratioRunc: r2(ts / rc),
        ratioNode: r2(ts / n),
      };
      if (cmd === 'state') vsNode(row, 1.1);
      out.rows.push(row);
    }
    out.notes.push(`peak RSS: /usr/bin/time -f %M (max RSS of the command and the descendants it waited for), ${runs} runs ` +
      'each (at most 10); node column: `node empty.js`; exec goes into a running sleep container');
  },
};

/** bench/ecosystem.ts: `docker run --rm` and `podman run --rm` with each runtime, private daemons. */
const ecosystemSection: Section = {
  name: 'ecosystem',
  about: '`docker run --rm IMG true` and `podman run --rm IMG true` with each runtime (slow: off unless named)',
  async run(c, out) {
    await benchEcosystem({
      runs: c.o.runs, warmup: c.o.warmup, tsrunc: c.o.tsrunc, runc: c.rc.bin, env: c.env,
      dir: path.dirname(c.ts.root), tick,
      row: (op, ms) => { out.samples[op] = ms; out.rows.push(timeRow(op, ms, null, 'tsrunc', 'runc', null)); },
      note: (n) => out.notes.push(n),
    });
  },
};

/**
 * The sections, in the order they run. `--only` takes their names. To add one (e.g. from its own
 * file), implement lib.ts Section and append it here.
 */
const SECTIONS: Section[] = [
  runSection,
  cycleSection,
  querySection('state', '`state <id>` of a created container (target <= 1.10x node)'),
  querySection('list', '`list` with one created container (target <= 1.10x node)'),
  killSection,
  startSection,
  deleteSection,
  execSection,
  seriesSection,
  parallelSection,
  memSection,
  ecosystemSection,
];

/** Slow (a dockerd and a podman): only with `--only ecosystem` or `--ecosystem`. */
const OFF_BY_DEFAULT = new Set(['ecosystem']);

// ---- options -----------------------------------------------------------------------------------

const LOAD_LIMIT = 0.5;

const USAGE = `usage: node dist/bench/bench.js [options]
  --runs N           measured runs per operation and runtime (default 20)
  --warmup N         warm-up runs per operation and runtime (default 3)
  --json             print the results as JSON instead of tables
  --only LIST        comma-separated subset of the sections (default: all but ecosystem):
${SECTIONS.map((s) => `                       ${s.name.padEnd(10)}${s.about}`).join('\n')}
  --ecosystem        add the ecosystem section to the default ones
  --allow-load       give verdicts also for rows measured while others loaded the machine
                     (others' 1-min load > --load-limit); they are marked "(under load X.XX)"
  --load-limit X     the load gate's limit (default ${LOAD_LIMIT})
  --create-series N  creates in the \`series\` section (default 50)
  --breakdown [N]    also profile N (default 5) \`tsrunc --debug run\` and \`tsrunc state\` calls:
                     phase timings from --debug and per-module require() times
  --tsrunc PATH      tsrunc executable (default <repo>/bin/tsrunc)
  --runc PATH        runc executable (default runc from PATH)
  --state-dir DIR    where to make the runtimes' --root dirs (default /dev/shm if it is a tmpfs, like
                     /run/runc normally is; else the temp dir, where tsrunc's state fsync costs more)
  --no-reaper        do not re-run under build/Release/tsrunc-reaper (a child subreaper)
  --keep-node-env    let the measured processes inherit ${NODE_ENV_VARS.join(', ')};
                     by default they are removed (NODE_EXTRA_CA_CERTS alone costs each node start-up
                     ~50 ms here). --scrub-node-env (the old opt-in) is accepted and changes nothing.
`;

function parseArgs(argv: string[]): Options {
  const root = repoRoot();
  const names = SECTIONS.map((s) => s.name);
  const o: Options = {
    runs: 20,
    warmup: 3,
    json: false,
    only: new Set(names.filter((n) => !OFF_BY_DEFAULT.has(n))),
    breakdown: 0,
    tsrunc: path.join(root, 'bin', 'tsrunc'),
    runc: 'runc',
    reaper: true,
    scrubNodeEnv: true,
    allowLoad: false,
    loadLimit: LOAD_LIMIT,
    createSeries: 50,
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
      case '--scrub-node-env': break; // the default now; kept so that old command lines work
      case '--keep-node-env': o.scrubNodeEnv = false; break;
      case '--allow-load': o.allowLoad = true; break;
      case '--ecosystem': o.only.add('ecosystem'); break;
      case '--load-limit': {
        const v = value();
        const n = Number(v);
        if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) throw new UsageError('--load-limit needs a number >= 0');
        o.loadLimit = n;
        break;
      }
      case '--create-series': o.createSeries = int('--create-series', value(), 1); break;
      case '--state-dir': o.stateDir = path.resolve(value() ?? ''); break;
      case '--tsrunc': o.tsrunc = path.resolve(value() ?? ''); break;
      case '--runc': o.runc = value() ?? 'runc'; break;
      case '--only': {
        const list = (value() ?? '').split(',').filter(Boolean);
        for (const s of list) if (!names.includes(s)) throw new UsageError(`--only: unknown section ${s} (sections: ${names.join(',')})`);
        if (list.length === 0) throw new UsageError('--only needs a list');
        o.only = new Set(list);
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

/** The printed verdict of a row's target, after the load gate. */
function verdict(row: Row, o: Options): string | undefined {
  if (!row.target) return undefined;
  const load = row.load?.othersMax ?? 0;
  const loaded = load > o.loadLimit;
  if (loaded && !o.allowLoad) return `load ${load.toFixed(2)}: no verdict`;
  return (row.target.met ? 'met' : 'not met') + (loaded ? ` (under load ${load.toFixed(2)})` : '');
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
  lines.push(`  node env: ${meta.nodeEnv}`);
  lines.push(`  load gate: ${meta.loadGate}`);
  lines.push('');
  const head = `${w('operation', 36, true)} ${w('tsrunc', 8)} ${w('runc', 8)} ${w('node', 9)} ${w('ts/runc', 7)} ${w('ts/node', 7)} ${w('load1', 9)} ${w('others', 6)}  target`;
  lines.push(head);
  lines.push('-'.repeat(head.length + 30));
  for (const r of rows) {
    const name = (r.indent ? '  ' : '') + r.operation + (r.unit === 'MiB' ? ' (MiB)' : ' (ms)');
    const node = r.node === null ? '-' : (r.nodeCalls ? `${r.nodeCalls}x ` : '') + fmt(r.node);
    const tgt = r.target ? `${r.target.text}: ${r.target.verdict ?? (r.target.met ? 'met' : 'not met')}` : '';
    const load1 = r.load ? `${fmt(r.load.before, 2)}-${fmt(r.load.after, 2)}` : '-';
    const others = r.load ? fmt(r.load.othersMax, 2) : '-';
    lines.push(`${w(name, 36, true)} ${w(fmt(r.tsrunc, r.unit === 'MiB' ? 2 : 1), 8)} ${w(fmt(r.runc, r.unit === 'MiB' ? 2 : 1), 8)} ${w(node, 9)} ` +
      `${w(r.ratioRunc === null ? '-' : fmt(r.ratioRunc, 2) + 'x', 7)} ${w(r.ratioNode === null ? '-' : fmt(r.ratioNode, 2) + 'x', 7)} ` +
      `${w(load1, 9)} ${w(others, 6)}  ${tgt}`);
  }
  lines.push('load1: the 1-min load average when the row started-ended (the benchmark itself adds up to ~1); others: the highest');
  lines.push('1-min load of the other tasks during the row (what the load gate checks; see bench/README.md)');
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

  handleSignals();
  try {
    setClockTicks(Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100);
  } catch { /* keep 100 */ }

  const notes: string[] = [];
  if (process.geteuid?.() !== 0) notes.push('not running as root: both runtimes will probably fail');
  if (!fs.existsSync(o.tsrunc)) throw new BenchError(`${o.tsrunc} does not exist (build first: npx tsc -p tsconfig.json && node scripts/gen-bin.js)`);
  const runcPath = resolveRunc(o.runc);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
  const env = { ...process.env };
  delete env.TSRUNC_BENCH_REAPED;
  const nodeVars = NODE_ENV_VARS.filter((k) => env[k] !== undefined);
  let nodeEnv: string;
  if (nodeVars.length === 0) {
    nodeEnv = `none of ${NODE_ENV_VARS.join(', ')} is set`;
  } else if (o.scrubNodeEnv) {
    for (const k of nodeVars) delete env[k];
    nodeEnv = `removed ${nodeVars.join(', ')} from the measured processes' environment (the default; --keep-node-env keeps them)`;
  } else {
    nodeEnv = `kept (--keep-node-env): ${nodeVars.map((k) => `${k}=${env[k]}`).join(' ')}`;
    notes.push('--keep-node-env: the inherited node variables slow every node start-up (tsrunc and node empty.js, not runc), ' +
      'which hides part of tsrunc\'s own cost in the ts/node ratios');
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
    nodeEnv,
    loadLimit: o.loadLimit,
    allowLoad: o.allowLoad,
    loadGate: `verdicts need the others' 1-min load <= ${o.loadLimit} throughout the row` +
      (o.allowLoad ? ' (--allow-load: given anyway, marked "under load")' : ' (--allow-load gives them anyway)'),
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
    let sleepBundle = '';
    const ctx: Ctx = {
      o, x, ts, rc, bundle, nodeEmpty: [process.execPath, emptyJs], tmp, env,
      sleepBundle: () => (sleepBundle ||= makeBundle(path.join(tmp, 'bundle-sleep'), undefined, { args: ['/bin/sleep', '1000000'] }).dir),
    };

    for (const section of SECTIONS) {
      if (!o.only.has(section.name)) continue;
      const out: SectionOut = { rows: [], samples: {}, notes: [] };
      loadMonitor.begin();
      try {
        await section.run(ctx, out);
      } finally {
        // Whatever the section measured before a failure is still reported.
        const load = loadMonitor.end();
        for (const row of out.rows) {
          row.section = section.name;
          row.load = load;
          if (row.target) row.target.verdict = verdict(row, o);
        }
        rows.push(...out.rows);
        if (Object.keys(out.samples).length > 0) raw[section.name] = { ...out.samples, load };
        notes.push(...out.notes);
      }
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
