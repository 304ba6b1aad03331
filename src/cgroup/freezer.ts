// The freezer state of a container's cgroup, read from its recorded paths (v1 freezer.state, or
// v2 cgroup.freeze + cgroup.events). Kept apart from the manager so that `state` and `list`,
// which only need this one read, load neither the manager nor the addon.
import { join } from 'path';

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

/** `read` returns a file's trimmed text, or undefined when it does not exist. */
export function readFreezerState(paths: Record<string, string>, read: (p: string) => string | undefined): FreezerState {
  const v1 = paths.freezer;
  if (v1 !== undefined) {
    const s = read(join(v1, 'freezer.state')) ?? 'THAWED';
    return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
  }
  const u = paths[''];
  if (u === undefined || (read(join(u, 'cgroup.freeze')) ?? '0') !== '1') return 'thawed';
  return v2Frozen(u, read) ? 'frozen' : 'freezing';
}

export function v2Frozen(unified: string, read: (p: string) => string | undefined): boolean {
  return /^frozen 1$/m.test(read(join(unified, 'cgroup.events')) ?? '');
}
