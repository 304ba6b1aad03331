import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { MAX_ID_LENGTH, isValidId, validateId } from '../../src/state/id';
import { TsruncError } from '../../src/errors';

function rejects(id: string, msg: RegExp | string): void {
  assert.throws(() => validateId(id), (e: unknown) => {
    assert.ok(e instanceof TsruncError, `not a TsruncError for ${JSON.stringify(id)}`);
    assert.equal(e.code, 'E_ID_INVALID');
    assert.equal(e.exitCode, 1);
    if (typeof msg === 'string') assert.equal(e.message, msg);
    else assert.match(e.message, msg);
    return true;
  }, JSON.stringify(id));
  assert.equal(isValidId(id), false, JSON.stringify(id));
}

test('runc accepts these', () => {
  for (const id of ['a..b', 'a,b', 'a+b', 'UPPER_ok-1.2', 'c1', 'a', '0', '_', '...', '.a', 'a.', '-x', 'x'.repeat(MAX_ID_LENGTH)]) {
    assert.doesNotThrow(() => validateId(id), id);
    assert.equal(isValidId(id), true, id);
  }
});

test('runc rejects these with `invalid container ID format`', () => {
  for (const id of ['a/b', '..', '.', '../x', 'x y', 'a:b', 'é', 'a=b', '/', 'a\nb', 'a\0b', 'a*b', 'tab\t', '~', 'a@b', 'a;b']) {
    rejects(id, 'invalid container ID format');
  }
});

test('empty id has its own message', () => {
  rejects('', 'container id cannot be empty');
});

test('length is bounded, and the message names the limit', () => {
  assert.equal(MAX_ID_LENGTH, 1024);
  rejects('x'.repeat(MAX_ID_LENGTH + 1), new RegExp(`invalid container ID format: .*limit is ${MAX_ID_LENGTH}`));
});
