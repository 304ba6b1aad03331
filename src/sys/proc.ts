// /proc readers, with an injectable root so tests can use a temp dir.
import fs = require('fs');
import path = require('path');

/**
 * Start time (field 22) of `pid` from <procRoot>/<pid>/stat, or null if the process is gone or a
 * zombie/dead (it will never run container code again: runc counts that as stopped too).
 */
export function pidStartTime(pid: number, procRoot = '/proc'): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return null;
  }
  return parseStat(text);
}

export function parseStat(text: string): string | null {
  // comm (field 2) may contain spaces and parentheses: fields resume after the LAST ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0]; // field 3
  if (state === 'Z' || state === 'X' || state === 'x') return null;
  return fields[19] ?? null; // field 22
}
