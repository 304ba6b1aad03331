// `tsrunc spec [-b bundle] [--rootless]`: write the default config.json into the bundle (runc's
// layout: tab indent, no trailing newline, mode 0666 & ~umask). An existing config.json is never
// overwritten (`File config.json exists. Remove it first`, as runc; checked atomically with O_EXCL).
import { statSync, writeFileSync, type Stats } from 'fs';
import { join, resolve } from 'path';
import { TsruncError } from '../../errors';
import { defaultSpec } from '../../spec/default';
import type { CommandContext } from '../context';
import { goJson } from '../gofmt';
import { errnoText } from '../log';

export function run(ctx: CommandContext): number {
  const given = typeof ctx.flags.bundle === 'string' ? ctx.flags.bundle : '';
  const dir = given === '' ? ctx.io.cwd() : resolve(ctx.io.cwd(), given);
  if (given !== '') {
    // runc chdir()s into the bundle and reports that call's error.
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (e) {
      throw new TsruncError('E_USAGE', `chdir ${given}: ${errnoText(e)}`, { cause: undefined });
    }
    if (!st.isDirectory()) throw new TsruncError('E_USAGE', `chdir ${given}: not a directory`);
  }
  const spec = defaultSpec({
    rootless: ctx.flags.rootless === true,
    uid: ctx.io.euid(),
    gid: ctx.io.egid(),
    cgroupNamespace: ctx.io.cgroup2Unified(),
  });
  const file = join(dir, 'config.json');
  try {
    writeFileSync(file, goJson(spec, '\t'), { flag: 'wx', mode: 0o666 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TsruncError('E_EXISTS', 'File config.json exists. Remove it first');
    }
    throw new TsruncError('E_SYSCALL', `open ${file}: ${errnoText(e)}`);
  }
  return 0;
}
