// `tsrunc create [-b bundle] [--console-socket S] [--pid-file F] [--no-pivot] [--no-new-keyring]
// [--preserve-fds N] <id>` → lifecycle.create. Errors are printed as `tsrunc create failed: ...`.
import type { CommandContext } from '../context';
import { checkSetupGlobals, createOptions, idArg } from './common';

export function run(ctx: CommandContext): number {
  const id = idArg(ctx);
  checkSetupGlobals(ctx);
  ctx.io.lifecycle().create(ctx.g, createOptions(ctx, id));
  return 0;
}
