// Cgroup host detection, pure over the text of /proc/self/mountinfo and /proc/self/cgroup, plus
// two thin readers that take a proc root (tests pass a temp dir).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsruncError } from '../errors';

export type CgroupMode = 'v2' | 'hybrid' | 'v1';

export interface CgroupHost {
  /** v2: only a cgroup2 mount (with or without stray named v1 hierarchies); hybrid: v1 controllers
   *  plus a cgroup2 mount (e.g. /sys/fs/cgroup/unified); v1: v1 controllers only. */
  mode: CgroupMode;
  /** The cgroup2 mountpoint, when one is mounted. */
  unified?: string;
  /** v1 controller (or named hierarchy such as `name=systemd`) → mountpoint. Co-mounted
   *  controllers (`cpu,cpuacct`) appear once per controller with the same mountpoint. */
  v1: Map<string, string>;
  /** The `root` field of each chosen mount (controller, '' for cgroup2): which cgroup of the
   *  hierarchy the mountpoint shows. '/' except inside cgroup namespaces and bind mounts. */
  roots: Map<string, string>;
}

/** v1 controllers the kernel knows (the super options of a v1 mount also hold rw, xattr, ...). */
export const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event',
  'net_prio', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function preferred(mountpoint: string, candidates: readonly string[]): boolean {
  return candidates.includes(mountpoint);
}

/** Parse /proc/self/mountinfo text into the cgroup layout. Throws E_CGROUP when no cgroup
 *  filesystem is mounted at all. */
export function parseMountinfo(text: string): CgroupHost {
  let unified: { mnt: string; root: string } | undefined;
  const v1 = new Map<string, { mnt: string; root: string }>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 4) continue;
    const root = unescapeMountField(f[3]);
    const mnt = unescapeMountField(f[4]);
    const fstype = f[sep + 1];
    const superOpts = f[sep + 3];
    if (fstype === 'cgroup2') {
      // Prefer the conventional places; otherwise the first one listed (the host's own).
      if (unified === undefined ||
          (preferred(mnt, ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) &&
           !preferred(unified.mnt, ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']))) {
        unified = { mnt, root };
      }
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (!V1_CONTROLLERS.has(opt) && !opt.startsWith('name=')) continue;
        const prev = v1.get(opt);
        if (prev === undefined || (prev.root !== '/' && root === '/')) v1.set(opt, { mnt, root });
      }
    }
  }
  const hasControllers = [...v1.keys()].some((k) => !k.startsWith('name='));
  let mode: CgroupMode;
  if (unified !== undefined) mode = hasControllers ? 'hybrid' : 'v2';
  else if (v1.size > 0) mode = 'v1';
  else throw new TsruncError('E_CGROUP', 'detect cgroups `/proc/self/mountinfo`: no cgroup filesystem is mounted');
  const host: CgroupHost = { mode, v1: new Map(), roots: new Map() };
  if (unified !== undefined) {
    host.unified = unified.mnt;
    host.roots.set('', unified.root);
  }
  for (const [k, v] of v1) {
    host.v1.set(k, v.mnt);
    host.roots.set(k, v.root);
  }
  return host;
}

/** Parse /proc/<pid>/cgroup: controller (each of a co-mounted list, `name=...` kept as is, '' for
 *  the cgroup2 line `0::/path`) → cgroup path inside that hierarchy. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const p = line.slice(b + 1);
    if (ctrls === '') out.set('', p);
    else for (const c of ctrls.split(',')) out.set(c, p);
  }
  return out;
}

function readProc(procRoot: string, rel: string): string {
  const p = path.join(procRoot, rel);
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new TsruncError('E_CGROUP', `read \`${p}\`: ${code}`, { cause: e });
  }
}

/** The host's cgroup layout, from `<procRoot>/self/mountinfo`. */
export function readCgroupHost(procRoot = '/proc'): CgroupHost {
  return parseMountinfo(readProc(procRoot, 'self/mountinfo'));
}

/** The calling process's own cgroups, from `<procRoot>/self/cgroup`. */
export function readOwnCgroups(procRoot = '/proc'): Map<string, string> {
  return parseProcCgroup(readProc(procRoot, 'self/cgroup'));
}
