// `explain`: validate the bundle and show the plan `create` would carry out (nothing runs).
import { StateStore } from '../state/store';
import { validateId } from '../state/id';
import { prepare } from './create';
import type { ExplainOptions, GlobalOptions } from './api';

/** `explain`: validate the bundle and return the plan dump; json=true gives the JSON form. */
export function explain(g: GlobalOptions, o: ExplainOptions, json: boolean): string {
  const id = o.id ?? 'explain';
  validateId(id);
  const p = prepare(g, { id, bundle: o.bundle, noPivot: o.noPivot }, new StateStore(g.root).fifoPath(id));
  const dump = require('../plan/dump') as typeof import('../plan/dump');
  return json ? dump.dumpJson(p.plan) : dump.dumpText(p.plan);
}
