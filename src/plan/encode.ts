// Plan -> the binary buffer tsrunc-init decodes (format in addon/init/plan.h).
import { OP, type Op } from './ops';

const MAGIC = 0x50525354; // "TSRP"
const VERSION = 1;

/**
 * One buffer, sized first: a plan has a few hundred ints and strings, and a Buffer per value (as
 * this once did) cost ~1 ms of allocation on every create.
 */
export function encodeOps(ops: Op[]): Buffer {
  const strs = ops.map((op) => op.strs.map((s) => Buffer.from(s, 'utf8')));
  let size = 12;
  ops.forEach((op, k) => {
    size += 12 + 8 * op.ints.length;
    for (const sb of strs[k]!) size += 4 + sb.length;
  });
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  const u32 = (v: number) => { off = b.writeUInt32LE(v >>> 0, off); };
  u32(MAGIC);
  u32(VERSION);
  u32(ops.length);
  ops.forEach((op, k) => {
    u32(OP[op.op]);
    u32(op.ints.length);
    u32(op.strs.length);
    for (const i of op.ints) off = b.writeBigInt64LE(BigInt.asIntN(64, typeof i === 'bigint' ? i : BigInt(Math.trunc(i))), off);
    for (const sb of strs[k]!) {
      u32(sb.length);
      off += sb.copy(b, off);
    }
  });
  return b;
}
