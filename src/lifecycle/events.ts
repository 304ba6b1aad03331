// `events`: the container's cgroup statistics and OOM notifications, one JSON object per line in
// runc 1.1.5's shape (src/cgroup/stats.ts).
//   --stats      one `{"type":"stats","id":…,"data":{…}}` and exit;
//   (default)    a stream: a stats event every interval, and `{"type":"oom","id":…}` whenever the
//                cgroup's OOM-kill counter grows (v2 memory.events `oom_kill`; v1 memory.oom_control
//                `oom_kill`, or `under_oom` turning 1 when the OOM killer is disabled). The counters
//                are polled every 100 ms: runc's v1 notification needs an eventfd registered through
//                cgroup.event_control, which Node cannot create, and a counter that only grows
//                cannot be missed by polling (an OOM is reported at most ~100 ms late).
//                The stream ends as runc's does: on v2 when the cgroup is no longer populated, on
//                v1 when the memory cgroup is removed (`delete`).
// Errors (runc's texts): `container does not exist`; `duration interval must be greater than 0`;
// `container with id <id> is not running` (stopped). Stats read errors during a stream are logged
// and the stream goes on, as in runc.
import * as path from 'node:path';
import { TsruncError } from '../errors';
import { loadContainer, type Container } from './container';
import type { EventsOptions, GlobalOptions } from './api';
import type * as Stats from '../cgroup/stats';

const OOM_POLL_MS = 100;

function statsModule(): typeof Stats {
  return require('../cgroup/stats') as typeof Stats;
}

function open(g: GlobalOptions, o: EventsOptions): { c: Container; paths: Record<string, string> } {
  const c = loadContainer(g, o.id);
  if (!(o.intervalMs > 0)) throw new TsruncError('E_USAGE', 'duration interval must be greater than 0');
  if (c.status() === 'stopped') throw new TsruncError('E_STATUS', `container with id ${o.id} is not running`);
  return { c, paths: c.cgroup().toRecord().paths };
}

/** `events --stats`: the one stats line (with its newline). */
export function eventsStats(g: GlobalOptions, o: EventsOptions): string {
  const { c, paths } = open(g, o);
  const st = statsModule();
  return st.statsEventJson(c.id, st.readStats(paths)) + '\n';
}

/** `events` without --stats: emit lines until the container's cgroup is gone (see above), or
 *  until emit returns false (the reader went away). */
export function events(g: GlobalOptions, o: EventsOptions, emit: (line: string) => boolean | void): Promise<void> {
  const { c, paths } = open(g, o);
  const st = statsModule();
  const keys = Object.keys(paths);
  const v2 = keys.length === 1 && keys[0] === '';
  const sizes = st.hugePageSizes();
  const first = st.readOomCounters(paths);
  let lastKill = first?.oomKill ?? 0n;
  let lastUnder = first?.underOom ?? false;
  return new Promise<void>((resolve) => {
    const finished = (): boolean => {
      if (v2) {
        const ev = st.nodeStatsRead(path.join(paths['']!, 'cgroup.events'));
        return ev === undefined || /^populated 0$/m.test(ev);
      }
      return paths.memory !== undefined ? st.readOomCounters(paths) === undefined
        : st.nodeStatsRead(path.join(Object.values(paths)[0]!, 'cgroup.procs')) === undefined;
    };
    /** An oom event if the counters grew since the last look; false if the reader went away. */
    const checkOom = (): boolean => {
      const now = st.readOomCounters(paths);
      if (now === undefined) return true;
      const grew = now.oomKill > lastKill || (now.underOom && !lastUnder);
      lastKill = now.oomKill;
      lastUnder = now.underOom;
      return !grew || emit(st.oomEventJson(c.id) + '\n') !== false;
    };
    const poll = (): void => {
      try {
        if (!checkOom()) { stop(); return; }
        if (finished()) stop();
      } catch (e) {
        g.log('error', e instanceof Error ? e.message : String(e));
      }
    };
    const tick = (): void => {
      try {
        const stats = st.readStats(paths, { hugePageSizes: sizes });
        // Read first, then check: a cgroup removed (or emptied, on v2) while it was read gives
        // zeros, which must not go out as the container's last stats; the stream ends instead,
        // after a last look at the oom counters (an OOM kill that emptied the cgroup between two
        // polls would otherwise never be reported).
        if (finished()) { checkOom(); stop(); return; }
        if (emit(st.statsEventJson(c.id, stats) + '\n') === false) stop();
      } catch (e) {
        g.log('error', e instanceof Error ? e.message : String(e));
      }
    };
    const oomTimer = setInterval(poll, OOM_POLL_MS);
    const statsTimer = setInterval(tick, o.intervalMs);
    function stop(): void {
      clearInterval(oomTimer);
      clearInterval(statsTimer);
      resolve();
    }
  });
}
