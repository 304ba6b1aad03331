// Pieces shared by the command modules: the container-id argument and the create/run options.
import { TsruncError } from '../../errors';
import type { CreateOptions } from '../../lifecycle/api';
import { validateId } from '../../state/id';
import { parseRootless } from '../args';
import type { CommandContext } from '../context';

/** The `<container-id>` argument, checked with runc's id rules (lifecycle checks again). */
export function idArg(ctx: CommandContext, index = 0): string {
  const id = ctx.args[index] ?? '';
  validateId(id);
  return id;
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** create's flags; an empty --bundle/--pid-file/--console-socket counts as not given (runc). */
export function createOptions(ctx: CommandContext, id: string): CreateOptions {
  const f = ctx.flags;
  const preserveFds = Number(f['preserve-fds']);
  if (!Number.isSafeInteger(preserveFds) || preserveFds < 0) {
    throw new TsruncError('E_USAGE', `invalid value "${String(f['preserve-fds'])}" for flag -preserve-fds: must not be negative`);
  }
  const o: CreateOptions = {
    id,
    bundle: optString(f.bundle) ?? ctx.io.cwd(),
    noPivot: f['no-pivot'] === true,
    noNewKeyring: f['no-new-keyring'] === true,
    preserveFds,
  };
  const pidFile = optString(f['pid-file']);
  if (pidFile !== undefined) o.pidFile = pidFile;
  const consoleSocket = optString(f['console-socket']);
  if (consoleSocket !== undefined) o.consoleSocket = consoleSocket;
  return o;
}

/**
 * The global flags that only matter when a container is set up (runc checks them in create/run
 * and ignores them elsewhere): --rootless must be true/false/auto, and --systemd-cgroup needs
 * systemd (runc: `systemd not running on this host, cannot use systemd cgroups manager`).
 */
export function checkSetupGlobals(ctx: CommandContext): void {
  if (parseRootless(ctx.rootlessRaw) === undefined) {
    throw new TsruncError('E_USAGE', `invalid --rootless value ${JSON.stringify(ctx.rootlessRaw)}: must be true, false or auto`);
  }
  if (ctx.g.systemdCgroup && !ctx.io.systemdRunning()) {
    throw new TsruncError('E_UNSUPPORTED', 'systemd not running on this host, cannot use systemd cgroups manager');
  }
}
