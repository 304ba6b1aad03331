// The CLI's logger, shaped like runc's (logrus) because containerd reads it back:
//   text: time="2026-11-23T15:43:43Z" level=error msg="container does not exist"
//   json: {"level":"error","msg":"container does not exist","time":"2026-11-23T15:43:43Z"}
// Destination: stderr by default; with --log FILE, the file (O_APPEND|O_SYNC, 0644), and then a
// fatal error is also printed on stderr as a plain line (runc utils.go fatalWithCode), because
// the shim reads the last level=error line of the file while people and go-runc read stderr.
// When the destination is a terminal and the format is text, logrus prints its coloured short form
// (`ERRO[0000] message`); that is reproduced too.
import { constants, fstatSync, openSync, writeSync } from 'fs';
import { goJson, goQuote, rfc3339 } from './gofmt';

export type Level = 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export type LogFormat = 'text' | 'json';

export interface LogSink {
  write(s: string): void;
  /** Whether the sink is a terminal (coloured text form). */
  isTTY: boolean;
}

export interface LoggerOptions {
  format: LogFormat;
  debug: boolean;
  /** Where log lines go: stderr, or the --log file. */
  out: LogSink;
  /** Plain stderr, for the extra fatal line when `out` is not stderr. */
  stderr: LogSink;
  /** True when `out` is the --log file (so fatal also goes to stderr). */
  toFile: boolean;
  now?: () => Date;
  /** Process start, for the coloured form's [0000] seconds counter. */
  start?: number;
}

/** logrus TextFormatter.needsQuoting: anything beyond [A-Za-z0-9-._/@^+] is quoted. */
function textValue(v: string): string {
  return /^[A-Za-z0-9\-._/@^+]*$/.test(v) ? v : goQuote(v);
}

export function formatText(level: Level, msg: string, time: Date): string {
  return `time=${textValue(rfc3339(time))} level=${level} msg=${textValue(msg)}\n`;
}

/** logrus JSONFormatter: keys sorted (a Go map), encoding/json escaping, one object per line. */
export function formatJson(level: Level, msg: string, time: Date): string {
  return goJson({ level, msg, time: rfc3339(time) }) + '\n';
}

const COLOURS: Record<Level, number> = { debug: 37, info: 36, warning: 33, error: 31, fatal: 31 };

/** logrus's coloured terminal form: `\x1b[31mERRO\x1b[0m[0000] message<padded to 44> `. */
export function formatColoured(level: Level, msg: string, seconds: number): string {
  const text = level.toUpperCase().slice(0, 4);
  const m = msg.endsWith('\n') ? msg.slice(0, -1) : msg;
  return `\x1b[${COLOURS[level]}m${text}\x1b[0m[${String(Math.max(0, Math.floor(seconds))).padStart(4, '0')}] ` +
    `${m.padEnd(44)} \n`;
}

export class Logger {
  private readonly o: Required<LoggerOptions>;

  constructor(o: LoggerOptions) {
    this.o = { ...o, now: o.now ?? (() => new Date()), start: o.start ?? Date.now() };
  }

  get debugEnabled(): boolean { return this.o.debug; }

  line(level: Level, msg: string): string {
    const t = this.o.now();
    if (this.o.format === 'json') return formatJson(level, msg, t);
    if (this.o.out.isTTY) return formatColoured(level, msg, (t.getTime() - this.o.start) / 1000);
    return formatText(level, msg, t);
  }

  log(level: Level, msg: string): void {
    if (level === 'debug' && !this.o.debug) return;
    try {
      this.o.out.write(this.line(level, clipMessage(msg)));
    } catch {
      // A log line that cannot be written must not turn a success into a failure.
    }
  }

  /** A fatal error of the command: the error line, plus the plain message on stderr when logging to a file. */
  fatal(msg: string): void {
    this.log('error', msg);
    if (this.o.toFile) {
      const m = clipMessage(msg);
      try { this.o.stderr.write(m.endsWith('\n') ? m : m + '\n'); } catch { /* nothing left to tell */ }
    }
  }
}

/** Longest message one log line carries (containerd reads the last error line back whole). */
export const MAX_LOG_MESSAGE = 8192;

/** msg, cut to MAX_LOG_MESSAGE characters with a note of how much was left out. */
export function clipMessage(msg: string): string {
  if (msg.length <= MAX_LOG_MESSAGE) return msg;
  return `${msg.slice(0, MAX_LOG_MESSAGE)}... (${msg.length - MAX_LOG_MESSAGE} more characters)`;
}

/**
 * isatty(3) without `require('tty')` (which loads net and stream: 10-17 ms on the project's VMs):
 * a character device with a terminal major number (4: VTs and serial, 5: /dev/tty and
 * /dev/console, 136-143: pseudo-terminals). Only decides the colour of log lines.
 */
export function isTerminalFd(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    const major = Math.floor(st.rdev / 256) & 0xfff;
    return major === 4 || major === 5 || (major >= 136 && major <= 143);
  } catch {
    return false;
  }
}

/** The --log file sink: opened now (so a bad path fails before the command runs), appended synchronously. */
export function fileSink(path: string): LogSink {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_WRONLY | constants.O_APPEND | constants.O_SYNC, 0o644);
  } catch (e) {
    throw new Error(`open ${path}: ${errnoText(e)}`);
  }
  return { write: (s) => { writeSync(fd, s); }, isTTY: isTerminalFd(fd) };
}

/** `no such file or directory` from Node's `ENOENT: no such file or directory, open '/x'`. */
export function errnoText(e: unknown): string {
  const m = e instanceof Error ? /^[A-Z0-9_]+: (.*?), [a-z_0-9]+(?: |$)/.exec(e.message) : null;
  if (m) return m[1];
  return e instanceof Error ? e.message : String(e);
}
