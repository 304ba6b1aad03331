// `tsrunc exec [flags] <id> <command> [args...]` or `tsrunc exec [flags] -p process.json <id>` →
// lifecycle.exec. Flags end at the container id (runc's SkipArgReorder). As runc: usage mistakes
// are rc 1; every other failure is `exec failed: ...` with rc 255; otherwise the process's own
// exit status (0 with -d).
import { TsruncError } from '../../errors';
import { UsageError, parseGoInt } from '../args';
import type { CommandContext } from '../context';
import { idArg } from './common';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

export async function run(ctx: CommandContext): Promise<number> {
  const id = idArg(ctx);
  const f = ctx.flags;
  // urfave's Int64Slice parses each -g when it is given: a flag error (rc 1, usage).
  const additionalGids = list(f['additional-gids']).map((s) => {
    const n = parseGoInt(s);
    if (n === undefined) {
      throw new UsageError('flag', `invalid value ${JSON.stringify(s)} for flag -g: strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
    }
    return n;
  });
  const preserveFds = Number(f['preserve-fds']);
  try {
    if (!Number.isSafeInteger(preserveFds) || preserveFds < 0) {
      throw new TsruncError('E_USAGE', `invalid value "${String(f['preserve-fds'])}" for flag -preserve-fds: must not be negative`);
    }
    const lc = ctx.io.lifecycle();
    const code = await lc.exec(ctx.g, {
      id,
      processFile: str(f.process),
      args: ctx.args.slice(1),
      cwd: str(f.cwd),
      env: list(f.env),
      tty: f.tty === true,
      user: str(f.user),
      additionalGids,
      detach: f.detach === true,
      pidFile: str(f['pid-file']),
      consoleSocket: str(f['console-socket']),
      processLabel: str(f['process-label']),
      apparmor: str(f.apparmor),
      noNewPrivs: f['no-new-privs'] === true ? true : undefined,
      caps: list(f.cap),
      preserveFds,
      cgroup: list(f.cgroup),
      ignorePaused: f['ignore-paused'] === true,
    });
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new TsruncError('E_INTERNAL', `exec: exit status ${String(code)} is outside 0..255`);
    return code;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = e instanceof TsruncError ? e.code : 'E_INTERNAL';
    throw new TsruncError(code, `exec failed: ${msg}`, { cause: e, exitCode: 255 });
  }
}
