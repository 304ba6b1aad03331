// Lifecycle entry points, one module per command (create.ts, start.ts, state.ts, kill.ts,
// delete.ts, run.ts, explain.ts, pause.ts, resume.ts, ps.ts, events.ts) over one shared container
// handle (container.ts). The CLI (src/cli) calls exactly one of these per invocation.
export type {
  CreateOptions, DeleteOptions, EventsOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, PsOptions, RunOptions,
} from './api';
export { OCI_VERSION } from './container';
export { create } from './create';
export { start } from './start';
export { state, list } from './state';
export { kill } from './kill';
export { del } from './delete';
export { run } from './run';
export { explain } from './explain';
export { pause } from './pause';
export { resume } from './resume';
export { ps } from './ps';
export { events, eventsStats } from './events';
export { update } from './update';
export { exec } from './exec';
export type { ExecOptions } from './exec';
export type { UpdateOptions } from './update';
