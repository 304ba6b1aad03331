import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SignalError, parseSignal } from '../../src/cli/signals';
import { TsruncError } from '../../src/errors';

test('default is SIGTERM', () => {
  assert.equal(parseSignal(undefined), 15);
  assert.equal(parseSignal(''), 15);
});

test('names with or without SIG, any case (runc: upper-case, add SIG)', () => {
  for (const s of ['KILL', 'SIGKILL', 'kill', 'sigkill', 'SigKill']) assert.equal(parseSignal(s), 9, s);
  assert.equal(parseSignal('sigusr1'), 10);
  assert.equal(parseSignal('usr1'), 10);
  assert.equal(parseSignal('USR2'), 12);
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('HUP'), 1);
  assert.equal(parseSignal('SIGCHLD'), 17);
  assert.equal(parseSignal('STOP'), 19);
  assert.equal(parseSignal('WINCH'), 28);
  assert.equal(parseSignal('SYS'), 31);
  assert.equal(parseSignal('IOT'), 6);
});

test('numbers 1..64 (as containerd sends them)', () => {
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('15'), 15);
  assert.equal(parseSignal('1'), 1);
  assert.equal(parseSignal('64'), 64);
  assert.equal(parseSignal('+9'), 9); // strconv.Atoi accepts a sign
  assert.equal(parseSignal('009'), 9);
});

test('real-time signals', () => {
  assert.equal(parseSignal('RTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('rtmin+3'), 37);
  assert.equal(parseSignal('RTMAX'), 64);
  assert.equal(parseSignal('RTMAX-1'), 63);
  for (const bad of ['RTMIN+31', 'RTMAX+1', 'RTMIN-1', 'RTMAX-31', 'RTMIN+', 'RTMINX']) {
    assert.throws(() => parseSignal(bad), (e: unknown) => e instanceof SignalError && e.kind === 'unknown', bad);
  }
});

test('unknown names give runc\'s text, quoted as given', () => {
  for (const [raw, msg] of [
    ['FOO', 'unknown signal "FOO"'],
    ['SIGFOO', 'unknown signal "SIGFOO"'],
    ['foo', 'unknown signal "foo"'],
    ['0x9', 'unknown signal "0x9"'],
    ['9.0', 'unknown signal "9.0"'],
    ['a"b', 'unknown signal "a\\"b"'],
    ['constructor', 'unknown signal "constructor"'],
    ['__proto__', 'unknown signal "__proto__"'],
  ]) {
    assert.throws(() => parseSignal(raw), (e: unknown) => {
      assert.ok(e instanceof SignalError && e instanceof TsruncError);
      assert.equal(e.kind, 'unknown');
      assert.equal(e.code, 'E_SIGNAL');
      assert.equal(e.exitCode, 1);
      assert.equal(e.message, msg);
      return true;
    }, raw);
  }
});

test('numbers outside 0..64: kill(2) would say EINVAL; runc text', () => {
  assert.equal(parseSignal('0'), 0); // the existence check, accepted by runc
  for (const raw of ['65', '99', '-1', '-9', '100000000000000000000']) {
    assert.throws(() => parseSignal(raw), (e: unknown) => {
      assert.ok(e instanceof SignalError);
      assert.equal(e.kind, 'range');
      assert.equal(e.message, 'unable to signal init: invalid argument');
      return true;
    }, raw);
  }
});
