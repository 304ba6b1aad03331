// `tsrunc pause <id>` → lifecycle.pause (nothing printed; runc's texts on failure).
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  ctx.io.lifecycle().pause(ctx.g, idArg(ctx));
  return 0;
}
