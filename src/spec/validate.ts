// Schema validation of config.json and of the state JSON, with the validators that
// scripts/build-schemas.js compiled at build time (dist/schemas/*.js). Nothing here compiles a schema,
// and the generated modules are required on first use only: commands that never validate a config
// (start, state, kill, delete, list) must not pay for loading a 130 KB validator.

import { join } from 'path';
import { TsruncError } from '../errors';

/** The part of an ajv error object this module reads (ajv's ErrorObject, without the dependency). */
interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

// dist/src/spec/validate.js -> dist/schemas/<file>
const VALIDATOR_DIR = join(__dirname, '..', '..', 'schemas');

const cache = new Map<string, Validator>();

function validator(file: string): Validator {
  const hit = cache.get(file);
  if (hit) return hit;
  const full = join(VALIDATOR_DIR, file);
  let mod: unknown;
  try {
    mod = require(full);
  } catch (e) {
    throw new TsruncError('E_INTERNAL',
      `load schema validator \`${full}\`: ${(e as Error).message} (is the build complete? run node scripts/build-schemas.js)`,
      { cause: e });
  }
  if (typeof mod !== 'function') {
    throw new TsruncError('E_INTERNAL', `load schema validator \`${full}\`: module does not export a function`);
  }
  cache.set(file, mod as Validator);
  return mod as Validator;
}

/** At most this many problems are listed in one error; then `and N more`. */
export const MAX_PROBLEMS = 20;

/**
 * The first `max` problem lines, then a line `and N more`: one error line stays small (containerd
 * reads the last error line of the log back; 50 000 wrongly typed args once made it 2.5 MB).
 */
export function limitProblems(lines: readonly string[], max = MAX_PROBLEMS): string {
  if (lines.length <= max) return lines.join('\n');
  return [...lines.slice(0, max), `and ${lines.length - max} more`].join('\n');
}

/** RFC 6901 JSON pointer from path segments; the document root is `/` (as in our messages). */
export function jsonPointer(segments: ReadonlyArray<string | number>): string {
  if (segments.length === 0) return '/';
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The value at an ajv instancePath ('' or '/a/0/b') inside doc, or undefined. */
export function valueAt(doc: unknown, instancePath: string): unknown {
  if (instancePath === '' || instancePath === '/') return doc;
  let cur: unknown = doc;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A short JSON rendering of a value for messages (long values are cut, so one line stays readable). */
export function showValue(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** One ajv error as `<pointer>: <message>`; undefined for errors that only repeat another one. */
function describe(err: AjvError, doc: unknown): string | undefined {
  // `if` reports "must match "then" schema" next to the real error from `then`.
  if (err.keyword === 'if') return undefined;
  const where = err.instancePath === '' ? '/' : err.instancePath;
  const got = () => showValue(valueAt(doc, err.instancePath));
  let msg = err.message ?? `fails ${err.keyword}`;
  switch (err.keyword) {
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[] | undefined) ?? [];
      msg = `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${got()}`;
      break;
    }
    case 'pattern':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
      msg = `${msg}, got ${got()}`;
      break;
    default:
      break;
  }
  return `${where}: ${msg}`;
}

function run(file: string, label: string, obj: unknown): string[] {
  const validate = validator(file);
  if (validate(obj)) return [];
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const d = describe(err, obj);
    if (d === undefined) continue;
    const line = `${label}: ${d}`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  // A failing validator always reports something; keep that true even if every error was filtered.
  return lines.length > 0 ? lines : [`${label}: /: does not match the schema`];
}

/**
 * Schema violations of a parsed config.json, every one, each formatted as
 * `config.json: <instancePath>: <message>` (root as `/`). Empty when valid. Validates the object as
 * given: loadSpec applies withoutNulls() first, as runc's decoder ignores nulls.
 */
export function validateSpecObject(raw: unknown): string[] {
  return run('config-validator.js', 'config.json', raw);
}

/** Schema violations of a state JSON object (what `state` prints), formatted `state: <path>: <message>`. */
export function validateState(obj: unknown): string[] {
  return run('state-validator.js', 'state', obj);
}

/**
 * A deep copy of parsed JSON with every object member whose value is null removed. runc decodes
 * config.json with Go's encoding/json, where null leaves a field at its zero value, i.e. the same as
 * absent (`"env": null` runs, `"args": null` gives "args must not be empty"); this gives tsrunc the
 * same reading. Nulls inside arrays are kept, so `"args": [null]` is still a type error.
 */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === null) continue;
      // defineProperty, not assignment: a "__proto__" member must stay data, not become a prototype.
      Object.defineProperty(out, k, { value: withoutNulls(x), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
