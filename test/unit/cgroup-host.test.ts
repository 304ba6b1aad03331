// Host detection and cgroupsPath resolution (pure, over text).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  parseMountinfo, parseProcCgroup, readCgroupHost, readOwnCgroups, resolveCgroupPaths, cleanCgroupsPath,
} from '../../src/cgroup';
import { TsruncError } from '../../src/errors';

// This project's machines (runc-cli-contract §0), verbatim.
const HYBRID = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/fdf1d28f
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

// A systemd-style v1 host with co-mounted controllers and optional fields in mountinfo.
const V1 = `25 20 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
32 25 0:29 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,devices
33 25 0:30 / /sys/fs/cgroup/elogind rw - cgroup cgroup rw,name=elogind
`;

const V2 = `24 18 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
300 290 0:21 /user.slice /mnt/with\\040space rw - cgroup2 cgroup2 rw
`;

test('parseMountinfo: hybrid host (this machine)', () => {
  const h = parseMountinfo(HYBRID);
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.unified, '/sys/fs/cgroup/unified');
  assert.deepEqual([...h.v1.entries()].sort(), [
    ['blkio', '/sys/fs/cgroup/blkio'], ['cpu', '/sys/fs/cgroup/cpu'], ['cpuacct', '/sys/fs/cgroup/cpuacct'],
    ['cpuset', '/sys/fs/cgroup/cpuset'], ['devices', '/sys/fs/cgroup/devices'], ['freezer', '/sys/fs/cgroup/freezer'],
    ['memory', '/sys/fs/cgroup/memory'], ['name=systemd', '/sys/fs/cgroup/systemd'], ['pids', '/sys/fs/cgroup/pids'],
  ]);
  assert.equal(h.roots.get(''), '/');
});

test('parseMountinfo: v1 host with co-mounted controllers and named hierarchies', () => {
  const h = parseMountinfo(V1);
  assert.equal(h.mode, 'v1');
  assert.equal(h.unified, undefined);
  assert.equal(h.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(h.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(h.v1.get('net_prio'), '/sys/fs/cgroup/net_cls,net_prio');
  assert.equal(h.v1.get('name=systemd'), '/sys/fs/cgroup/systemd');
  assert.equal(h.v1.get('name=elogind'), '/sys/fs/cgroup/elogind');
  assert.equal(h.v1.has('xattr'), false);
  assert.equal(h.v1.has('rw'), false);
});

test('parseMountinfo: v2 host prefers /sys/fs/cgroup and unescapes mountpoints', () => {
  const h = parseMountinfo(V2);
  assert.equal(h.mode, 'v2');
  assert.equal(h.unified, '/sys/fs/cgroup');
  assert.equal(h.v1.size, 0);
  const only = parseMountinfo(V2.split('\n')[1]);
  assert.equal(only.unified, '/mnt/with space');
  assert.equal(only.roots.get(''), '/user.slice');
  // a stray named v1 hierarchy does not make a v2 host hybrid
  assert.equal(parseMountinfo(V2 + V1.split('\n')[1]).mode, 'v2');
});

test('parseMountinfo: no cgroup filesystem is an E_CGROUP error', () => {
  assert.throws(() => parseMountinfo('22 1 0:21 / /sys rw - sysfs sysfs rw\n'),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' && /no cgroup filesystem/.test(e.message));
});

test('parseProcCgroup: controllers, co-mounted lists, named and unified lines', () => {
  const own = parseProcCgroup('12:cpu,cpuacct:/a/b\n1:name=systemd:/user.slice\n0::/init.scope\n');
  assert.equal(own.get('cpu'), '/a/b');
  assert.equal(own.get('cpuacct'), '/a/b');
  assert.equal(own.get('name=systemd'), '/user.slice');
  assert.equal(own.get(''), '/init.scope');
  assert.equal(parseProcCgroup(HYBRID_SELF).get('memory'), '/process_api/fdf1d28f');
});

test('readCgroupHost/readOwnCgroups read from a proc root', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-proc-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'self'));
  fs.writeFileSync(path.join(root, 'self/mountinfo'), HYBRID);
  fs.writeFileSync(path.join(root, 'self/cgroup'), HYBRID_SELF);
  assert.equal(readCgroupHost(root).mode, 'hybrid');
  assert.equal(readOwnCgroups(root).get('memory'), '/process_api/fdf1d28f');
  fs.rmSync(path.join(root, 'self/cgroup'));
  assert.throws(() => readOwnCgroups(root), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `read \`${path.join(root, 'self/cgroup')}\`: ENOENT`);
});

test('cleanCgroupsPath: lexical, never escapes', () => {
  assert.equal(cleanCgroupsPath('/default/c1'), '/default/c1');
  assert.equal(cleanCgroupsPath('/default/c1/'), '/default/c1');
  assert.equal(cleanCgroupsPath('/../../x//y/./z'), '/x/y/z');
  assert.equal(cleanCgroupsPath('../../x'), 'x');
  assert.equal(cleanCgroupsPath('a/../b'), 'b');
  assert.equal(cleanCgroupsPath('.'), '');
  assert.equal(cleanCgroupsPath('/'), '/');
  assert.equal(cleanCgroupsPath(''), '');
});

test('resolve on hybrid: absolute from each root, unified included (runc cgroup_paths)', () => {
  const r = resolveCgroupPaths(parseMountinfo(HYBRID), parseProcCgroup(HYBRID_SELF), '/default/c1', 'c1');
  assert.deepEqual(r.paths, {
    '': '/sys/fs/cgroup/unified/default/c1',
    blkio: '/sys/fs/cgroup/blkio/default/c1',
    cpu: '/sys/fs/cgroup/cpu/default/c1',
    cpuacct: '/sys/fs/cgroup/cpuacct/default/c1',
    cpuset: '/sys/fs/cgroup/cpuset/default/c1',
    devices: '/sys/fs/cgroup/devices/default/c1',
    freezer: '/sys/fs/cgroup/freezer/default/c1',
    memory: '/sys/fs/cgroup/memory/default/c1',
    'name=systemd': '/sys/fs/cgroup/systemd/default/c1',
    pids: '/sys/fs/cgroup/pids/default/c1',
  });
});

test('resolve on hybrid: empty → <id> under the caller\'s own cgroup in each hierarchy', () => {
  const r = resolveCgroupPaths(parseMountinfo(HYBRID), parseProcCgroup(HYBRID_SELF), undefined, 'web');
  assert.equal(r.paths.memory, '/sys/fs/cgroup/memory/process_api/fdf1d28f/web');
  assert.equal(r.paths.cpu, '/sys/fs/cgroup/cpu/web');
  assert.equal(r.paths[''], '/sys/fs/cgroup/unified/web');
  const rel = resolveCgroupPaths(parseMountinfo(HYBRID), parseProcCgroup(HYBRID_SELF), '../../k/web', 'x');
  assert.equal(rel.paths.memory, '/sys/fs/cgroup/memory/process_api/fdf1d28f/k/web');
});

test('resolve on v1: co-mounted controllers share a directory; only name=systemd of the named ones', () => {
  const own = parseProcCgroup('4:cpu,cpuacct:/\n3:memory:/\n2:devices:/\n1:name=systemd:/\n5:net_cls,net_prio:/\n');
  const r = resolveCgroupPaths(parseMountinfo(V1), own, '/default/c1', 'c1');
  assert.equal(r.paths.cpu, '/sys/fs/cgroup/cpu,cpuacct/default/c1');
  assert.equal(r.paths.cpuacct, '/sys/fs/cgroup/cpu,cpuacct/default/c1');
  assert.equal(r.paths['name=systemd'], '/sys/fs/cgroup/systemd/default/c1');
  assert.equal(r.paths['name=elogind'], undefined);
  assert.equal(r.paths[''], undefined);
});

test('resolve on v2: absolute from the root; relative under the PARENT of the own cgroup (runc fs2)', () => {
  const h = parseMountinfo(V2);
  const own = parseProcCgroup('0::/user.slice/session-1.scope\n');
  assert.deepEqual(resolveCgroupPaths(h, own, '/default/c1', 'c1').paths, { '': '/sys/fs/cgroup/default/c1' });
  assert.deepEqual(resolveCgroupPaths(h, own, '', 'c1').paths, { '': '/sys/fs/cgroup/user.slice/c1' });
  assert.deepEqual(resolveCgroupPaths(h, parseProcCgroup('0::/\n'), 'a/b', 'c1').paths, { '': '/sys/fs/cgroup/a/b' });
});

test('resolve honours the mount root (cgroup namespaces, bind mounts)', () => {
  const h = parseMountinfo('40 30 0:37 /outer /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n' +
    '31 30 0:28 /outer /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n');
  const own = parseProcCgroup('1:cpu:/outer/me\n0::/outer/me\n');
  const r = resolveCgroupPaths(h, own, undefined, 'c1');
  assert.equal(r.paths.cpu, '/sys/fs/cgroup/cpu/me/c1');
  assert.equal(r.paths[''], '/sys/fs/cgroup/unified/me/c1');
  assert.throws(() => resolveCgroupPaths(h, parseProcCgroup('1:cpu:/elsewhere\n0::/outer\n'), undefined, 'c1'),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' && /outside the mounted part/.test(e.message));
});

test('resolve refuses the hierarchy root and the own cgroup, and a missing own entry', () => {
  const h = parseMountinfo(HYBRID);
  const own = parseProcCgroup(HYBRID_SELF);
  for (const p of ['/', '/..', '.', 'a/..']) {
    assert.throws(() => resolveCgroupPaths(h, own, p, 'c1'),
      (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' && /^invalid cgroupsPath/.test(e.message), p);
  }
  assert.throws(() => resolveCgroupPaths(h, parseProcCgroup('0::/\n'), 'x', 'c1'),
    (e: unknown) => e instanceof TsruncError && /own blkio cgroup not found/.test(e.message));
});
