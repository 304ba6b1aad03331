// `delete`: remove a stopped container; with --force kill it first, and also remove what a killed
// `create` left (a directory without state.json).
import fs = require('fs');
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { StateStore, type StateRecord } from '../state/store';
import { validateId } from '../state/id';
import { checkTransition } from './status';
import { CREATING_FILE, cgroupFrom, destroy, native, removeDir, statusOf, withLock } from './container';
import type { DeleteOptions, GlobalOptions } from './api';

/**
 * `delete --force` of a directory without state.json: a create that was killed before it recorded
 * the container (we hold the lock, so none is running). Its init is gone (it dies with its
 * creator); empty and remove the cgroup creating.json names, then the directory.
 */
function removeUnrecorded(g: GlobalOptions, store: StateStore, id: string): void {
  const file = path.join(store.dir(id), CREATING_FILE);
  let cgroup: unknown;
  let hostMounts: import('./hostmounts').HostMounts | undefined;
  try {
    ({ cgroup, hostMounts } = JSON.parse(fs.readFileSync(file, 'utf8')) as { cgroup?: unknown; hostMounts?: import('./hostmounts').HostMounts });
  } catch (e) {
    if (!(isErrnoLike(e) && e.code === 'ENOENT')) g.log('warning', `read \`${file}\`: ${causeText(e)}`);
  }
  if (cgroup !== undefined) {
    const cg = cgroupFrom(cgroup);
    if (cg.pids().length > 0) cg.killAll(9);
    cg.destroy();
  }
  if (hostMounts) {
    const { detachHostMounts } = require('./hostmounts') as typeof import('./hostmounts');
    detachHostMounts(native(), hostMounts, (m) => g.log('warning', m));
  }
  removeDir(store, id);
}

/** `delete`: remove a stopped container (with force: kill it first). */
export function del(g: GlobalOptions, o: DeleteOptions): void {
  validateId(o.id);
  const store = new StateStore(g.root);
  try {
    withLock(store, o.id, () => {
      let rec: StateRecord;
      try {
        rec = store.read(o.id);
      } catch (e) {
        if (o.force && e instanceof TsruncError && e.code === 'E_NOT_EXIST') return removeUnrecorded(g, store, o.id);
        throw e;
      }
      const status = statusOf(store, rec);
      // A created (never started) container is deleted like runc does: kill and remove.
      checkTransition(o.id, status, 'delete', { force: o.force || status === 'created' });
      destroy(g, store, rec, status);
    });
  } catch (e) {
    if (o.force && e instanceof TsruncError && e.code === 'E_NOT_EXIST') return; // runc: rc 0
    throw e;
  }
}
