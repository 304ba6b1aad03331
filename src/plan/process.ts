// Process attributes that tsrunc-init applies to itself right before the user and capability
// change, so that the container's process inherits them across execve: the AppArmor profile (on
// exec), the scheduler (sched_setattr), the I/O priority (ioprio_set), the personality and the
// NUMA memory policy (set_mempolicy), in runc's order. Here: the name tables (runtime-spec 1.3
// names -> kernel values), the semantic checks (runc's texts where runc has them) and the plan ops.
// Also the checks that depend on the host (SELinux, Intel RDT) and the cpu/node list parser.
import { existsSync, readFileSync } from 'fs';
import type { Spec } from '../spec/types';
import type { Op } from './ops';

interface SpecProblem { pointer: string; message: string }

/** sched_setattr(2) policies (linux/sched.h). SCHED_ISO is reserved and not implemented by Linux. */
export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};

/** sched_attr.sched_flags (linux/sched.h). */
export const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** I/O scheduling classes (linux/ioprio.h); the value is class << 13 | priority. */
export const IOPRIO_CLASSES: Readonly<Record<string, number>> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** personality(2) execution domains (linux/personality.h). */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** set_mempolicy(2) modes and mode flags (linux/mempolicy.h). */
export const MPOL_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};

/** The highest CPU or NUMA node number a list may name (runc's MaxCPU). */
export const MAX_LIST_ID = 64 * 1024;

/**
 * A cpu or node list (`0-3,7`) as the sorted numbers it names. runc's rules: spaces around the
 * elements and empty elements are allowed, a range must not go down, at most MAX_LIST_ID. Throws
 * an Error with the reason.
 */
export function parseIdList(s: string): number[] {
  const out = new Set<number>();
  const num = (v: string): number => {
    if (!/^\d+$/.test(v)) throw new Error(`${JSON.stringify(v)} is not a number`);
    const n = Number(v);
    if (n > MAX_LIST_ID) throw new Error(`values larger than ${MAX_LIST_ID} are not supported`);
    return n;
  };
  for (const raw of s.split(',')) {
    const r = raw.trim();
    if (r === '') continue;
    const dash = r.indexOf('-');
    const start = num(dash < 0 ? r : r.slice(0, dash));
    const end = dash < 0 ? start : num(r.slice(dash + 1));
    if (start > end) throw new Error(`invalid range: ${r}`);
    for (let i = start; i <= end; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Every problem of the process attributes, the personality and the memory policy (pure). */
export function processAttrProblems(spec: Spec): SpecProblem[] {
  const out: SpecProblem[] = [];
  const add = (pointer: string, message: string) => out.push({ pointer, message });
  const p = spec.process;
  const s = p?.scheduler as SchedulerSpec | undefined;
  if (s) {
    const at = '/process/scheduler';
    // runc's texts (libcontainer/configs/validate), then the kernel's rules that runc leaves to it.
    if (s.policy === 'SCHED_ISO') add(`${at}/policy`, 'SCHED_ISO is not implemented by the Linux kernel');
    const nice = s.nice ?? 0;
    if ((s.policy === 'SCHED_OTHER' || s.policy === 'SCHED_BATCH') && (nice < -20 || nice > 19)) {
      add(`${at}/nice`, `invalid scheduler.nice: ${nice} when scheduler.policy is ${s.policy}`);
    }
    const rt = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
    const prio = s.priority ?? 0;
    if (prio !== 0 && !rt) add(`${at}/priority`, 'scheduler.priority can only be specified for SchedFIFO or SchedRR policy');
    if (rt && (prio < 1 || prio > 99)) add(`${at}/priority`, `must be between 1 and 99 for ${s.policy}, got ${prio}`);
    if (s.policy !== 'SCHED_DEADLINE' && (s.runtime || s.deadline || s.period)) {
      add(at, 'scheduler runtime/deadline/period can only be specified for SchedDeadline policy');
    }
  }
  const aff = p?.execCPUAffinity;
  for (const k of ['initial', 'final'] as const) {
    const v = aff?.[k];
    if (v === undefined || v === '') continue;
    try {
      if (parseIdList(v).length === 0) throw new Error(`no members found in set ${JSON.stringify(v)}`);
    } catch (e) {
      add(`/process/execCPUAffinity/${k}`, `bad CPUAffinity.${k === 'initial' ? 'Initial' : 'Final'}: ${(e as Error).message}`);
    }
  }
  const pers = spec.linux?.personality as PersonalitySpec | undefined;
  if (pers?.flags?.length) {
    add('/linux/personality/flags', `no personality flags are supported (runtime-spec 1.3 defines none), got ${JSON.stringify(pers.flags)}`);
  }
  const mp = spec.linux?.memoryPolicy as MemoryPolicySpec | undefined;
  if (mp) {
    const at = '/linux/memoryPolicy';
    let nodes: number[] | undefined;
    try {
      nodes = parseIdList(mp.nodes ?? '');
    } catch (e) {
      add(`${at}/nodes`, `invalid memory policy nodes ${JSON.stringify(mp.nodes)}: ${(e as Error).message}`);
    }
    if (nodes) {
      if ((mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL') && nodes.length > 0) {
        add(`${at}/nodes`, `memory policy mode requires 0 nodes but got ${nodes.length}`);
      } else if (mp.mode !== 'MPOL_DEFAULT' && mp.mode !== 'MPOL_LOCAL' && mp.mode !== 'MPOL_PREFERRED' && nodes.length === 0) {
        add(`${at}/nodes`, 'memory policy mode requires at least one node but got 0');
      }
    }
    const f = mp.flags ?? [];
    if (f.includes('MPOL_F_STATIC_NODES') && f.includes('MPOL_F_RELATIVE_NODES')) {
      add(`${at}/flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot be combined (set_mempolicy(2))');
    }
  }
  return out;
}

interface SchedulerSpec {
  policy: string; nice?: number; priority?: number; flags?: string[]; runtime?: number; deadline?: number; period?: number;
}
interface PersonalitySpec { domain: string; flags?: string[] }
interface MemoryPolicySpec { mode: string; nodes?: string; flags?: string[] }

/** The node list as set_mempolicy's nodemask: 64-bit words, lowest nodes first. */
export function nodeMask(nodes: number[]): bigint[] {
  if (nodes.length === 0) return [];
  const words: bigint[] = new Array(Math.floor(nodes[nodes.length - 1]! / 64) + 1).fill(0n);
  for (const n of nodes) words[Math.floor(n / 64)]! |= 1n << BigInt(n % 64);
  return words;
}

/**
 * The ops for process.apparmorProfile, scheduler, ioPriority, linux.personality and
 * linux.memoryPolicy, in runc's order (standard_init_linux.go). They come after every path of the
 * container is resolved and before seccomp, the user change and the capability drop: RT
 * scheduling, the RT I/O class and a memory policy need privileges the container may not keep,
 * and a seccomp profile may deny personality(2) (Docker's allows only some personas).
 * process.execCPUAffinity is not here: the spec says it does not apply to the container's init
 * process (only to processes exec'd into the container), as in runc.
 */
export function processAttrOps(spec: Spec): Op[] {
  const ops: Op[] = [];
  const add = (op: Op['op'], what: string, ints: (number | bigint)[] = [], strs: string[] = []) => ops.push({ op, what, ints, strs });
  const p = spec.process;
  if (p?.apparmorProfile) add('APPARMOR', `apply the AppArmor profile \`${p.apparmorProfile}\` on exec`, [], [p.apparmorProfile]);
  const s = p?.scheduler as SchedulerSpec | undefined;
  if (s) {
    let flags = 0;
    for (const f of s.flags ?? []) flags |= SCHED_FLAGS[f]!;
    add('SCHEDULER', `set the scheduler to ${s.policy} (nice ${s.nice ?? 0}, priority ${s.priority ?? 0}${flags ? `, flags ${(s.flags ?? []).join('|')}` : ''}` +
      `${s.policy === 'SCHED_DEADLINE' ? `, runtime ${s.runtime ?? 0} deadline ${s.deadline ?? 0} period ${s.period ?? 0}` : ''})`,
    [SCHED_POLICIES[s.policy]!, flags, s.nice ?? 0, s.priority ?? 0, BigInt(s.runtime ?? 0), BigInt(s.deadline ?? 0), BigInt(s.period ?? 0)]);
  }
  const io = p?.ioPriority;
  if (io) {
    const prio = io.priority ?? 0;
    add('IOPRIO', `set the I/O priority to ${io.class} ${prio}`, [(IOPRIO_CLASSES[io.class]! << 13) | prio]);
  }
  const pers = spec.linux?.personality as PersonalitySpec | undefined;
  if (pers) add('PERSONALITY', `set the personality to ${pers.domain}`, [PERSONALITY_DOMAINS[pers.domain]!]);
  const mp = spec.linux?.memoryPolicy as MemoryPolicySpec | undefined;
  if (mp) {
    let mode = MPOL_MODES[mp.mode]!;
    for (const f of mp.flags ?? []) mode |= MPOL_FLAGS[f]!;
    const words = nodeMask(parseIdList(mp.nodes ?? ''));
    add('MEMORY_POLICY', `set the NUMA memory policy to ${[mp.mode, ...(mp.flags ?? [])].join('|')}${mp.nodes ? ` on nodes \`${mp.nodes}\`` : ''}`,
      [mode, words.length * 64, ...words]);
  }
  return ops;
}

export interface HostSecurityFacts {
  /** SELinux is enabled on this host (selinuxfs mounted). */
  selinux: boolean;
  /** A resctrl filesystem (Intel RDT) is mounted. */
  resctrl: boolean;
}

/** What this host has for the fields that need it (read at create). */
export function readHostSecurity(): HostSecurityFacts {
  let resctrl = false;
  try {
    resctrl = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - resctrl /.test(l));
  } catch { /* no mountinfo: no resctrl either */ }
  return { selinux: existsSync('/sys/fs/selinux/enforce'), resctrl };
}

/**
 * Fields this host cannot honour, with runc's texts: an SELinux label where SELinux is disabled
 * (runc 1.1.5 refuses it the same way), Intel RDT without a resctrl filesystem (the spec requires
 * an error; runc 1.1.5 only refuses the schemas and ignores a bare closID).
 */
export function hostProblems(spec: Spec, host: HostSecurityFacts): SpecProblem[] {
  const out: SpecProblem[] = [];
  if (spec.process?.selinuxLabel && !host.selinux) {
    out.push({ pointer: '/process/selinuxLabel', message: 'selinux label is specified in config, but selinux is disabled or not supported' });
  }
  const rdt = spec.linux?.intelRdt as { l3CacheSchema?: string; memBwSchema?: string } | undefined;
  if (rdt && !host.resctrl) {
    if (rdt.l3CacheSchema) out.push({ pointer: '/linux/intelRdt/l3CacheSchema', message: 'intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled' });
    if (rdt.memBwSchema) out.push({ pointer: '/linux/intelRdt/memBwSchema', message: 'intelRdt.memBwSchema is specified in config, but Intel RDT/MBA is not enabled' });
    out.push({ pointer: '/linux/intelRdt', message: 'intelRdt is specified in config, but Intel RDT is not enabled (no resctrl filesystem is mounted)' });
  }
  return out;
}
