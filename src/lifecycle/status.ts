// The container status: derived from the live world every time (design §4), and the table of
// which verb is allowed in which status (one pure function, errors with runc's texts).
import { TsruncError } from '../errors';
import type { Status } from './api';

export interface StatusProbe {
  /** Start time (field 22 of /proc/<pid>/stat) of a live, non-zombie pid; null when gone. */
  startTime(pid: number): string | null;
  fifoExists(): boolean;
  frozen(): boolean;
}

export function deriveStatus(pid: number, pidStartTime: string, probe: StatusProbe): Status {
  const st = pid > 0 ? probe.startTime(pid) : null;
  if (st === null || st !== pidStartTime) return 'stopped';
  // A frozen cgroup is `paused` even before `start` (runc pauses created containers too).
  if (probe.frozen()) return 'paused';
  if (probe.fifoExists()) return 'created';
  return 'running';
}

export type Verb = 'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'exec';

/** Throws unless `verb` is allowed in `status`. Texts are runc's: callers match on them. */
export function checkTransition(id: string, status: Status, verb: Verb, opts: { force?: boolean; all?: boolean } = {}): void {
  const fail = (msg: string): never => { throw new TsruncError('E_STATUS', msg); };
  switch (verb) {
    case 'start':
      if (status === 'created') return;
      if (status === 'stopped') fail('cannot start a container that has stopped');
      fail('cannot start an already running container');
      break;
    case 'kill':
      if (status === 'stopped' && !opts.all) fail('container not running');
      return;
    case 'delete':
      if (status === 'stopped' || opts.force) return;
      fail(`cannot delete container ${id} that is not stopped: ${status}`);
      break;
    case 'pause':
      // Created or running, as runc. Pausing a paused container is not an error (the cgroups
      // issue asks for it; runc 1.1.5 says `container not running`): the goal state holds.
      if (status === 'running' || status === 'created' || status === 'paused') return;
      fail('container not running');
      break;
    case 'resume':
      if (status === 'paused') return;
      fail('container not paused');
      break;
    case 'exec':
      if (status === 'created' || status === 'running') return;
      if (status === 'paused') fail('cannot exec in a paused container (use --ignore-paused to override)');
      fail('cannot exec in a stopped container');
  }
}
