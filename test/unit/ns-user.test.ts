// Plans for user namespaces, time namespaces, idmapped mounts, configs without a mount namespace
// and domainname (the "Namespaces and ids" part of issue 6). The golden dump pins the whole
// sequence for one config; the other tests pin each rule.
//   UPDATE_GOLDEN=1 node --test dist/test/unit/ns-user.test.js
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile, checkSupported, type HostFacts } from '../../src/plan/compile';
import { dumpText } from '../../src/plan/dump';
import { CLONE, MS } from '../../src/plan/ops';
import { specProblems, formatProblem } from '../../src/spec/checks';
import type { Spec } from '../../src/spec/types';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'configs', 'good');
const GOLDEN = path.join(ROOT, 'test', 'golden');
const HYBRID: HostFacts = {
  cgroup: {
    mode: 'hybrid',
    v1: [{ name: 'memory', options: 'memory', containerDir: '/sys/fs/cgroup/memory/default/c1' }],
  },
};
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

function base(): Spec {
  const s = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'runc-spec.json'), 'utf8')) as Spec;
  s.process!.terminal = false;
  return s;
}

function userns(s: Spec): Spec {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = MAP;
  s.linux!.gidMappings = MAP;
  return s;
}

function plan(spec: Spec) {
  return compile(spec, { bundle: '/bundle', rootfs: '/bundle/rootfs', fifoPath: '/run/tsrunc/c1/exec.fifo', noPivot: false, keepFds: 0, host: HYBRID });
}

function problems(s: Spec): string[] {
  return specProblems(s, { needProcess: true }).map(formatProblem).map((l) => l.replace(/^config\.json: /, ''));
}

test('golden: user namespace with a time namespace and an idmapped mount', () => {
  const s = userns(base());
  s.linux!.namespaces!.push({ type: 'time' });
  s.linux!.timeOffsets = { monotonic: { secs: 3600 }, boottime: { secs: -5, nanosecs: 7 } };
  s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ridmap', 'ro'], uidMappings: MAP, gidMappings: MAP });
  const text = dumpText(plan(s));
  const file = path.join(GOLDEN, 'ns-user.hybrid.txt');
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), 'golden ns-user.hybrid.txt differs (UPDATE_GOLDEN=1 to accept)');
});

test('user namespace: in the clone flags, maps for create, devices bound from the host, fifo passed', () => {
  const p = plan(userns(base()));
  assert.ok(p.cloneFlags & CLONE.NEWUSER);
  assert.equal(p.namespaces[0]!.type, 'user');
  assert.deepEqual(p.idMappings, { uid: MAP, gid: MAP });
  assert.ok(!p.ops.some((o) => o.op === 'MKNOD'), 'no mknod in a user namespace');
  for (const d of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']) {
    const op = p.ops.find((o) => o.op === 'BIND_DEVICE' && o.strs[0] === d)!;
    assert.equal(op.ints[0], 0o020000, d);
  }
  assert.ok(!p.ops.some((o) => o.op === 'OPEN_FIFO'));
  assert.ok(p.ops.some((o) => o.op === 'RECV_FIFO'));
  assert.deepEqual(p.sendFds, [{ kind: 'fifo', path: '/run/tsrunc/c1/exec.fifo' }]);
  // Without a user namespace: mknod, open the fifo, no maps.
  const q = plan(base());
  assert.ok(q.ops.some((o) => o.op === 'MKNOD') && q.ops.some((o) => o.op === 'OPEN_FIFO'));
  assert.equal(q.idMappings, undefined);
  assert.equal(q.sendFds, undefined);
});

test('user namespace: linux.devices are bound from the host, fifos still made', () => {
  const s = userns(base());
  s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }, { path: '/dev/myfifo', type: 'p' }];
  const p = plan(s);
  assert.ok(p.ops.some((o) => o.op === 'BIND_DEVICE' && o.strs[0] === '/dev/fuse' && o.ints.join() === [0o020000, 10, 229].join()));
  assert.ok(p.ops.some((o) => o.op === 'MKNOD' && o.strs[0] === '/dev/myfifo'));
});

test('user namespace without a new network namespace: sysfs becomes an rbind of /sys', () => {
  const s = userns(base());
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  const op = plan(s).ops.find((o) => o.op === 'MOUNT' && o.strs[1] === '/sys')!;
  assert.equal(op.strs[0], '/sys');
  assert.equal(op.ints[2], 1);
  assert.ok((op.ints[0] as number) & MS.REC && (op.ints[0] as number) & MS.RDONLY);
  // With one, sysfs itself.
  assert.equal(plan(userns(base())).ops.find((o) => o.op === 'MOUNT' && o.strs[1] === '/sys')!.strs[2], 'sysfs');
});

test('mappings: runc\'s texts; a bad range; mappings without a user namespace', () => {
  const s = base();
  s.linux!.namespaces!.push({ type: 'user' });
  assert.deepEqual(problems(s), [
    '/linux/uidMappings: user namespaces enabled, but no uid mappings found',
    '/linux/gidMappings: user namespaces enabled, but no gid mappings found',
  ]);
  s.linux!.uidMappings = [{ containerID: 1, hostID: 100000, size: 10 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 4294967290, size: 10 }];
  assert.deepEqual(problems(s), [
    '/linux/gidMappings/0: hostID 4294967290 + size 10 goes past the largest gid 4294967294',
    '/linux/uidMappings: user namespaces enabled, but no user mapping found (container uid 0 must be mapped)',
  ]);
  const t = base();
  t.linux!.uidMappings = MAP;
  t.linux!.gidMappings = MAP;
  assert.deepEqual(problems(t), [
    "/linux/uidMappings: user namespace mappings specified, but user namespace isn't enabled in the config",
    "/linux/gidMappings: user namespace mappings specified, but user namespace isn't enabled in the config",
  ]);
});

test('time namespace: new with offsets (TIMENS first), joined by path (JOIN_TIMENS), offsets need a new one', () => {
  const s = base();
  s.linux!.namespaces!.push({ type: 'time' });
  s.linux!.timeOffsets = { boottime: { secs: 86400 } };
  const p = plan(s);
  assert.equal(p.ops[0]!.op, 'TIMENS');
  assert.deepEqual(p.ops[0]!.ints, [0, 0, 86400, 0]);
  assert.equal(p.cloneFlags & CLONE.NEWTIME, 0, 'made by the init, not the clone');
  assert.deepEqual(p.namespaces.find((n) => n.type === 'time'), { type: 'time', how: 'unshare' });

  const j = base();
  j.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' });
  checkSupported(j);
  const pj = plan(j);
  assert.equal(pj.ops[0]!.op, 'JOIN_TIMENS');
  assert.deepEqual(pj.ops[0]!.strs, ['/proc/1/ns/time']);
  assert.deepEqual(pj.namespaces.find((n) => n.type === 'time'), { type: 'time', how: 'join', path: '/proc/1/ns/time' });
  j.linux!.timeOffsets = { monotonic: { secs: 1 } };
  assert.deepEqual(problems(j), ['/linux/timeOffsets: time offsets cannot be set on a time namespace joined by path']);

  const n = base();
  n.linux!.timeOffsets = { monotonic: { secs: 1 } };
  assert.deepEqual(problems(n), ["/linux/timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config"]);
});

test('idmapped mounts: maps needed, maps need the option, bind mounts only, the container maps as default', () => {
  const withMount = (m: NonNullable<Spec['mounts']>[number], user = false) => {
    const s = user ? userns(base()) : base();
    s.mounts!.push(m);
    return () => plan(s);
  };
  assert.throws(withMount({ destination: '/d', type: 'bind', source: '/srv', options: ['bind', 'idmap'] }),
    /\/mounts\/\d+: option `idmap` needs uidMappings and gidMappings \(or a user namespace/);
  assert.throws(withMount({ destination: '/d', type: 'bind', source: '/srv', options: ['bind'], uidMappings: MAP, gidMappings: MAP }),
    /\/mounts\/\d+: uidMappings\/gidMappings are set but the options have no `idmap` or `ridmap`/);
  assert.throws(withMount({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: MAP, gidMappings: MAP }),
    /option `idmap` is supported on bind mounts only, not on a mount of type `tmpfs`/);
  const p = withMount({ destination: '/d', type: 'bind', source: '/srv', options: ['bind', 'idmap', 'ro'] }, true)();
  const op = p.ops.find((o) => o.op === 'MOUNT_IDMAP')!;
  assert.deepEqual(op.strs, ['/srv', '/d']);
  assert.ok((op.ints[0] as number) & MS.RDONLY);
  assert.deepEqual(p.sendFds![1], { kind: 'idmap', path: '/srv', tree: false, recursive: false, uidMappings: MAP, gidMappings: MAP });
  const own = [{ containerID: 0, hostID: 1000, size: 1 }];
  const r = withMount({ destination: '/d', type: 'bind', source: 'rel', options: ['rbind', 'ridmap'], uidMappings: own, gidMappings: own })();
  assert.deepEqual(r.sendFds, [
    { kind: 'idmap', path: '/bundle/rel', tree: true, recursive: true, uidMappings: own, gidMappings: own },
  ]);
  // idmap is not mount(2) data.
  assert.ok(!r.ops.some((o) => o.op === 'MOUNT' && o.strs[3]?.includes('idmap')));
});

test('no mount namespace: the caller\'s, no propagation change, chroot, delete detaches (hostMounts)', () => {
  const s = base();
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  assert.throws(() => plan(s), /\/linux\/maskedPaths: unable to restrict sys entries without a private MNT namespace/);
  delete s.linux!.maskedPaths;
  assert.throws(() => plan(s), /\/linux\/readonlyPaths: unable to restrict sys entries without a private MNT namespace/);
  delete s.linux!.readonlyPaths;
  const p = plan(s);
  assert.equal(p.cloneFlags & CLONE.NEWNS, 0);
  assert.ok(!p.ops.some((o) => o.op === 'ROOT_PROPAGATE'));
  const bind = p.ops.find((o) => o.op === 'BIND_ROOTFS')!;
  assert.deepEqual(bind.ints, [1]);
  const pivot = p.ops.find((o) => o.op === 'PIVOT_ROOT')!;
  assert.deepEqual(pivot.ints, [2]);
  assert.equal(p.hostMounts, true);
  s.linux!.rootfsPropagation = 'shared';
  assert.throws(() => plan(s), /unable to set rootfs propagation without a private MNT namespace/);
  // With one: unchanged.
  const q = plan(base());
  assert.deepEqual(q.ops.find((o) => o.op === 'BIND_ROOTFS')!.ints, []);
  assert.deepEqual(q.ops.find((o) => o.op === 'PIVOT_ROOT')!.ints, [0]);
  assert.equal(q.hostMounts, undefined);
});

test('domainname: set with a new uts namespace, refused without one (runc\'s text)', () => {
  const s = base();
  s.domainname = 'example.org';
  assert.deepEqual(plan(s).ops.filter((o) => o.op === 'DOMAINNAME').map((o) => o.strs), [['example.org']]);
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
  delete s.hostname;
  assert.throws(() => plan(s), /config\.json: \/domainname: unable to set domainname without a private UTS namespace/);
});
