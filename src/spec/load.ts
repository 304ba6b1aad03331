// Reading config.json from a bundle: read, parse, validate against the build-time-compiled schema.
// The validator module is required lazily by validate.ts on the first validation, so importing this
// file costs nothing for commands that never read a config (start, state, kill, delete, list).

import { readFileSync } from 'fs';
import { join } from 'path';
import { TsruncError } from '../errors';
import { checkSpec, errnoText, type CheckOptions } from './checks';
import type { Spec } from './types';
import { validateSpecObject, withoutNulls } from './validate';

export const CONFIG_FILE = 'config.json';

/**
 * Parses config.json text. Throws E_CONFIG_PARSE `config.json: invalid JSON: <detail>`; the detail is
 * V8's message, lower-cased, with line and column added when V8 gives a position.
 */
export function parseSpecText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: invalid JSON: ${jsonErrorDetail(text, e)}`, { cause: e });
  }
}

function jsonErrorDetail(text: string, e: unknown): string {
  let msg = e instanceof Error ? e.message : String(e);
  msg = msg.charAt(0).toLowerCase() + msg.slice(1);
  const m = / in JSON at position (\d+)/.exec(msg);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    msg = `${msg.slice(0, m.index)} at line ${line}, column ${column}${msg.slice(m.index + m[0].length)}`;
  }
  return msg;
}

/** Schema-checked Spec from parsed JSON; E_CONFIG_INVALID with every violation, one per line. */
export function specFromJson(raw: unknown): Spec {
  // Go's decoder (runc) treats null like an absent member; do the same before validating.
  const obj = withoutNulls(raw);
  const problems = validateSpecObject(obj);
  if (problems.length > 0) throw new TsruncError('E_CONFIG_INVALID', problems.join('\n'));
  return obj as Spec;
}

/**
 * Reads and schema-validates `<bundleDir>/config.json`. Does not run the semantic checks (see
 * checkSpec in checks.ts, or loadCheckedSpec below).
 * Errors: E_CONFIG_MISSING (runc's text `JSON specification file config.json not found`),
 * E_CONFIG_PARSE (unreadable or not JSON), E_CONFIG_INVALID (schema violations, all of them).
 */
export function loadSpec(bundleDir: string): Spec {
  const file = join(bundleDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: the bundle path is a file; either way there is no config.json to read.
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new TsruncError('E_CONFIG_MISSING', `JSON specification file ${CONFIG_FILE} not found`, { cause: e });
    }
    throw new TsruncError('E_CONFIG_PARSE', `${CONFIG_FILE}: read \`${file}\`: ${errnoText(e)}`, { cause: e });
  }
  return specFromJson(parseSpecText(text));
}

/** loadSpec followed by checkSpec: the config a create/run can use, or one error listing everything. */
export function loadCheckedSpec(bundleDir: string, opts: CheckOptions): Spec {
  const spec = loadSpec(bundleDir);
  checkSpec(spec, bundleDir, opts);
  return spec;
}
