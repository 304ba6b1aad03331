// OCI hooks run in the runtime namespace (config.md "POSIX-platform Hooks"): prestart and
// createRuntime by `create` while the init waits before pivot_root (protocol.h, HOOK_SYNC),
// poststart by `start` once the container's program runs, poststop by `delete` once the container
// is gone. createContainer and startContainer run inside the container, by tsrunc-init (HOOK op).
// The runner is the addon's runHook (addon/hookrun.h): state JSON on stdin, output captured into
// the error, `timeout` kills the hook, no fd of tsrunc reaches it.
//
// The state on stdin is runtime-spec's State in runc's shape (specs-go: ociVersion, id, status,
// pid omitted when 0, bundle, annotations omitted when empty): `creating` for prestart,
// createRuntime and createContainer, `created` for startContainer (the program has not run yet),
// `running` for poststart, `stopped` without a pid for poststop.
import { TsruncError } from '../errors';
import type { Hook } from '../spec/types';
import type { Native } from '../sys/native';
import { OCI_VERSION } from './container';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/** The hooks a recorded container still needs after `create` (state.json). */
export interface RecordedHooks {
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export function hookState(id: string, bundle: string, status: string, pid: number | undefined, annotations?: Record<string, string>): HookState {
  // Key order is runc's (specs-go State): pid between status and bundle.
  const s: HookState = { ociVersion: OCI_VERSION, id, status, ...(pid ? { pid } : {}), bundle };
  if (annotations && Object.keys(annotations).length) s.annotations = annotations;
  return s;
}

/** A hook's argv and env as the runner takes them (args[0] is argv[0]; no env: the runtime's). */
export function hookTimeoutMs(h: Hook): number {
  return h.timeout !== undefined && h.timeout > 0 ? h.timeout * 1000 : 0;
}

/** Run one hook: "" when it succeeded, else runc's text naming the kind and the index. */
function runOne(n: Native, kind: HookKind, i: number, h: Hook, input: string): string {
  let error: string;
  try {
    error = n.runHook({ path: h.path, args: h.args ?? [], env: h.env, timeoutMs: hookTimeoutMs(h), input }).error;
  } catch (e) {
    error = (e as Error).message;
  }
  return error ? `error running ${kind} hook #${i}: ${error}` : '';
}

/**
 * Run `hooks` in order; the first failure throws (E_HOOK) with runc's text, naming the kind and the
 * index: `error running prestart hook #0: error running hook: exit status 1, stdout: ..., stderr: ...`.
 */
export function runHooks(n: Native, kind: HookKind, hooks: Hook[] | undefined, state: HookState): void {
  const input = JSON.stringify(state);
  (hooks ?? []).forEach((h, i) => {
    const error = runOne(n, kind, i, h, input);
    if (error) throw new TsruncError('E_HOOK', error);
  });
}

/** poststop: every hook runs; a failure is a warning (runtime.md, lifecycle step 13). */
export function runPoststop(n: Native, hooks: Hook[] | undefined, state: HookState, warn: (msg: string) => void): void {
  const input = JSON.stringify(state);
  (hooks ?? []).forEach((h, i) => {
    const error = runOne(n, 'poststop', i, h, input);
    if (error) warn(error);
  });
}
