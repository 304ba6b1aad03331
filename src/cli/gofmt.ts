// Small helpers that reproduce how Go (runc, logrus, encoding/json) prints things, because
// callers such as containerd read runc's output and people compare the two runtimes' output.

/** Go's `%q` / strconv.Quote for the strings runc and logrus quote (valid UTF-16 input). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\v': out += '\\v'; break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else if (c >= 0x80 && c < 0xa0) out += '\\u' + c.toString(16).padStart(4, '0');
        else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // lone surrogate: not valid UTF-8
        else out += ch;
    }
  }
  return out + '"';
}

/**
 * JSON as Go's encoding/json writes it: JSON.stringify, plus Go's HTML-safe escaping of `<`, `>`,
 * `&` and U+2028/U+2029, and `\u0008`/`\u000c` where JavaScript writes `\b`/`\f`. Escaped
 * backslashes are consumed as pairs, so a literal backslash followed by `b` is left alone.
 */
export function goJson(value: unknown, indent?: string): string {
  const s = indent === undefined ? JSON.stringify(value) : JSON.stringify(value, null, indent);
  return s.replace(/\\[\\bf]|[<>&\u2028\u2029]/g, (m) => {
    if (m === '\\b') return '\\u0008';
    if (m === '\\f') return '\\u000c';
    if (m.length === 2) return m;
    return '\\u' + m.charCodeAt(0).toString(16).padStart(4, '0');
  });
}

/** time.RFC3339 in local time, as logrus stamps lines: `2026-11-23T15:43:43Z` or `...+01:00`. */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const base = `${String(d.getFullYear()).padStart(4, '0')}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}` +
    `T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  if (off === 0) return base + 'Z';
  const a = Math.abs(off);
  return `${base}${off > 0 ? '+' : '-'}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}
