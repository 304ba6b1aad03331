// The caller's fds that go into the container: systemd's LISTEN_FDS and --preserve-fds (create,
// run; exec uses the same two functions). fds 3..3+n-1 are passed unchanged (addon/spawn.cc clears
// their close-on-exec flag, tsrunc-init keeps them at EXEC).
import fs = require('fs');
import { TsruncError, causeText } from '../errors';

export interface PassedFds {
  /** LISTEN_FDS honoured (0 when absent or meant for another process). */
  listen: number;
  /** --preserve-fds. */
  preserve: number;
  /** listen + preserve: fds 3..3+keepFds-1 go to the container. */
  keepFds: number;
  /** LISTEN_FDS=n LISTEN_PID=1 for the container when `listen` > 0. */
  extraEnv: string[];
}

/**
 * systemd socket activation: LISTEN_FDS is honoured only when LISTEN_PID is our own pid (runc's
 * rule, through go-systemd's activation.Files); the container then gets `LISTEN_FDS=n
 * LISTEN_PID=1`, and --preserve-fds counts from after those fds.
 */
export function passedFds(preserve: number, env: NodeJS.ProcessEnv = process.env, pid = process.pid): PassedFds {
  const raw = env.LISTEN_FDS ?? '';
  const n = /^\d+$/.test(raw) ? Number(raw) : 0;
  if (env.LISTEN_PID === String(pid) && n > 0) {
    return { listen: n, preserve, keepFds: n + preserve, extraEnv: [`LISTEN_FDS=${n}`, 'LISTEN_PID=1'] };
  }
  return { listen: 0, preserve, keepFds: preserve, extraEnv: [] };
}

/** The fds open in this process, each with what /proc/self/fd says it is. */
export function ownFds(): Map<number, string> {
  const out = new Map<number, string>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `read /proc/self/fd (to check the fds to pass): ${causeText(e)}`, { cause: e });
  }
  for (const name of names) {
    try { out.set(Number(name), fs.readlinkSync(`/proc/self/fd/${name}`)); } catch { /* the readdir's own fd */ }
  }
  return out;
}

/**
 * The first fd Node opened for itself. At start-up, before any JavaScript runs, Node creates its
 * fds (the tracing agent's event loop, then the platform's and the main loop's: epoll instances,
 * pipes, eventfds) in the lowest free numbers, so they fill whatever gap the caller left. The very
 * first one is an epoll instance (node::tracing::Agent's loop, made in InitializeOncePerProcess);
 * every fd from 3 up to it was inherited from our caller. (The default loop's own epoll is not the
 * first: it comes after the tracing agent's and the task scheduler's.)
 */
export function firstOwnFd(fds: Map<number, string>): number {
  let first = Infinity;
  for (const [fd, what] of fds) if (fd >= 3 && what === 'anon_inode:[eventpoll]' && fd < first) first = fd;
  if (first === Infinity) throw new TsruncError('E_INTERNAL', 'find the fds tsrunc opened itself: no epoll instance in /proc/self/fd');
  return first;
}

/**
 * Refuse a range that reaches an fd our caller did not give us: a `--preserve-fds N` larger than
 * what was passed would hand Node's own fds (epoll, eventfds, signal pipes) to the container, as
 * runc 1.1.5 hands over its internal fds. The range must end below Node's first fd; an fd it names
 * that is not open at all gets runc's wording.
 */
export function checkPassedFds(f: PassedFds, fds: () => Map<number, string> = ownFds): void {
  if (f.keepFds === 0) return;
  const open = fds();
  const first = firstOwnFd(open);
  for (let fd = 3; fd < 3 + f.keepFds; fd++) {
    if (fd < first && open.has(fd)) continue;
    const got = first === 3 ? 'it was given no fd above 2' : first === 4 ? 'it was given fd 3 only' : `it was given fds 3 to ${first - 1}`;
    const listen = fd >= 3 + f.listen && f.listen > 0 ? `; LISTEN_FDS takes ${f.listen === 1 ? 'fd 3' : `fds 3 to ${2 + f.listen}`}` : '';
    const why = open.has(fd) ? `fd ${fd} was not passed to tsrunc (${got}${listen})` : `fd ${fd} is not open${listen ? ` (${listen.slice(2)})` : ''}`;
    throw new TsruncError('E_USAGE', fd < 3 + f.listen ? `LISTEN_FDS=${f.listen}: ${why}` : `--preserve-fds ${f.preserve}: ${why}`);
  }
}
