// `run`: create + start; in the foreground, relay signals (and the terminal, with process.terminal)
// and wait for the container's exit.
import fs = require('fs');
import { destroy, native, withLock } from './container';
import { doCreate } from './create';
import { startRec } from './start';
import { ConsoleProxy, forwardedSignals, signalNumber } from './console';
import { bindNotifySocket, relayNotify, relayNotifySync } from './notify';
import type { GlobalOptions, RunOptions } from './api';

/** `run`: create + start; in the foreground waits and resolves to the exit code (128+signal). */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  const c = doCreate(g, o, o.detach);
  const n = native();
  // Foreground: the container shares our stdio (or our terminal is proxied to its pty); relay
  // signals to its init until it exits. The relay is in place before the container starts, so a
  // signal that comes as soon as it runs is not lost (nor does it kill us and leave the container
  // behind).
  const handlers: [string, () => void][] = [];
  let proxy: ConsoleProxy | undefined;
  let notifySock = -1;
  const undo = () => {
    for (const [name, h] of handlers) process.removeListener(name, h);
    proxy?.restore();
  };
  try {
    if (c.console !== undefined) proxy = new ConsoleProxy(n, c.console);
    if (c.notify) notifySock = bindNotifySocket(n, c.notify);
    if (!o.detach) {
      for (const name of forwardedSignals(proxy !== undefined)) {
        const h = () => { try { n.pidfdSendSignal(c.pidfd, signalNumber(name)); } catch { /* exited */ } };
        process.on(name, h);
        handlers.push([name, h]);
      }
      proxy?.start();
    }
    startRec(g, c.store, c.rec, c.pidfd);
  } catch (e) {
    undo();
    if (notifySock >= 0) fs.closeSync(notifySock);
    // A failed startContainer/poststart hook has destroyed the container already (start.ts).
    if (c.store.exists(o.id)) {
      try { destroy(g, c.store, c.rec, 'running'); } catch { /* best effort */ }
    }
    if (c.console !== undefined && proxy === undefined) fs.closeSync(c.console);
    fs.closeSync(c.pidfd);
    throw e;
  }
  if (o.detach) {
    try {
      // runc's `run -d` returns once the container is READY (or has exited).
      if (c.notify) relayNotifySync(n, c.notify, notifySock, c.pidfd, c.rec.pid);
    } catch (e) {
      g.log('warning', `NOTIFY_SOCKET: ${(e as Error).message}`); // runc ignores it too: the container runs
    } finally {
      fs.closeSync(c.pidfd);
    }
    return 0;
  }
  const relay = c.notify
    ? relayNotify(n, c.notify, notifySock, c.pidfd, process.pid).catch((e: Error) => { g.log('warning', `NOTIFY_SOCKET: ${e.message}`); })
    : undefined;
  let status: import('../sys/native').ExitStatus;
  try {
    status = await n.waitPidfd(c.pidfd);
    await proxy?.finish();
    await relay;
  } finally {
    undo();
    fs.closeSync(c.pidfd);
  }
  if (!o.keep) {
    withLock(c.store, o.id, () => destroy(g, c.store, c.rec, 'stopped'));
  }
  return status.code !== null ? status.code : 128 + (status.signal ?? 0);
}
