// `kill`: a signal to the init, or with --all to every process of the container's cgroup.
import { TsruncError } from '../errors';
import { validateId } from '../state/id';
import { checkTransition } from './status';
import { signalInit, withContainer } from './container';
import type { GlobalOptions, KillOptions } from './api';

const SIGKILL = 9; // Linux's on every architecture; the CLI has turned names into numbers already

/** `kill`: send a signal to the init (or, with all, to every process of the container). */
export function kill(g: GlobalOptions, o: KillOptions): void {
  // 0 checks that the init exists (kill(2)), as `runc kill <id> 0` does.
  if (!Number.isInteger(o.signal) || o.signal < 0 || o.signal > 64) {
    throw new TsruncError('E_SIGNAL', 'unable to signal init: invalid argument');
  }
  validateId(o.id);
  withContainer(g, o.id, (c) => {
    const status = c.status();
    checkTransition(o.id, status, 'kill', { all: o.all });
    if (o.all) {
      // Every process of the cgroup, the init included: exactly one delivery each.
      c.cgroup().killAll(o.signal);
      return;
    }
    signalInit(c.rec, o.signal);
    // A frozen process acts on SIGKILL only once thawed: thaw a paused container after SIGKILL
    // (runc does the same; other signals stay pending until `resume`).
    if (status === 'paused' && o.signal === SIGKILL) c.cgroup().setFrozen(false);
  });
}
