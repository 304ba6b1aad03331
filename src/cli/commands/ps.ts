// `tsrunc ps [-f/--format table|json] <id> [ps options]` → lifecycle.ps. Flags end at the id
// (runc's SkipArgReorder), so `ps <id> -o pid,comm` passes `-o pid,comm` to the host's ps.
// Nothing may reach stderr on success: go-runc parses stdout and stderr combined.
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  const out = ctx.io.lifecycle().ps(ctx.g, { id: idArg(ctx), format: String(ctx.flags.format), psArgs: ctx.args.slice(1) });
  ctx.io.stdout(out);
  return 0;
}
