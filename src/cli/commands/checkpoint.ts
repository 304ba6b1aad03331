// `tsrunc checkpoint <id>`: not supported (no CRIU integration). The command exists so that
// `checkpoint -h` answers like runc's and a caller gets a clear error, not `No help topic`.
import type { CommandContext } from '../context';
import { TsruncError } from '../../errors';

export function run(_ctx: CommandContext): number {
  throw new TsruncError('E_UNSUPPORTED', 'checkpoint is not supported by this version of tsrunc');
}
