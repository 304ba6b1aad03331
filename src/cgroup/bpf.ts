// The cgroup v2 device filter: rules → a BPF_PROG_TYPE_CGROUP_DEVICE program (raw struct bpf_insn
// array, host byte order = little endian on every platform tsrunc targets). Pure; the addon
// (addon/bpf.cc) loads and attaches it.
//
// The rules go through the v1 emulator first (devices.ts), so v2 grants exactly what v1 would:
// the program is a list of blocks, one per exception, all with the same verdict (the opposite of
// the default), then the default. A block matches on type, then access, then major, then minor
// (wildcards skip their test). Access matching differs by mode, as in the kernel's v1 code:
//   default deny  (allow exceptions): the request must be a subset of the rule's access;
//   default allow (deny exceptions):  the request must overlap the rule's access.
// (runc uses the subset test for both; for a deny rule like `c 1:3 w` it lets an `rw` open through,
// where v1 refuses it. tsrunc follows v1.)
//
// Context (struct bpf_cgroup_dev_ctx): u32 access_type (low 16 bits: BPF_DEVCG_DEV_BLOCK=1 /
// _CHAR=2; high 16 bits: BPF_DEVCG_ACC_MKNOD=1 / _READ=2 / _WRITE=4), u32 major, u32 minor.
import { TsruncError } from '../errors';
import { type DevRule, WILDCARD, emulateDeviceRules, ruleToString, stateExceptions } from './devices';

/** What the addon provides (src/sys/native.ts exposes the same functions). */
export interface BpfNative {
  /** Load `insns` as a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to the cgroup2
   *  directory with BPF_CGROUP_DEVICE (BPF_F_ALLOW_MULTI), replacing the programs tsrunc or anyone
   *  attached there before. Throws {code, errno, syscall} errors; load errors carry the verifier log. */
  bpfAttachDeviceProgram(cgroupDir: string, insns: Buffer): void;
  /** Ids of the device programs attached directly to the cgroup2 directory (not used by the
   *  manager; tests and diagnostics). */
  bpfQueryDevicePrograms?(cgroupDir: string): number[];
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT

const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC: Record<string, number> = { m: 1, r: 2, w: 4 };

interface Insn { code: number; dst: number; src: number; off: number; imm: number; next?: boolean }

const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
/** A conditional jump to the start of the next block; resolved when the block is closed. */
const jumpNext = (code: number, dst: number, src: number, imm: number): Insn => ({ code, dst, src, off: 0, imm, next: true });

/** Largest value a JNE-immediate can compare against a zero-extended u32 register (the imm is
 *  sign-extended). Real majors are < 4096 and minors < 2^20. */
const MAX_IMM = 0x7fffffff;

function block(rule: DevRule, defaultAllow: boolean): Insn[] {
  if (rule.type !== 'c' && rule.type !== 'b') {
    throw new TsruncError('E_INTERNAL', `device program: unexpected rule \`${ruleToString(rule)}\``);
  }
  for (const [v, what] of [[rule.major, 'major'], [rule.minor, 'minor']] as const) {
    if (v !== WILDCARD && (v < 0 || v > MAX_IMM)) {
      throw new TsruncError('E_CGROUP', `device rule \`${ruleToString(rule)}\`: ${what} out of range for cgroup v2`);
    }
  }
  // The access is the emulator's normalised set (fromOciRules reads the config's string as runc
  // does: "rwa" → "rw", "mr" → "rm"); anything else here is a bug, not a config to guess about.
  if (!/^r?w?m?$/.test(rule.access) || rule.access === '') {
    throw new TsruncError('E_INTERNAL', `device program: unexpected access in rule \`${ruleToString(rule)}\``);
  }
  const out: Insn[] = [];
  out.push(jumpNext(JMP_JNE_K, 2, 0, rule.type === 'c' ? DEV_CHAR : DEV_BLOCK));
  const acc = [...rule.access].reduce((a, c) => a | ACC[c], 0);
  if (acc !== 7) {
    out.push(ins(ALU32_MOV_X, 1, 3, 0, 0)); // r1 = r3 (requested access)
    out.push(ins(ALU32_AND_K, 1, 0, 0, acc)); // r1 &= rule access
    if (defaultAllow) out.push(jumpNext(JMP_JEQ_K, 1, 0, 0)); // no overlap → next
    else out.push(jumpNext(JMP_JNE_X, 1, 3, 0)); // not a subset → next
  }
  if (rule.major !== WILDCARD) out.push(jumpNext(JMP_JNE_K, 4, 0, rule.major));
  if (rule.minor !== WILDCARD) out.push(jumpNext(JMP_JNE_K, 5, 0, rule.minor));
  out.push(ins(ALU32_MOV_K, 0, 0, 0, defaultAllow ? 0 : 1));
  out.push(ins(JMP_EXIT, 0, 0, 0, 0));
  return out;
}

/** Compile device rules (applied in order from deny-all, as for v1) into the program bytes. */
export function compileDeviceProgram(rules: readonly DevRule[]): Buffer {
  const state = emulateDeviceRules(rules);
  const prog: Insn[] = [
    ins(LDX_MEM_W, 2, 1, 0, 0), // r2 = ctx->access_type
    ins(ALU32_AND_K, 2, 0, 0, 0xffff), // r2 &= 0xffff (device type)
    ins(LDX_MEM_W, 3, 1, 0, 0), // r3 = ctx->access_type
    ins(ALU32_RSH_K, 3, 0, 0, 16), // r3 >>= 16 (access)
    ins(LDX_MEM_W, 4, 1, 4, 0), // r4 = ctx->major
    ins(LDX_MEM_W, 5, 1, 8, 0), // r5 = ctx->minor
  ];
  for (const rule of stateExceptions(state)) {
    const b = block(rule, state.defaultAllow);
    const start = prog.length;
    const end = start + b.length; // index of the next block's first instruction
    b.forEach((x, i) => {
      if (x.next) x.off = end - (start + i + 1);
      prog.push(x);
    });
  }
  prog.push(ins(ALU32_MOV_K, 0, 0, 0, state.defaultAllow ? 1 : 0));
  prog.push(ins(JMP_EXIT, 0, 0, 0, 0));
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    buf.writeUInt8(x.code, i * 8);
    buf.writeUInt8((x.src << 4) | x.dst, i * 8 + 1);
    buf.writeInt16LE(x.off, i * 8 + 2);
    buf.writeInt32LE(x.imm, i * 8 + 4);
  });
  return buf;
}

/** A readable listing of a device program (only the opcodes compileDeviceProgram emits). */
export function disassembleDeviceProgram(insns: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i * 8 < insns.length; i++) {
    const code = insns.readUInt8(i * 8);
    const regs = insns.readUInt8(i * 8 + 1);
    const dst = `r${regs & 0xf}`;
    const src = `r${regs >> 4}`;
    const off = insns.readInt16LE(i * 8 + 2);
    const imm = insns.readInt32LE(i * 8 + 4);
    const to = `-> ${i + 1 + off}`;
    let text: string;
    switch (code) {
      case LDX_MEM_W: text = `${dst} = *(u32 *)(${src} + ${off})`; break;
      case ALU32_AND_K: text = `w${dst.slice(1)} &= ${imm}`; break;
      case ALU32_RSH_K: text = `w${dst.slice(1)} >>= ${imm}`; break;
      case ALU32_MOV_K: text = `w${dst.slice(1)} = ${imm}`; break;
      case ALU32_MOV_X: text = `w${dst.slice(1)} = w${src.slice(1)}`; break;
      case JMP_JEQ_K: text = `if ${dst} == ${imm} ${to}`; break;
      case JMP_JNE_K: text = `if ${dst} != ${imm} ${to}`; break;
      case JMP_JNE_X: text = `if ${dst} != ${src} ${to}`; break;
      case JMP_EXIT: text = 'exit'; break;
      default: text = `?? code=0x${code.toString(16)}`;
    }
    out.push(`${i}: ${text}`);
  }
  return out;
}
