// `tsrunc restore <id>`: not supported (no CRIU integration); see checkpoint.ts.
import type { CommandContext } from '../context';
import { TsruncError } from '../../errors';

export function run(_ctx: CommandContext): number {
  throw new TsruncError('E_UNSUPPORTED', 'restore is not supported by this version of tsrunc');
}
