// `update`: change the resource limits of a live (created, running or paused) container. The new
// values are laid over the ones recorded in state.json (mergeResources: a field that is absent or
// asks for nothing keeps its value, as runc merges into its config), the merged set goes through
// the same mapping table as `create` (CgroupManager.setResources), and state.json keeps it. A
// failed write re-applies the previous values (best effort, as runc's Set) and fails.
import { TsruncError } from '../errors';
import { withContainer } from './container';
import type { GlobalOptions } from './api';
import type { Resources } from '../cgroup/resources';

export interface UpdateOptions {
  id: string;
  /** The new values, in the shape of the spec's LinuxResources (devices are not updated). */
  resources: Resources;
  /** Intel RDT schemata (runc's --l3-cache-schema, --mem-bw-schema): not supported. */
  l3CacheSchema?: string;
  memBwSchema?: string;
}

export function update(g: GlobalOptions, o: UpdateOptions): void {
  const { mergeResources } = require('../cgroup/resources') as typeof import('../cgroup/resources');
  withContainer(g, o.id, (c) => {
    if (c.status() === 'stopped') throw new TsruncError('E_STATUS', 'container not running');
    // runc's texts when the host has no RDT support; tsrunc has none at all (intelRdt is refused
    // at create), so these are what a caller sees either way.
    if (o.l3CacheSchema) throw new TsruncError('E_UNSUPPORTED', 'Intel RDT/CAT: l3 cache schema is not enabled');
    if (o.memBwSchema) throw new TsruncError('E_UNSUPPORTED', 'Intel RDT/MBA: memory bandwidth schema is not enabled');
    const old = c.rec.resources ?? {};
    const merged = mergeResources(old, o.resources);
    const cg = c.cgroup();
    const warn = (m: string) => g.log('warning', m);
    try {
      cg.setResources(merged, { update: true, warn });
    } catch (e) {
      try {
        cg.setResources(old, {});
      } catch (e2) {
        g.log('warning', `update: restoring the previous limits failed: ${(e2 as Error).message}`);
      }
      throw e;
    }
    const rec = { ...c.rec, resources: merged };
    c.store.write(rec);
  });
}
