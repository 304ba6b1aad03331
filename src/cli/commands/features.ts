// `tsrunc features`: print the Features JSON (runtime-spec features.md) as runc does: Go's
// json.MarshalIndent with four spaces, then a newline. The content comes from
// src/lifecycle/features.ts, which derives every claim from what `create` accepts.
import type { CommandContext } from '../context';
import { goJson } from '../gofmt';
import { features } from '../../lifecycle/features';

export function run(ctx: CommandContext): number {
  ctx.io.stdout(goJson(features(), '    ') + '\n');
  return 0;
}
