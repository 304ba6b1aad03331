import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger, LogSink, MAX_LOG_MESSAGE, clipMessage, fileSink, formatColoured, formatJson, formatText, isTerminalFd } from '../../src/cli/log';
import { goJson, goQuote, rfc3339 } from '../../src/cli/gofmt';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;
const T = new Date(Date.UTC(2026, 10, 23, 15, 43, 43));

function sink(isTTY = false): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, isTTY, write: (s: string) => { lines.push(s); } };
}

test('rfc3339 matches time.RFC3339 (second precision, Z or offset)', () => {
  const s = rfc3339(T);
  assert.match(s, RFC3339);
  assert.equal(new Date(s).getTime(), T.getTime());
  if (T.getTimezoneOffset() === 0) assert.equal(s, '2026-11-23T15:43:43Z');
});

test('text line: logrus TextFormatter shape (runc)', () => {
  const line = formatText('error', 'container does not exist', T);
  assert.match(line, /^time="[^"]+" level=error msg="container does not exist"\n$/);
  const time = /^time="([^"]+)"/.exec(line)?.[1] ?? '';
  assert.match(time, RFC3339);
  if (T.getTimezoneOffset() === 0) assert.equal(line, 'time="2026-11-23T15:43:43Z" level=error msg="container does not exist"\n');
});

test('text line: values quoted only when needed, with Go %q escapes', () => {
  assert.match(formatText('debug', 'simple-word_1.2/x@y^z+', T), / level=debug msg=simple-word_1.2\/x@y\^z\+\n$/);
  assert.match(formatText('warning', 'unknown signal "FOO"', T), / level=warning msg="unknown signal \\"FOO\\""\n$/);
  assert.match(formatText('error', 'a\nb\tc\x01', T), / msg="a\\nb\\tc\\x01"\n$/);
  assert.match(formatText('error', '', T), / msg=\n$/);
});

test('json line: sorted keys, parses, RFC 3339 time', () => {
  const line = formatJson('error', 'container does not exist', T);
  assert.ok(line.endsWith('}\n'));
  assert.match(line, /^\{"level":"error","msg":"container does not exist","time":"[^"]+"\}\n$/);
  const o = JSON.parse(line) as Record<string, string>;
  assert.deepEqual(Object.keys(o), ['level', 'msg', 'time']);
  assert.equal(o.level, 'error');
  assert.equal(o.msg, 'container does not exist');
  assert.match(o.time, RFC3339);
  assert.equal(new Date(o.time).getTime(), T.getTime());
  if (T.getTimezoneOffset() === 0) {
    assert.equal(line, '{"level":"error","msg":"container does not exist","time":"2026-11-23T15:43:43Z"}\n');
  }
});

test('json line: Go escaping of <>&', () => {
  const line = formatJson('error', 'a<b>&c', T);
  assert.ok(line.includes('"msg":"a\\u003cb\\u003e\\u0026c"'));
  assert.equal((JSON.parse(line) as { msg: string }).msg, 'a<b>&c');
});

test('coloured terminal form (logrus, stderr is a tty)', () => {
  assert.equal(formatColoured('error', 'container does not exist', 0),
    '\x1b[31mERRO\x1b[0m[0000] container does not exist                     \n');
  assert.equal(formatColoured('debug', 'x', 12.7), '\x1b[37mDEBU\x1b[0m[0012] x' + ' '.repeat(43) + ' \n');
  assert.ok(formatColoured('warning', 'w', 0).startsWith('\x1b[33mWARN\x1b[0m'));
});

test('Logger: debug lines only with --debug; others always', () => {
  const out = sink();
  const l = new Logger({ format: 'text', debug: false, out, stderr: out, toFile: false, now: () => T });
  l.log('debug', 'hidden');
  l.log('info', 'shown');
  l.log('warning', 'shown too');
  assert.equal(out.lines.length, 2);
  const out2 = sink();
  new Logger({ format: 'json', debug: true, out: out2, stderr: out2, toFile: false, now: () => T }).log('debug', 'd');
  assert.equal((JSON.parse(out2.lines[0]) as { level: string }).level, 'debug');
});

test('Logger.fatal to stderr: one log line, nothing else', () => {
  const err = sink();
  new Logger({ format: 'text', debug: false, out: err, stderr: err, toFile: false, now: () => T }).fatal('container does not exist');
  assert.equal(err.lines.length, 1);
  assert.match(err.lines[0], /level=error msg="container does not exist"/);
});

test('Logger.fatal with --log: the line goes to the file and the plain message to stderr', () => {
  const file = sink();
  const err = sink();
  new Logger({ format: 'json', debug: false, out: file, stderr: err, toFile: true, now: () => T }).fatal('container does not exist');
  assert.deepEqual(err.lines, ['container does not exist\n']);
  assert.equal(file.lines.length, 1);
  assert.equal((JSON.parse(file.lines[0]) as { msg: string }).msg, 'container does not exist');
});

test('Logger uses the coloured form only on a terminal in text format', () => {
  const tty = sink(true);
  new Logger({ format: 'text', debug: false, out: tty, stderr: tty, toFile: false, now: () => T, start: T.getTime() }).log('error', 'x');
  assert.ok(tty.lines[0].startsWith('\x1b[31mERRO'));
  const ttyJson = sink(true);
  new Logger({ format: 'json', debug: false, out: ttyJson, stderr: ttyJson, toFile: false, now: () => T }).log('error', 'x');
  assert.ok(ttyJson.lines[0].startsWith('{"level":"error"'));
});

test('fileSink appends, mode 0644, and reports a bad path like runc (open PATH: reason)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-log-'));
  try {
    const f = path.join(dir, 'log.json');
    fs.writeFileSync(f, 'old\n');
    const s = fileSink(f);
    s.write('a\n');
    fileSink(f).write('b\n');
    assert.equal(fs.readFileSync(f, 'utf8'), 'old\na\nb\n');
    const g = path.join(dir, 'new.json');
    const um = process.umask(0);
    try { fileSink(g).write('x'); } finally { process.umask(um); }
    assert.equal(fs.statSync(g).mode & 0o777, 0o644);
    assert.throws(() => fileSink(path.join(dir, 'no', 'such')), { message: `open ${path.join(dir, 'no', 'such')}: no such file or directory` });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('goQuote and goJson', () => {
  assert.equal(goQuote('FOO'), '"FOO"');
  assert.equal(goQuote('a"b\\c\x07\x7f\u0085é'), '"a\\"b\\\\c\\a\\x7f\\u0085é"');
  assert.equal(goJson({ a: '<\b\f\\b&' }), '{"a":"\\u003c\\u0008\\u000c\\\\b\\u0026"}');
  assert.equal(goJson('\u2028'), '"\\u2028"');
});

test('isTerminalFd: pty yes; /dev/null, a file, a bad fd no', () => {
  const ptmx = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const devnull = fs.openSync('/dev/null', 'r');
  const file = fs.openSync(__filename, 'r');
  try {
    assert.equal(isTerminalFd(ptmx), true);
    assert.equal(isTerminalFd(devnull), false);
    assert.equal(isTerminalFd(file), false);
    assert.equal(isTerminalFd(987654), false);
  } finally {
    for (const fd of [ptmx, devnull, file]) fs.closeSync(fd);
  }
});

test('a log message is cut at MAX_LOG_MESSAGE characters, saying how much was left out', () => {
  assert.equal(clipMessage('short'), 'short');
  const long = 'x'.repeat(MAX_LOG_MESSAGE + 10);
  assert.equal(clipMessage(long), `${'x'.repeat(MAX_LOG_MESSAGE)}... (10 more characters)`);
  const out = sink();
  new Logger({ out, stderr: out, toFile: false, format: 'json', debug: false, now: () => T }).fatal('y'.repeat(100000));
  assert.equal(out.lines.length, 1);
  assert.ok(out.lines[0]!.length < MAX_LOG_MESSAGE + 200);
  assert.ok(out.lines[0]!.includes('(91808 more characters)'));
});
