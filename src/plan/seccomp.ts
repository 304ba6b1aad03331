// linux.seccomp -> the filter description that the addon's seccompCompile (addon/seccomp.cc) turns
// into a BPF program with libseccomp, in the parent, before the clone. PURE: no libseccomp here.
//
// What runc 1.1.5 does (libcontainer/specconv and libcontainer/seccomp), and so does this:
//   - one rule per name in `names`; a rule whose action equals the default action is dropped
//     (libseccomp refuses it); names libseccomp cannot resolve are skipped (addon, debug log);
//   - errnoRet (else EPERM) for SCMP_ACT_ERRNO and SCMP_ACT_TRACE; defaultErrnoRet for the default;
//   - args: when two conditions of one rule test the same argument index, each condition becomes
//     a rule of its own (libseccomp cannot AND two conditions on one argument), otherwise all
//     conditions are ANDed in one rule;
//   - architectures are added to the native one (libseccomp always starts with the native arch);
//   - flags are passed to seccomp(2) by tsrunc-init (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV; TSYNC is
//     trivially true for the single-threaded init);
//   - SCMP_ACT_NOTIFY (config-linux.md "Seccomp", listenerPath): the filter is installed with
//     SECCOMP_FILTER_FLAG_NEW_LISTENER by the SECCOMP_LISTENER op, before READY (as runc 1.1: with
//     noNewPrivileges right before READY, without it before the capabilities are dropped); the init
//     passes the listener fd to `create` over the sync socket, and `create` sends it with the
//     container process state to the agent at listenerPath (SCM_RIGHTS), then lets the init go on.
// Refused, naming the field: SCMP_ACT_NOTIFY as the default action (every syscall of the runtime's
// own, the fd hand-over included, would wait for an agent that has no fd yet; runc refuses it too),
// SCMP_ACT_NOTIFY on sendmsg (the hand-over itself), NOTIFY without listenerPath,
// WAIT_KILLABLE_RECV without NOTIFY (the kernel needs a listener), architectures this libseccomp
// (2.5) does not know.
import { TsruncError } from '../errors';
import type { LinuxSeccomp } from '../spec/types';

const EPERM = 1;

/** libseccomp's action values (seccomp.h); ERRNO and TRACE carry a 16-bit data field. */
export const SECCOMP_ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: 0x00000000, // = KILL_THREAD
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

/** enum scmp_compare. */
export const SECCOMP_OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** OCI architecture names -> libseccomp's (seccomp_arch_resolve_name), those libseccomp 2.5 knows. */
export const SECCOMP_ARCHS: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** seccomp(2) SECCOMP_FILTER_FLAG_* values that tsrunc-init passes on. */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

const FLAG_TSYNC = 1;
const FLAG_WAIT_KILLABLE_RECV = 32;

export interface SeccompCondition {
  index: number;
  op: number;
  /** u64 as decimal strings (JSON numbers above 2^53 are already rounded by JSON.parse). */
  value: string;
  valueTwo: string;
}

export interface SeccompRule {
  name: string;
  action: number;
  args: SeccompCondition[];
}

/** What addon/seccomp.cc compiles. */
export interface SeccompFilter {
  defaultAction: number;
  /** libseccomp architecture names, added to the native one. */
  archs: string[];
  rules: SeccompRule[];
}

export interface SeccompPlan {
  filter: SeccompFilter;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2) (NEW_LISTENER is added by the init). */
  flags: number;
  /** SCMP_ACT_NOTIFY is used: the listener fd goes to the agent at `path`. */
  listener?: { path: string; metadata?: string };
}

function unsupported(field: string, why: string): never {
  throw new TsruncError('E_UNSUPPORTED', `config.json: ${field}: ${why}`);
}

function invalid(field: string, why: string): never {
  throw new TsruncError('E_CONFIG_INVALID', `config.json: ${field}: ${why}`);
}

function actionValue(field: string, action: string, errnoRet: number | undefined): number {
  const base = SECCOMP_ACTIONS[action];
  if (base === undefined) {
    throw new TsruncError('E_CONFIG_INVALID', `config.json: ${field}: unknown seccomp action ${JSON.stringify(action)}`);
  }
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return base >>> 0;
}

/** Refuse what tsrunc cannot do yet (E_UNSUPPORTED), naming the field. Used by checkSupported. */
export function checkSeccompSupported(sc: LinuxSeccomp): void {
  (sc.architectures ?? []).forEach((a, i) => {
    if (SECCOMP_ARCHS[a] === undefined) unsupported(`/linux/seccomp/architectures/${i}`, `${a} is not supported by this libseccomp`);
  });
  (sc.flags ?? []).forEach((f, i) => {
    if (SECCOMP_FLAGS[f] === undefined) unsupported(`/linux/seccomp/flags/${i}`, `${f} is not supported`);
  });
}

/** linux.seccomp -> the filter to compile and the seccomp(2) flags. */
export function seccompPlan(sc: LinuxSeccomp): SeccompPlan {
  checkSeccompSupported(sc);
  if (sc.defaultAction === 'SCMP_ACT_NOTIFY') invalid('/linux/seccomp/defaultAction', 'SCMP_ACT_NOTIFY cannot be used as default action');
  const defaultAction = actionValue('/linux/seccomp/defaultAction', sc.defaultAction, sc.defaultErrnoRet);
  const archs = (sc.architectures ?? []).map((a) => SECCOMP_ARCHS[a]!);
  let flags = 0;
  for (const f of sc.flags ?? []) flags |= SECCOMP_FLAGS[f]!;
  const rules: SeccompRule[] = [];
  (sc.syscalls ?? []).forEach((s, i) => {
    if (s.action === 'SCMP_ACT_NOTIFY' && s.names.includes('sendmsg')) {
      invalid(`/linux/seccomp/syscalls/${i}/names`, 'SCMP_ACT_NOTIFY cannot be used for sendmsg (the runtime hands the listener fd over with it)');
    }
  });
  (sc.syscalls ?? []).forEach((s, i) => {
    const field = `/linux/seccomp/syscalls/${i}`;
    const action = actionValue(`${field}/action`, s.action, s.errnoRet);
    if (action === defaultAction) return; // runc: a rule with the default action is ignored
    const conds: SeccompCondition[] = (s.args ?? []).map((a, j) => {
      const op = SECCOMP_OPERATORS[a.op];
      if (op === undefined) {
        throw new TsruncError('E_CONFIG_INVALID', `config.json: ${field}/args/${j}/op: unknown seccomp operator ${JSON.stringify(a.op)}`);
      }
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
        throw new TsruncError('E_CONFIG_INVALID', `config.json: ${field}/args/${j}/index: a syscall has at most 6 arguments (0-5)`);
      }
      return { index: a.index, op, value: u64(a.value), valueTwo: u64(a.valueTwo ?? 0) };
    });
    const perIndex = new Set(conds.map((c) => c.index));
    const groups = perIndex.size < conds.length ? conds.map((c) => [c]) : [conds];
    for (const name of s.names) {
      if (name === '') throw new TsruncError('E_CONFIG_INVALID', `config.json: ${field}/names: empty string is not a valid syscall`);
      for (const args of groups) rules.push({ name, action, args });
    }
  });
  const notify = rules.some((r) => r.action === SECCOMP_ACTIONS.SCMP_ACT_NOTIFY);
  if (!notify) {
    if (flags & FLAG_WAIT_KILLABLE_RECV) {
      const i = (sc.flags ?? []).indexOf('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV');
      invalid(`/linux/seccomp/flags/${i}`, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule (the kernel refuses it without a listener)');
    }
    return { filter: { defaultAction, archs, rules }, flags };
  }
  if (!sc.listenerPath) invalid('/linux/seccomp/listenerPath', 'SCMP_ACT_NOTIFY needs a listenerPath (the seccomp agent\'s socket)');
  // TSYNC with NEW_LISTENER is EINVAL (seccomp(2)); for the single-threaded init it is trivially true.
  flags &= ~FLAG_TSYNC;
  const listener: SeccompPlan['listener'] = { path: sc.listenerPath };
  if (sc.listenerMetadata !== undefined) listener.metadata = sc.listenerMetadata;
  return { filter: { defaultAction, archs, rules }, flags, listener };
}

function u64(v: number): string {
  return BigInt.asUintN(64, BigInt(Math.trunc(v))).toString();
}

/** For plan dumps: `SCMP_ACT_ERRNO(1)`. */
export function actionName(v: number): string {
  const hi = (v & 0xffff0000) >>> 0;
  for (const [k, base] of Object.entries(SECCOMP_ACTIONS)) {
    if (k === 'SCMP_ACT_KILL' || base !== hi) continue;
    return k === 'SCMP_ACT_ERRNO' || k === 'SCMP_ACT_TRACE' ? `${k}(${v & 0xffff})` : k;
  }
  return `0x${v.toString(16)}`;
}

/**
 * Replace each SECCOMP op's filter description with its BPF program (hex), compiled by
 * libseccomp in this process before the clone. `compileBpf` is the addon's seccompCompile.
 */
export function linkSeccomp<T extends { op: string; strs: string[] }>(
  ops: T[], compileBpf: (f: SeccompFilter) => { bpf: Buffer; skipped: string[] }, debug: (msg: string) => void,
): T[] {
  return ops.map((op) => {
    if (op.op !== 'SECCOMP' && op.op !== 'SECCOMP_LISTENER') return op;
    let r: { bpf: Buffer; skipped: string[] };
    try {
      r = compileBpf(JSON.parse(op.strs[0]!) as SeccompFilter);
    } catch (e) {
      throw new TsruncError('E_CONFIG_INVALID', `config.json: /linux/seccomp: ${(e as Error).message}`, { cause: e });
    }
    for (const name of new Set(r.skipped)) debug(`unknown seccomp syscall ${JSON.stringify(name)} ignored`);
    if (r.bpf.length === 0 || r.bpf.length % 8 !== 0 || r.bpf.length / 8 > 4096) {
      throw new TsruncError('E_CONFIG_INVALID', `config.json: /linux/seccomp: the compiled filter has ${r.bpf.length / 8} instructions (at most 4096)`);
    }
    return { ...op, strs: [r.bpf.toString('hex')] };
  });
}

/** The spec's closed sets (config-linux.md, schemas/config-linux.schema.json): candidates for `features`. */
export const SECCOMP_SPEC_ACTIONS: readonly string[] = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];
export const SECCOMP_SPEC_ARCHS: readonly string[] = [
  ...Object.keys(SECCOMP_ARCHS), 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];
export const SECCOMP_SPEC_FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];
