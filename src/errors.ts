// One error type for the whole runtime (design §6). Every failure that reaches the user is a
// TsruncError with a stable `code` (documented in README.md), an exit code and an optional cause
// chain. Messages are lower case, name the operation and the object in backticks, and include the
// path or value. Some messages are runc's exact texts because containerd matches on them
// (`container does not exist`, `container not running`, ...): do not reword those.

export type ErrorCode =
  | 'E_USAGE' // bad command line (flags, arguments)
  | 'E_CONFIG_MISSING' // no config.json in the bundle
  | 'E_CONFIG_PARSE' // config.json is not JSON
  | 'E_CONFIG_INVALID' // schema or semantic check failed
  | 'E_UNSUPPORTED' // valid per the spec, but not implemented by tsrunc (yet)
  | 'E_ID_INVALID' // container id breaks the id rules
  | 'E_EXISTS' // container with that id already exists
  | 'E_NOT_EXIST' // container does not exist
  | 'E_STATUS' // operation not allowed in the container's status
  | 'E_SIGNAL' // unknown or invalid signal
  | 'E_SETUP' // a step of container setup failed (mount, pivot_root, exec lookup, ...)
  | 'E_HOOK' // a prestart/createRuntime/createContainer/startContainer/poststart hook failed
  | 'E_SYSCALL' // a syscall in the runtime itself failed
  | 'E_CGROUP' // cgroup create/configure/remove failed
  | 'E_STATE' // state directory or state.json problem
  | 'E_INTERNAL'; // a bug in tsrunc

export interface TsruncErrorOptions {
  cause?: unknown;
  exitCode?: number;
}

export class TsruncError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: TsruncErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsruncError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** The shape the native addon throws for a failed syscall (Node's ErrnoException shape). */
export interface ErrnoLike {
  code: string; // 'ENOENT'
  errno: number; // positive errno
  syscall: string;
  path?: string;
}

export function isErrnoLike(e: unknown): e is ErrnoLike {
  return typeof e === 'object' && e !== null && typeof (e as ErrnoLike).code === 'string' &&
    typeof (e as ErrnoLike).syscall === 'string';
}

/** The short reason of a cause for a message: the errno name (`EBUSY`) or the error's message. */
export function causeText(e: unknown): string {
  if (isErrnoLike(e)) return e.code;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The message to show. A TsruncError's message is complete by construction (operation, object,
 * reason); its cause is kept for --debug, not repeated. Other errors get their cause chain,
 * `a: b: c`, as runc/crun print wrapped errors.
 */
export function fullMessage(e: unknown): string {
  if (e instanceof TsruncError) return e.message;
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.message);
      cur = (cur as Error & { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(': ');
}
