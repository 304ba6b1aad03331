// Cgroup statistics for `events`: read from a container's recorded cgroup paths and encoded in
// runc 1.1.5's event shape (types/events.go), which go-runc's Stats/Events decode field by field.
//
//   v1 / hybrid (runc's fs manager, the v1 hierarchies only): cpuacct.{usage,usage_percpu,
//   usage_all,stat} (stat ticks → ns at USER_HZ 100), cpu.stat throttling, cpuset.*, memory.stat
//   (raw) and memory[.memsw|.kmem|.kmem.tcp].{usage_in_bytes,max_usage_in_bytes,failcnt,
//   limit_in_bytes}, pids.{current,max}, blkio (runc's order of file groups: bfq debug, bfq, cfq,
//   throttle recursive, throttle), hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,failcnt}.
//   v2 (runc's fs2 manager): cpu.stat (usec → ns), memory.stat (raw, cache = file),
//   memory.{current,max}, memory.swap.{current,max} reported as mem+swap (v1 compatible),
//   pids.{current,max} (or a count of cgroup.procs), io.stat (rbytes/wbytes/rios/wios),
//   hugetlb.<size>.{current,events max}.
//
// Values are unsigned 64-bit (limits such as 9223372036854771712 or 2^64-1 do not fit a double),
// so they are bigints here and the encoder writes them as JSON numbers. Parsing follows runc's
// fscommon: "max" is 2^64-1 (pids.max "max" becomes 0, "no limit"), a negative value is 0.
// A missing file or hierarchy is skipped as runc skips it; a malformed file is an E_CGROUP error
// naming the file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsruncError } from '../errors';
import { goJson } from '../cli/gofmt';

/** A file's text, or undefined when it does not exist (ENOENT/ENODEV); other errors throw. */
export type StatsRead = (file: string) => string | undefined;

export const MAX_U64 = (1n << 64n) - 1n;
const CLOCK_TICKS = 100n;
const NS_PER_SEC = 1000000000n;

export interface MemoryEntry { limit: bigint; usage: bigint; max: bigint; failcnt: bigint }
export interface BlkioEntry { major: bigint; minor: bigint; op: string; value: bigint }
export interface HugetlbEntry { usage: bigint; max: bigint; failcnt: bigint }

export const BLKIO_KEYS = [
  'ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive',
  'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive',
] as const;
export type BlkioKey = typeof BLKIO_KEYS[number];

/** libcontainer's cgroups.Stats, the part `runc events` prints. */
export interface CgroupStats {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpuKernel: bigint[]; percpuUser: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
  };
  cpuset: {
    cpus: number[]; cpuExclusive: bigint; mems: number[]; memHardwall: bigint; memExclusive: bigint;
    memoryMigrate: bigint; memorySpreadPage: bigint; memorySpreadSlab: bigint; memoryPressure: bigint;
    schedLoadBalance: bigint; schedRelaxDomainLevel: bigint;
  };
  memory: { cache: bigint; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw: Map<string, bigint> };
  pids: { current: bigint; limit: bigint };
  blkio: Partial<Record<BlkioKey, BlkioEntry[]>>;
  hugetlb: Map<string, HugetlbEntry>;
}

const memEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): CgroupStats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [], cpuExclusive: 0n, mems: [], memHardwall: 0n, memExclusive: 0n, memoryMigrate: 0n,
      memorySpreadPage: 0n, memorySpreadSlab: 0n, memoryPressure: 0n, schedLoadBalance: 0n, schedRelaxDomainLevel: 0n,
    },
    memory: { cache: 0n, usage: memEntry(), swap: memEntry(), kernel: memEntry(), kernelTCP: memEntry(), raw: new Map() },
    pids: { current: 0n, limit: 0n },
    blkio: {},
    hugetlb: new Map(),
  };
}

// ---- parsing (runc's fscommon) ---------------------------------------------------------------

class ParseError extends Error {}

/** fscommon.ParseUint: an unsigned decimal; a negative number is 0. */
export function parseU64(s: string): bigint {
  if (/^\+?\d+$/.test(s)) {
    const v = BigInt(s);
    if (v > MAX_U64) throw new ParseError(`value ${JSON.stringify(s)} out of range`);
    return v;
  }
  if (/^-\d+$/.test(s)) return 0n;
  throw new ParseError(`invalid value ${JSON.stringify(s)}`);
}

/** fscommon.GetCgroupParamUint's value: trimmed, "max" is 2^64-1. */
export function parseParamU64(text: string): bigint {
  const t = text.trim();
  return t === 'max' ? MAX_U64 : parseU64(t);
}

/** fscommon.ParseKeyValue over a whole flat-keyed file (`key value` per line). */
export function parseKeyValues(text: string): [string, bigint][] {
  const out: [string, bigint][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new ParseError(`line ${JSON.stringify(line)} is not in key value format`);
    out.push([parts[0]!, parseU64(parts[1]!)]);
  }
  return out;
}

/** cpuset.cpus / cpuset.mems list syntax (`0-3,8`), as runc's getCpusetStat. */
export function parseCpuList(text: string): number[] {
  const t = text.trim();
  if (t === '') throw new ParseError('empty file');
  const out: number[] = [];
  for (const part of t.split(',')) {
    const sp = part.split('-');
    if (sp.length > 2) throw new ParseError('extra dash');
    const num = (s: string) => {
      if (!/^\d+$/.test(s) || Number(s) > 65535) throw new ParseError(`invalid value ${JSON.stringify(s)}`);
      return Number(s);
    };
    if (sp.length === 2) {
      const lo = num(sp[0]!);
      const hi = num(sp[1]!);
      if (lo > hi) throw new ParseError('invalid values, min > max');
      for (let i = lo; i <= hi; i++) out.push(i);
    } else {
      out.push(num(sp[0]!));
    }
  }
  return out;
}

/** A blkio.* statistics file (`MAJ:MIN [Op] value` lines, a `Total N` line skipped). */
export function parseBlkioFile(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) {
      if (f.length === 2 && f[0] === 'Total') continue;
      throw new ParseError(`malformed line ${JSON.stringify(line)}`);
    }
    const op = f.length === 4 ? f[2]! : '';
    out.push({ major: parseU64(f[0]!), minor: parseU64(f[1]!), op, value: parseU64(f[f.length === 4 ? 3 : 2]!) });
  }
  return out;
}

/** io.stat (v2) mapped to v1's tables as runc does: rbytes/wbytes → serviceBytes, rios/wios → serviced. */
export function parseIoStat(text: string): Partial<Record<BlkioKey, BlkioEntry[]>> {
  const out: Partial<Record<BlkioKey, BlkioEntry[]>> = {};
  for (const line of text.split('\n')) {
    const f = line.split(' ').filter(Boolean);
    if (f.length === 0) continue;
    const d = f[0]!.split(':');
    if (d.length !== 2) continue;
    const major = parseU64(d[0]!);
    const minor = parseU64(d[1]!);
    for (const item of f.slice(1)) {
      const kv = item.split('=');
      if (kv.length !== 2) continue;
      const map: Record<string, [BlkioKey, string]> = {
        rbytes: ['ioServiceBytesRecursive', 'Read'], wbytes: ['ioServiceBytesRecursive', 'Write'],
        rios: ['ioServicedRecursive', 'Read'], wios: ['ioServicedRecursive', 'Write'],
      };
      const m = map[kv[0]!];
      if (!m) continue;
      (out[m[0]] ??= []).push({ major, minor, op: m[1], value: parseU64(kv[1]!) });
    }
  }
  return out;
}

/** Page sizes as runc names them (`2MB`, `1GB`, `64KB`), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    const kb = Number(m[1]);
    out.push(kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`);
  }
  return out;
}

// ---- reading ---------------------------------------------------------------------------------

export const nodeStatsRead: StatsRead = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw new TsruncError('E_CGROUP', `read \`${file}\`: ${code ?? String(e)}`, { cause: e });
  }
};

class Reader {
  constructor(readonly read: StatsRead) {}

  /** Parse `dir/name` with fn; undefined when the file does not exist. */
  file<T>(dir: string, name: string, fn: (text: string) => T): T | undefined {
    const p = path.join(dir, name);
    const text = this.read(p);
    if (text === undefined) return undefined;
    try {
      return fn(text);
    } catch (e) {
      if (e instanceof ParseError) throw new TsruncError('E_CGROUP', `read stats: \`${p}\`: ${e.message}`);
      throw e;
    }
  }

  /** A required single value (runc's GetCgroupParamUint, whose error names the file). */
  u64(dir: string, name: string): bigint {
    const v = this.file(dir, name, parseParamU64);
    if (v === undefined) throw new TsruncError('E_CGROUP', `read stats: \`${path.join(dir, name)}\`: ENOENT`);
    return v;
  }

  u64Opt(dir: string, name: string): bigint | undefined {
    return this.file(dir, name, parseParamU64);
  }

  exists(dir: string): boolean {
    return this.read(path.join(dir, 'cgroup.procs')) !== undefined;
  }
}

export interface StatsOptions {
  read?: StatsRead;
  /** Huge page sizes (default: the host's, as runc names them). */
  hugePageSizes?: string[];
}

/** The statistics of the cgroup recorded as `paths` (controller → dir, '' = cgroup2). */
export function readStats(paths: Record<string, string>, o: StatsOptions = {}): CgroupStats {
  const r = new Reader(o.read ?? nodeStatsRead);
  const sizes = o.hugePageSizes ?? hugePageSizes();
  const keys = Object.keys(paths);
  const v2 = keys.length === 1 && keys[0] === '';
  return v2 ? readV2(r, paths['']!, sizes) : readV1(r, paths, sizes);
}

function readV1(r: Reader, paths: Record<string, string>, sizes: string[]): CgroupStats {
  const s = emptyStats();
  // runc's subsystem order; each one only fills its own fields.
  const cpuset = paths.cpuset;
  if (cpuset !== undefined) {
    const cs = s.cpuset;
    cs.cpus = r.file(cpuset, 'cpuset.cpus', parseCpuList) ?? [];
    cs.cpuExclusive = r.u64Opt(cpuset, 'cpuset.cpu_exclusive') ?? 0n;
    cs.mems = r.file(cpuset, 'cpuset.mems', parseCpuList) ?? [];
    cs.memHardwall = r.u64Opt(cpuset, 'cpuset.mem_hardwall') ?? 0n;
    cs.memExclusive = r.u64Opt(cpuset, 'cpuset.mem_exclusive') ?? 0n;
    cs.memoryMigrate = r.u64Opt(cpuset, 'cpuset.memory_migrate') ?? 0n;
    cs.memorySpreadPage = r.u64Opt(cpuset, 'cpuset.memory_spread_page') ?? 0n;
    cs.memorySpreadSlab = r.u64Opt(cpuset, 'cpuset.memory_spread_slab') ?? 0n;
    cs.memoryPressure = r.u64Opt(cpuset, 'cpuset.memory_pressure') ?? 0n;
    cs.schedLoadBalance = r.u64Opt(cpuset, 'cpuset.sched_load_balance') ?? 0n;
    cs.schedRelaxDomainLevel = r.file(cpuset, 'cpuset.sched_relax_domain_level', (t) => {
      const v = t.trim();
      if (!/^-?\d+$/.test(v)) throw new ParseError(`invalid value ${JSON.stringify(v)}`);
      return BigInt(v);
    }) ?? 0n;
  }
  const cpu = paths.cpu;
  if (cpu !== undefined) {
    for (const [k, v] of r.file(cpu, 'cpu.stat', parseKeyValues) ?? []) {
      if (k === 'nr_periods') s.cpu.throttling.periods = v;
      else if (k === 'nr_throttled') s.cpu.throttling.throttledPeriods = v;
      else if (k === 'throttled_time') s.cpu.throttling.throttledTime = v;
    }
  }
  const acct = paths.cpuacct;
  if (acct !== undefined && r.exists(acct)) {
    const u = s.cpu.usage;
    const stat = r.file(acct, 'cpuacct.stat', (t) => {
      const f = t.split(/\s+/).filter(Boolean);
      if (f.length < 4 || f[0] !== 'user' || f[2] !== 'system') throw new ParseError(`malformed file ${JSON.stringify(t)}`);
      return [parseU64(f[1]!), parseU64(f[3]!)] as const;
    });
    if (stat === undefined) throw new TsruncError('E_CGROUP', `read stats: \`${path.join(acct, 'cpuacct.stat')}\`: ENOENT`);
    u.user = (stat[0] * NS_PER_SEC) / CLOCK_TICKS;
    u.kernel = (stat[1] * NS_PER_SEC) / CLOCK_TICKS;
    u.total = r.u64(acct, 'cpuacct.usage');
    u.percpu = r.file(acct, 'cpuacct.usage_percpu', (t) => t.split(/\s+/).filter(Boolean).map(parseU64)) ?? [];
    r.file(acct, 'cpuacct.usage_all', (t) => {
      // `cpu user system` header, then one line per cpu.
      for (const line of t.split('\n').slice(1)) {
        const f = line.split(' ');
        if (f.length !== 3) continue;
        u.percpuKernel.push(parseU64(f[2]!));
        u.percpuUser.push(parseU64(f[1]!));
      }
    });
  }
  const mem = paths.memory;
  if (mem !== undefined) {
    const raw = r.file(mem, 'memory.stat', parseKeyValues);
    if (raw !== undefined) {
      for (const [k, v] of raw) s.memory.raw.set(k, v);
      s.memory.cache = s.memory.raw.get('cache') ?? 0n;
      const entry = (name: string): MemoryEntry => {
        const m = name === '' ? 'memory' : `memory.${name}`;
        const usage = r.u64Opt(mem, `${m}.usage_in_bytes`);
        if (usage === undefined) {
          if (name !== '') return memEntry(); // swap and kmem accounting are optional
          throw new TsruncError('E_CGROUP', `read stats: \`${path.join(mem, `${m}.usage_in_bytes`)}\`: ENOENT`);
        }
        return { usage, max: r.u64(mem, `${m}.max_usage_in_bytes`), failcnt: r.u64(mem, `${m}.failcnt`), limit: r.u64(mem, `${m}.limit_in_bytes`) };
      };
      s.memory.usage = entry('');
      s.memory.swap = entry('memsw');
      s.memory.kernel = entry('kmem');
      s.memory.kernelTCP = entry('kmem.tcp');
    }
  }
  const pids = paths.pids;
  if (pids !== undefined && r.exists(pids)) {
    s.pids.current = r.u64(pids, 'pids.current');
    const max = r.u64(pids, 'pids.max');
    s.pids.limit = max === MAX_U64 ? 0n : max;
  }
  const blkio = paths.blkio;
  if (blkio !== undefined) s.blkio = readBlkioV1(r, blkio);
  const huge = paths.hugetlb;
  if (huge !== undefined && r.exists(huge)) {
    for (const size of sizes) {
      s.hugetlb.set(size, {
        usage: r.u64(huge, `hugetlb.${size}.usage_in_bytes`),
        max: r.u64(huge, `hugetlb.${size}.max_usage_in_bytes`),
        failcnt: r.u64(huge, `hugetlb.${size}.failcnt`),
      });
    }
  }
  return s;
}

/** runc's blkio GetStats: the first group whose first file has entries wins. */
function readBlkioV1(r: Reader, dir: string): Partial<Record<BlkioKey, BlkioEntry[]>> {
  const groups: [string, BlkioKey][][] = [
    [['blkio.bfq.sectors_recursive', 'sectorsRecursive'], ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'], ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'], ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
    [['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
    [['blkio.sectors_recursive', 'sectorsRecursive'], ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'], ['blkio.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.io_queued_recursive', 'ioQueueRecursive'], ['blkio.time_recursive', 'ioTimeRecursive'],
      ['blkio.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
    [['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
    [['blkio.throttle.io_serviced', 'ioServicedRecursive'], ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive']],
  ];
  const out: Partial<Record<BlkioKey, BlkioEntry[]>> = {};
  for (const group of groups) {
    for (let i = 0; i < group.length; i++) {
      const [file, key] = group[i]!;
      const entries = r.file(dir, file, parseBlkioFile);
      if (entries === undefined || entries.length === 0) {
        if (i === 0) break; // next group
        return out;
      }
      out[key] = entries;
      if (i === group.length - 1) return out;
    }
  }
  return out;
}

function readV2(r: Reader, dir: string, sizes: string[]): CgroupStats {
  const s = emptyStats();
  // pids
  const current = r.u64Opt(dir, 'pids.current');
  if (current !== undefined) {
    s.pids.current = current;
    const max = r.u64(dir, 'pids.max');
    s.pids.limit = max === MAX_U64 ? 0n : max;
  } else {
    const procs = r.read(path.join(dir, 'cgroup.procs'));
    if (procs !== undefined) s.pids.current = BigInt(procs.split('\n').length - 1);
  }
  // memory
  const raw = r.file(dir, 'memory.stat', parseKeyValues);
  if (raw !== undefined) {
    for (const [k, v] of raw) s.memory.raw.set(k, v);
    s.memory.cache = s.memory.raw.get('file') ?? 0n;
    const usage = r.u64Opt(dir, 'memory.current');
    if (usage !== undefined) {
      s.memory.usage = { ...memEntry(), usage, limit: r.u64(dir, 'memory.max') };
      const swap = r.u64Opt(dir, 'memory.swap.current');
      if (swap !== undefined) {
        // v1 reports mem+swap; runc does the same on v2 for compatibility.
        const limit = r.u64(dir, 'memory.swap.max');
        const sum = limit === MAX_U64 ? limit : limit + s.memory.usage.limit;
        s.memory.swap = { ...memEntry(), usage: swap + usage, limit: sum > MAX_U64 ? sum - MAX_U64 - 1n : sum };
      }
    }
  }
  // io
  const io = r.file(dir, 'io.stat', parseIoStat);
  if (io !== undefined) s.blkio = io;
  // cpu (cpu.stat exists even without the cpu controller)
  for (const [k, v] of r.file(dir, 'cpu.stat', parseKeyValues) ?? []) {
    switch (k) {
      case 'usage_usec': s.cpu.usage.total = v * 1000n; break;
      case 'user_usec': s.cpu.usage.user = v * 1000n; break;
      case 'system_usec': s.cpu.usage.kernel = v * 1000n; break;
      case 'nr_periods': s.cpu.throttling.periods = v; break;
      case 'nr_throttled': s.cpu.throttling.throttledPeriods = v; break;
      case 'throttled_usec': s.cpu.throttling.throttledTime = v * 1000n; break;
    }
  }
  // hugetlb
  for (const size of sizes) {
    const usage = r.u64Opt(dir, `hugetlb.${size}.current`);
    if (usage === undefined) break; // no hugetlb controller here
    const failcnt = r.file(dir, `hugetlb.${size}.events`, (t) => {
      for (const line of t.split('\n')) {
        const a = line.split(' ');
        if (a.length === 2 && a[0] === 'max') return parseU64(a[1]!);
      }
      return 0n;
    }) ?? 0n;
    s.hugetlb.set(size, { usage, max: 0n, failcnt });
  }
  return s;
}

// ---- OOM counters ------------------------------------------------------------------------------

/**
 * The OOM-kill counter of the cgroup: v2 `oom_kill` of memory.events, v1 `oom_kill` of
 * memory.oom_control (plus its `under_oom` flag, set while a cgroup with the OOM killer disabled
 * is stuck at its limit). undefined when the memory cgroup does not exist (any more).
 */
export function readOomCounters(paths: Record<string, string>, read: StatsRead = nodeStatsRead): { oomKill: bigint; underOom: boolean } | undefined {
  const keys = Object.keys(paths);
  const v2 = keys.length === 1 && keys[0] === '';
  const file = v2 ? path.join(paths['']!, 'memory.events') : paths.memory !== undefined ? path.join(paths.memory, 'memory.oom_control') : undefined;
  if (file === undefined) return undefined;
  const text = read(file);
  if (text === undefined) return undefined;
  let oomKill = 0n;
  let underOom = false;
  for (const line of text.split('\n')) {
    const a = line.split(' ');
    if (a.length !== 2 || !/^\d+$/.test(a[1]!)) continue;
    if (a[0] === 'oom_kill') oomKill = BigInt(a[1]!);
    else if (a[0] === 'under_oom') underOom = a[1] === '1';
  }
  return { oomKill, underOom };
}

// ---- the event JSON, exactly as runc encodes it --------------------------------------------------

type GoValue = bigint | number | string | boolean | null | GoValue[] | Map<string, GoValue> | { [k: string]: GoValue };

/** encoding/json: objects in insertion order, Maps with sorted keys (Go sorts map keys). */
export function encodeGo(v: GoValue): string {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (typeof v === 'string') return goJson(v);
  if (Array.isArray(v)) return `[${v.map(encodeGo).join(',')}]`;
  const entries = v instanceof Map ? [...v.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : Object.entries(v);
  return `{${entries.map(([k, x]) => `${goJson(k)}:${encodeGo(x)}`).join(',')}}`;
}

/** Build an object from [key, value, omitempty] triples: zero/empty values with omitempty are left out. */
function obj(fields: [string, GoValue, boolean?][]): { [k: string]: GoValue } {
  const o: { [k: string]: GoValue } = {};
  for (const [k, v, omit] of fields) {
    if (omit) {
      if (v === 0n || v === 0 || v === '' || v === null) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      if (v instanceof Map && v.size === 0) continue;
    }
    o[k] = v;
  }
  return o;
}

const memJson = (m: MemoryEntry) => obj([['limit', m.limit], ['usage', m.usage, true], ['max', m.max, true], ['failcnt', m.failcnt]]);

/** runc's types.Stats for these statistics (field names, order and omitempty as in types/events.go). */
export function statsToGo(s: CgroupStats): { [k: string]: GoValue } {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const cs = s.cpuset;
  const blkio = obj(BLKIO_KEYS.map((k) => [k, (s.blkio[k] ?? []).map((e) =>
    obj([['major', e.major, true], ['minor', e.minor, true], ['op', e.op, true], ['value', e.value, true]])), true]));
  const hugetlb = new Map<string, GoValue>();
  for (const [k, h] of s.hugetlb) hugetlb.set(k, obj([['usage', h.usage, true], ['max', h.max, true], ['failcnt', h.failcnt]]));
  return {
    cpu: {
      usage: obj([['total', u.total, true], ['percpu', u.percpu, true], ['percpu_kernel', u.percpuKernel, true],
        ['percpu_user', u.percpuUser, true], ['kernel', u.kernel], ['user', u.user]]),
      throttling: obj([['periods', t.periods, true], ['throttledPeriods', t.throttledPeriods, true], ['throttledTime', t.throttledTime, true]]),
    },
    cpuset: obj([['cpus', cs.cpus, true], ['cpu_exclusive', cs.cpuExclusive], ['mems', cs.mems, true],
      ['mem_hardwall', cs.memHardwall], ['mem_exclusive', cs.memExclusive], ['memory_migrate', cs.memoryMigrate],
      ['memory_spread_page', cs.memorySpreadPage], ['memory_spread_slab', cs.memorySpreadSlab],
      ['memory_pressure', cs.memoryPressure], ['sched_load_balance', cs.schedLoadBalance],
      ['sched_relax_domain_level', cs.schedRelaxDomainLevel]]),
    memory: obj([['cache', s.memory.cache, true], ['usage', memJson(s.memory.usage)], ['swap', memJson(s.memory.swap)],
      ['kernel', memJson(s.memory.kernel)], ['kernelTCP', memJson(s.memory.kernelTCP)], ['raw', s.memory.raw, true]]),
    pids: obj([['current', s.pids.current, true], ['limit', s.pids.limit, true]]),
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** One `events` line: `{"type":"stats","id":…,"data":{…}}` (no newline). */
export function statsEventJson(id: string, s: CgroupStats): string {
  return encodeGo({ type: 'stats', id, data: statsToGo(s) });
}

/** An OOM event line: `{"type":"oom","id":…}` (data omitted, as runc's omitempty does). */
export function oomEventJson(id: string): string {
  return encodeGo({ type: 'oom', id });
}
