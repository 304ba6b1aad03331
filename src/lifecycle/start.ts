// `start`: release a created container's init through exec.fifo (the start half of the
// handshake; `run` uses startRec with the pidfd it already has), then the poststart hooks.
import fs = require('fs');
import { TsruncError } from '../errors';
import type { StateRecord, StateStore } from '../state/store';
import { checkTransition } from './status';
import { destroy, lean, native, statusOf, withContainer } from './container';
import type { GlobalOptions } from './api';
import { pidStartTime } from '../sys/proc';

/**
 * Start the container. A failed startContainer hook (reported by the init through exec.fifo) or
 * poststart hook stops the container: it is destroyed and its poststop hooks run (runtime.md,
 * lifecycle steps 7, 9, 12 and 13), and the error is thrown with `destroyed` set.
 */
export function startRec(g: GlobalOptions, store: StateStore, rec: StateRecord, pidfd?: number): void {
  checkTransition(rec.id, statusOf(store, rec), 'start');
  const n = lean();
  const fifo = store.fifoPath(rec.id);
  let fd = pidfd;
  if (fd === undefined) {
    try {
      fd = n.pidfdOpen(rec.pid);
    } catch {
      throw new TsruncError('E_STATUS', 'cannot start a container that has stopped');
    }
  }
  let hookError: TsruncError | undefined;
  try {
    // fifoStart removes the fifo as soon as it has opened it: the container is started then. It
    // returns once the container's program runs (or a startContainer hook failed).
    const r = n.fifoStart(fifo, fd);
    if (r.result === 'dead') {
      throw new TsruncError('E_SETUP', 'container init exited before it could be started');
    }
    if (r.result === 'failed') hookError = new TsruncError('E_HOOK', r.message);
  } finally {
    if (pidfd === undefined) fs.closeSync(fd);
  }
  if (!hookError && rec.hooks?.poststart?.length) {
    const { hookState, runHooks } = require('./hooks') as typeof import('./hooks');
    try {
      runHooks(native(), 'poststart', rec.hooks.poststart, hookState(rec.id, rec.bundle, 'running', rec.pid, rec.annotations));
    } catch (e) {
      if (!(e instanceof TsruncError)) throw e;
      hookError = e;
    }
  }
  if (hookError) {
    try {
      destroy(g, store, rec, statusOf(store, rec));
    } catch (e) {
      g.log('warning', `destroy the container after the failed hook: ${(e as Error).message}`);
    }
    throw hookError;
  }
}

/**
 * `start`: release a created container's init. With NOTIFY_SOCKET (runc's start.go), the
 * container's notify socket is bound first, and once the container runs, start waits for its
 * READY (or its exit) and relays it (src/lifecycle/notify.ts), without holding the container's lock.
 */
export function start(g: GlobalOptions, id: string): void {
  // notify.ts only with NOTIFY_SOCKET: a plain start does not load it.
  const notify = () => require('./notify') as typeof import('./notify');
  const relay = withContainer(g, id, (c) => {
    const ns = process.env.NOTIFY_SOCKET ? notify().notifySetup(c.store, id) : undefined;
    if (!ns) {
      startRec(g, c.store, c.rec);
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
      sock = notify().bindNotifySocket(n, ns);
      startRec(g, c.store, c.rec, pidfd);
    } catch (e) {
      if (sock >= 0) fs.closeSync(sock);
      fs.closeSync(pidfd);
      throw e;
    }
    return { ns, sock, pidfd, pid: c.rec.pid };
  });
  if (!relay) return;
  try {
    notify().relayNotifySync(native(), relay.ns, relay.sock, relay.pidfd, relay.pid);
  } finally {
    fs.closeSync(relay.pidfd);
  }
}
