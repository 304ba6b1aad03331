// `tsrunc resume <id>` → lifecycle.resume (nothing printed; runc's texts on failure).
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  ctx.io.lifecycle().resume(ctx.g, idArg(ctx));
  return 0;
}
