// Control groups: config-linux.md#control-groups, #cgroups-path, #pids, #memory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert, CheckDef, fail, T } from '../lib/harness';
import { cgroupHierarchies } from '../lib/host';

/** /proc/<pid>/cgroup as [{hierarchy, controllers, path}]. */
function cgroupsOf(pid: number): { id: string; controllers: string; path: string }[] {
  return fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const a = l.indexOf(':');
      const b = l.indexOf(':', a + 1);
      return { id: l.slice(0, a), controllers: l.slice(a + 1, b), path: l.slice(b + 1) };
    });
}

/** Directories <hierarchy mount>/<cgroupsPath> that exist on the host. */
function cgroupDirs(cgPath: string): string[] {
  return cgroupHierarchies()
    .map((h) => path.join(h.mountpoint, cgPath))
    .filter((d) => fs.existsSync(d));
}

/** A unique absolute cgroupsPath; leftovers are removed after the check (rmdir, deepest first). */
function ownCgroupPath(t: T): string {
  const p = `/tsrunc-conformance-${t.ctx.runTag}-${++t.ctx.counter.n}`;
  t.afterCleanup.push(() => {
    const left = cgroupDirs(p);
    for (const d of left) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* reported below */
      }
    }
    const still = cgroupDirs(p);
    if (still.length) throw new Error(`cgroups left behind: ${still.join(', ')}`);
  });
  return p;
}

/** The file `name` of the cgroup at cgPath in the hierarchy that has `controller` (v1 or v2). */
function controllerFile(cgPath: string, controller: string, v1name: string, v2name: string): string | undefined {
  for (const h of cgroupHierarchies()) {
    if (h.fstype === 'cgroup' && h.super.includes(controller)) return path.join(h.mountpoint, cgPath, v1name);
  }
  for (const h of cgroupHierarchies()) {
    if (h.fstype !== 'cgroup2') continue;
    try {
      const ctl = fs.readFileSync(path.join(h.mountpoint, 'cgroup.controllers'), 'utf8').split(/\s+/);
      if (ctl.includes(controller)) return path.join(h.mountpoint, cgPath, v2name);
    } catch {
      /* next */
    }
  }
  return undefined;
}

export const cgroupChecks: CheckDef[] = [
  {
    group: 'cgroups',
    name: 'cgroupsPath places the container, and delete removes the cgroup',
    spec: 'config-linux.md#cgroups-path; runtime.md#delete ("MUST delete the resources that were created during the create step")',
    fn: (t) => {
      const cg = ownCgroupPath(t);
      const c = t.create({ process: { args: ['/bin/sleep', '1000'] }, linux: { cgroupsPath: cg } });
      const pid = t.state(c.id).pid as number;
      const lines = cgroupsOf(pid);
      const wrong = lines.filter((l) => !l.controllers.startsWith('name=') && l.path !== cg);
      assert(wrong.length === 0, `the container process is not in ${cg}: ${wrong.map((l) => `${l.id}:${l.controllers}:${l.path}`).join(' ')}`);
      assert(lines.some((l) => l.path === cg), `the container process is in no cgroup ${cg}`);
      t.must(t.rt.kill(c.id, 'KILL'), 'kill');
      t.waitStatus(c.id, 'stopped');
      t.must(t.rt.delete(c.id), 'delete');
      const left = cgroupDirs(cg);
      assert(left.length === 0, `cgroups left after delete: ${left.join(', ')}`);
    },
  },
  {
    group: 'cgroups',
    name: 'resources: pids.limit and memory.limit are written to the cgroup',
    spec: 'config-linux.md#pids, #memory',
    fn: (t) => {
      const cg = ownCgroupPath(t);
      const limit = 64 * 1024 * 1024;
      const c = t.create({
        process: { args: ['/bin/sleep', '1000'] },
        linux: { cgroupsPath: cg, resources: { pids: { limit: 42 }, memory: { limit } } },
      });
      const problems: string[] = [];
      const pidsMax = controllerFile(cg, 'pids', 'pids.max', 'pids.max');
      if (pidsMax) {
        const v = fs.readFileSync(pidsMax, 'utf8').trim();
        if (v !== '42') problems.push(`${pidsMax} is ${v}, want 42`);
      }
      const memMax = controllerFile(cg, 'memory', 'memory.limit_in_bytes', 'memory.max');
      if (memMax) {
        const v = fs.readFileSync(memMax, 'utf8').trim();
        if (v !== String(limit)) problems.push(`${memMax} is ${v}, want ${limit}`);
      }
      if (!pidsMax && !memMax) fail('no pids or memory controller on this host to check');
      if (problems.length) fail(problems.join('; '));
      t.must(t.rt.delete(c.id, true), 'delete --force');
    },
  },
];
