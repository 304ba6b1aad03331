// `tsrunc start <id>` → lifecycle.start.
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  ctx.io.lifecycle().start(ctx.g, idArg(ctx));
  return 0;
}
