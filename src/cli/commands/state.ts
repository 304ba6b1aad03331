// `tsrunc state <id>` → lifecycle.state, printed as runc does (2-space JSON, no newline).
// Nothing may reach stderr on success: go-runc parses stdout and stderr combined.
import type { CommandContext } from '../context';
import { formatState } from '../format';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  const st = ctx.io.lifecycle().state(ctx.g, idArg(ctx));
  ctx.io.stdout(formatState(st));
  return 0;
}
