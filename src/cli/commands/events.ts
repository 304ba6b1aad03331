// `tsrunc events [--stats] [--interval 5s] <id>` → lifecycle.eventsStats (one line) or
// lifecycle.events (a stream of lines until the container's cgroup is gone).
import type { CommandContext } from '../context';
import { idArg } from './common';

export async function run(ctx: CommandContext): Promise<number> {
  const o = { id: idArg(ctx), stats: ctx.flags.stats === true, intervalMs: Number(ctx.flags.interval) };
  const lc = ctx.io.lifecycle();
  if (o.stats) {
    ctx.io.stdout(lc.eventsStats(ctx.g, o));
    return 0;
  }
  await lc.events(ctx.g, o, (line) => {
    ctx.io.stdout(line);
    return ctx.io.stdoutClosed?.() !== true;
  });
  return 0;
}
