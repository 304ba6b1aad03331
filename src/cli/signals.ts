// Signal names for `kill <id> [signal]`, parsed like runc 1.1.5 (kill.go parseSignal):
//   - a decimal number (strconv.Atoi: optional sign, digits only) is taken as the number;
//   - otherwise the text is upper-cased, `SIG` is prefixed when missing, and looked up in the
//     Linux signal table; a miss is `unknown signal "<as given>"`.
// runc passes any number to kill(2), so 99 fails there with EINVAL, reported as
// `unable to signal init: invalid argument`. tsrunc rejects numbers outside 0..64 with that same
// text (the kill command makes sure it is reported after the container lookup, as in runc).
// 0 is kill(2)'s existence check: `runc kill <id> 0` succeeds on a live container, and so does
// tsrunc's.
// Beyond runc: RTMIN, RTMIN+n, RTMAX, RTMAX-n (glibc numbering: RTMIN = 34, RTMAX = 64, as in
// Docker's signal table) and the aliases IOT, CLD, POLL.
import { TsruncError } from '../errors';
import { goQuote } from './gofmt';

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;
export const SIGTERM = 15;

/** Linux (x86-64/arm64 generic) numbers, keyed by the name without `SIG`. */
const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** Why a signal was refused: an unknown name, or a number kill(2) would refuse with EINVAL. */
export class SignalError extends TsruncError {
  readonly kind: 'unknown' | 'range';
  constructor(kind: 'unknown' | 'range', message: string) {
    super('E_SIGNAL', message);
    this.kind = kind;
  }
}

function invalidNumber(): SignalError {
  return new SignalError('range', 'unable to signal init: invalid argument');
}

/** Parse a signal as `kill` takes it; `undefined` or '' means SIGTERM. Throws SignalError. */
export function parseSignal(raw: string | undefined): number {
  if (raw === undefined || raw === '') return SIGTERM;
  if (/^[+-]?[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > SIGRTMAX) throw invalidNumber();
    return n;
  }
  let name = raw.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const known = Object.prototype.hasOwnProperty.call(SIGNALS, name) ? SIGNALS[name] : undefined;
  if (known !== undefined) return known;
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]{1,2}))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]);
    // RTMIN counts up (RTMIN+n), RTMAX counts down (RTMAX-n), as kill(1) and Docker spell them.
    const okDir = rt[2] === undefined || (rt[1] === 'MIN' ? rt[2] === '+' : rt[2] === '-');
    const n = rt[1] === 'MIN' ? base + off : base - off;
    if (okDir && n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new SignalError('unknown', `unknown signal ${goQuote(raw)}`);
}
