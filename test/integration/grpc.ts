// A minimal gRPC client over a unix socket, for the ecosystem tests that must reach containerd's
// APIs that no command-line tool of this distribution exposes (Tasks.Update, the CRI runtime
// service). Node's own http2 module carries the calls; messages are protobuf, encoded and decoded
// here field by field (the tests build only the few fields they need, by their field numbers in
// the public .proto definitions). Not a general protobuf library: no packed fields, no groups.
import * as http2 from 'node:http2';
import * as net from 'node:net';

/** A message: [field number, value] pairs; arrays of pairs are nested messages, repeated fields repeat the pair. */
export type Msg = Array<[number, string | number | boolean | Buffer | Msg]>;

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

export function encode(msg: Msg): Buffer {
  const parts: Buffer[] = [];
  for (const [num, v] of msg) {
    if (typeof v === 'number' || typeof v === 'boolean') {
      parts.push(varint(BigInt(num << 3)), varint(BigInt(typeof v === 'boolean' ? Number(v) : v)));
    } else {
      const body = Array.isArray(v) ? encode(v) : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
      parts.push(varint(BigInt((num << 3) | 2)), varint(BigInt(body.length)), body);
    }
  }
  return Buffer.concat(parts);
}

/** A map<string,string> field as its repeated entries. */
export function mapField(num: number, m: Record<string, string>): Msg {
  return Object.entries(m).map(([k, v]) => [num, [[1, k], [2, v]]] as [number, Msg]);
}

/** Top-level fields of a message: varints as bigint, length-delimited as Buffer. */
export function decode(buf: Buffer): Map<number, Array<bigint | Buffer>> {
  const out = new Map<number, Array<bigint | Buffer>>();
  let i = 0;
  const readVarint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const num = key >> 3;
    let v: bigint | Buffer;
    switch (key & 7) {
      case 0: v = readVarint(); break;
      case 1: v = buf.readBigUInt64LE(i); i += 8; break;
      case 5: v = BigInt(buf.readUInt32LE(i)); i += 4; break;
      case 2: { const n = Number(readVarint()); v = buf.subarray(i, i + n); i += n; break; }
      default: throw new Error(`protobuf wire type ${key & 7} not handled`);
    }
    out.set(num, [...(out.get(num) ?? []), v]);
  }
  return out;
}

export class GrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(`grpc status ${code}: ${message}`);
  }
}

/** One unary call: `/package.Service/Method` with an encoded request; resolves to the response bytes. */
export function unary(socket: string, method: string, request: Buffer, metadata: Record<string, string> = {}, timeoutMs = 60000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    client.on('error', reject);
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    const req = client.request({
      ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers', ...metadata,
    });
    const timer = setTimeout(() => { req.close(); client.close(); reject(new Error(`${method}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let message = '';
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        status = Number(h['grpc-status']);
        message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => { clearTimeout(timer); client.close(); reject(e); });
    req.on('end', () => {
      clearTimeout(timer);
      client.close();
      if (status !== 0) return reject(new GrpcError(status ?? -1, message || 'no grpc-status'));
      const body = Buffer.concat(chunks);
      resolve(body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0));
    });
    req.end(frame);
  });
}
