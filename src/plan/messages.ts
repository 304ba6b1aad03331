// Turn a setup failure reported by tsrunc-init ({step, errno, detail}) into a message that names
// the operation and the object: ``mount `proc` on `/proc` (type proc, 0): mount: EPERM (step 7)``.
// The init sends numbers only; the wording lives here, next to the plan it refers to.
import { TsruncError } from '../errors';
import { errnoName } from '../sys/native';
import type { Plan } from './ops';

const STEP_EXEC_INIT = -1;
const STEP_READ_PLAN = -2;
const STEP_USERNS = -3;
const STEP_JOIN_NS = -4;

export function setupError(plan: Plan, step: number, errno: number, detail: string): TsruncError {
  const code = errno ? errnoName(errno) : '';
  if (step === STEP_EXEC_INIT) return new TsruncError('E_SETUP', `exec tsrunc-init from its sealed memfd: ${code}`);
  if (step === STEP_USERNS) return new TsruncError('E_SETUP', `become root (uid 0, gid 0) of the new user namespace: setresuid/setresgid: ${code}`);
  if (step === STEP_READ_PLAN) return new TsruncError('E_SETUP', `tsrunc-init: ${detail}${code ? `: ${code}` : ''}`);
  if (step === STEP_JOIN_NS) {
    const j = plan.joins?.[Number(detail)];
    if (!j) return new TsruncError('E_INTERNAL', `the clone child reported a failed join ${detail}: ${code}`);
    return new TsruncError('E_SETUP', `config.json: ${j.field}: join ${j.type} namespace \`${j.path}\`: setns: ${code}`);
  }
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
  if (op.op === 'CHDIR' && ['ENOENT', 'ENOTDIR', 'EACCES'].includes(code)) {
    // runc's wording (`runc exec --cwd /nonexistent`).
    return new TsruncError('E_SETUP', `unable to start container process: chdir to cwd (${JSON.stringify(op.strs[0])}) set in config.json failed: ${describeErrno(code)}`);
  }
  if (op.op === 'APPARMOR') {
    // runc 1.1.5's words: where AppArmor is not enabled the kernel refuses the write (EINVAL).
    const text = errno ? ((require('util') as typeof import('util')).getSystemErrorMap().get(-errno)?.[1] ?? code) : '';
    return new TsruncError('E_SETUP', `unable to start container process: error during container init: unable to apply apparmor profile: apparmor failed to apply profile: ${detail}${text ? `: ${text}` : ''}`);
  }
  const hint = HINTS[op.op]?.[code];
  return new TsruncError('E_SETUP', `${clip(op.what)}: ${clip(detail)}${code ? `: ${code}` : ''}${hint ? ` (${hint})` : ''} (step ${step})`);
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

/** What a kernel refusal of a process attribute usually means (the kernel says only EPERM/EINVAL). */
const HINTS: Partial<Record<string, Record<string, string>>> = {
  SCHEDULER: {
    EPERM: 'the kernel refused: a real-time policy needs real-time runtime in the container\'s cgroup (linux.resources.cpu.realtimeRuntime on cgroup v1), SCHED_DEADLINE a cpuset that spans its root domain',
    EINVAL: 'the kernel refused these scheduler parameters',
  },
  MEMORY_POLICY: {
    EINVAL: 'the kernel refused this policy: a node this host does not have or may not use (see /sys/devices/system/node), or a flag this mode does not take',
  },
  IOPRIO: { EPERM: 'the kernel refused: IOPRIO_CLASS_RT needs CAP_SYS_ADMIN' },
};
