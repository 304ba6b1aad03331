// Terminals (process.terminal), the parent side. tsrunc-init makes the pty inside the container
// (plan op PTY, addon/init/tty.cc) and sends the master over the sync socket; here it is either
// handed to the caller's `--console-socket` (create, `run -d`; `exec -t -d`) or proxied to
// tsrunc's own stdio (`run -t` in the foreground; `exec -t`).
//
// The console socket is connected by tsrunc itself, on the host, before anything is created (a bad
// path fails at once and leaves nothing, as runc's dial in setupIO); the init never sees it. The
// protocol is runc's (what go-runc's `recvFd` in containerd's shim and conmon insist on): one
// sendmsg with a non-empty payload (runc's `/dev/ptmx`) and exactly one SCM_RIGHTS fd, then close.
// Nothing waits for the receiver: containerd accepts the connection only after `create` returns,
// and a connection waits in the listen backlog until then.
import fs = require('fs');
import { TsruncError, isErrnoLike } from '../errors';
import type { Native, SyncResult } from '../sys/native';

/** runc's checks (checkTerminal): `detach` is true for create and `run -d`. */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && consoleSocket === undefined) {
    throw new TsruncError('E_USAGE', 'cannot allocate tty if runc will detach without setting console socket');
  }
  if ((!detach || !terminal) && consoleSocket !== undefined) {
    throw new TsruncError('E_USAGE', 'cannot use console socket if runc will not detach or allocate tty');
  }
}

// Go's texts for the errnos a unix dial meets (callers see runc's `dial unix S: connect: ...`).
const GO_ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory', ECONNREFUSED: 'connection refused', EACCES: 'permission denied',
  ENOTDIR: 'not a directory', EINVAL: 'invalid argument', ELOOP: 'too many levels of symbolic links',
  EPROTOTYPE: 'protocol wrong type for socket', EAGAIN: 'resource temporarily unavailable',
  EPERM: 'operation not permitted', ENAMETOOLONG: 'file name too long', ENOTSOCK: 'socket operation on non-socket',
  EADDRINUSE: 'address already in use', ECONNRESET: 'connection reset by peer', EPIPE: 'broken pipe',
  EROFS: 'read-only file system',
};

export function goErrnoText(e: unknown): string {
  if (isErrnoLike(e)) return GO_ERRNO_TEXT[e.code] ?? e.code;
  return e instanceof Error ? e.message : String(e);
}

/** Connect to `--console-socket` (AF_UNIX stream): the fd, or runc's error. */
export function connectConsoleSocket(n: Pick<Native, 'unixConnect'>, path: string): number {
  try {
    return n.unixConnect(path, 'stream');
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `dial unix ${path}: connect: ${goErrnoText(e)}`, { cause: e });
  }
}

/** The payload that carries the master (runc sends the pty's name, `/dev/ptmx`). */
export const CONSOLE_PAYLOAD = '/dev/ptmx';

/** Send the master on the connected console socket; both fds are closed, whatever happens. */
export function sendConsoleMaster(n: Pick<Native, 'sendFd'>, sock: number, master: number, path: string): void {
  try {
    n.sendFd(sock, master, CONSOLE_PAYLOAD);
  } catch (e) {
    throw new TsruncError('E_SYSCALL', `send the console to \`${path}\`: ${goErrnoText(e)}`, { cause: e });
  } finally {
    fs.closeSync(master);
    fs.closeSync(sock);
  }
}

/**
 * syncWait until READY, ERROR, EOF or the timeout, handing every pty master the init sends (the PTY
 * op) to `onPty`, which owns it from then on. create uses it; so can exec.
 */
export function syncWaitPty(n: Pick<Native, 'syncWait'>, sock: number, timeoutMs: number, onPty: (fd: number) => void): SyncResult {
  const deadline = Date.now() + timeoutMs;
  let r = n.syncWait(sock, timeoutMs);
  while (r.type === 'pty') {
    onPty(r.fd);
    r = n.syncWait(sock, Math.max(0, deadline - Date.now()));
  }
  return r;
}

/** The terminal tsrunc itself runs on: the first of stderr, stdout, stdin that is one (runc's order). */
function hostTerminalFd(n: Pick<Native, 'getWinsize'>): number | undefined {
  for (const fd of [2, 1, 0]) {
    try {
      if (n.getWinsize(fd) !== null) return fd;
    } catch { /* not a terminal */ }
  }
  return undefined;
}

/** The size of the terminal tsrunc runs on (undefined: none, or 0x0). */
export function hostTerminalSize(n: Pick<Native, 'getWinsize'>): { rows: number; cols: number } | undefined {
  const fd = hostTerminalFd(n);
  if (fd === undefined) return undefined;
  try {
    const ws = n.getWinsize(fd);
    return ws && ws.rows > 0 && ws.cols > 0 ? { rows: ws.rows, cols: ws.cols } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `run -t` in the foreground: the pty's output goes to our stdout, our stdin to the pty (raw mode
 * when stdin is a terminal, restored at the end), and the pty follows our terminal's size (at the
 * start and on SIGWINCH; the kernel then signals the container's foreground process group).
 * Unlike runc, a non-terminal stdin/stdout is fine (runc needs a terminal or /dev/tty).
 */
export class ConsoleProxy {
  private readonly host: number | undefined;
  private readonly output: import('tty').ReadStream;
  private readonly drained: Promise<void>;
  private writing: Promise<void> = Promise.resolve();
  private raw = false;
  private readonly onWinch = () => this.resize();
  private readonly onInput = (b: Buffer) => this.input(b);

  constructor(private readonly n: Pick<Native, 'getWinsize' | 'setWinsize' | 'clearOnlcr'>, private readonly master: number) {
    this.host = hostTerminalFd(n);
    // As runc: the container's output lines reach our stdout as they are (LF); a host terminal
    // adds its own CR, a file or pipe gets plain lines.
    n.clearOnlcr(master);
    const tty = require('tty') as typeof import('tty');
    this.output = new tty.ReadStream(master);
    this.drained = new Promise<void>((resolve) => {
      this.output.on('data', (b: Buffer) => { process.stdout.write(b); });
      // All slave fds closed: the kernel reports EIO once the buffered output has been read.
      this.output.on('error', () => resolve());
      this.output.on('end', () => resolve());
      this.output.on('close', () => resolve());
    });
  }

  /** Start relaying (call before the container starts, so no output is missed). */
  start(): void {
    this.resize();
    process.on('SIGWINCH', this.onWinch);
    const stdin = process.stdin as NodeJS.ReadStream & { setRawMode?: (raw: boolean) => void };
    if (stdin.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      this.raw = true;
    }
    stdin.on('data', this.onInput);
    stdin.on('error', () => { /* a closed stdin just ends the input */ });
    stdin.resume();
  }

  /** Copy our terminal's size to the pty (a 0x0 host size, no terminal: keep consoleSize). */
  resize(): void {
    if (this.host === undefined) return;
    try {
      const ws = this.n.getWinsize(this.host);
      if (ws && ws.rows > 0 && ws.cols > 0) this.n.setWinsize(this.master, ws.rows, ws.cols);
    } catch { /* the terminal went away (SIGHUP races): ignore, as runc does */ }
  }

  private input(b: Buffer): void {
    // In order, off the main thread: a container that does not read its terminal must not block us.
    this.writing = this.writing.then(() => writeAll(this.master, b)).catch(() => { /* container gone */ });
  }

  /** After the container's exit: wait (bounded) for its last output, then restore our terminal. */
  async finish(drainMs = 2000): Promise<void> {
    process.removeListener('SIGWINCH', this.onWinch);
    process.stdin.removeListener('data', this.onInput);
    process.stdin.pause();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained, new Promise<void>((r) => { timer = setTimeout(r, drainMs); })]);
    if (timer) clearTimeout(timer);
    this.restore();
    this.output.destroy(); // closes the master
    await new Promise<void>((r) => process.stdout.write('', () => r()));
  }

  /** Give the terminal back as it was (also on error paths). */
  restore(): void {
    if (!this.raw) return;
    this.raw = false;
    try { (process.stdin as NodeJS.ReadStream & { setRawMode: (raw: boolean) => void }).setRawMode(false); } catch { /* gone */ }
  }
}

function writeAll(fd: number, b: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const step = (off: number) => {
      if (off >= b.length) { resolve(); return; }
      fs.write(fd, b, off, b.length - off, null, (err, n) => {
        if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') { setTimeout(() => step(off), 10); return; }
        if (err) { reject(err); return; }
        step(off + n);
      });
    };
    step(0);
  });
}

/** The signals `run` forwards to the container; with a terminal SIGWINCH resizes it instead. */
export function forwardedSignals(terminal: boolean): NodeJS.Signals[] {
  const all: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'];
  return terminal ? all.filter((s) => s !== 'SIGWINCH') : all;
}

// node:os when a signal is relayed, not at every run (~0.7 ms to load).
export const signalNumber = (s: NodeJS.Signals): number => (require('os') as typeof import('os')).constants.signals[s];
