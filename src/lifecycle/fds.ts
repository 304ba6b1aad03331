// The caller's fds that go into the container: systemd's LISTEN_FDS and --preserve-fds (create,
// run; exec uses the same two functions). fds 3..3+n-1 are passed unchanged (addon/spawn.cc clears
// their close-on-exec flag, tsrunc-init keeps them at EXEC).
import { TsruncError } from '../errors';
import type { Native } from '../sys/native';

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

/**
 * Refuse a range that reaches an fd our caller did not give us. Node opens its own fds (epoll,
 * eventfds, signal pipes, ...) at start-up in the lowest free numbers, so a `--preserve-fds N` larger
 * than what was passed would hand those to the container (runc 1.1.5 does that with its own
 * internal fds). The first fd Node keeps for itself is the default loop's epoll instance
 * (`firstOwnFd`, addon/console.cc), opened before any other: every fd from 3 up to it was
 * inherited, so the range is safe exactly when it ends below it.
 */
export function checkPassedFds(n: Pick<Native, 'firstOwnFd'>, f: PassedFds): void {
  if (f.keepFds === 0) return;
  const first = n.firstOwnFd();
  if (3 + f.keepFds <= first) return;
  const got = first > 3 ? `it was given fds 3 to ${first - 1}` : 'it was given no fd above 2';
  const what = 3 + f.listen > first
    ? `LISTEN_FDS=${f.listen}: fd ${first} was not passed to tsrunc (${got})`
    : `--preserve-fds ${f.preserve}: fd ${first} was not passed to tsrunc (${got}${f.listen ? `, the first ${f.listen} for LISTEN_FDS` : ''})`;
  throw new TsruncError('E_USAGE', what);
}
