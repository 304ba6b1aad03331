import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatListJson, formatListQuiet, formatListTable, formatState, tabwrite } from '../../src/cli/format';
import type { OciState } from '../../src/lifecycle/api';

// Output captured from runc 1.1.5 (`state`, `list`, `list -f json`) for three containers, one
// stopped, one in a bundle whose path needs Go's HTML escaping, with annotations whose keys sort
// differently as strings than as JS object keys.
const RUNC_STATE_STOPPED = "{\n  \"ociVersion\": \"1.0.2-dev\",\n  \"id\": \"c1\",\n  \"pid\": 0,\n  \"status\": \"stopped\",\n  \"bundle\": \"/tmp/cli-probe/bb\",\n  \"rootfs\": \"/tmp/cli-probe/bb/rootfs\",\n  \"created\": \"2026-11-23T16:24:55.760456094Z\",\n  \"annotations\": {\n    \"org.example.key\": \"v1\"\n  },\n  \"owner\": \"\"\n}";
const RUNC_STATE_ESCAPED = "{\n  \"ociVersion\": \"1.0.2-dev\",\n  \"id\": \"w1\",\n  \"pid\": 14091,\n  \"status\": \"created\",\n  \"bundle\": \"/tmp/cli-probe/b\\u0026\\u003c\u00e9\\u003e\",\n  \"rootfs\": \"/tmp/cli-probe/b\\u0026\\u003c\u00e9\\u003e/rootfs\",\n  \"created\": \"2026-11-23T16:31:17.279714832Z\",\n  \"annotations\": {\n    \"10\": \"a\\u003cb\",\n    \"9\": \"c\",\n    \"A\": \"\\u0008\\u000c\\u2028\",\n    \"org.z\": \"1\"\n  },\n  \"owner\": \"\"\n}";
const RUNC_LIST_TABLE = "ID                                 PID         STATUS      BUNDLE                 CREATED                          OWNER\naveryveryverylongcontainername_x   5018        created     /tmp/cli-probe/bb      2026-11-23T16:24:55.825199113Z   root\nc1                                 0           stopped     /tmp/cli-probe/bb      2026-11-23T16:24:55.760456094Z   root\nw1                                 14091       created     /tmp/cli-probe/b&<\u00e9>   2026-11-23T16:31:17.279714832Z   root\n";
const RUNC_LIST_JSON = "[{\"ociVersion\":\"1.0.2-dev\",\"id\":\"averyveryverylongcontainername_x\",\"pid\":5018,\"status\":\"created\",\"bundle\":\"/tmp/cli-probe/bb\",\"rootfs\":\"/tmp/cli-probe/bb/rootfs\",\"created\":\"2026-11-23T16:24:55.825199113Z\",\"annotations\":{\"org.example.key\":\"v1\"},\"owner\":\"root\"},{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"/tmp/cli-probe/bb\",\"rootfs\":\"/tmp/cli-probe/bb/rootfs\",\"created\":\"2026-11-23T16:24:55.760456094Z\",\"annotations\":{\"org.example.key\":\"v1\"},\"owner\":\"root\"},{\"ociVersion\":\"1.0.2-dev\",\"id\":\"w1\",\"pid\":14091,\"status\":\"created\",\"bundle\":\"/tmp/cli-probe/b\\u0026\\u003c\u00e9\\u003e\",\"rootfs\":\"/tmp/cli-probe/b\\u0026\\u003c\u00e9\\u003e/rootfs\",\"created\":\"2026-11-23T16:31:17.279714832Z\",\"annotations\":{\"10\":\"a\\u003cb\",\"9\":\"c\",\"A\":\"\\u0008\\u000c\\u2028\",\"org.z\":\"1\"},\"owner\":\"root\"}]\n";

const C_LONG: OciState = {
  ociVersion: '1.0.2-dev', id: 'averyveryverylongcontainername_x', pid: 5018, status: 'created',
  bundle: '/tmp/cli-probe/bb', rootfs: '/tmp/cli-probe/bb/rootfs', created: '2026-11-23T16:24:55.825199113Z',
  annotations: { 'org.example.key': 'v1' }, owner: 'root',
};
const C_STOPPED: OciState = {
  ociVersion: '1.0.2-dev', id: 'c1', pid: 0, status: 'stopped',
  bundle: '/tmp/cli-probe/bb', rootfs: '/tmp/cli-probe/bb/rootfs', created: '2026-11-23T16:24:55.760456094Z',
  annotations: { 'org.example.key': 'v1' }, owner: '',
};
const C_ESCAPED: OciState = {
  ociVersion: '1.0.2-dev', id: 'w1', pid: 14091, status: 'created',
  bundle: '/tmp/cli-probe/b&<\u00e9>', rootfs: '/tmp/cli-probe/b&<\u00e9>/rootfs', created: '2026-11-23T16:31:17.279714832Z',
  annotations: { 'org.z': '1', 10: 'a<b', 9: 'c', A: '\b\f\u2028' }, owner: '',
};

test('state: runc bytes (2-space indent, no trailing newline)', () => {
  assert.equal(formatState(C_STOPPED), RUNC_STATE_STOPPED);
  assert.ok(!formatState(C_STOPPED).endsWith('\n'));
});

test('state: Go escaping (< > & \\b \\f U+2028) and sorted annotation keys', () => {
  assert.equal(formatState(C_ESCAPED), RUNC_STATE_ESCAPED);
});

test('state: annotations omitted when absent or empty (omitempty)', () => {
  const { annotations: _a, ...rest } = C_STOPPED;
  const want = RUNC_STATE_STOPPED.replace(/  "annotations": \{\n    "org.example.key": "v1"\n  \},\n/, '');
  assert.notEqual(want, RUNC_STATE_STOPPED);
  assert.equal(formatState(rest), want);
  assert.equal(formatState({ ...rest, annotations: {} }), want);
});

test('state: parses back to the same values', () => {
  const back = JSON.parse(formatState(C_ESCAPED)) as OciState;
  assert.deepEqual(back, JSON.parse(JSON.stringify(C_ESCAPED)));
});

test('list table: runc tabwriter layout, owner as given', () => {
  const list = [C_LONG, { ...C_STOPPED, owner: 'root' }, { ...C_ESCAPED, owner: 'root' }];
  assert.equal(formatListTable(list), RUNC_LIST_TABLE);
});

test('list table: header only when empty', () => {
  assert.equal(formatListTable([]), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
});

test('list json: one compact line, runc bytes', () => {
  const list = [C_LONG, { ...C_STOPPED, owner: 'root' }, { ...C_ESCAPED, owner: 'root' }];
  assert.equal(formatListJson(list), RUNC_LIST_JSON);
  assert.equal(formatListJson(list).split('\n').length, 2);
});

test('list json: null when empty', () => {
  assert.equal(formatListJson([]), 'null\n');
});

test('list -q: ids only', () => {
  assert.equal(formatListQuiet([C_LONG, C_STOPPED]), 'averyveryverylongcontainername_x\nc1\n');
  assert.equal(formatListQuiet([]), '');
});

test('tabwriter: minimum width 12, padding 3, widths in characters', () => {
  assert.equal(tabwrite([['a', 'b', 'c'], ['0123456789ab', 'x', 'y']]),
    'a              b           c\n0123456789ab   x           y\n');
  assert.equal(tabwrite([['\u00e9\u00e9', 'z']]), '\u00e9\u00e9          z\n');
});
