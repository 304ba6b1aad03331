// `linux.resources` → cgroup files: what both managers share (the typed view of the spec's
// resources, the I/O the tables write through, the merge that `update` does). The mapping tables
// themselves are resources-v1.ts (v1 controllers, used on hybrid and v1 hosts, as runc's fs
// manager) and resources-v2.ts (the unified hierarchy, as runc's fs2 manager).
//
// Values that ask for nothing are not written, exactly where runc writes nothing: 0 for limits,
// shares, weights and pids.limit; false for disableOOMKiller; empty cpus/mems; swappiness unset or
// uint64(-1). Callers send such values on every run (Docker: disableOOMKiller false, blockIO.weight
// 0; containerd: cpu.shares 1024; Podman: pids.limit 2048).
import { TsruncError } from '../errors';
import type {
  LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxRdmaEntry, LinuxThrottleDevice, LinuxWeightDevice,
} from '../spec/types';

// The spec's typed shapes (src/spec/types.ts), under the names the mapping tables use.
export type { LinuxBlockIO, LinuxMemory } from '../spec/types';
export type LinuxCpu = LinuxCPU;
export type WeightDevice = LinuxWeightDevice;
export type ThrottleDevice = LinuxThrottleDevice;
export type RdmaLimit = LinuxRdmaEntry;

export interface HugepageLimit { pageSize: string; limit: number }
export interface LinuxNetwork { classID?: number; priorities?: { name: string; priority: number }[] }

/** The spec's LinuxResources without devices (those go through CgroupManager.setDevices). */
export interface Resources {
  memory?: LinuxMemory;
  cpu?: LinuxCpu;
  pids?: { limit?: number };
  blockIO?: LinuxBlockIO;
  hugepageLimits?: HugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, RdmaLimit>;
  unified?: Record<string, string>;
}

/** What a mapping table writes through (paths are absolute; errors are Node errno errors). */
export interface ResourceIo {
  write(file: string, value: string): void;
  read(file: string): string;
  exists(file: string): boolean;
  warn(msg: string): void;
}

export interface ApplyOptions {
  /** `update` (not create): memory.checkBeforeUpdate is honoured. */
  update?: boolean;
}

/** A JSON number ≥ 2^64 - 1 as a double: uint64(-1), "not set" to runc (older Docker sent it). */
export const UINT64_MAX_DOUBLE = 18446744073709551615;

export function errCode(e: unknown): string {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : e instanceof Error ? e.message : String(e);
}

/** An integer as cgroupfs wants it (no exponent for large doubles). */
export function num(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
}

/** Write one value, turning a failure into E_CGROUP naming the file and the value. */
export function put(io: ResourceIo, file: string, value: string): void {
  try {
    io.write(file, value);
  } catch (e) {
    if (e instanceof TsruncError) throw e;
    throw new TsruncError('E_CGROUP', `write ${JSON.stringify(value)} to \`${file}\`: ${errCode(e)}`, { cause: e });
  }
}

/** A cgroup file's integer value (`max` → Infinity). */
export function readNum(io: ResourceIo, file: string): number {
  let text: string;
  try {
    text = io.read(file).trim();
  } catch (e) {
    throw new TsruncError('E_CGROUP', `read \`${file}\`: ${errCode(e)}`, { cause: e });
  }
  if (text === 'max') return Infinity;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new TsruncError('E_CGROUP', `read \`${file}\`: not a number: ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

/** runc's ConvertCPUSharesToCgroupV2Value: shares [2, 262144] → cpu.weight [1, 10000]; 0 = unset. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's ConvertBlkIOToIOWeightValue: blkio weight [10, 1000] → io.weight [1, 10000]; 0 = unset. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  if (weight <= 10) return 1;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** runc's ConvertMemorySwapToCgroupV2Value: the spec's (and v1's) memory+swap total → the v2
 *  swap-only value (-1 = max, 0 = unset). */
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1) throw new TsruncError('E_CGROUP', 'unable to set swap limit without memory limit');
  if (memory < 0) throw new TsruncError('E_CGROUP', `invalid memory value: ${memory}`);
  if (swap < memory) throw new TsruncError('E_CGROUP', 'memory+swap limit should be >= memory limit');
  return swap - memory;
}

/** Drop `devices` (applied separately) and keep a plain copy of the rest, for state.json. */
export function resourcesOf(r: unknown): Resources {
  if (typeof r !== 'object' || r === null) return {};
  const { devices: _devices, ...rest } = r as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as Resources;
}

/** Fields whose 0 means "not set": an update sending 0 keeps the current value (runc writes
 *  nothing for them, so the kernel keeps it too). */
const ZERO_KEEPS: Record<string, ReadonlySet<string>> = {
  memory: new Set(['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']),
  cpu: new Set(['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod']),
  pids: new Set(['limit']),
  blockIO: new Set(['weight', 'leafWeight']),
};

/**
 * `update`: the stored resources with the new values laid over them (runc merges into the
 * container's config the same way). A field that is absent, null, 0 where 0 means unset, or an
 * empty cpus/mems string keeps its value; memory.limit -1 without swap also makes swap unlimited
 * (runc). Lists replace; hugepage limits, rdma devices and unified keys merge by their key.
 */
export function mergeResources(old: Resources, patch: Resources): Resources {
  const out = JSON.parse(JSON.stringify(old ?? {})) as Record<string, unknown>;
  const p = patch as Record<string, unknown>;
  for (const key of ['memory', 'cpu', 'pids', 'blockIO', 'network'] as const) {
    const src = p[key];
    if (typeof src !== 'object' || src === null) continue;
    const dst = { ...((out[key] as Record<string, unknown> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined || v === null) continue;
      if (v === 0 && ZERO_KEEPS[key]?.has(k)) continue;
      if (v === '' && key === 'cpu' && (k === 'cpus' || k === 'mems')) continue;
      dst[k] = v;
    }
    out[key] = dst;
  }
  const mem = p.memory as LinuxMemory | undefined;
  if (mem?.limit === -1 && (mem.swap === undefined || mem.swap === null)) {
    (out.memory as LinuxMemory).swap = -1;
  }
  if (Array.isArray(p.hugepageLimits)) {
    const byPage = new Map<string, HugepageLimit>();
    for (const h of (out.hugepageLimits as HugepageLimit[] | undefined) ?? []) byPage.set(h.pageSize, h);
    for (const h of p.hugepageLimits as HugepageLimit[]) byPage.set(h.pageSize, h);
    out.hugepageLimits = [...byPage.values()];
  }
  for (const key of ['rdma', 'unified'] as const) {
    const src = p[key];
    if (typeof src !== 'object' || src === null) continue;
    out[key] = { ...((out[key] as object | undefined) ?? {}), ...src };
  }
  return out as Resources;
}

/** Whether a hugepage page size names a kernel size directory (`2MB`, `1GB`, `64KB`). */
export function checkPageSize(size: string): void {
  if (!/^[1-9][0-9]*[KMGTPE]B$/.test(size)) {
    throw new TsruncError('E_CGROUP', `hugepage size ${JSON.stringify(size)}: must be <number><K|M|G|...>B, e.g. 2MB`);
  }
}
