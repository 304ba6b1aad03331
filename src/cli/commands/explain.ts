// `tsrunc explain [-b bundle] [--format text|json] [--no-pivot] [id]` (tsrunc only) →
// lifecycle.explain: validate the bundle and print the setup plan.
import { TsruncError } from '../../errors';
import type { ExplainOptions } from '../../lifecycle/api';
import type { CommandContext } from '../context';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  const format = ctx.flags.format;
  if (format !== 'text' && format !== 'json') throw new TsruncError('E_USAGE', 'invalid format option');
  const bundle = typeof ctx.flags.bundle === 'string' && ctx.flags.bundle !== '' ? ctx.flags.bundle : ctx.io.cwd();
  const o: ExplainOptions = { bundle, noPivot: ctx.flags['no-pivot'] === true };
  if (ctx.args.length > 0) o.id = idArg(ctx);
  const out = ctx.io.lifecycle().explain(ctx.g, o, format === 'json');
  ctx.io.stdout(out.endsWith('\n') ? out : out + '\n');
  return 0;
}
