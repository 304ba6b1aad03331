// `tsrunc update [flags] <id>` → lifecycle.update, with runc's command line:
//   -r/--resources FILE|-   OCI LinuxResources JSON (a file, or stdin: containerd's shim sends
//                           `update --resources - <id>`); every other flag is then ignored.
//   --memory, --memory-swap, --memory-reservation      sizes with runc's suffixes (go-units
//                           RAMInBytes: 64m, 1.5g, 512KiB; binary multiples) or -1 (unlimited)
//   --cpu-share (also --cpu-shares), --cpu-period, --cpu-rt-period, --cpu-burst   unsigned integers
//   --cpu-quota, --cpu-rt-runtime, --cpu-idle          signed integers
//   --cpuset-cpus, --cpuset-mems, --pids-limit, --blkio-weight
//   --kernel-memory, --kernel-memory-tcp               accepted and ignored with runc's warning
//   --l3-cache-schema, --mem-bw-schema                 Intel RDT: not supported (runc's texts)
// JSON errors follow Go's encoding/json texts where callers see them: `EOF` (empty input),
// `unexpected EOF` (truncated), `json: cannot unmarshal string into Go struct field
// LinuxMemory.memory.limit of type int64`.
import fs = require('fs');
import { TsruncError } from '../../errors';
import type { Resources } from '../../cgroup/resources';
import type { CommandContext } from '../context';
import { idArg } from './common';

// ---- Go-shaped JSON decoding of specs.LinuxResources --------------------------------------------

type GoType = 'int64' | 'uint64' | 'uint32' | 'uint16' | 'int32' | 'bool' | 'string' | Struct | List | GoMap;
interface Struct { struct: string; goName: string; fields: Record<string, GoType> }
interface List { list: GoType; goName: string }
interface GoMap { map: GoType; goName: string }

const WEIGHT_DEVICE: Struct = { struct: 'LinuxWeightDevice', goName: 'specs.LinuxWeightDevice', fields: { major: 'int64', minor: 'int64', weight: 'uint16', leafWeight: 'uint16' } };
const THROTTLE: Struct = { struct: 'LinuxThrottleDevice', goName: 'specs.LinuxThrottleDevice', fields: { major: 'int64', minor: 'int64', rate: 'uint64' } };
const throttleList: List = { list: THROTTLE, goName: '[]specs.LinuxThrottleDevice' };

const RESOURCES: Struct = {
  struct: 'LinuxResources', goName: 'specs.LinuxResources',
  fields: {
    devices: { list: { struct: 'LinuxDeviceCgroup', goName: 'specs.LinuxDeviceCgroup', fields: { allow: 'bool', type: 'string', major: 'int64', minor: 'int64', access: 'string' } }, goName: '[]specs.LinuxDeviceCgroup' },
    memory: { struct: 'LinuxMemory', goName: 'specs.LinuxMemory', fields: { limit: 'int64', reservation: 'int64', swap: 'int64', kernel: 'int64', kernelTCP: 'int64', swappiness: 'uint64', disableOOMKiller: 'bool', useHierarchy: 'bool', checkBeforeUpdate: 'bool' } },
    cpu: { struct: 'LinuxCPU', goName: 'specs.LinuxCPU', fields: { shares: 'uint64', quota: 'int64', burst: 'uint64', period: 'uint64', realtimeRuntime: 'int64', realtimePeriod: 'uint64', cpus: 'string', mems: 'string', idle: 'int64' } },
    pids: { struct: 'LinuxPids', goName: 'specs.LinuxPids', fields: { limit: 'int64' } },
    blockIO: {
      struct: 'LinuxBlockIO', goName: 'specs.LinuxBlockIO',
      fields: {
        weight: 'uint16', leafWeight: 'uint16', weightDevice: { list: WEIGHT_DEVICE, goName: '[]specs.LinuxWeightDevice' },
        throttleReadBpsDevice: throttleList, throttleWriteBpsDevice: throttleList, throttleReadIOPSDevice: throttleList, throttleWriteIOPSDevice: throttleList,
      },
    },
    hugepageLimits: { list: { struct: 'LinuxHugepageLimit', goName: 'specs.LinuxHugepageLimit', fields: { pageSize: 'string', limit: 'uint64' } }, goName: '[]specs.LinuxHugepageLimit' },
    network: { struct: 'LinuxNetwork', goName: 'specs.LinuxNetwork', fields: { classID: 'uint32', priorities: { list: { struct: 'LinuxInterfacePriority', goName: 'specs.LinuxInterfacePriority', fields: { name: 'string', priority: 'uint32' } }, goName: '[]specs.LinuxInterfacePriority' } } },
    rdma: { map: { struct: 'LinuxRdma', goName: 'specs.LinuxRdma', fields: { hcaHandles: 'uint32', hcaObjects: 'uint32' } }, goName: 'map[string]specs.LinuxRdma' },
    unified: { map: 'string', goName: 'map[string]string' },
  },
};

const RANGES: Record<string, [number, number]> = {
  int64: [-(2 ** 63), 2 ** 63], uint64: [0, 2 ** 64], uint32: [0, 2 ** 32 - 1], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1],
};

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // number, string
}

function goTypeName(t: GoType): string {
  return typeof t === 'string' ? t : t.goName;
}

/** Go's UnmarshalTypeError text for the value v at `field` (`Struct.path`), or undefined. */
function checkGo(v: unknown, t: GoType, where: { struct: string; path: string } | undefined): string | undefined {
  if (v === null) return undefined; // null leaves a Go value as it is
  const bad = (kind: string) => where === undefined
    ? `json: cannot unmarshal ${kind} into Go value of type ${goTypeName(t)}`
    : `json: cannot unmarshal ${kind} into Go struct field ${where.struct}.${where.path} of type ${goTypeName(t)}`;
  if (typeof t === 'string') {
    if (t === 'bool') return typeof v === 'boolean' ? undefined : bad(jsonKind(v));
    if (t === 'string') return typeof v === 'string' ? undefined : bad(jsonKind(v));
    if (typeof v !== 'number') return bad(jsonKind(v));
    const [lo, hi] = RANGES[t];
    if (!Number.isInteger(v) || v < lo || v > hi || (hi === 2 ** 63 && v >= hi && t === 'int64')) return bad(`number ${String(v)}`);
    return undefined;
  }
  const sub = (k: string) => (where === undefined ? k : `${where.path}.${k}`);
  if ('struct' in t) {
    if (jsonKind(v) !== 'object') return bad(jsonKind(v));
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      // Go matches field names case-insensitively; unknown fields are ignored.
      const key = Object.keys(t.fields).find((f) => f.toLowerCase() === k.toLowerCase());
      if (key === undefined) continue;
      const e = checkGo(val, t.fields[key], { struct: t.struct, path: sub(key) });
      if (e) return e;
    }
    return undefined;
  }
  if ('list' in t) {
    if (!Array.isArray(v)) return bad(jsonKind(v));
    for (const item of v) {
      const e = checkGo(item, t.list, where);
      if (e) return e;
    }
    return undefined;
  }
  if (jsonKind(v) !== 'object') return bad(jsonKind(v));
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const e = checkGo(val, t.map, where === undefined ? undefined : { struct: where.struct, path: `${where.path}.${k}` });
    if (e) return e;
  }
  return undefined;
}

/** Decode LinuxResources JSON as runc's json.Decoder does (the first value; Go's error texts). */
export function decodeResources(text: string): Resources {
  if (text.trim() === '') throw new TsruncError('E_USAGE', 'EOF');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const at = /at position (\d+)/.exec(msg);
    if (/end of (JSON )?input|Unterminated/i.test(msg) || (at && Number(at[1]) >= text.trimEnd().length)) {
      throw new TsruncError('E_USAGE', 'unexpected EOF');
    }
    // Go names the offending character (its context wording is approximated).
    const pos = at ? Number(at[1]) : text.length - text.trimStart().length;
    const ch = text[pos] ?? '';
    throw new TsruncError('E_USAGE', ch ? `invalid character ${JSON.stringify(ch).replace(/^"|"$/g, "'")} looking for beginning of value` : 'unexpected EOF');
  }
  const err = checkGo(v, RESOURCES, undefined);
  if (err) throw new TsruncError('E_USAGE', err);
  // Normalise Go's case-insensitive field names to the spec's spelling.
  return canonical(v, RESOURCES) as Resources;
}

function canonical(v: unknown, t: GoType): unknown {
  if (v === null || typeof t === 'string') return v;
  if ('struct' in t) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      const key = Object.keys(t.fields).find((f) => f.toLowerCase() === k.toLowerCase());
      if (key !== undefined && val !== null) out[key] = canonical(val, t.fields[key]);
    }
    return out;
  }
  if ('list' in t) return (v as unknown[]).map((x) => canonical(x, t.list));
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = canonical(val, t.map);
  return out;
}

// ---- flags -----------------------------------------------------------------------------------

/** docker/go-units RAMInBytes: `<n>[.<n>] ?[kmgtp]?i?b?`, binary multiples, truncated. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const n = Number(m[1]);
  if (!Number.isFinite(n)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(m[1])}: invalid syntax`);
  const mul = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.trunc(n * mul);
}

function parseUint(opt: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new TsruncError('E_USAGE', `invalid value for ${opt}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n >= 2 ** 64) throw new TsruncError('E_USAGE', `invalid value for ${opt}: strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

function parseInt64(opt: string, v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new TsruncError('E_USAGE', `invalid value for ${opt}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n >= 2 ** 63 || n < -(2 ** 63)) throw new TsruncError('E_USAGE', `invalid value for ${opt}: strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

/** The resources that runc's update flags ask for (only what was given). */
export function resourcesFromFlags(f: CommandContext['flags'], warn: (m: string) => void): Resources {
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : '');
  const memory: NonNullable<Resources['memory']> = {};
  const cpu: NonNullable<Resources['cpu']> = {};
  const r: Resources = {};
  const blkio = Number(f['blkio-weight'] ?? 0);
  if (blkio !== 0) r.blockIO = { weight: blkio };
  if (str('cpuset-cpus')) cpu.cpus = str('cpuset-cpus');
  if (str('cpuset-mems')) cpu.mems = str('cpuset-mems');
  if (str('cpu-idle')) cpu.idle = parseInt64('cpu-idle', str('cpu-idle'));
  for (const [opt, key] of [['cpu-burst', 'burst'], ['cpu-period', 'period'], ['cpu-rt-period', 'realtimePeriod'], ['cpu-share', 'shares']] as const) {
    if (str(opt)) cpu[key] = parseUint(opt, str(opt));
  }
  for (const [opt, key] of [['cpu-quota', 'quota'], ['cpu-rt-runtime', 'realtimeRuntime']] as const) {
    if (str(opt)) cpu[key] = parseInt64(opt, str(opt));
  }
  for (const [opt, key] of [['memory', 'limit'], ['memory-swap', 'swap'], ['memory-reservation', 'reservation']] as const) {
    const v = str(opt);
    if (!v) continue;
    if (v === '-1') { memory[key] = -1; continue; }
    try {
      memory[key] = ramInBytes(v);
    } catch (e) {
      throw new TsruncError('E_USAGE', `invalid value for ${opt}: ${(e as Error).message}`);
    }
  }
  for (const opt of ['kernel-memory', 'kernel-memory-tcp']) {
    if (str(opt)) warn(`Setting --${opt} is ignored and will be removed`);
  }
  const pids = Number(f['pids-limit'] ?? 0);
  if (pids !== 0) r.pids = { limit: pids };
  if (Object.keys(memory).length) r.memory = memory;
  if (Object.keys(cpu).length) r.cpu = cpu;
  return r;
}

function readResources(ctx: CommandContext, src: string): Resources {
  let text: string;
  try {
    text = src === '-' ? (ctx.io.readStdin ? ctx.io.readStdin() : fs.readFileSync(0, 'utf8')) : fs.readFileSync(src, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TsruncError('E_USAGE', `open ${src}: no such file or directory`);
    throw new TsruncError('E_USAGE', `read ${src === '-' ? 'stdin' : src}: ${code ?? String(e)}`);
  }
  return decodeResources(text);
}

export function run(ctx: CommandContext): number {
  const id = idArg(ctx);
  const lc = ctx.io.lifecycle();
  // runc looks the container up first: an unknown id wins over a bad value.
  lc.state(ctx.g, id);
  const src = typeof ctx.flags.resources === 'string' ? ctx.flags.resources : '';
  const warn = (m: string) => ctx.logger.log('warning', m);
  const resources = src !== '' ? readResources(ctx, src) : resourcesFromFlags(ctx.flags, warn);
  const l3 = typeof ctx.flags['l3-cache-schema'] === 'string' ? ctx.flags['l3-cache-schema'] : '';
  const mb = typeof ctx.flags['mem-bw-schema'] === 'string' ? ctx.flags['mem-bw-schema'] : '';
  lc.update(ctx.g, { id, resources, ...(l3 ? { l3CacheSchema: l3 } : {}), ...(mb ? { memBwSchema: mb } : {}) });
  return 0;
}
