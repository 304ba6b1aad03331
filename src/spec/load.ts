// Reading config.json from a bundle: read, parse, validate against the build-time-compiled schema.
// The validator module is required lazily by validate.ts on the first validation, so importing this
// file costs nothing for commands that never read a config (start, state, kill, delete, list).

import { closeSync, constants, fstatSync, openSync, readFileSync } from 'fs';
import { join } from 'path';
import { TsruncError } from '../errors';
import { checkSpec, errnoText, type CheckOptions } from './checks';
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

/** loadSpec followed by checkSpec: the config a create/run can use, or one error listing everything. */
export function loadCheckedSpec(bundleDir: string, opts: CheckOptions): Spec {
  const spec = loadSpec(bundleDir);
  checkSpec(spec, bundleDir, opts);
  return spec;
}
