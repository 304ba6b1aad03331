// Reading config.json from a bundle: read, parse, validate against the build-time-compiled schema.
// The validator module is required lazily by validate.ts on the first validation, so importing this
// file costs nothing for commands that never read a config (start, state, kill, delete, list).

import { closeSync, constants, fstatSync, openSync, readFileSync } from 'fs';
import { join } from 'path';
import { TsruncError } from '../errors';
import { checkProblems, errnoText, formatProblem, type CheckOptions, type SpecProblem } from './checks';
import { hostProblems, type HostSecurityFacts } from '../plan/process';
import { planProblems, unsupportedProblems } from '../plan/compile';
import type { Spec } from './types';
import { describeJsonError, lineColumn, scanJson } from './json';
import { limitProblems, validateSpecObject, withoutNulls } from './validate';

export const CONFIG_FILE = 'config.json';

/**
 * Parses config.json text. Throws E_CONFIG_PARSE `config.json: invalid JSON: <what> at line L,
 * column C`: the position and the kind of problem only, never the text (config.json may be a
 * symlink to a secret file; V8's own messages quote the document). Nesting deeper than
 * MAX_JSON_DEPTH is refused here, before any recursive consumer sees the document.
 */
export function parseSpecText(text: string): unknown {
  const bad = scanJson(text);
  if (bad !== undefined) {
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: invalid JSON: ${describeJsonError(text, bad)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // Not reached when scanJson is right; still never show V8's text (it quotes the input).
    const m = / at position (\d+)/.exec(e instanceof Error ? e.message : '');
    const where = m ? ` at ${lineColumn(text, Number(m[1]))}` : '';
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: invalid JSON${where}`);
  }
}

/**
 * Every string in the document that contains a NUL byte (as `config.json: <pointer>: must not
 * contain a NUL byte`), and every object key that does. Paths, options, arguments and names all
 * end up as C strings, where a NUL silently truncates them. Iterative (any depth is safe).
 */
export function nulProblems(doc: unknown): string[] {
  const out: string[] = [];
  const stack: Array<[unknown, string]> = [[doc, '']];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) out.push(`${CONFIG_FILE}: ${at || '/'}: must not contain a NUL byte`);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}/${i}`]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.some((k) => k.includes('\0'))) out.push(`${CONFIG_FILE}: ${at || '/'}: keys must not contain a NUL byte`);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        if (k.includes('\0')) continue;
        stack.push([(v as Record<string, unknown>)[k], `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
      }
    }
  }
  return out;
}

/** Schema-checked Spec from parsed JSON; E_CONFIG_INVALID with the violations, one per line (at most 20). */
export function specFromJson(raw: unknown): Spec {
  // Go's decoder (runc) treats null like an absent member; do the same before validating.
  const obj = withoutNulls(raw);
  const problems = [...nulProblems(obj), ...validateSpecObject(obj)];
  if (problems.length > 0) throw new TsruncError('E_CONFIG_INVALID', limitProblems(problems));
  return obj as Spec;
}

/**
 * The text of config.json, refusing what is not a regular file: a FIFO would block the read
 * forever, a device could be anything. Opened O_NONBLOCK (Node adds O_CLOEXEC), then fstat.
 */
function readConfigFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: the bundle path is a file; either way there is no config.json to read.
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new TsruncError('E_CONFIG_MISSING', `JSON specification file ${CONFIG_FILE} not found`, { cause: e });
    }
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: read \`${file}\`: ${errnoText(e)}`, { cause: e });
  }
  try {
    if (!fstatSync(fd).isFile()) throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: \`${file}\` is not a regular file`);
    return readFileSync(fd, 'utf8');
  } catch (e) {
    if (e instanceof TsruncError) throw e;
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: read \`${file}\`: ${errnoText(e)}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and schema-validates `<bundleDir>/config.json`. Does not run the semantic checks (see
 * checkSpec in checks.ts, or loadCheckedSpec below).
 * Errors: E_CONFIG_MISSING (runc's text `JSON specification file config.json not found`),
 * E_CONFIG_PARSE (unreadable, not a regular file, or not JSON), E_CONFIG_INVALID (schema
 * violations and NUL bytes, the first 20 of them).
 */
export function loadSpec(bundleDir: string): Spec {
  return specFromJson(parseSpecText(readConfigFile(join(bundleDir, CONFIG_FILE))));
}

/**
 * The config a create/run can use, or one error listing every problem at once, each with its JSON
 * path: schema violations, then the semantic checks (checks.ts, including the rootfs) and, with
 * `forCreate`, the plan compiler's own rules (sysctl, mounts in /proc, hostname without a UTS
 * namespace), what this host lacks, and the fields this version does not implement
 * (checkSupported): at most 20
 * lines, then `and N more`. E_CONFIG_INVALID when anything is invalid, E_UNSUPPORTED when the only
 * problems are unimplemented fields. When the schema fails, the later checks run on the config
 * without the values the schema rejected, and what they say about those values is left out (the
 * schema line already names them).
 */
export function loadCheckedSpec(bundleDir: string, opts: CheckOptions, forCreate?: { host: HostSecurityFacts }): Spec {
  const obj = withoutNulls(parseSpecText(readConfigFile(join(bundleDir, CONFIG_FILE))));
  const schema = [...nulProblems(obj), ...validateSpecObject(obj)];
  const rejected: string[] = [];
  let spec = obj as Spec;
  if (schema.length > 0) {
    spec = JSON.parse(JSON.stringify(obj)) as Spec;
    for (const line of schema) {
      const m = /^config\.json: (\/[^ ]*): (.*)$/s.exec(line);
      if (!m) continue;
      const required = /^must have required property '(.*)'$/.exec(m[2]!);
      // A missing member: nothing to remove, but nothing more to say about it either.
      if (required) rejected.push(`${m[1] === '/' ? '' : m[1]}/${required[1]!.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      else if (m[1] === '/') throw new TsruncError('E_CONFIG_INVALID', limitProblems(schema)); // not even an object
      else rejected.push(prune(spec, m[1]!));
    }
  }
  const hidden = (p: SpecProblem) => rejected.some((r) => p.pointer === r || p.pointer.startsWith(`${r}/`) || p.pointer.startsWith(`${r} `));
  let invalid: SpecProblem[] = [];
  let unsupported: SpecProblem[] = [];
  try {
    invalid = checkProblems(spec, bundleDir, opts);
    if (forCreate) {
      invalid.push(...planProblems(spec), ...hostProblems(spec, forCreate.host));
      unsupported = unsupportedProblems(spec);
    }
  } catch (e) {
    // A check that trips over a value the schema rejected: the schema lines say enough.
    if (schema.length === 0) throw e;
  }
  invalid = invalid.filter((p) => !hidden(p));
  unsupported = unsupported.filter((p) => !hidden(p) && !invalid.some((q) => q.pointer === p.pointer));
  const lines = [...schema, ...invalid.map(formatProblem), ...unsupported.map(formatProblem)];
  if (lines.length > 0) {
    throw new TsruncError(schema.length + invalid.length > 0 ? 'E_CONFIG_INVALID' : 'E_UNSUPPORTED', limitProblems(lines));
  }
  return spec;
}

/**
 * Remove the value at `pointer` (a schema violation) from `doc`; an array element takes its whole
 * array with it, so that no index moves. Returns the pointer of what was removed.
 */
function prune(doc: unknown, pointer: string): string {
  const segs = pointer.slice(1).split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parents: unknown[] = [doc];
  for (const k of segs.slice(0, -1)) {
    const cur = parents[parents.length - 1];
    if (cur === null || typeof cur !== 'object') return pointer;
    parents.push((cur as Record<string, unknown>)[k]);
  }
  let n = segs.length;
  while (n > 1 && Array.isArray(parents[n - 1])) n--;
  const parent = parents[n - 1];
  if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[segs[n - 1]!];
  return segs.slice(0, n).map((x) => '/' + x.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
