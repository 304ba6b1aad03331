// Plan -> the binary buffer tsrunc-init decodes (format in addon/init/plan.h).
import { OP, type Op } from './ops';

const MAGIC = 0x50525354; // "TSRP"
const VERSION = 1;

export function encodeOps(ops: Op[]): Buffer {
  const chunks: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    chunks.push(b);
  };
  u32(MAGIC);
  u32(VERSION);
  u32(ops.length);
  for (const op of ops) {
    u32(OP[op.op]);
    u32(op.ints.length);
    u32(op.strs.length);
    for (const i of op.ints) {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt.asIntN(64, typeof i === 'bigint' ? i : BigInt(Math.trunc(i))));
      chunks.push(b);
    }
    for (const s of op.strs) {
      const sb = Buffer.from(s, 'utf8');
      u32(sb.length);
      chunks.push(sb);
    }
  }
  return Buffer.concat(chunks);
}
