// Namespaces and ids (issue 6), checked from inside real containers: user namespaces with a
// mapped root that is not host root, idmapped mounts, time namespaces (new with offsets, joined by
// path), configs without a mount namespace (nothing left on the host after delete) and
// domainname. Differential against runc 1.1.5 where runc supports the field. Every bad config
// fails cleanly and leaves nothing behind. Container ids start with `nsu-`.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, type Bundle } from '../../conformance/lib/rootfs';
import type { OciConfig } from '../../conformance/lib/config';
import { RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, assertFails, cleanup, errMsg, leftovers, pollUntil, show, snapshot, tmpDir } from './support';

const HOST_ID = 100000;
const MAP = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];

let tmp = '';
let ts: Tsrunc;
let runc: RuntimeCli;
const ids: string[] = [];
const cleanups: (() => void)[] = [];

before(() => {
  tmp = tmpDir('tsrunc-nsu');
  // A mapped root is not host root: every directory on the way to a rootfs must be searchable.
  fs.chmodSync(tmp, 0o755);
  ts = new Tsrunc(path.join(tmp, 'root'), tmp);
  runc = new RuntimeCli('runc', path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
});
after(() => {
  for (const c of cleanups.reverse()) { try { c(); } catch { /* best effort */ } }
  for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(ts, ids, [tmp]);
});

let n = 0;
function id(name: string): string {
  const x = `nsu-${name}-${process.pid}-${++n}`;
  ids.push(x);
  return x;
}

/** A bundle whose rootfs belongs to the mapped ids (what users of runc do: chown the image). */
function usernsBundle(name: string, patch: (c: OciConfig) => void, args: string[]): Bundle {
  const b = makeBundle(path.join(tmp, name), (c) => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = MAP;
    c.linux!.gidMappings = MAP;
    c.root!.readonly = false;
    patch(c);
  }, { args });
  execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, b.rootfs]);
  return b;
}

function run(b: Bundle, name: string): { out: string; id: string } {
  const cid = id(name);
  const r = ts.call(['run', '-b', b.dir, cid]);
  assert.equal(r.status, 0, show(r));
  return { out: r.stdout, id: cid };
}

const INSIDE = [
  'cat /proc/self/uid_map /proc/self/gid_map',
  'id',
  'stat -c "%u:%g %n" / /bin/busybox /etc/passwd',
  'stat -c "%t:%T %F %n" /dev/null /dev/zero /dev/tty',
  'echo x > /dev/null && echo devnull-ok',
  'touch /tmp/made && stat -c "%u:%g made" /tmp/made',
  'cat /proc/self/status | grep ^CapEff',
].join('; ');

test('user namespace: a mapped root that is not host root, usable rootfs and devices (differential with runc)', () => {
  const b = usernsBundle('userns', () => undefined, ['sh', '-c', INSIDE]);
  const r = run(b, 'u');
  const lines = r.out.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
  assert.deepEqual(lines.slice(0, 2), [`0 ${HOST_ID} 65536`, `0 ${HOST_ID} 65536`], r.out);
  assert.match(lines[2]!, /^uid=0\(root\) gid=0\(root\)/);
  assert.deepEqual(lines.slice(3, 6), ['0:0 /', '0:0 /bin/busybox', '0:0 /etc/passwd']);
  // Host devices bound in (no mknod in a user namespace), owned by the unmapped host root.
  assert.deepEqual(lines.slice(6, 9), ['1:3 character special file /dev/null', '1:5 character special file /dev/zero', '5:0 character special file /dev/tty']);
  assert.equal(lines[9], 'devnull-ok');
  assert.equal(lines[10], '0:0 made');
  // Created by the container's root: on the host, the mapped id.
  const st = fs.statSync(path.join(b.rootfs, 'tmp', 'made'));
  assert.deepEqual([st.uid, st.gid], [HOST_ID, HOST_ID]);

  // runc 1.1.5 on the same bundle sees the same.
  const rid = id('u-runc');
  const rr = runc.call(['run', '-b', b.dir, rid]);
  assert.equal(rr.status, 0, `runc: ${rr.stderr}`);
  assert.deepEqual(rr.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), lines);
});

test('user namespace: linux.devices are the host\'s nodes, bound in', () => {
  const b = usernsBundle('userns-dev', (c) => {
    c.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11 }, { path: '/dev/nsu-fifo', type: 'p' }];
  }, ['sh', '-c', 'stat -c "%t:%T %F" /dev/kmsg /dev/nsu-fifo']);
  const r = run(b, 'dev');
  assert.deepEqual(r.out.trim().split('\n'), ['1:b character special file', '0:0 fifo']);
});

test('user namespace: create, state, start through exec.fifo, delete; nothing left behind', () => {
  const before = snapshot(ts.root, [tmp]);
  const b = usernsBundle('userns-cs', () => undefined, ['sh', '-c', 'readlink /proc/self/ns/user > /tmp/ns; id -u >> /tmp/ns']);
  const cid = id('cs');
  let r = ts.call(['create', '-b', b.dir, cid]);
  assert.equal(r.status, 0, show(r));
  assert.equal(ts.status(cid), 'created');
  const pid = ts.state(cid).pid as number;
  assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
  assert.equal(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().replace(/\s+/g, ' '), `0 ${HOST_ID} 65536`);
  r = ts.call(['start', cid]);
  assert.equal(r.status, 0, show(r));
  assert.equal(ts.waitStatus(cid, 'stopped', 5000), 'stopped');
  const [ns, uid] = fs.readFileSync(path.join(b.rootfs, 'tmp', 'ns'), 'utf8').trim().split('\n');
  assert.match(ns!, /^user:\[\d+\]$/);
  assert.equal(uid, '0');
  r = ts.call(['delete', cid]);
  assert.equal(r.status, 0, show(r));
  assert.deepEqual(leftovers(ts.root, before, [cid], [tmp]), []);
});

test('user namespace without a network namespace: /sys is the host\'s, bound read-only; locked flags kept', () => {
  // A read-only, nosuid host mount: bound into a user namespace its flags are locked, so a
  // remount that asks for nosuid alone must keep ro (runc does the same).
  const ro = path.join(tmp, 'ro-src');
  fs.mkdirSync(ro);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,mode=755', 'nsu-ro', ro]);
  cleanups.push(() => execFileSync('umount', ['-l', ro]));
  const b = usernsBundle('userns-nonet', (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((x) => x.type !== 'network');
    c.mounts!.push({ destination: '/ro', type: 'bind', source: ro, options: ['bind', 'nosuid'] });
  }, ['sh', '-c', 'test -d /sys/kernel && echo sys-ok; awk \'$5 == "/sys" || $5 == "/ro" { print $5, $6 }\' /proc/self/mountinfo']);
  const r = run(b, 'nonet');
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], 'sys-ok', r.out);
  assert.match(r.out, /^\/sys ro,nosuid,nodev,noexec/m);
  assert.match(r.out, /^\/ro ro,nosuid,nodev/m);
});

test('user namespace, hostile rootfs: symlinks at mount targets (tmpfs, idmapped bind) stay inside', () => {
  const outside = path.join(tmp, 'outside');
  const outside2 = path.join(tmp, 'outside2');
  const src = path.join(tmp, 'evil-src');
  for (const d of [outside, outside2, src]) fs.mkdirSync(d, { mode: 0o755 });
  fs.writeFileSync(path.join(src, 'marker'), 'm');
  const before = snapshot(ts.root, [outside, outside2]);
  const b = usernsBundle('userns-evil', (c) => {
    c.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
    c.mounts!.push({ destination: '/evil2', type: 'bind', source: src, options: ['bind', 'idmap'] });
  }, ['sh', '-c', `awk '$5 == "${outside}" || $5 == "${outside2}" { print $5, $9 }' /proc/self/mountinfo; ls ${outside2}; ls -l /dev/null | cut -c1`]);
  // Each points at a host directory by `..` past the root and an absolute path: resolved inside
  // the root, it names the same path inside the rootfs (made here so that it resolves).
  fs.symlinkSync(`/../../../../../..${outside}`, path.join(b.rootfs, 'evil'));
  fs.symlinkSync(outside2, path.join(b.rootfs, 'evil2'));
  for (const [l, t] of [['evil', outside], ['evil2', outside2]] as const) {
    fs.lchownSync(path.join(b.rootfs, l), HOST_ID, HOST_ID);
    fs.mkdirSync(path.join(b.rootfs, t), { recursive: true });
  }
  const r = run(b, 'evil');
  assert.equal(fs.readdirSync(outside).length, 0);
  assert.equal(fs.readdirSync(outside2).length, 0);
  assert.deepEqual(leftovers(ts.root, before, [], [outside, outside2]), []);
  assert.match(r.out, new RegExp(`^${outside} tmpfs$`, 'm'), 'the tmpfs is on the path inside the rootfs');
  assert.match(r.out, new RegExp(`^${outside2} ext4$|^${outside2} \\S+$`, 'm'), 'the idmapped bind is on the path inside the rootfs');
  assert.match(r.out, /^marker$/m);
  assert.match(r.out, /^c$/m, 'the bound /dev/null is a character device');
});

test('user namespace: bad maps fail with runc\'s words, nothing left behind', () => {
  const cases: [string, (c: OciConfig) => void, RegExp][] = [
    ['no maps', (c) => { delete c.linux!.uidMappings; delete c.linux!.gidMappings; },
      /\/linux\/uidMappings: user namespaces enabled, but no uid mappings found/],
    ['no root', (c) => { c.linux!.uidMappings = [{ containerID: 1, hostID: HOST_ID, size: 10 }]; },
      /\/linux\/uidMappings: user namespaces enabled, but no user mapping found/],
    ['overlap', (c) => { c.linux!.uidMappings = [...MAP, { containerID: 10, hostID: 300000, size: 5 }]; }, /\/linux\/uidMappings\/1: container uids 10-14 overlap/],
    ['no userns', (c) => { c.linux!.namespaces = c.linux!.namespaces!.filter((x) => x.type !== 'user'); },
      /\/linux\/uidMappings: user namespace mappings specified, but user namespace isn't enabled in the config/],
    // A device is bound from the host's node of the same path: it must be the device named.
    ['wrong device', (c) => { c.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 3 }]; },
      /bind-mount the host's `\/dev\/kmsg` on `\/dev\/kmsg` \(c 1:3: no mknod in a user namespace\): the host's \/dev\/kmsg is not the device the config names/],
  ];
  for (const [name, patch, want] of cases) {
    const b = usernsBundle(`bad-${name.replace(/ /g, '-')}`, patch, ['true']);
    const cid = id('bad');
    const before = snapshot(ts.root, [b.rootfs]);
    assertFails(ts.call(['run', '-b', b.dir, cid]), (m) => assert.match(m, want, name));
    assert.deepEqual(leftovers(ts.root, before, [cid], [b.rootfs]), [], name);
  }
  // runc 1.1.5 refuses a user namespace without maps with the same words (capitalised).
  const b = usernsBundle('bad-runc', (c) => { delete c.linux!.uidMappings; }, ['true']);
  const rr = runc.call(['run', '-b', b.dir, id('bad-runc')]);
  assert.equal(rr.status, 1);
  assert.match(rr.stderr, /User namespaces enabled, but no uid mappings found/);
  assertFails(ts.call(['run', '-b', b.dir, id('bad')]), /user namespaces enabled, but no uid mappings found/);
});

test('idmapped mounts: host root files are the mapped root\'s inside; ridmap; errors name the mount', () => {
  const data = path.join(tmp, 'data');
  fs.mkdirSync(data, { mode: 0o755 });
  fs.writeFileSync(path.join(data, 'f'), 'x');
  fs.chownSync(path.join(data, 'f'), 1000, 1000);
  // As runc 1.2 does, a mount's maps are the idmap user namespace's uid_map as they are: an
  // on-disk id `containerID` is seen through the mount as `hostID`.
  const own = [{ containerID: 0, hostID: 0, size: 1 }, { containerID: 1000, hostID: 5000, size: 1 }];
  const b = usernsBundle('idmap', (c) => {
    // idmap without own maps: the container's user namespace maps (config.md).
    c.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['bind', 'idmap'] });
    c.mounts!.push({ destination: '/plain', type: 'bind', source: data, options: ['bind'] });
  }, ['sh', '-c', 'stat -c "%u:%g" /data /data/f /plain; echo y > /data/g; grep -c idmapped /proc/self/mountinfo']);
  // /data is host-root-owned: through the idmap, the container's root owns it and can write.
  const r = run(b, 'idmap');
  const lines = r.out.trim().split('\n');
  // Host 0 -> container 0 (through the idmap: kuid 100000, the container's root).
  // Through the idmap (the container's maps): on-disk 0 is the container's root, 1000 its 1000;
  // the plain bind shows host root as unmapped (overflow id).
  assert.deepEqual(lines.slice(0, 3), ['0:0', '1000:1000', '65534:65534'], r.out);
  assert.equal(lines[3], '1');
  // What the container's root wrote through the idmap belongs to host root.
  assert.equal(fs.statSync(path.join(data, 'g')).uid, 0);

  // Own maps, no user namespace: on-disk 1000 shows as 5000.
  const b2 = makeBundle(path.join(tmp, 'idmap-own'), (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ridmap', 'ro'], uidMappings: own, gidMappings: own } as never);
  }, { args: ['sh', '-c', 'stat -c "%u:%g" /data/f; touch /data/h 2>/dev/null || echo ro'] });
  const r2 = run(b2, 'idmap-own');
  assert.deepEqual(r2.out.trim().split('\n'), ['5000:5000', 'ro']);

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no maps', { destination: '/d', type: 'bind', source: data, options: ['bind', 'idmap'] },
      /\/mounts\/\d+: option `idmap` needs uidMappings and gidMappings/],
    ['maps without idmap', { destination: '/d', type: 'bind', source: data, options: ['bind'], uidMappings: own, gidMappings: own },
      /\/mounts\/\d+: uidMappings\/gidMappings are set but the options have no `idmap` or `ridmap`/],
    ['procfs', { destination: '/d', type: 'bind', source: '/proc/sys', options: ['bind', 'idmap'], uidMappings: own, gidMappings: own },
      /idmapped mount of `\/proc\/sys`: its filesystem does not support idmapped mounts/],
  ];
  for (const [name, m, want] of bad) {
    const bb = makeBundle(path.join(tmp, `idmap-bad-${name.replace(/ /g, '-')}`), (c) => { c.mounts!.push(m as never); }, { args: ['true'] });
    const cid = id('idmap-bad');
    const before = snapshot(ts.root, [bb.rootfs]);
    assertFails(ts.call(['run', '-b', bb.dir, cid]), (msg) => assert.match(msg, want, name));
    assert.deepEqual(leftovers(ts.root, before, [cid], [bb.rootfs]), [], name);
  }
});

/** The boottime clock (seconds) of /proc/uptime. */
const uptime = (text: string) => Number(text.trim().split(/\s+/)[0]);

test('time namespace: offsets seen from inside (/proc/uptime, timens_offsets), joined by path, errors', () => {
  const DAY = 86400;
  const b = makeBundle(path.join(tmp, 'timens'), (c) => {
    c.linux!.namespaces!.push({ type: 'time' });
    c.linux!.timeOffsets = { boottime: { secs: 10 * DAY }, monotonic: { secs: 3 * DAY, nanosecs: 5 } };
    c.root!.readonly = false;
  }, { args: ['sh', '-c', '(cat /proc/uptime; cat /proc/self/timens_offsets; readlink /proc/self/ns/time) > /tmp/out; sleep 30'] });
  const cid = id('time');
  const out = path.join(b.rootfs, 'tmp', 'out');
  const host0 = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
  let r = ts.call(['run', '-d', '-b', b.dir, cid]);
  assert.equal(r.status, 0, show(r));
  pollUntil(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').length > 4, 5000);
  const pid = ts.state(cid).pid as number;
  const hostNs = fs.readlinkSync(`/proc/${pid}/ns/time`);
  assert.notEqual(hostNs, fs.readlinkSync('/proc/self/ns/time'));

  // A second container joins it by path: same namespace, same clocks.
  const j = makeBundle(path.join(tmp, 'timens-join'), (c) => {
    c.linux!.namespaces!.push({ type: 'time', path: `/proc/${pid}/ns/time` });
  }, { args: ['sh', '-c', 'cat /proc/uptime; readlink /proc/self/ns/time'] });
  r = ts.call(['run', '-b', j.dir, id('time-join')]);
  assert.equal(r.status, 0, show(r));
  const [up, nsLink] = r.stdout.trim().split('\n');
  assert.equal(nsLink, hostNs);
  assert.ok(uptime(up!) >= host0 + 10 * DAY && uptime(up!) < host0 + 10 * DAY + 120, `joined uptime ${up} vs host ${host0}`);

  // A path that is a namespace of another type, or no namespace at all.
  for (const [p, want] of [[`/proc/${pid}/ns/net`, /is not a time namespace/], ['/etc/hostname', /is not a namespace file/]] as const) {
    const w = makeBundle(path.join(tmp, `timens-wrong-${path.basename(p)}`), (c) => {
      c.linux!.namespaces!.push({ type: 'time', path: p });
    }, { args: ['true'] });
    const wid = id('time-wrong');
    const before = snapshot(ts.root, [w.rootfs]);
    assertFails(ts.call(['run', '-b', w.dir, wid]), (m) => assert.match(m, want));
    assert.deepEqual(leftovers(ts.root, before, [wid], [w.rootfs]), []);
  }
  // Offsets without a new time namespace.
  const o = makeBundle(path.join(tmp, 'timens-offsets'), (c) => { c.linux!.timeOffsets = { boottime: { secs: 1 } }; }, { args: ['true'] });
  assertFails(ts.call(['run', '-b', o.dir, id('time-off')]), /\/linux\/timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config/);

  ts.call(['kill', cid, 'KILL']);
  ts.waitStatus(cid, 'stopped', 5000);
  const text = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.ok(uptime(text[0]!) >= host0 + 10 * DAY && uptime(text[0]!) < host0 + 10 * DAY + 120, `uptime ${text[0]} vs host ${host0}`);
  assert.deepEqual(text.slice(1, 3).map((l) => l.trim().split(/\s+/)), [['monotonic', String(3 * DAY), '5'], ['boottime', String(10 * DAY), '0']]);
  assert.equal(text[3], hostNs);
  assert.equal(ts.call(['delete', cid]).status, 0);
});

test('no mount namespace: the caller\'s is used (runc), nothing left on the host after delete', () => {
  const noMnt = (c: OciConfig) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((x) => x.type !== 'mount');
    delete c.linux!.maskedPaths;
    delete c.linux!.readonlyPaths;
  };
  const b = makeBundle(path.join(tmp, 'nomnt'), noMnt, { args: ['sh', '-c', 'readlink /proc/self/ns/mnt; ls /dev/null /proc/self/status; cat /etc/passwd | head -1'] });
  const before = snapshot(ts.root, [b.rootfs]);
  const cid = id('nomnt');
  let r = ts.call(['create', '-b', b.dir, cid]);
  assert.equal(r.status, 0, show(r));
  // While it exists its mounts are in the caller's namespace (as runc does).
  const fromHost = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${b.rootfs}`));
  assert.ok(fromHost.some((l) => l.split(' ')[4] === `${b.rootfs}/proc`), fromHost.join('\n'));
  const fd = fs.openSync(path.join(tmp, 'nomnt.out'), 'w');
  fs.closeSync(fd);
  r = ts.call(['start', cid]);
  assert.equal(r.status, 0, show(r));
  ts.waitStatus(cid, 'stopped', 5000);
  assert.equal(ts.call(['delete', cid]).status, 0);
  assert.deepEqual(leftovers(ts.root, before, [cid], [b.rootfs]), []);

  // run, and a create that fails after mounting (no such executable): nothing left either.
  r = ts.call(['run', '-b', b.dir, id('nomnt-run')]);
  assert.equal(r.status, 0, show(r));
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], fs.readlinkSync('/proc/self/ns/mnt'));
  assert.deepEqual(lines.slice(1), ['/dev/null', '/proc/self/status', 'root:x:0:0:root:/root:/bin/sh']);
  // runc 1.1.5 on the same bundle (in a private mount namespace of its own: it leaves its mounts
  // behind) sees the same files.
  const inPrivate = new RuntimeCli('runc', runc.root, { wrapper: ['unshare', '-m', '--propagation', 'private'] });
  const rr = inPrivate.call(['run', '-b', b.dir, id('nomnt-runc')]);
  assert.equal(rr.status, 0, rr.stderr);
  assert.deepEqual(rr.stdout.trim().split('\n').slice(1), lines.slice(1));
  const bad = makeBundle(path.join(tmp, 'nomnt-bad'), noMnt, { args: ['/no/such'] });
  const before2 = snapshot(ts.root, [bad.rootfs]);
  const bid = id('nomnt-bad');
  assert.equal(ts.call(['run', '-b', bad.dir, bid]).status, 1);
  assert.deepEqual(leftovers(ts.root, before2, [bid], [bad.rootfs]), []);

  // maskedPaths need a private mount namespace: runc's words (runc checked in a private mount
  // namespace of its own, so that whatever it mounts stays out of the host).
  const m = makeBundle(path.join(tmp, 'nomnt-masked'), (c) => { c.linux!.namespaces = c.linux!.namespaces!.filter((x) => x.type !== 'mount'); }, { args: ['true'] });
  const rm = inPrivate.call(['run', '-b', m.dir, id('nomnt-runc')]);
  assert.equal(rm.status, 1);
  assert.match(rm.stderr, /unable to restrict sys entries without a private MNT namespace/);
  assertFails(ts.call(['run', '-b', m.dir, id('nomnt-masked')]), /\/linux\/maskedPaths: unable to restrict sys entries without a private MNT namespace/);
});

test('domainname: set in a new uts namespace, read from inside; refused without one (runc\'s words)', () => {
  const b = makeBundle(path.join(tmp, 'domain'), { domainname: 'nsu.example' }, { args: ['sh', '-c', 'cat /proc/sys/kernel/domainname; hostname'] });
  const r = run(b, 'domain');
  assert.deepEqual(r.out.trim().split('\n'), ['nsu.example', 'runc']);
  assert.notEqual(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8').trim(), 'nsu.example');
  const nouts = makeBundle(path.join(tmp, 'domain-nouts'), (c) => {
    c.domainname = 'nsu.example';
    delete c.hostname;
    c.linux!.namespaces = c.linux!.namespaces!.filter((x) => x.type !== 'uts');
  }, { args: ['true'] });
  const cid = id('domain-nouts');
  const before = snapshot(ts.root, [nouts.rootfs]);
  assertFails(ts.call(['run', '-b', nouts.dir, cid]), /\/domainname: unable to set domainname without a private UTS namespace/);
  assert.deepEqual(leftovers(ts.root, before, [cid], [nouts.rootfs]), []);
  assert.ok(errMsg(ts.call(['run', '-b', nouts.dir, id('domain-nouts')])).length > 0);
});
