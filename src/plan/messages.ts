// Turn a setup failure reported by tsrunc-init ({step, errno, detail}) into a message that names
// the operation and the object: ``mount `proc` on `/proc` (type proc, 0): mount: EPERM (step 7)``.
// The init sends numbers only; the wording lives here, next to the plan it refers to.
import { TsruncError } from '../errors';
import { errnoName } from '../sys/native';
import type { Plan } from './ops';

const STEP_EXEC_INIT = -1;
const STEP_READ_PLAN = -2;

export function setupError(plan: Plan, step: number, errno: number, detail: string): TsruncError {
  const code = errno ? errnoName(errno) : '';
  if (step === STEP_EXEC_INIT) return new TsruncError('E_SETUP', `exec tsrunc-init from its sealed memfd: ${code}`);
  if (step === STEP_READ_PLAN) return new TsruncError('E_SETUP', `tsrunc-init: ${detail}${code ? `: ${code}` : ''}`);
  const op = plan.ops[step];
  if (!op) return new TsruncError('E_INTERNAL', `tsrunc-init reported unknown step ${step}: ${detail} ${code}`);
  // A createContainer hook: the init words it as runc does (addon/hookrun.h).
  if (op.op === 'HOOK' && errno === 0) return new TsruncError('E_HOOK', detail);
  if (op.op === 'RESOLVE_EXEC') {
    // runc's wording, which containerd passes on to users verbatim.
    const name = op.strs[0]!;
    const msg = errno === 0
      ? `exec: "${name}": executable file not found in $PATH`
      : `exec: "${name}": stat ${name}: ${describeErrno(code)}`;
    return new TsruncError('E_SETUP', `unable to start container process: ${msg}`);
  }
  return new TsruncError('E_SETUP', `${clip(op.what)}: ${clip(detail)}${code ? `: ${code}` : ''} (step ${step})`);
}

/** An operation's description can hold a config value of any length: keep the message readable. */
function clip(s: string, max = 400): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

// The few errno texts runc users see in exec errors (Go's syscall.Errno strings).
function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    default: return code;
  }
}
