// `tsrunc run [create's flags] [-d/--detach] [--keep] [--no-subreaper] <id>` → lifecycle.run,
// whose result (the container's exit status, 128+signal when killed; 0 when detached) is the
// process's exit status. Errors are printed as `tsrunc run failed: ...`.
import { TsruncError } from '../../errors';
import type { CommandContext } from '../context';
import { checkSetupGlobals, createOptions, idArg } from './common';

export async function run(ctx: CommandContext): Promise<number> {
  const id = idArg(ctx);
  checkSetupGlobals(ctx);
  const code = await ctx.io.lifecycle().run(ctx.g, {
    ...createOptions(ctx, id),
    detach: ctx.flags.detach === true,
    keep: ctx.flags.keep === true,
  });
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new TsruncError('E_INTERNAL', `run: exit status ${String(code)} is outside 0..255`);
  }
  return code;
}
