// The plan of mount options beyond mount(2)'s flags, linux.devices and masked/read-only paths:
// recursive attributes (MOUNT_ATTRS), tmpcopyup (TMPCOPYUP), remount, propagation options in turn,
// relative destinations, and devices of every type. Pure: no container is run here (see
// test/integration/mounts.test.ts for the same from inside real containers).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compile, parseMountOptions, recursiveAttrs, type HostFacts } from '../../src/plan/compile';
import { MS } from '../../src/plan/ops';
import { MOUNT_ATTR } from '../../src/plan/tables';
import type { Spec } from '../../src/spec/types';
import { TsruncError } from '../../src/errors';
import { defaultSpec } from '../../src/spec/default';

const HOST: HostFacts = { cgroup: { mode: 'v2', v1: [], unifiedDir: '/sys/fs/cgroup/c1' } };

function spec(edit: (s: Spec) => void): Spec {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0, cgroupNamespace: false });
  s.process!.terminal = false;
  edit(s);
  return s;
}

function ops(s: Spec) {
  return compile(s, { bundle: '/b', rootfs: '/b/rootfs', noPivot: false, keepFds: 0, host: HOST }).ops;
}

const withMount = (m: NonNullable<Spec['mounts']>[number]) => spec((s) => { s.mounts!.push(m); });

test('every flag option of config.md sets or clears its MS_* flag; defaults and symfollow are not data', () => {
  const cases: [string[], number][] = [
    [['sync'], MS.SYNCHRONOUS], [['sync', 'async'], 0], [['dirsync'], MS.DIRSYNC], [['mand'], MS.MANDLOCK],
    [['mand', 'nomand'], 0], [['lazytime'], MS.LAZYTIME], [['lazytime', 'nolazytime'], 0], [['iversion'], MS.I_VERSION],
    [['iversion', 'noiversion'], 0], [['silent'], MS.SILENT], [['silent', 'loud'], 0], [['noatime'], MS.NOATIME],
    [['noatime', 'atime'], 0], [['nodiratime'], MS.NODIRATIME], [['nodiratime', 'diratime'], 0], [['relatime'], MS.RELATIME],
    [['relatime', 'norelatime'], 0], [['strictatime'], MS.STRICTATIME], [['strictatime', 'nostrictatime'], 0],
    [['nosymfollow'], MS.NOSYMFOLLOW], [['nosymfollow', 'symfollow'], 0], [['remount'], MS.REMOUNT], [['defaults'], 0],
    [['nodev', 'dev', 'noexec', 'exec', 'nosuid', 'suid', 'ro', 'rw'], 0],
  ];
  for (const [opts, flags] of cases) {
    const p = parseMountOptions(opts);
    assert.equal(p.flags, flags, opts.join(','));
    assert.deepEqual(p.data, [], opts.join(','));
  }
  assert.deepEqual(parseMountOptions(['mode=755', 'defaults', 'size=1m']).data, ['mode=755', 'size=1m']);
});

test('recursive options become mount_setattr attributes; the atime family resolves as mount(2) does', () => {
  const A = MOUNT_ATTR;
  assert.deepEqual(recursiveAttrs(['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow']),
    { set: A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC | A.NODIRATIME | A.NOSYMFOLLOW, clear: 0, any: true });
  assert.deepEqual(recursiveAttrs(['rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']),
    { set: 0, clear: A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC | A.NODIRATIME | A.NOSYMFOLLOW, any: true });
  assert.deepEqual(recursiveAttrs(['rro', 'rrw']), { set: 0, clear: A.RDONLY, any: true });
  const atime = (o: string[]) => { const r = recursiveAttrs(o); assert.equal(r.clear, A.ATIME_MASK, o.join()); return r.set; };
  assert.equal(atime(['rnoatime']), A.NOATIME);
  assert.equal(atime(['rstrictatime']), A.STRICTATIME);
  assert.equal(atime(['rrelatime']), A.RELATIME);
  assert.equal(atime(['ratime']), A.RELATIME); // runc 1.1.5: EINVAL
  assert.equal(atime(['rnostrictatime']), A.RELATIME); // runc 1.1.5: EINVAL
  assert.equal(atime(['rnoatime', 'ratime']), A.RELATIME);
  assert.equal(atime(['rnoatime', 'rstrictatime']), A.STRICTATIME); // strictatime wins, as in mount(2)
  assert.deepEqual(recursiveAttrs(['ro', 'nosuid']), { set: 0, clear: 0, any: false });
});

test('recursive attributes: a MOUNT_ATTRS op right after the mount, recursive; none without them', () => {
  const o = ops(withMount({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rro', 'rnoexec'] }));
  const i = o.findIndex((x) => x.op === 'MOUNT' && x.strs[1] === '/data');
  assert.equal(o[i + 1]!.op, 'MOUNT_ATTRS');
  assert.deepEqual(o[i + 1]!.ints, [MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOEXEC, 0, 1, 0]);
  assert.deepEqual(o[i + 1]!.strs, ['/data']);
  assert.match(o[i + 1]!.what, /set ro,noexec on `\/data` and every mount below it/);
  assert.equal(ops(withMount({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro'] })).some((x) => x.op === 'MOUNT_ATTRS'), false);
});

test('rro on a mount that later mounts or devices go into waits until after pivot_root', () => {
  const s = spec((x) => {
    x.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['rro'] });
    x.mounts!.push({ destination: '/data/sub', type: 'tmpfs', source: 'tmpfs', options: [] });
  });
  const o = ops(s);
  const attrs = o.findIndex((x) => x.op === 'MOUNT_ATTRS');
  assert.ok(attrs > o.findIndex((x) => x.op === 'PIVOT_ROOT'), 'after pivot_root');
  assert.ok(attrs > o.findIndex((x) => x.op === 'MOUNT' && x.strs[1] === '/data/sub'));
  assert.match(o[attrs]!.what, /after it was populated/);
});

test('propagation options are applied in turn: the first by MOUNT, each further one by MOUNT_ATTRS', () => {
  const o = ops(withMount({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['rprivate', 'shared', 'runbindable'] }));
  const i = o.findIndex((x) => x.op === 'MOUNT' && x.strs[1] === '/m');
  assert.equal(o[i]!.ints[1], MS.PRIVATE | MS.REC);
  assert.deepEqual(o[i + 1]!.ints, [0, 0, 0, MS.SHARED]);
  assert.deepEqual(o[i + 2]!.ints, [0, 0, 1, MS.UNBINDABLE]);
});

test('tmpcopyup: a TMPCOPYUP op with the MOUNT fields; refused on anything but a tmpfs', () => {
  const o = ops(withMount({ destination: '/var/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup', 'mode=1777'] }));
  const c = o.find((x) => x.op === 'TMPCOPYUP')!;
  assert.deepEqual(c.strs, ['tmpfs', '/var/tmp', 'tmpfs', 'mode=1777']);
  assert.deepEqual(c.ints, [MS.NOSUID, 0, 0, 0]);
  for (const m of [{ destination: '/x', type: 'bind', source: '/srv', options: ['rbind', 'tmpcopyup'] },
    { destination: '/x', type: 'proc', source: 'proc', options: ['tmpcopyup'] }]) {
    assert.throws(() => ops(withMount(m)), (e: unknown) => e instanceof TsruncError && e.code === 'E_CONFIG_INVALID' &&
      /\/mounts\/\d+\/options: tmpcopyup is only for tmpfs mounts/.test(e.message));
  }
});

test('remount: the MOUNT op keeps MS_REMOUNT (the init changes the mount already there)', () => {
  const o = ops(withMount({ destination: '/dev', type: 'bind', source: '/dev', options: ['bind', 'remount', 'ro'] }));
  const m = o.filter((x) => x.op === 'MOUNT' && x.strs[1] === '/dev').pop()!;
  assert.equal(Number(m.ints[0]) & (MS.REMOUNT | MS.RDONLY | MS.BIND), MS.REMOUNT | MS.RDONLY | MS.BIND);
  assert.match(m.what, /^remount /);
});

test('relative destinations mean relative to `/`', () => {
  const o = ops(withMount({ destination: 'data/x', type: 'tmpfs', source: 'tmpfs' }));
  assert.ok(o.some((x) => x.op === 'MOUNT' && x.strs[1] === '/data/x'));
});

test('linux.devices: every type, defaults 0666 and 0:0, strict, before the /dev symlinks', () => {
  const s = spec((x) => {
    x.linux!.devices = [
      { path: '/dev/c1', type: 'c', major: 1, minor: 3 },
      { path: '/dev/u1', type: 'u', major: 1, minor: 5, fileMode: 0o640, uid: 5, gid: 7 },
      { path: '/dev/b1', type: 'b', major: 7, minor: 0, fileMode: 0o60660 },
      { path: '/dev/p1', type: 'p', major: 3, minor: 4 },
    ];
  });
  const o = ops(s);
  const dev = (p: string) => o.find((x) => x.op === 'MKNOD' && x.strs[0] === p)!;
  assert.deepEqual(dev('/dev/c1').ints, [0o20666, 1, 3, 0, 0, 1]);
  assert.deepEqual(dev('/dev/u1').ints, [0o20640, 1, 5, 5, 7, 1]);
  assert.deepEqual(dev('/dev/b1').ints, [0o60660, 7, 0, 0, 0, 1]);
  assert.deepEqual(dev('/dev/p1').ints, [0o10666, 0, 0, 0, 0, 1]);
  assert.deepEqual(dev('/dev/null').ints, [0o20666, 1, 3, 0, 0], 'default devices are not strict');
  const lastDev = o.map((x) => x.op).lastIndexOf('MKNOD');
  assert.ok(lastDev < o.findIndex((x) => x.op === 'SYMLINK' && x.strs[1] === '/dev/ptmx'));
});

test('maskedPaths and readonlyPaths: one op each, in config order, duplicates kept (as runc)', () => {
  const o = ops(spec((x) => {
    x.linux!.maskedPaths = ['/a', '/a/b', '/a'];
    x.linux!.readonlyPaths = ['/r', '/r'];
  }));
  assert.deepEqual(o.filter((x) => x.op === 'MASK').map((x) => x.strs[0]), ['/a', '/a/b', '/a']);
  assert.deepEqual(o.filter((x) => x.op === 'READONLY').map((x) => x.strs[0]), ['/r', '/r']);
});
