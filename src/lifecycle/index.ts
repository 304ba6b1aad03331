// Lifecycle entry points, one per command. The CLI (src/cli) calls exactly one of these.
// Heavy modules (validator, plan compiler, addon) are required lazily inside the functions that
// need them, so `state`, `list`, `kill`, `delete` and `start` stay lean (design: no validator
// outside create/run/explain).
import { TsruncError } from '../errors';
import type {
  CreateOptions, DeleteOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, RunOptions,
} from './api';

export type { CreateOptions, DeleteOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, RunOptions };

function todo(name: string): never {
  throw new TsruncError('E_INTERNAL', `${name}: not implemented yet`);
}

/** `create`: set the container up and leave its init waiting on exec.fifo. */
export function create(_g: GlobalOptions, _o: CreateOptions): void { todo('create'); }
/** `start`: release a created container's init. */
export function start(_g: GlobalOptions, _id: string): void { todo('start'); }
/** `state`: the OCI state of one container (status derived from the live world). */
export function state(_g: GlobalOptions, _id: string): OciState { todo('state'); }
/** `list`: the states of every container under --root, sorted by id ([] when none or no root). */
export function list(_g: GlobalOptions): OciState[] { todo('list'); }
/** `kill`: send a signal to the init (or, with all, to every process of the container). */
export function kill(_g: GlobalOptions, _o: KillOptions): void { todo('kill'); }
/** `delete`: remove a stopped container (with force: kill it first). */
export function del(_g: GlobalOptions, _o: DeleteOptions): void { todo('delete'); }
/** `run`: create + start; in the foreground waits and resolves to the exit code (128+signal). */
export function run(_g: GlobalOptions, _o: RunOptions): Promise<number> { todo('run'); }
/** `explain`: validate the bundle and return the plan dump; json=true gives the JSON form. */
export function explain(_g: GlobalOptions, _o: ExplainOptions, _json: boolean): string { todo('explain'); }
