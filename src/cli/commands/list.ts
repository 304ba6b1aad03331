// `tsrunc list [-f/--format table|json] [-q/--quiet]` → lifecycle.list. As in runc, --quiet wins
// over --format, and the format is checked after the containers are read.
import { TsruncError } from '../../errors';
import type { CommandContext } from '../context';
import { formatListJson, formatListQuiet, formatListTable } from '../format';

export function run(ctx: CommandContext): number {
  const list = ctx.io.lifecycle().list(ctx.g);
  if (ctx.flags.quiet === true) {
    ctx.io.stdout(formatListQuiet(list));
    return 0;
  }
  switch (ctx.flags.format) {
    case 'table': ctx.io.stdout(formatListTable(list)); return 0;
    case 'json': ctx.io.stdout(formatListJson(list)); return 0;
    default: throw new TsruncError('E_USAGE', 'invalid format option');
  }
}
