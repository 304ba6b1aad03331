// The cgroup v2 device program: golden encodings and listings, and an equivalence check against
// the v1 emulator by running the program in a small interpreter of the opcodes it uses.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  type DevRule, type DeviceState, WILDCARD, compileDeviceProgram, disassembleDeviceProgram, deviceRulesForSpec, emulateDeviceRules,
  deviceAccessAllowed, fromOciRules,
} from '../../src/cgroup';
import { TsruncError } from '../../src/errors';

const PROLOGUE = [
  '0: r2 = *(u32 *)(r1 + 0)', '1: w2 &= 65535', '2: r3 = *(u32 *)(r1 + 0)', '3: w3 >>= 16',
  '4: r4 = *(u32 *)(r1 + 4)', '5: r5 = *(u32 *)(r1 + 8)',
];

test('golden bytes: no rules → deny everything', () => {
  const p = compileDeviceProgram([]);
  assert.equal(p.toString('hex'), [
    '6112000000000000', // r2 = *(u32 *)(r1 + 0)
    '54020000ffff0000', // w2 &= 0xffff
    '6113000000000000', // r3 = *(u32 *)(r1 + 0)
    '7403000010000000', // w3 >>= 16
    '6114040000000000', // r4 = *(u32 *)(r1 + 4)
    '6115080000000000', // r5 = *(u32 *)(r1 + 8)
    'b400000000000000', // w0 = 0
    '9500000000000000', // exit
  ].join(''));
});

test('golden bytes: one allow rule with partial access (subset test) and a wildcard minor', () => {
  const p = compileDeviceProgram(fromOciRules([{ allow: true, type: 'b', major: 8, access: 'rw' }]));
  assert.equal(p.subarray(6 * 8).toString('hex'), [
    '5502060001000000', // if r2 != 1 (block) goto +6
    'bc31000000000000', // w1 = w3
    '5401000006000000', // w1 &= r|w (2|4)
    '5d31030000000000', // if r1 != r3 goto +3 (dst r1, src r3)
    '5504020008000000', // if r4 != 8 goto +2
    'b400000001000000', // w0 = 1
    '9500000000000000', // exit
    'b400000000000000', // w0 = 0
    '9500000000000000', // exit
  ].join(''));
});

test('golden listing: runc\'s default allow list (same blocks, same order as runc\'s devicefilter)', () => {
  const block = (start: number, type: number, major: number, minor: number) => [
    `${start}: if r2 != ${type} -> ${start + 5}`, `${start + 1}: if r4 != ${major} -> ${start + 5}`,
    `${start + 2}: if r5 != ${minor} -> ${start + 5}`, `${start + 3}: w0 = 1`, `${start + 4}: exit`,
  ];
  const expected = [
    ...PROLOGUE,
    '6: if r2 != 1 -> 12', '7: w1 = w3', '8: w1 &= 1', '9: if r1 != r3 -> 12', '10: w0 = 1', '11: exit',
    '12: if r2 != 2 -> 18', '13: w1 = w3', '14: w1 &= 1', '15: if r1 != r3 -> 18', '16: w0 = 1', '17: exit',
    ...block(18, 2, 1, 3), ...block(23, 2, 1, 5), ...block(28, 2, 1, 7), ...block(33, 2, 1, 8),
    ...block(38, 2, 1, 9), ...block(43, 2, 5, 0), ...block(48, 2, 5, 2), ...block(53, 2, 10, 200),
    '58: if r2 != 2 -> 62', '59: if r4 != 136 -> 62', '60: w0 = 1', '61: exit',
    '62: w0 = 0', '63: exit',
  ];
  assert.deepEqual(disassembleDeviceProgram(compileDeviceProgram(deviceRulesForSpec(undefined))), expected);
});

test('golden listing: allow-all with one deny (deny list; overlap test for partial access)', () => {
  const rules = fromOciRules([
    { allow: true, access: 'rwm' },
    { allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' },
    { allow: false, type: 'c', major: 4, minor: 1, access: 'w' },
  ]);
  assert.deepEqual(disassembleDeviceProgram(compileDeviceProgram(rules)), [
    ...PROLOGUE,
    '6: if r2 != 2 -> 14', '7: w1 = w3', '8: w1 &= 4', '9: if r1 == 0 -> 14', '10: if r4 != 4 -> 14',
    '11: if r5 != 1 -> 14', '12: w0 = 0', '13: exit',
    '14: if r2 != 1 -> 19', '15: if r4 != 8 -> 19', '16: if r5 != 0 -> 19', '17: w0 = 0', '18: exit',
    '19: w0 = 1', '20: exit',
  ]);
  assert.deepEqual(disassembleDeviceProgram(compileDeviceProgram(fromOciRules([{ allow: true, access: 'rwm' }]))),
    [...PROLOGUE, '6: w0 = 1', '7: exit']);
});

test('out-of-range numbers for the immediate compare are refused', () => {
  const r: DevRule = { type: 'c', major: 0x80000000, minor: 1, access: 'rwm', allow: true };
  assert.throws(() => compileDeviceProgram([r]), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    /major out of range/.test(e.message));
});

test('runc\'s odd access strings compile like their normalised sets ("rwa" = "rw", "mr" = "rm", "rrw" = "rw")', () => {
  const prog = (access: string) => compileDeviceProgram(fromOciRules([
    { allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 5, access },
  ])).toString('hex');
  assert.equal(prog('rwa'), prog('rw'));
  assert.equal(prog('rrw'), prog('rw'));
  assert.equal(prog('wr'), prog('rw'));
  assert.equal(prog('mr'), prog('rm'));
  assert.equal(prog('rwmrwm'), prog('rwm'));
  assert.notEqual(prog('rw'), prog('rwm'));
  // the block for `c 4:5 rw` tests read|write (2|4 = 6), as runc's devicefilter does
  assert.deepEqual(disassembleDeviceProgram(compileDeviceProgram(fromOciRules([
    { allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 5, access: 'rwa' },
  ]))), [...PROLOGUE, '6: if r2 != 2 -> 14', '7: w1 = w3', '8: w1 &= 6', '9: if r1 != r3 -> 14',
    '10: if r4 != 4 -> 14', '11: if r5 != 5 -> 14', '12: w0 = 1', '13: exit', '14: w0 = 0', '15: exit']);
  // raw rules (not through fromOciRules) are normalised by the emulator the same way
  const raw = (access: string): DevRule[] => [{ type: 'c', major: 4, minor: 5, access, allow: true }];
  assert.equal(compileDeviceProgram(raw('rwa')).toString('hex'), compileDeviceProgram(raw('rw')).toString('hex'));
});

test('a rule with no r, w or m reaching the compiler is an internal error, never an empty test', () => {
  // fromOciRules refuses such access strings; a raw rule could still carry one
  for (const allow of [true, false]) {
    const rules: DevRule[] = [
      { type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: !allow },
      { type: 'c', major: 4, minor: 5, access: 'x', allow },
    ];
    assert.throws(() => compileDeviceProgram(rules), (e: unknown) => e instanceof TsruncError && e.code === 'E_INTERNAL' &&
      e.message === 'device program: unexpected access in rule `c 4:5 `');
  }
});

// ---- interpreter --------------------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

/** Run the program on a bpf_cgroup_dev_ctx; returns r0. Only the opcodes the compiler emits. */
function run(prog: Buffer, devType: number, access: number, major: number, minor: number): number {
  const ctx = Buffer.alloc(12);
  ctx.writeUInt32LE(((access << 16) | devType) >>> 0, 0);
  ctx.writeUInt32LE(major, 4);
  ctx.writeUInt32LE(minor, 8);
  const r = new Array<bigint>(11).fill(0n);
  let pc = 0;
  for (let steps = 0; steps < 100000; steps++) {
    const code = prog.readUInt8(pc * 8);
    const regs = prog.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = BigInt(prog.readInt32LE(pc * 8 + 4));
    const simm = imm & MASK64; // sign-extended to 64 bits
    pc++;
    switch (code) {
      case 0x61: assert.equal(src, 1); r[dst] = BigInt(ctx.readUInt32LE(off)); break;
      case 0x54: r[dst] = (r[dst] & imm) & MASK32; break;
      case 0x74: r[dst] = ((r[dst] & MASK32) >> imm) & MASK32; break;
      case 0xb4: r[dst] = imm & MASK32; break;
      case 0xbc: r[dst] = r[src] & MASK32; break;
      case 0x15: if (r[dst] === simm) pc += off; break;
      case 0x55: if (r[dst] !== simm) pc += off; break;
      case 0x5d: if (r[dst] !== r[src]) pc += off; break;
      case 0x95: return Number(r[0]);
      default: throw new Error(`unknown opcode 0x${code.toString(16)}`);
    }
    assert.ok(pc >= 0 && pc * 8 < prog.length, 'jump out of the program');
  }
  throw new Error('no exit');
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ACCESS = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const ACC_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

test('the program grants exactly what the v1 emulator grants (random rule sets)', () => {
  const rand = rng(12345);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
  const nums = [WILDCARD, 0, 1, 3, 5, 8, 136];
  let checkedSets = 0;
  for (let set = 0; set < 400; set++) {
    const n = 1 + Math.floor(rand() * 7);
    const rules: DevRule[] = [];
    for (let i = 0; i < n; i++) {
      const type = rand() < 0.12 ? 'a' : pick(['c', 'b'] as const);
      rules.push({ type, major: pick(nums), minor: pick(nums), access: pick(ACCESS), allow: rand() < 0.6 });
    }
    let state: DeviceState;
    try {
      state = emulateDeviceRules(rules);
    } catch (e) {
      assert.ok(e instanceof TsruncError && /punch a hole/.test(e.message));
      continue;
    }
    checkedSets++;
    const prog = compileDeviceProgram(rules);
    for (const type of ['c', 'b'] as const) {
      for (const major of [0, 1, 3, 8, 136, 200]) {
        for (const minor of [0, 1, 3, 5, 9]) {
          for (const acc of ACCESS) {
            const bits = [...acc].reduce((a, c) => a | ACC_BITS[c], 0);
            const want = deviceAccessAllowed(state, type, major, minor, acc) ? 1 : 0;
            const got = run(prog, type === 'c' ? 2 : 1, bits, major, minor);
            assert.equal(got, want, `rules ${JSON.stringify(rules)} request ${type} ${major}:${minor} ${acc}`);
          }
        }
      }
    }
  }
  assert.ok(checkedSets > 200, `only ${checkedSets} rule sets were valid`);
});
