// Lifecycle entry points, one module per command (create.ts, start.ts, state.ts, kill.ts,
// delete.ts, run.ts, explain.ts, pause.ts, resume.ts, ps.ts, events.ts) over one shared container
// handle (container.ts). The CLI (src/cli) calls exactly one of these per invocation.
//
// Each entry point requires its module on first call, not when this index is loaded: `state` must
// not load (or read from disk) create's, exec's and the cgroup manager's code it never runs.
export type {
  CreateOptions, DeleteOptions, EventsOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, PsOptions, RunOptions,
} from './api';
export type { ExecOptions } from './exec';
export type { UpdateOptions } from './update';
export { OCI_VERSION } from './container';

/** `fn` of the module that `load` requires, as a function that requires it on its first call. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function lazy<F extends (...args: any[]) => any>(load: () => F): F {
  return ((...args: Parameters<F>): ReturnType<F> => load()(...args)) as F;
}

export const create = lazy(() => (require('./create') as typeof import('./create')).create);
export const start = lazy(() => (require('./start') as typeof import('./start')).start);
export const state = lazy(() => (require('./state') as typeof import('./state')).state);
export const list = lazy(() => (require('./state') as typeof import('./state')).list);
export const kill = lazy(() => (require('./kill') as typeof import('./kill')).kill);
export const del = lazy(() => (require('./delete') as typeof import('./delete')).del);
export const run = lazy(() => (require('./run') as typeof import('./run')).run);
export const explain = lazy(() => (require('./explain') as typeof import('./explain')).explain);
export const pause = lazy(() => (require('./pause') as typeof import('./pause')).pause);
export const resume = lazy(() => (require('./resume') as typeof import('./resume')).resume);
export const ps = lazy(() => (require('./ps') as typeof import('./ps')).ps);
export const events = lazy(() => (require('./events') as typeof import('./events')).events);
export const eventsStats = lazy(() => (require('./events') as typeof import('./events')).eventsStats);
export const update = lazy(() => (require('./update') as typeof import('./update')).update);
export const exec = lazy(() => (require('./exec') as typeof import('./exec')).exec);
