// cgroupsPath → one directory per hierarchy, as runc's cgroupfs managers resolve it.
//
// - absolute `/a/b`: `<mountpoint>/a/b` in every hierarchy (containerd sends `/default/<id>`);
// - relative `a/b`: under the caller's own cgroup in each hierarchy (read from /proc/self/cgroup);
//   on a pure v2 host under the PARENT of the caller's cgroup, as runc's fs2 does (the caller's
//   own cgroup has processes, so controllers could not be enabled below it);
// - empty/absent: `<id>`, placed like a relative path.
// The path is cleaned lexically first (`..` cannot climb above the root), like runc's CleanPath.
import * as path from 'node:path';
import { TsruncError } from '../errors';
import type { CgroupHost } from './host';

const posix = path.posix;

/** What state.json keeps to rebuild a manager: controller → absolute directory ('' = cgroup2).
 *  On hybrid hosts there is one key per v1 controller (co-mounted ones repeat the directory) plus
 *  '' for the unified hierarchy, like runc's `cgroup_paths`. On v2 hosts only ''. */
export interface CgroupRecord {
  paths: Record<string, string>;
}

/** Lexical cleaning like runc's CleanPath: absolute stays absolute, `..` never escapes, a
 *  trailing slash goes; a relative path stays relative ('' when it cleans to nothing). */
export function cleanCgroupsPath(p: string): string {
  if (p === '') return '';
  if (p.startsWith('/')) {
    const n = posix.normalize(p);
    return n.length > 1 ? n.replace(/\/+$/, '') : n;
  }
  return posix.normalize('/' + p).replace(/\/+$/, '').slice(1);
}

/** v1 hierarchies tsrunc places containers in: every mounted controller plus name=systemd (as
 *  runc does); other named hierarchies are left alone. */
function v1Keys(host: CgroupHost): string[] {
  return [...host.v1.keys()].filter((k) => !k.startsWith('name=') || k === 'name=systemd').sort();
}

/**
 * Resolve the container's cgroup directories.
 * @param own the caller's cgroups (parseProcCgroup of /proc/self/cgroup); used for relative paths.
 * @param cgroupsPath `linux.cgroupsPath` (may be undefined or '').
 * @param id container id, used when cgroupsPath is empty.
 */
export function resolveCgroupPaths(host: CgroupHost, own: Map<string, string>,
  cgroupsPath: string | undefined, id: string): CgroupRecord {
  const given = cgroupsPath ?? '';
  const inner = cleanCgroupsPath(given === '' ? id : given);
  if (inner === '' || inner === '/') {
    throw new TsruncError('E_CGROUP',
      `invalid cgroupsPath \`${given === '' ? id : given}\`: it names ${inner === '/' ? 'the root of the hierarchy' : "the runtime's own cgroup"}`);
  }
  const keys: string[] = host.mode === 'v2' ? [''] : [...v1Keys(host), ...(host.unified ? [''] : [])];
  const paths: Record<string, string> = {};
  for (const key of keys) {
    const mnt = key === '' ? host.unified! : host.v1.get(key)!;
    if (inner.startsWith('/')) {
      paths[key] = posix.join(mnt, inner);
      continue;
    }
    const ownPath = own.get(key);
    const label = key === '' ? 'cgroup2' : key;
    if (ownPath === undefined) {
      throw new TsruncError('E_CGROUP', `resolve cgroup \`${inner}\`: own ${label} cgroup not found in /proc/self/cgroup`);
    }
    const root = host.roots.get(key) ?? '/';
    const rel = posix.relative(root, ownPath);
    if (rel.startsWith('..') || posix.isAbsolute(rel)) {
      throw new TsruncError('E_CGROUP',
        `resolve cgroup \`${inner}\`: own ${label} cgroup \`${ownPath}\` is outside the mounted part \`${root}\``);
    }
    let base = posix.join('/', rel);
    if (host.mode === 'v2') base = posix.dirname(base);
    paths[key] = posix.join(mnt, base, inner);
  }
  return { paths };
}
