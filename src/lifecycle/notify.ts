// NOTIFY_SOCKET (sd_notify), as runc 1.1.5 does it (notify_socket.go):
// - create/run with NOTIFY_SOCKET in tsrunc's environment: `<root>/<id>/notify/` (0755) is bind-
//   mounted read-only (nosuid, noexec, nodev) on /run/notify in the container, and the container
//   gets NOTIFY_SOCKET=/run/notify/notify.sock;
// - whoever starts the container (`start`, or `run`) binds the datagram socket
//   `<root>/<id>/notify/notify.sock` (0777) before the container runs, waits for a datagram with a
//   `READY=` line (others, such as STATUS=, are dropped as runc does) or for the container's init
//   to exit, and sends the caller's NOTIFY_SOCKET that line and `MAINPID=<pid>` (the init's host
//   pid; tsrunc's own for `run` in the foreground, which is what stays alive there).
// Unlike runc's foreground `run`, which blocks its signal relay until READY arrives, the relay runs
// beside the wait for the container.
import fs = require('fs');
import path = require('path');
import { TsruncError } from '../errors';
import type { Native } from '../sys/native';
import type { StateStore } from '../state/store';
import type { Spec } from '../spec/types';
import { goErrnoText } from './console';

export interface NotifySetup {
  /** The caller's socket (NOTIFY_SOCKET of tsrunc's environment; `@name` is abstract). */
  host: string;
  /** `<root>/<id>/notify`, bound on NOTIFY_DIR_IN_CONTAINER. */
  dir: string;
  /** `<dir>/notify.sock`, the socket the container writes to. */
  socketPath: string;
}

export const NOTIFY_DIR_IN_CONTAINER = '/run/notify';
export const NOTIFY_SOCKET_IN_CONTAINER = `${NOTIFY_DIR_IN_CONTAINER}/notify.sock`;

/** The relay of container `id`, or undefined without NOTIFY_SOCKET. */
export function notifySetup(store: StateStore, id: string, env: NodeJS.ProcessEnv = process.env): NotifySetup | undefined {
  const host = env.NOTIFY_SOCKET;
  if (host === undefined || host === '') return undefined;
  const dir = path.join(store.dir(id), 'notify');
  return { host, dir, socketPath: path.join(dir, 'notify.sock') };
}

/** The mount and the environment variable, appended as runc does (after the config's own). */
export function addNotifyToSpec(spec: Spec, n: NotifySetup): void {
  spec.mounts = [...(spec.mounts ?? []), {
    destination: NOTIFY_DIR_IN_CONTAINER, source: n.dir, options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'],
  }];
  if (spec.process) spec.process.env = [...(spec.process.env ?? []), `NOTIFY_SOCKET=${NOTIFY_SOCKET_IN_CONTAINER}`];
}

/** The directory, made by create in the fresh state directory (before the init mounts it). */
export function makeNotifyDir(n: NotifySetup): void {
  fs.mkdirSync(n.dir, { mode: 0o755 });
  fs.chmodSync(n.dir, 0o755);
}

/** Bind the container's socket (start, run): runc's error when create made no directory for it. */
export function bindNotifySocket(native: Pick<Native, 'unixDgramBind'>, n: NotifySetup): number {
  let fd: number;
  try {
    fd = native.unixDgramBind(n.socketPath);
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `listen unixgram ${n.socketPath}: bind: ${goErrnoText(e)}`, { cause: e });
  }
  try {
    fs.chmodSync(n.socketPath, 0o777);
  } catch (e) {
    fs.closeSync(fd);
    throw new TsruncError('E_SYSCALL', `chmod ${n.socketPath}: ${goErrnoText(e)}`, { cause: e });
  }
  return fd;
}

/** Connect to the caller's socket first (a bad one fails before any wait, as runc's dial). */
function dialHost(native: Pick<Native, 'unixConnect'>, n: NotifySetup): number {
  try {
    return native.unixConnect(n.host, 'dgram');
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `dial unixgram ${n.host}: connect: ${goErrnoText(e)}`, { cause: e });
  }
}

function forward(native: Pick<Native, 'sendData'>, client: number, n: NotifySetup, ready: string | null, mainPid: number): boolean {
  if (ready === null) return false;
  try {
    native.sendData(client, `${ready}\n`);
    native.sendData(client, `MAINPID=${mainPid}\n`);
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `write unixgram ${n.host}: ${goErrnoText(e)}`, { cause: e });
  }
  return true;
}

type RelayNative = Pick<Native, 'unixConnect' | 'sendData' | 'notifyWaitSync' | 'notifyWait'>;

/**
 * Wait for READY (or the exit of the process behind `pidfd`) and relay it; true if READY was
 * relayed. `sock` (the bound socket) is closed at the end.
 */
export function relayNotifySync(native: RelayNative, n: NotifySetup, sock: number, pidfd: number, mainPid: number): boolean {
  try {
    const client = dialHost(native, n);
    try {
      return forward(native, client, n, native.notifyWaitSync(sock, pidfd), mainPid);
    } finally {
      fs.closeSync(client);
    }
  } finally {
    fs.closeSync(sock);
  }
}

/** relayNotifySync off the main thread (`run` in the foreground relays signals meanwhile). */
export async function relayNotify(native: RelayNative, n: NotifySetup, sock: number, pidfd: number, mainPid: number): Promise<boolean> {
  try {
    const client = dialHost(native, n);
    try {
      return forward(native, client, n, await native.notifyWait(sock, pidfd), mainPid);
    } finally {
      fs.closeSync(client);
    }
  } finally {
    fs.closeSync(sock);
  }
}
