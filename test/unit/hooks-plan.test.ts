// The plan of hooks (src/plan/compile.ts, ops HOOK_SYNC and HOOK): where they sit in the op list,
// and what the init gets for a container-namespace hook (state template, cwd, argv, env, timeout).
// Also the hook state's shape (src/lifecycle/hooks.ts) and the state.json check of recorded hooks.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile, type HostFacts } from '../../src/plan/compile';
import { dumpText } from '../../src/plan/dump';
import { OP } from '../../src/plan/ops';
import type { Spec } from '../../src/spec/types';
import { hookState } from '../../src/lifecycle/hooks';
import { StateStore } from '../../src/state/store';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const V2: HostFacts = { cgroup: { mode: 'v2', v1: [], unifiedDir: '/sys/fs/cgroup/default/c1' } };

function spec(hooks: Spec['hooks'], annotations?: Record<string, string>): Spec {
  return {
    ociVersion: '1.3.0',
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'network' }] },
    hooks,
    ...(annotations ? { annotations } : {}),
  } as Spec;
}

function plan(s: Spec) {
  return compile(s, { bundle: '/bundle', rootfs: '/bundle/rootfs', fifoPath: '/run/tsrunc/c1/exec.fifo', noPivot: false, keepFds: 0, host: V2, id: 'c1' });
}

const H = (p: string, extra: Record<string, unknown> = {}) => ({ path: p, ...extra });

test('hooks plan: golden dump with every kind', () => {
  const text = dumpText(plan(spec({
    prestart: [H('/p')], createRuntime: [H('/cr')], createContainer: [H('/cc', { args: ['cc', '-x'], env: ['A=1'], timeout: 3 })],
    startContainer: [H('/sc')], poststart: [H('/ps')], poststop: [H('/pst')],
  })));
  const file = path.join(GOLDEN, 'hooks.v2.txt');
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), 'golden hooks.v2.txt differs (UPDATE_GOLDEN=1 to accept)');
});

test('hooks plan: HOOK_SYNC, then createContainer, right before pivot_root; startContainer after WAIT_START, before EXEC', () => {
  const ops = plan(spec({ prestart: [H('/p')], createContainer: [H('/a'), H('/b')], startContainer: [H('/s')] })).ops.map((o) => o.op);
  const pivot = ops.indexOf('PIVOT_ROOT');
  assert.deepEqual(ops.slice(pivot - 3, pivot + 1), ['HOOK_SYNC', 'HOOK', 'HOOK', 'PIVOT_ROOT']);
  assert.deepEqual(ops.slice(-3), ['WAIT_START', 'HOOK', 'EXEC']);
  assert.equal(OP.HOOK_SYNC, 70);
  assert.equal(OP.HOOK, 71);
});

test('hooks plan: no HOOK_SYNC without prestart or createRuntime; poststart/poststop make no op', () => {
  for (const hooks of [{}, { poststart: [H('/x')], poststop: [H('/y')] }, { prestart: [] }]) {
    assert.ok(!plan(spec(hooks)).ops.some((o) => o.op === 'HOOK_SYNC' || o.op === 'HOOK'), JSON.stringify(hooks));
  }
  assert.equal(plan(spec({ createRuntime: [H('/x')] })).ops.filter((o) => o.op === 'HOOK_SYNC').length, 1);
});

test('hooks plan: the HOOK op carries kind, index, timeout in ms, argv, env (or none: inherit), state template, cwd', () => {
  const ops = plan(spec({ createContainer: [H('/a'), H('/cc', { args: ['x0', '-c'], env: ['A=1', 'B=2'], timeout: 2 })], startContainer: [H('/s')] },
    { k: 'v' })).ops.filter((o) => o.op === 'HOOK');
  assert.deepEqual(ops[1]!.ints, [0, 1, 2000, 2, 1]);
  const [p, head, tail, cwd, ...rest] = ops[1]!.strs;
  assert.equal(p, '/cc');
  assert.equal(cwd, '/bundle/rootfs');
  assert.deepEqual(rest, ['x0', '-c', 'A=1', 'B=2']);
  assert.deepEqual(JSON.parse(`${head}1${tail}`), { ociVersion: '1.3.0', id: 'c1', status: 'creating', pid: 1, bundle: '/bundle', annotations: { k: 'v' } });
  assert.deepEqual(ops[0]!.ints, [0, 0, 0, 0, 0]);
  const sc = ops[2]!;
  assert.deepEqual(sc.ints, [1, 0, 0, 0, 0]);
  assert.equal(sc.strs[3], '', 'startContainer keeps the process cwd');
  assert.equal(JSON.parse(`${sc.strs[1]}7${sc.strs[2]}`).status, 'created');
});

test('hook state: runc\'s shape (pid omitted when 0, annotations omitted when empty), key order', () => {
  assert.equal(JSON.stringify(hookState('c', '/b', 'running', 42, { a: 'b' })),
    '{"ociVersion":"1.3.0","id":"c","status":"running","pid":42,"bundle":"/b","annotations":{"a":"b"}}');
  assert.equal(JSON.stringify(hookState('c', '/b', 'stopped', undefined, {})), '{"ociVersion":"1.3.0","id":"c","status":"stopped","bundle":"/b"}');
});

test('state.json: recorded hooks must be poststart/poststop lists of hooks with absolute paths', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hk-unit-'));
  try {
    const store = new StateStore(dir);
    const base = {
      ociVersion: '1.3.0', id: 'c1', pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/r', created: 'x', owner: '',
      cgroup: { paths: {} }, namespaces: [],
    };
    fs.mkdirSync(path.join(dir, 'c1'));
    const put = (hooks: unknown) => fs.writeFileSync(path.join(dir, 'c1', 'state.json'), JSON.stringify({ ...base, hooks }));
    put({ poststop: [{ path: '/bin/true', args: ['true'], timeout: 2 }] });
    assert.deepEqual(store.read('c1').hooks, { poststop: [{ path: '/bin/true', args: ['true'], timeout: 2 }] });
    for (const bad of [{ prestart: [{ path: '/x' }] }, { poststop: [{ path: 'rel' }] }, { poststop: [{ path: '/x', args: [1] }] }, { poststop: {} }, [], { poststart: [{ path: '/x', timeout: 0 }] }]) {
      put(bad);
      assert.throws(() => store.read('c1'), /hooks/, JSON.stringify(bad));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
