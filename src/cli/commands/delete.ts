// `tsrunc delete [-f/--force] <id>` → lifecycle.del.
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  ctx.io.lifecycle().del(ctx.g, { id: idArg(ctx), force: ctx.flags.force === true });
  return 0;
}
