// Integration: a deterministic config.json fuzzer (issue 5 §5). A seeded generator mutates a valid
// busybox bundle config — wrong types, missing fields, huge and negative numbers, unknown enum
// values, long and NUL-bearing strings, deep nesting, invalid JSON, huge arrays — and every case
// runs for real (`tsrunc run`, the container's args `true`). Each must end in success (exit 0) or a
// clean refusal: a non-zero exit with exactly one `level=error` line that names a field (a JSON
// pointer or config.json) or the step that failed; never a stack trace, an internal error, a hang,
// or a leftover (state entry, cgroup, process, mount).
// Same seed, same cases: a failure names its case number and mutation, reproducible with
// FUZZ_ONLY=<n> (and FUZZ_SEED / FUZZ_CASES to explore further).
// Run under the subreaper (npm test, or build/Release/tsrunc-reaper node --test <this file>).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, defaultConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import type { CallResult } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, pool, show, snapshot, tmpDir } from './support';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const COUNT = Number(process.env.FUZZ_CASES ?? 300);
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const P = `it-fuzz-${process.pid}`;

// ---- a small seeded PRNG (mulberry32) ---------------------------------------------------------

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
}

// ---- the mutations ------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Seg = string | number;

/** Every path to a value in doc (the root excluded). */
function paths(doc: Json): Seg[][] {
  const out: Seg[][] = [];
  const walk = (v: Json, at: Seg[]) => {
    if (at.length) out.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(doc, []);
  return out;
}

function get(doc: Json, at: Seg[]): Json {
  let cur: Json = doc;
  for (const s of at) cur = (cur as Record<string, Json>)[s as string]!;
  return cur;
}

function set(doc: Json, at: Seg[], v: Json | undefined): void {
  const parent = get(doc, at.slice(0, -1)) as Record<string, Json> | Json[];
  const last = at[at.length - 1]!;
  if (v === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete (parent as Record<string, Json>)[last as string];
  } else {
    (parent as Record<string, Json>)[last as string] = v;
  }
}

const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const OTHER_VALUES: Json[] = [null, true, false, 0, -1, 1.5, '', 'x', [], [1], {}, { a: 1 }];
const NUMBERS: number[] = [
  -1, -2147483649, 2147483648, 4294967295, 4294967296, 9007199254740993, 18446744073709551615, 1e12, -1e12, 1e308, -1e308,
  0.5, -0.0, 262145, 1, 65536,
];
/** Fields whose values are enums or names the runtime looks up. */
const ENUM_FIELDS = [
  ['linux', 'namespaces', 0, 'type'], ['mounts', 0, 'type'], ['mounts', 1, 'options', 0], ['process', 'rlimits', 0, 'type'],
  ['process', 'capabilities', 'bounding', 0], ['linux', 'resources', 'devices', 0, 'access'], ['linux', 'rootfsPropagation'],
  ['linux', 'devices', 0, 'type'], ['linux', 'seccomp', 'defaultAction'], ['mounts', 2, 'type'], ['process', 'ioPriority', 'class'],
  ['linux', 'personality', 'domain'], ['process', 'scheduler', 'policy'],
] as const;
const WEIRD_STRINGS = ['', ' ', '..', '/', '../../../../etc', 'UNKNOWN', 'rprivate', 'a'.repeat(5000), '/proc/self/fd/3', 'ṳñïçødé', '\u0000', '-1'];
/** Lists that become setup work (and the group list whose length the runtime bounds). */
const LISTS: Array<[Seg[], () => Json]> = [
  [['mounts'], () => ({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' })],
  [['linux', 'maskedPaths'], () => '/proc/kcore'],
  [['linux', 'readonlyPaths'], () => '/proc/sys'],
  [['linux', 'devices'], () => ({ path: '/dev/fuzz', type: 'c', major: 1, minor: 3 })],
  [['process', 'env'], () => 'A=b'],
  [['process', 'args'], () => 'true'],
  [['process', 'user', 'additionalGids'], () => 7],
  [['process', 'rlimits'], () => ({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 })],
  [['linux', 'namespaces'], () => ({ type: 'ipc' })],
  [['linux', 'uidMappings'], () => ({ containerID: 0, hostID: 0, size: 1 })],
];
const DEEP_DEPTHS = [10, 200, 999, 1000, 1001, 5000];

interface Case { n: number; what: string; text: string }

/** The base config, with a few optional fields so that mutations can reach them too. */
function baseConfig(rootfs: string): Json {
  const c = applyPatch(defaultConfig(['true']), { root: { path: rootfs } }) as unknown as { [k: string]: Json };
  const linux = c.linux as { [k: string]: Json };
  linux.devices = [{ path: '/dev/fuzz0', type: 'c', major: 1, minor: 3, fileMode: 438, uid: 0, gid: 0 }];
  linux.sysctl = { 'kernel.shmmax': '68719476736' };
  linux.resources = { ...(linux.resources as object), cpu: { shares: 1024 } } as Json;
  (c.process as { [k: string]: Json }).user = { uid: 0, gid: 0, additionalGids: [10], umask: 18 };
  c.annotations = { 'org.example.fuzz': 'yes' };
  return c;
}

function mutate(rng: Rng, base: Json, n: number): Case {
  const doc = structuredClone(base);
  const all = () => paths(doc);
  const kinds = ['type', 'missing', 'number', 'enum', 'long', 'nul', 'deep', 'invalid', 'huge', 'combo'] as const;
  const kind = kinds[n % kinds.length]!;
  const whats: string[] = [];
  let deep: { at: Seg[]; depth: number } | undefined;
  const one = (k: (typeof kinds)[number]): void => {
    switch (k) {
      case 'type': {
        const at = rng.pick(all());
        const cur = get(doc, at);
        const choices = OTHER_VALUES.filter((v) => typeOf(v) !== typeOf(cur));
        const v = rng.pick(choices);
        set(doc, at, structuredClone(v));
        whats.push(`${at.join('.')} = ${JSON.stringify(v)}`);
        return;
      }
      case 'missing': {
        const at = rng.pick(all());
        set(doc, at, undefined);
        whats.push(`delete ${at.join('.')}`);
        return;
      }
      case 'number': {
        const nums = all().filter((at) => typeof get(doc, at) === 'number');
        const at = rng.next() < 0.7 && nums.length ? rng.pick(nums) : rng.pick(all());
        const v = rng.pick(NUMBERS);
        set(doc, at, v);
        whats.push(`${at.join('.')} = ${v}`);
        return;
      }
      case 'enum': {
        const at = rng.pick(ENUM_FIELDS) as unknown as Seg[];
        const v = rng.pick(WEIRD_STRINGS);
        try {
          set(doc, at, v);
        } catch {
          set(doc, [at[0]!], { [String(at[1] ?? 'x')]: v }); // the parent does not exist: make a shallow one
        }
        whats.push(`${at.join('.')} = ${JSON.stringify(v.slice(0, 20))}`);
        return;
      }
      case 'long': {
        const strs = all().filter((at) => typeof get(doc, at) === 'string');
        const at = rng.pick(strs);
        const len = rng.pick([256, 4097, 70000]);
        const v = (rng.next() < 0.5 ? '/' : '') + 'a'.repeat(len);
        set(doc, at, v);
        whats.push(`${at.join('.')} = <${len} chars>`);
        return;
      }
      case 'nul': {
        const strs = all().filter((at) => typeof get(doc, at) === 'string');
        const at = rng.pick(strs);
        const s = get(doc, at) as string;
        const i = rng.int(s.length + 1);
        set(doc, at, s.slice(0, i) + '\u0000' + s.slice(i));
        whats.push(`NUL in ${at.join('.')}`);
        return;
      }
      case 'deep': {
        deep = { at: rng.pick(all()), depth: rng.pick(DEEP_DEPTHS) };
        set(doc, deep.at, '@@DEEP@@');
        whats.push(`${deep.at.join('.')} nested ${deep.depth} deep`);
        return;
      }
      case 'huge': {
        const [at, item] = rng.pick(LISTS);
        // Sizes past the limits (65 536, 100 000 plan ops) cost seconds each: a few fixed cases below.
        const len = rng.pick([100, 1000, 5000]);
        try {
          set(doc, at, Array.from({ length: len }, item));
        } catch {
          return one('type');
        }
        whats.push(`${at.join('.')} has ${len} entries`);
        return;
      }
      default:
        return;
    }
  };
  if (kind === 'combo') {
    for (let k = 1 + rng.int(3); k > 0; k--) one(rng.pick(kinds.slice(0, 7)));
  } else if (kind !== 'invalid') {
    one(kind);
  }
  let text = JSON.stringify(doc);
  if (deep) {
    const open = rng.next() < 0.5 ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    text = text.replace('"@@DEEP@@"', open.repeat(deep.depth) + (open === '[' ? '' : '1') + close.repeat(deep.depth));
  }
  if (kind === 'invalid') {
    const ops = ['truncate', 'insert', 'delete', 'binary', 'empty', 'bom', 'trailing'] as const;
    const op = rng.pick(ops);
    const i = rng.int(text.length);
    switch (op) {
      case 'truncate': text = text.slice(0, i); break;
      case 'insert': text = text.slice(0, i) + rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '\n', '\u0001']) + text.slice(i); break;
      case 'delete': text = text.slice(0, i) + text.slice(i + 1); break;
      case 'binary': text = Array.from({ length: 64 }, () => String.fromCharCode(rng.int(256))).join(''); break;
      case 'empty': text = ''; break;
      case 'bom': text = '\ufeff' + text; break;
      case 'trailing': text = text + ' x'; break;
    }
    whats.push(`invalid JSON: ${op} at ${i}`);
  }
  return { n, what: `${kind}: ${whats.join('; ') || '(no change)'}`, text };
}

/** Hand-picked cases run after the random ones (numbered from COUNT on). */
function fixedCases(base: Json): Array<{ what: string; text: string }> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases edit the config freely
  type Loose = { [k: string]: any };
  const edit = (what: string, f: (c: Loose) => void) => {
    const c = structuredClone(base) as Loose;
    f(c);
    return { what: `fixed: ${what}`, text: JSON.stringify(c) };
  };
  return [
    edit('process.user missing', (c) => { delete c.process.user; }),
    edit('process.user null', (c) => { c.process.user = null; }),
    edit('cpu.shares 1e12', (c) => { c.linux.resources.cpu.shares = 1e12; }),
    edit('cpu.shares 1', (c) => { c.linux.resources.cpu.shares = 1; }),
    edit('cpu.shares 0 (unset)', (c) => { c.linux.resources.cpu.shares = 0; }),
    edit('100 001 additionalGids', (c) => { c.process.user.additionalGids = new Array(100001).fill(3); }),
    edit('65 536 additionalGids', (c) => { c.process.user.additionalGids = new Array(65536).fill(3); }),
    edit('mounts + maskedPaths over the total', (c) => {
      c.linux.maskedPaths = new Array(40000).fill('/proc/kcore');
      c.linux.readonlyPaths = new Array(30000).fill('/proc/sys');
    }),
    edit('NUL in cgroupsPath', (c) => { c.linux.cgroupsPath = '/fuzz\u0000x'; }),
    edit('NUL in an annotation key', (c) => { c.annotations = { 'a\u0000b': 'c' }; }),
    edit('50 000 wrongly typed args', (c) => { c.process.args = new Array(50000).fill(1); }),
    edit('50 000 unknown capabilities (errors are bounded too)', (c) => { c.process.capabilities.bounding = Array.from({ length: 50000 }, (_, i) => `CAP_X${i}`); }),
    edit('65 537 env entries', (c) => { c.process.env = new Array(65537).fill('A=b'); }),
    edit('100 001 readonlyPaths', (c) => { c.linux.readonlyPaths = new Array(100001).fill('/proc/sys'); }),
    edit('65 537 devices', (c) => { c.linux.devices = new Array(65537).fill({ path: '/dev/x', type: 'p' }); }),
    edit('RLIMIT_NOFILE 1', (c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }]; }),
  ];
}

// ---- judging one result --------------------------------------------------------------------------

/** Why a result is not acceptable, or undefined. */
function judge(r: CallResult): string | undefined {
  if (r.timedOut) return 'timed out';
  if (r.signal !== null) return `killed by ${r.signal}`;
  if (/internal error|E_INTERNAL|\n\s+at |Maximum call stack|TypeError|RangeError|Cannot read properties/.test(r.stderr)) {
    return 'internal error or stack trace';
  }
  const lines = r.stderr.split('\n').filter(Boolean);
  const errors = lines.filter((l) => /level=error/.test(l));
  const others = lines.filter((l) => !/level=(error|warning)/.test(l));
  if (others.length) return 'stderr lines that are neither errors nor warnings';
  if (r.status === 0) return errors.length ? 'exit 0 with an error line' : undefined;
  if (errors.length !== 1) return `exit ${r.status} with ${errors.length} error lines`;
  if (r.stderr.length > 10000) return `error output of ${r.stderr.length} bytes`; // messages are cut at 8192 characters
  const msg = errMsg(r);
  // Names a field (config.json / a JSON pointer) or the setup step and object that failed.
  if (!/config\.json|(^|[\s`"])\/[\w.-]|\(step \d+\)|unable to start container process|namespace/.test(msg)) {
    return 'the error names no field';
  }
  return undefined;
}

// ---- the test ------------------------------------------------------------------------------------

describe(`config.json fuzzing (seed ${SEED}, ${COUNT} cases)`, () => {
  let tmp = '';
  let t: Tsrunc;
  const cases: Case[] = [];
  const results: CallResult[] = [];
  const ids: string[] = [];
  let found: string[] = [];
  const ms: number[] = [];

  before(async () => {
    tmp = tmpDir('tsrunc-it-fuzz');
    const rootfs = path.join(tmp, 'rootfs');
    buildRootfs(rootfs);
    const root = path.join(tmp, 'root');
    t = new Tsrunc(root, tmp, 15000);
    const rng = new Rng(SEED);
    const base = baseConfig(rootfs);
    const all: Case[] = [];
    for (let n = 0; n < COUNT; n++) all.push(mutate(rng, base, n));
    fixedCases(base).forEach((f, i) => all.push({ n: COUNT + i, ...f }));
    cases.push(...all.filter((c) => ONLY === undefined || ONLY === c.n));
    const jobs = cases.map((c) => {
      const id = `${P}-${c.n}`;
      ids.push(id);
      const dir = path.join(tmp, `b${c.n}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'config.json'), c.text);
      return async () => {
        const t0 = Date.now();
        const r = await t.callAsync(['run', '--bundle', dir, id]);
        ms[c.n] = Date.now() - t0;
        fs.rmSync(dir, { recursive: true, force: true });
        return r;
      };
    });
    const w = snapshot(root, [tmp]);
    results.push(...(await pool(4, jobs)));
    found = leftovers(root, w, ids, [tmp]);
    if (process.env.FUZZ_VERBOSE) {
      cases.forEach((c, i) => console.log(`#${c.n} ${ms[c.n]}ms ${c.what.slice(0, 150)} → ${results[i]!.status} ${errMsg(results[i]!).slice(0, 200)}`));
    }
  });

  after(() => cleanup(t, ids, tmp ? [tmp] : []));

  it('at least 300 cases, from every kind of mutation, with both outcomes', { skip: ONLY !== undefined }, () => {
    assert.ok(cases.length >= 300, `${cases.length} cases`);
    assert.ok(results.filter((r) => r.status === 0).length >= 10, 'some mutations should still run');
    assert.ok(results.filter((r) => r.status !== 0).length >= 150, 'most mutations should be refused');
  });

  const describeBad = (c: Case, r: CallResult, why: string) => `#${c.n} (${c.what.slice(0, 200)}): ${why}\n  ${show(r).slice(0, 600)}`;
  it('every case ends in success or one clean error line that names a field', () => {
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const r = results[i]!;
      const why = judge(r);
      if (why) bad.push(describeBad(c, r, why));
    });
    assert.equal(bad.length, 0, `${bad.length} bad outcomes:\n${bad.slice(0, 10).join('\n')}`);
  });

  it('nothing left behind (state entries, cgroups, processes, mounts)', () => {
    assert.deepEqual(found, []);
  });
});
