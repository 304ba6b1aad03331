// Output of `state` and `list`, byte for byte as runc 1.1.5 prints it (go-runc parses it):
//   state: json.MarshalIndent(.., "", "  "), no trailing newline;
//   list --format json: json.Encoder.Encode, compact plus "\n", `null` when there are none;
//   list (table): text/tabwriter (minwidth 12, tabwidth 1, padding 3, ' '), `ID PID STATUS BUNDLE CREATED OWNER`;
//   list -q: one id per line.
// The object is runc's containerState: fixed key order, `annotations` omitted when empty, the
// annotations map written with sorted keys (Go sorts map keys; a JS object would put integer-like
// keys first), and Go's escaping of < > & in strings.
import type { OciState } from '../lifecycle/api';
import { goJson } from './gofmt';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json } | SortedMap;

/** A Go map: keys written in sorted (byte) order. */
class SortedMap {
  constructor(readonly obj: Record<string, string>) {}
}

function enc(v: Json, indent: string, depth: number): string {
  if (v === null || typeof v !== 'object') return goJson(v);
  const nl = indent ? '\n' + indent.repeat(depth + 1) : '';
  const end = indent ? '\n' + indent.repeat(depth) : '';
  const colon = indent ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => nl + enc(x, indent, depth + 1)).join(',') + end + ']';
  }
  let entries: [string, Json][];
  if (v instanceof SortedMap) {
    const keys = Object.keys(v.obj).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    entries = keys.map((k) => [k, v.obj[k]]);
  } else {
    entries = Object.entries(v);
  }
  if (entries.length === 0) return '{}';
  return '{' + entries.map(([k, x]) => nl + goJson(k) + colon + enc(x, indent, depth + 1)).join(',') + end + '}';
}

function toGo(s: OciState): Json {
  const o: { [k: string]: Json } = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: s.pid,
    status: s.status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
  };
  if (s.annotations && Object.keys(s.annotations).length > 0) o.annotations = new SortedMap(s.annotations);
  o.owner = s.owner;
  return o;
}

/** `state`: 2-space indent, no trailing newline. */
export function formatState(s: OciState): string {
  return enc(toGo(s), '  ', 0);
}

/** `list --format json`: one compact line; `null` when empty. */
export function formatListJson(list: readonly OciState[]): string {
  if (list.length === 0) return 'null\n';
  return enc(list.map((s) => toGo(s)), '', 0) + '\n';
}

/** `list -q`. */
export function formatListQuiet(list: readonly OciState[]): string {
  return list.map((s) => s.id + '\n').join('');
}

/**
 * Go text/tabwriter with runc's settings (minwidth 12, padding 3, pad ' ', no flags): every
 * tab-terminated cell is padded to max(12, widest cell + 3) of its column; the text after the
 * last tab is written as is.
 */
export function tabwrite(rows: readonly (readonly string[])[], minwidth = 12, padding = 3): string {
  if (rows.length === 0) return '';
  const cols = rows[0].length - 1; // the last cell is not aligned
  const widths: number[] = [];
  const len = (s: string) => [...s].length; // tabwriter counts runes
  for (let c = 0; c < cols; c++) {
    let w = minwidth;
    for (const r of rows) w = Math.max(w, len(r[c]) + padding);
    widths.push(w);
  }
  return rows.map((r) => {
    let line = '';
    for (let c = 0; c < cols; c++) line += r[c] + ' '.repeat(widths[c] - len(r[c]));
    return line + r[cols] + '\n';
  }).join('');
}

/** `list` (table). */
export function formatListTable(list: readonly OciState[]): string {
  const rows: string[][] = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of list) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
  return tabwrite(rows);
}
