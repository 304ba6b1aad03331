// `start`: release a created container's init through exec.fifo (the start half of the
// handshake; `run` uses startRec with the pidfd it already has).
import fs = require('fs');
import { TsruncError } from '../errors';
import type { StateRecord, StateStore } from '../state/store';
import { checkTransition } from './status';
import { native, statusOf, withContainer } from './container';
import type { GlobalOptions } from './api';
import { pidStartTime } from '../sys/proc';
import { bindNotifySocket, notifySetup, relayNotifySync } from './notify';

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

/**
 * `start`: release a created container's init. With NOTIFY_SOCKET (runc's start.go), the
 * container's notify socket is bound first, and once the container runs, start waits for its
 * READY (or its exit) and relays it (src/lifecycle/notify.ts), without holding the container's lock.
 */
export function start(g: GlobalOptions, id: string): void {
  const relay = withContainer(g, id, (c) => {
    const ns = notifySetup(c.store, id);
    if (!ns) {
      startRec(c.store, c.rec);
      return undefined;
    }
    checkTransition(c.rec.id, statusOf(c.store, c.rec), 'start');
    const n = native();
    let pidfd: number;
    try {
      pidfd = n.pidfdOpen(c.rec.pid);
    } catch {
      throw new TsruncError('E_STATUS', 'cannot start a container that has stopped');
    }
    let sock = -1;
    try {
      if (pidStartTime(c.rec.pid) !== c.rec.pidStartTime) throw new TsruncError('E_STATUS', 'cannot start a container that has stopped');
      sock = bindNotifySocket(n, ns);
      startRec(c.store, c.rec, pidfd);
    } catch (e) {
      if (sock >= 0) fs.closeSync(sock);
      fs.closeSync(pidfd);
      throw e;
    }
    return { ns, sock, pidfd, pid: c.rec.pid };
  });
  if (!relay) return;
  try {
    relayNotifySync(native(), relay.ns, relay.sock, relay.pidfd, relay.pid);
  } finally {
    fs.closeSync(relay.pidfd);
  }
}
