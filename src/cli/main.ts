// tsrunc's entry point: argv → one command → exit code (design §2: no logic here).
//
// Parsing is hand-written (args.ts) over one grammar table (table.ts) instead of yargs:
//   - runc's callers rely on Go `flag` semantics (one- or two-dash long flags, `--flag=v`,
//     `--bool=false`, globals only before the command, `-qf` not grouped, Go's error texts), which
//     yargs does not implement (it would need a dozen parser options and still differ: negation of
//     `--no-pivot`, number coercion of ids, `--all 9` taking 9 as the boolean's value, ...);
//   - yargs costs 45-70 ms per invocation (perf-anchors §4), the hot commands must not pay it, and a
//     separate fast path would be a second parser to keep equivalent. One parser is equivalent by
//     construction.
// Only the command being run is required (commands/<name>.ts), and the lifecycle library only
// when the command calls it; help text is loaded only for help and usage errors.
import { resolve } from 'path';
import { TsruncError, fullMessage } from '../errors';
import type { GlobalOptions } from '../lifecycle/api';
import { UsageError, checkArgCount, parseCommand, parseGlobal, parseRootless } from './args';
import type { CliIo, CommandContext, CommandModule, LifecycleApi } from './context';
import { Logger, LogFormat, fileSink, isTerminalFd } from './log';
import { CommandDef, CommandName, GLOBAL_FLAGS, findCommand } from './table';

const LOADERS: Record<CommandName, () => CommandModule> = {
  create: () => require('./commands/create') as CommandModule,
  run: () => require('./commands/run') as CommandModule,
  start: () => require('./commands/start') as CommandModule,
  state: () => require('./commands/state') as CommandModule,
  kill: () => require('./commands/kill') as CommandModule,
  delete: () => require('./commands/delete') as CommandModule,
  list: () => require('./commands/list') as CommandModule,
  spec: () => require('./commands/spec') as CommandModule,
  explain: () => require('./commands/explain') as CommandModule,
  checkpoint: () => require('./commands/checkpoint') as CommandModule,
  restore: () => require('./commands/restore') as CommandModule,
  pause: () => require('./commands/pause') as CommandModule,
  resume: () => require('./commands/resume') as CommandModule,
  ps: () => require('./commands/ps') as CommandModule,
  events: () => require('./commands/events') as CommandModule,
  features: () => require('./commands/features') as CommandModule,
  update: () => require('./commands/update') as CommandModule,
  exec: () => require('./commands/exec') as CommandModule,
};

/** Commands whose errors runc prefixes with `runc <cmd> failed: `. */
const PREFIXED = new Set<string>(['create', 'run']);

function help(): typeof import('./help') {
  return require('./help') as typeof import('./help');
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof TsruncError && Number.isInteger(e.exitCode) && e.exitCode > 0 && e.exitCode < 256) return e.exitCode;
  return 1;
}

function isDir(p: string): boolean {
  try {
    return require('fs').statSync(p).isDirectory() as boolean;
  } catch {
    return false;
  }
}

/**
 * Writes to fd 1/2 with write(2) directly: creating process.stdout/stderr costs 3-20 ms (net and
 * stream are loaded for pipes), more than the whole of `state`. If the fd is non-blocking and full
 * (EAGAIN), that fd switches to Node's stream for the rest, which keeps the order; EPIPE/EBADF
 * (reader gone, fd closed) drop the output as runc does.
 */
export class StdWriter {
  private stream: NodeJS.WritableStream | undefined;
  constructor(
    private readonly fd: number,
    private readonly fallback: () => NodeJS.WritableStream =
      () => (fd === 1 ? process.stdout : process.stderr),
  ) {}

  private outstanding = 0;
  private waiters: (() => void)[] = [];
  /** The reader went away (EPIPE/EBADF): a stream such as `events` stops. */
  closed = false;

  private toStream(chunk: string | Buffer): void {
    this.outstanding++;
    (this.stream as NodeJS.WritableStream).write(chunk, () => {
      if (--this.outstanding === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  write(s: string): void {
    if (this.stream) { this.toStream(s); return; }
    const buf = Buffer.from(s, 'utf8');
    let off = 0;
    while (off < buf.length) {
      try {
        off += require('fs').writeSync(this.fd, buf, off, buf.length - off) as number;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          this.stream = this.fallback();
          this.toStream(buf.subarray(off));
          return;
        }
        if (code === 'EPIPE' || code === 'EBADF') { this.closed = true; return; }
        throw e;
      }
    }
  }

  /** Calls `done` once everything written has left the process (at once unless the stream was needed). */
  flushed(done: () => void): void {
    if (this.outstanding === 0) done();
    else this.waiters.push(done);
  }
}

export function defaultIo(): CliIo & { out: StdWriter; err: StdWriter } {
  const out = new StdWriter(1);
  const err = new StdWriter(2);
  let tty: boolean | undefined;
  return {
    out,
    err,
    stdout: (s: string) => out.write(s),
    stdoutClosed: () => out.closed,
    stderr: {
      write: (s: string) => err.write(s),
      get isTTY() { return tty ??= isTerminalFd(2); },
    },
    cwd: () => process.cwd(),
    lifecycle: () => require('../lifecycle/index') as LifecycleApi,
    systemdRunning: () => isDir('/run/systemd/system'),
    cgroup2Unified: () => {
      try {
        return Number(require('fs').statfsSync('/sys/fs/cgroup').type) === 0x63677270; // CGROUP2_SUPER_MAGIC
      } catch {
        return false;
      }
    },
    euid: () => process.geteuid?.() ?? 0,
    egid: () => process.getegid?.() ?? 0,
  };
}

/** Run one command line (argv without node and script). Resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const now = io.now?.bind(io);
  const plain = (format: LogFormat, debug: boolean) =>
    new Logger({ format, debug, out: io.stderr, stderr: io.stderr, toFile: false, now });

  // 1. Global flags (errors here are reported before --log/--log-format take effect, as in runc).
  let parsed: ReturnType<typeof parseGlobal>;
  try {
    parsed = parseGlobal(GLOBAL_FLAGS, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stdout(`Incorrect Usage. ${e.message}\n\n${help().appHelp()}`);
    plain('text', false).fatal(e.message);
    return 1;
  }
  const gv = parsed.values;
  if (gv.help) { io.stdout(help().appHelp()); return 0; }
  if (gv.version) { io.stdout((require('./version') as typeof import('./version')).versionText()); return 0; }

  // 2. Logging (runc's configLogrus).
  const debug = gv.debug === true;
  const rawFormat = String(gv['log-format']);
  if (rawFormat !== 'text' && rawFormat !== 'json' && rawFormat !== '') {
    plain('text', debug).fatal(`invalid log-format: ${rawFormat}`);
    return 1;
  }
  const format: LogFormat = rawFormat === 'json' ? 'json' : 'text';
  let logger: Logger;
  const logPath = String(gv.log);
  if (logPath !== '') {
    try {
      logger = new Logger({ format, debug, out: fileSink(logPath), stderr: io.stderr, toFile: true, now });
    } catch (e) {
      plain(format, debug).fatal(fullMessage(e));
      return 1;
    }
  } else {
    logger = plain(format, debug);
  }

  // 3. The command.
  const [name, ...rest] = parsed.rest;
  if (name === undefined) { io.stdout(help().appHelp()); return 0; }
  if (name === 'help' || name === 'h') return helpCommand(rest, io, logger);
  const def = findCommand(name);
  if (!def) {
    logger.fatal(`No help topic for '${name}'`);
    return 3;
  }
  let cmd: ReturnType<typeof parseCommand>;
  try {
    cmd = parseCommand(def.flags, rest, def.skipArgReorder === true);
    if (cmd.values.help) { io.stdout(help().commandHelp(def)); return 0; }
    checkArgCount('tsrunc', def.name, def.args, cmd.args.length);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usageError(e, def, io, logger);
  }

  const rootlessRaw = String(gv.rootless);
  const g: GlobalOptions = {
    root: resolve(io.cwd(), String(gv.root)),
    debug,
    systemdCgroup: gv['systemd-cgroup'] === true,
    rootless: parseRootless(rootlessRaw) ?? 'auto', // create/run reject a bad value
    log: (level, msg) => logger.log(level, msg),
  };
  const ctx: CommandContext = { g, rootlessRaw, flags: cmd.values, args: cmd.args, io, logger };
  try {
    return await LOADERS[def.name]().run(ctx);
  } catch (e) {
    if (e instanceof UsageError) return usageError(e, def, io, logger);
    logger.fatal((PREFIXED.has(def.name) ? `tsrunc ${def.name} failed: ` : '') + fullMessage(e));
    if (debug && !(e instanceof TsruncError) && e instanceof Error && e.stack) logger.log('debug', e.stack);
    return exitCodeOf(e);
  }
}

function usageError(e: UsageError, def: CommandDef, io: CliIo, logger: Logger): number {
  const head = e.kind === 'args' ? 'Incorrect Usage.' : `Incorrect Usage: ${e.message}`;
  io.stdout(`${head}\n\n${help().commandHelp(def)}`);
  logger.fatal(e.message);
  return 1;
}

function helpCommand(args: readonly string[], io: CliIo, logger: Logger): number {
  const topic = args.find((a) => !a.startsWith('-'));
  if (topic === undefined || topic === 'help' || topic === 'h') { io.stdout(help().appHelp()); return 0; }
  const def = findCommand(topic);
  if (!def) {
    logger.fatal(`No help topic for '${topic}'`);
    return 3;
  }
  io.stdout(help().commandHelp(def));
  return 0;
}

/** Exit once anything queued on Node's stdout/stderr streams (only after EAGAIN) has been written. */
export function exitFlushed(code: number, io: { out: StdWriter; err: StdWriter }): void {
  io.out.flushed(() => io.err.flushed(() => process.exit(code)));
}

/** The executable's entry (bin/tsrunc calls this). */
export function cli(argv: readonly string[] = process.argv.slice(2)): void {
  const io = defaultIo();
  main(argv, io).then(
    (code) => exitFlushed(code, io),
    (e: unknown) => {
      // Only a bug in the CLI itself gets here.
      try { io.err.write(`tsrunc: internal error: ${e instanceof Error && e.stack ? e.stack : fullMessage(e)}\n`); } catch { /* ignore */ }
      exitFlushed(1, io);
    },
  );
}

if (require.main === module) cli();
