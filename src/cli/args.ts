// argv parsing with runc's semantics. runc 1.1.5 uses urfave/cli v1 on top of Go's `flag`
// package, so that is what callers (containerd's go-runc, scripts written for runc) rely on:
//   - a flag is `-name` or `--name` (one or two dashes, for long and short names alike);
//   - a value is given as `--name value` or `--name=value`; a value-less flag followed by nothing
//     is `flag needs an argument: -name`;
//   - a boolean flag takes no separate value, only `--name=true|false|1|0|t|f|...`
//     (Go strconv.ParseBool); `--name false` is the flag plus a positional `false`;
//   - no grouping of short flags (`-qf` is an unknown flag, as in runc);
//   - `--` ends the flags; a lone `-` is a positional;
//   - global flags come before the command and stop at the first non-flag (the command name);
//   - command flags may also follow the positionals (urfave's argument reordering). Unlike
//     urfave, a boolean flag there never swallows the next word (`kill c1 --all 9` signals c1).
// Errors carry Go's texts (`flag provided but not defined: -x`, `bad flag syntax: ---x`, ...).
import { TsruncError } from '../errors';
import { goQuote } from './gofmt';

/** `list`: urfave's StringSlice/Int64Slice, every occurrence appends one value (`-e A -e B`). */
export type FlagType = 'bool' | 'string' | 'int' | 'duration' | 'list';

export interface FlagDef {
  /** Long name, without dashes. */
  name: string;
  /** Other names (usually the one-letter form). */
  aliases?: readonly string[];
  type: FlagType;
  usage: string;
  /** Default value for string/int flags (shown in help as `(default: ...)`); for a duration
   *  flag, Go's text (`5s`), parsed into milliseconds like a given value. */
  def?: string | number;
}

export type FlagValues = Record<string, string | number | boolean | string[]>;

/** A command-line mistake: exit code 1, and the caller shows usage on stdout. */
export class UsageError extends TsruncError {
  /** `Incorrect Usage: <msg>` (flag errors) or `Incorrect Usage.` (argument count). */
  readonly kind: 'flag' | 'args';
  constructor(kind: 'flag' | 'args', message: string) {
    super('E_USAGE', message);
    this.kind = kind;
  }
}

function lookup(defs: readonly FlagDef[], name: string): FlagDef | undefined {
  for (const d of defs) {
    if (d.name === name) return d;
    if (d.aliases) for (const a of d.aliases) if (a === name) return d;
  }
  return undefined;
}

/** Go strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  switch (v) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True': return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False': return false;
    default: return undefined;
  }
}

/** runc's parseBoolOrAuto for --rootless: '' or auto (any case) → auto; ParseBool values → true/false. */
export function parseRootless(v: string): 'true' | 'false' | 'auto' | undefined {
  if (v === '' || v.toLowerCase() === 'auto') return 'auto';
  const b = parseGoBool(v);
  return b === undefined ? undefined : b ? 'true' : 'false';
}

/** Go strconv.ParseInt(s, 0, 64) for the values a flag realistically gets (no `_` separators). */
export function parseGoInt(v: string): number | undefined {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(v);
  if (!m) return undefined;
  let n: number;
  if (m[2] !== undefined) n = parseInt(m[2], 16);
  else if (m[3] !== undefined) n = parseInt(m[3], 2);
  else if (m[4] !== undefined) n = parseInt(m[4], 8);
  else if (m[5] !== undefined) n = parseInt(m[5], 8);
  else n = parseInt(m[6], 10);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}

// Go's micro signs, U+00B5 and U+03BC, written as escapes: the code is kept ASCII-only, so that
// the hot scripts (scripts/gen-bin.js) load as one-byte strings, half the size of two-byte ones.
const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000,
};

/** Go time.ParseDuration (`1h2m3.5s`, `300ms`, `-1s`, `0`), in milliseconds; undefined if invalid. */
export function parseGoDuration(v: string): number | undefined {
  let s = v;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') { if (s[0] === '-') sign = -1; s = s.slice(1); }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) return undefined;
    total += Number(`${m[1] || '0'}.${m[2] ?? ''}0`) * DURATION_UNITS_MS[m[3]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

function setValue(values: FlagValues, def: FlagDef, name: string, value: string | undefined): void {
  if (def.type === 'bool') {
    if (value === undefined) { values[def.name] = true; return; }
    const b = parseGoBool(value);
    if (b === undefined) {
      throw new UsageError('flag', `invalid boolean value ${goQuote(value)} for -${name}: parse error`);
    }
    values[def.name] = b;
    return;
  }
  if (value === undefined) throw new UsageError('flag', `flag needs an argument: -${name}`);
  if (def.type === 'duration') {
    const ms = parseGoDuration(value);
    if (ms === undefined) throw new UsageError('flag', `invalid value ${goQuote(value)} for flag -${name}: parse error`);
    values[def.name] = ms;
    return;
  }
  if (def.type === 'list') {
    const cur = values[def.name];
    values[def.name] = [...(Array.isArray(cur) ? cur : []), value];
    return;
  }
  if (def.type === 'int') {
    const n = parseGoInt(value);
    if (n === undefined) throw new UsageError('flag', `invalid value ${goQuote(value)} for flag -${name}: parse error`);
    values[def.name] = n;
    return;
  }
  values[def.name] = value;
}

/**
 * One flag at argv[i] (already known to start with `-` and be at least 2 long, and not `--`).
 * Returns how many argv entries it used (1 or 2).
 */
function parseOne(defs: readonly FlagDef[], argv: readonly string[], i: number, values: FlagValues): number {
  const s = argv[i];
  const dashes = s[1] === '-' ? 2 : 1;
  const body = s.slice(dashes);
  if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new UsageError('flag', `bad flag syntax: ${s}`);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  const def = lookup(defs, name);
  if (!def) throw new UsageError('flag', `flag provided but not defined: -${name}`);
  if (def.type !== 'bool' && value === undefined) {
    if (i + 1 >= argv.length) throw new UsageError('flag', `flag needs an argument: -${name}`);
    setValue(values, def, name, argv[i + 1]);
    return 2;
  }
  setValue(values, def, name, value);
  return 1;
}

function isFlag(s: string): boolean {
  return s.length >= 2 && s[0] === '-';
}

function defaults(defs: readonly FlagDef[]): FlagValues {
  const v: FlagValues = {};
  for (const d of defs) {
    if (d.type === 'duration') v[d.name] = parseGoDuration(String(d.def ?? '0')) ?? 0;
    else if (d.type === 'list') v[d.name] = [];
    else v[d.name] = d.type === 'bool' ? false : (d.def ?? (d.type === 'int' ? 0 : ''));
  }
  return v;
}

/**
 * Global flags: parse from argv[0] and stop at the first non-flag (the command) or after `--`.
 * Returns the values and the remaining argv (command name first).
 */
export function parseGlobal(defs: readonly FlagDef[], argv: readonly string[]): { values: FlagValues; rest: string[] } {
  const values = defaults(defs);
  let i = 0;
  while (i < argv.length) {
    const s = argv[i];
    if (s === '--') { i++; break; }
    if (!isFlag(s)) break;
    i += parseOne(defs, argv, i, values);
  }
  return { values, rest: argv.slice(i) };
}

/**
 * Command flags: anywhere before `--`; everything else is a positional argument. With
 * `skipArgReorder` (urfave's SkipArgReorder, runc's `ps`) flags end at the first positional, and
 * everything from there on, `--` included, is positional (`ps <id> -o pid,comm`).
 */
export function parseCommand(defs: readonly FlagDef[], argv: readonly string[], skipArgReorder = false): { values: FlagValues; args: string[] } {
  const values = defaults(defs);
  const args: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const s = argv[i];
    if (skipArgReorder && args.length > 0) { args.push(...argv.slice(i)); break; }
    if (s === '--') { args.push(...argv.slice(i + 1)); break; }
    if (!isFlag(s)) { args.push(s); i++; continue; }
    i += parseOne(defs, argv, i, values);
  }
  return { values, args };
}

export interface ArgCount { exact?: number; min?: number; max?: number }

/** runc's checkArgs texts; `prog` is how runc names itself (os.Args[0]), here `tsrunc`. */
export function checkArgCount(prog: string, cmd: string, count: ArgCount, n: number): void {
  // The quoted name only on an error: goQuote is then compiled (and cached) only for error paths.
  const q = () => goQuote(cmd);
  if (count.exact !== undefined && n !== count.exact) {
    throw new UsageError('args', `${prog}: ${q()} requires exactly ${count.exact} argument(s)`);
  }
  if (count.min !== undefined && n < count.min) {
    throw new UsageError('args', `${prog}: ${q()} requires a minimum of ${count.min} argument(s)`);
  }
  if (count.max !== undefined && n > count.max) {
    throw new UsageError('args', `${prog}: ${q()} requires a maximum of ${count.max} argument(s)`);
  }
}
