// `start`: release a created container's init through exec.fifo (the start half of the
// handshake; `run` uses startRec with the pidfd it already has).
import fs = require('fs');
import { TsruncError } from '../errors';
import type { StateRecord, StateStore } from '../state/store';
import { checkTransition } from './status';
import { native, statusOf, withContainer } from './container';
import type { GlobalOptions } from './api';

export function startRec(store: StateStore, rec: StateRecord, pidfd?: number): void {
  checkTransition(rec.id, statusOf(store, rec), 'start');
  const n = native();
  const fifo = store.fifoPath(rec.id);
  let fd = pidfd;
  if (fd === undefined) {
    try {
      fd = n.pidfdOpen(rec.pid);
    } catch {
      throw new TsruncError('E_STATUS', 'cannot start a container that has stopped');
    }
  }
  try {
    // fifoStart removes the fifo as soon as it has opened it: the container is started then.
    const r = n.fifoStart(fifo, fd);
    if (r === 'dead') {
      throw new TsruncError('E_SETUP', 'container init exited before it could be started');
    }
  } finally {
    if (pidfd === undefined) fs.closeSync(fd);
  }
}

/** `start`: release a created container's init. */
export function start(g: GlobalOptions, id: string): void {
  withContainer(g, id, (c) => startRec(c.store, c.rec));
}
