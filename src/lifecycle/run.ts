// `run`: create + start; in the foreground, relay signals and wait for the container's exit.
import fs = require('fs');
import { destroy, native, withLock } from './container';
import { doCreate } from './create';
import { startRec } from './start';
import type { GlobalOptions, RunOptions } from './api';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

/** `run`: create + start; in the foreground waits and resolves to the exit code (128+signal). */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  const c = doCreate(g, o);
  const n = native();
  // Foreground: the container shares our stdio; relay signals to its init until it exits. The
  // relay is in place before the container starts, so a signal that comes as soon as it runs is
  // not lost (nor does it kill us and leave the container behind).
  const handlers: [string, () => void][] = [];
  if (!o.detach) {
    const os = require('os') as typeof import('os');
    for (const name of FORWARDED) {
      const num = os.constants.signals[name];
      const h = () => { try { n.pidfdSendSignal(c.pidfd, num); } catch { /* exited */ } };
      process.on(name, h);
      handlers.push([name, h]);
    }
  }
  try {
    startRec(g, c.store, c.rec, c.pidfd);
  } catch (e) {
    for (const [name, h] of handlers) process.removeListener(name, h);
    // A failed startContainer/poststart hook has destroyed the container already (start.ts).
    if (c.store.exists(o.id)) {
      try { destroy(g, c.store, c.rec, 'running'); } catch { /* best effort */ }
    }
    fs.closeSync(c.pidfd);
    throw e;
  }
  if (o.detach) {
    fs.closeSync(c.pidfd);
    return 0;
  }
  let status: import('../sys/native').ExitStatus;
  try {
    status = await n.waitPidfd(c.pidfd);
  } finally {
    for (const [name, h] of handlers) process.removeListener(name, h);
    fs.closeSync(c.pidfd);
  }
  if (!o.keep) {
    withLock(c.store, o.id, () => destroy(g, c.store, c.rec, 'stopped'));
  }
  return status.code !== null ? status.code : 128 + (status.signal ?? 0);
}
