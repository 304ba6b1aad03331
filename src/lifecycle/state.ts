// `state` and `list`: what the containers under --root are now (status derived from the world).
import fs = require('fs');
import { TsruncError } from '../errors';
import { StateStore, type StateRecord } from '../state/store';
import { loadContainer, ociState, statusOf } from './container';
import type { GlobalOptions, OciState } from './api';

/** `state`: the OCI state of one container (status derived from the live world). */
export function state(g: GlobalOptions, id: string): OciState {
  return loadContainer(g, id).state();
}

/**
 * `list`: the states of every container under --root, sorted by id ([] when none or no root).
 * Entries that are not tsrunc containers are left out with a warning on the log: a directory with
 * no readable state.json (being created, or left by a killed create), a symlink (never followed),
 * a state.json another runtime wrote in the same root.
 */
export function list(g: GlobalOptions): OciState[] {
  const store = new StateStore(g.root);
  const out: OciState[] = [];
  for (const { id, kind } of store.entries()) {
    if (kind === 'notdir') {
      g.log('warning', `state entry \`${store.dir(id)}\` is not a directory (a symlink is never followed): skipped`);
      continue;
    }
    let rec: StateRecord;
    try {
      if (kind === 'nostate') throw new TsruncError('E_NOT_EXIST', 'container does not exist');
      rec = store.read(id);
    } catch (e) {
      if (e instanceof TsruncError && e.code === 'E_NOT_EXIST') {
        if (fs.existsSync(store.dir(id))) {
          g.log('warning', `container \`${id}\` has no readable state.json (being created, or left by a killed create: \`tsrunc delete --force ${id}\` removes it): skipped`);
        }
      } else {
        g.log('warning', `${e instanceof Error ? e.message : String(e)}: skipped`);
      }
      continue;
    }
    let owner = 'root';
    try {
      owner = userName(fs.lstatSync(store.dir(id)).uid);
    } catch { /* gone meanwhile */ }
    out.push({ ...ociState(rec, statusOf(store, rec)), owner });
  }
  return out;
}

/** runc's `list` owner: the user name of the state dir's uid, or `#<uid>` when it has none. */
function userName(uid: number): string {
  if (uid === 0) return 'root';
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && Number(f[2]) === uid && f[2] !== '') return f[0]!;
    }
  } catch { /* no passwd */ }
  return `#${uid}`;
}
