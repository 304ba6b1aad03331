// `tsrunc kill [-a/--all] <id> [signal]` → lifecycle.kill with the signal as a number.
// runc looks the container up before it parses the signal, and checks the status before kill(2)
// refuses a bad number, so on a bad signal the errors come in runc's order:
//   unknown id → `container does not exist`; name → `unknown signal "FOO"`;
//   number outside 0..64 → `container not running` (stopped, without --all), else
//   `unable to signal init: invalid argument`.
import { TsruncError } from '../../errors';
import type { CommandContext } from '../context';
import { SignalError, parseSignal } from '../signals';
import { idArg } from './common';

export function run(ctx: CommandContext): number {
  const id = idArg(ctx);
  const all = ctx.flags.all === true;
  const lc = ctx.io.lifecycle();
  let signal: number;
  try {
    signal = parseSignal(ctx.args[1]);
  } catch (e) {
    if (e instanceof SignalError) {
      const st = lc.state(ctx.g, id); // throws `container does not exist`
      if (e.kind === 'range' && !all && st.status === 'stopped') {
        throw new TsruncError('E_STATUS', 'container not running');
      }
    }
    throw e;
  }
  lc.kill(ctx.g, { id, signal, all });
  return 0;
}
