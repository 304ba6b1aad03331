// A strict, iterative JSON syntax scan of config.json, run before JSON.parse. It exists for what
// V8's parser does not give: a bounded nesting depth (deeper documents are refused instead of
// overflowing the stack of every recursive consumer: withoutNulls, ajv, the checks), and an error
// that gives the position only. V8's messages quote the document (`Unexpected token 'r',
// "root:x:0:0:"... is not valid JSON`), and config.json may be a symlink to a file that is secret.

/** Deepest nesting of arrays and objects accepted in config.json (runc's decoder: 10000). */
export const MAX_JSON_DEPTH = 1000;

export interface JsonSyntaxError {
  kind: 'token' | 'end' | 'depth';
  /** UTF-16 offset of the problem in the text. */
  pos: number;
  /** What was expected there, in V8's words (lower case); never any of the text. */
  what: string;
}

const enum S { Value, ValueOrEnd, Key, KeyOrEnd, After, Done }
const ARR = 0;
const OBJ = 1;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The first syntax problem of `text` as JSON (RFC 8259), or undefined when JSON.parse accepts it
 * and no array/object is nested deeper than maxDepth. Iterative: any input is safe.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonSyntaxError | undefined {
  const n = text.length;
  const stack: number[] = [];
  let i = 0;
  let state = S.Value;
  const fail = (pos: number, what = 'unexpected token'): JsonSyntaxError =>
    (pos >= n ? { kind: 'end', pos, what: 'unexpected end of JSON input' } : { kind: 'token', pos, what });
  let why = ''; // set by the scanners below on failure

  // Each scanner returns the index after the token, or -1 - errorPos.
  const scanString = (p: number): number => {
    p++; // opening quote
    for (;;) {
      if (p >= n) return -1 - p;
      const c = text.charCodeAt(p);
      if (c === 0x22) return p + 1;
      if (c < 0x20) { why = 'bad control character in string literal'; return -1 - p; }
      if (c === 0x5c) {
        p++;
        if (p >= n) return -1 - p;
        const e = text.charCodeAt(p);
        if (e === 0x75) { // \uXXXX
          for (let k = 1; k <= 4; k++) {
            if (p + k >= n || !isHex(text.charCodeAt(p + k))) { why = 'bad unicode escape'; return -1 - (p + k); }
          }
          p += 5;
        } else if ('"\\/bfnrt'.includes(text[p]!)) {
          p++;
        } else {
          why = 'bad escaped character';
          return -1 - p;
        }
      } else {
        p++;
      }
    }
  };
  const digits = (p: number, what: string): number => {
    if (p >= n || !isDigit(text.charCodeAt(p))) { why = what; return -1 - p; }
    while (p < n && isDigit(text.charCodeAt(p))) p++;
    return p;
  };
  const scanNumber = (p: number): number => {
    if (text.charCodeAt(p) === 0x2d) p++;
    if (p < n && text.charCodeAt(p) === 0x30) p++;
    else if ((p = digits(p, 'no number after minus sign')) < 0) return p;
    if (p < n && text.charCodeAt(p) === 0x2e) {
      if ((p = digits(p + 1, 'unterminated fractional number')) < 0) return p;
    }
    if (p < n && (text.charCodeAt(p) === 0x65 || text.charCodeAt(p) === 0x45)) {
      p++;
      if (p < n && (text.charCodeAt(p) === 0x2b || text.charCodeAt(p) === 0x2d)) p++;
      if ((p = digits(p, 'exponent part is missing a number')) < 0) return p;
    }
    return p;
  };
  const scanLiteral = (p: number, word: string): number => {
    for (let k = 0; k < word.length; k++) if (p + k >= n || text[p + k] !== word[k]) return -1 - (p + k);
    return p + word.length;
  };

  for (;;) {
    while (i < n && isWs(text.charCodeAt(i))) i++;
    if (i >= n) return state === S.Done ? undefined : fail(i);
    const c = text.charCodeAt(i);
    switch (state) {
      case S.Done:
        return fail(i, 'unexpected non-whitespace character after JSON');
      case S.Value:
      case S.ValueOrEnd: {
        if (state === S.ValueOrEnd && c === 0x5d) { stack.pop(); i++; state = S.After; break; }
        let next: number;
        why = 'unexpected token';
        if (c === 0x7b || c === 0x5b) {
          if (stack.length >= maxDepth) return { kind: 'depth', pos: i, what: `exceeded max depth ${maxDepth}` };
          stack.push(c === 0x7b ? OBJ : ARR);
          i++;
          state = c === 0x7b ? S.KeyOrEnd : S.ValueOrEnd;
          break;
        } else if (c === 0x22) next = scanString(i);
        else if (c === 0x2d || isDigit(c)) next = scanNumber(i);
        else if (c === 0x74) next = scanLiteral(i, 'true');
        else if (c === 0x66) next = scanLiteral(i, 'false');
        else if (c === 0x6e) next = scanLiteral(i, 'null');
        else return fail(i);
        if (next < 0) return fail(-1 - next, why);
        i = next;
        state = S.After;
        break;
      }
      case S.Key:
      case S.KeyOrEnd: {
        if (state === S.KeyOrEnd && c === 0x7d) { stack.pop(); i++; state = S.After; break; }
        if (c !== 0x22) return fail(i, 'expected double-quoted property name');
        const next = scanString(i);
        if (next < 0) return fail(-1 - next, why);
        i = next;
        while (i < n && isWs(text.charCodeAt(i))) i++;
        if (i >= n || text.charCodeAt(i) !== 0x3a) return fail(i, "expected ':' after property name");
        i++;
        state = S.Value;
        break;
      }
      case S.After: {
        const top = stack[stack.length - 1];
        if (top === undefined) { state = S.Done; break; }
        if (c === 0x2c) { i++; state = top === ARR ? S.Value : S.Key; break; }
        if ((c === 0x5d && top === ARR) || (c === 0x7d && top === OBJ)) { stack.pop(); i++; break; }
        return fail(i, top === ARR ? "expected ',' or ']' after array element" : "expected ',' or '}' after property value");
      }
    }
    if (state === S.After && stack.length === 0) state = S.Done;
  }
}

/** `line L, column C` (1-based; columns in UTF-16 units, as editors count) of offset pos. */
export function lineColumn(text: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < pos; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return `line ${line}, column ${pos - lineStart + 1}`;
}

/** The message for a scan error: what was expected and where, never any of the text. */
export function describeJsonError(text: string, e: JsonSyntaxError): string {
  return `${e.what} at ${lineColumn(text, e.pos)}`;
}
