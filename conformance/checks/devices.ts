// Devices: config-linux.md (Devices, Default Devices, Allowed Device list) and runtime-linux.md
// (Dev symbolic links).

import { assert, assertEq, CheckDef, fail } from '../lib/harness';
import { ReadRes, StatRes, WriteRes } from './filesystem';

const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

export const deviceChecks: CheckDef[] = [
  {
    group: 'devices',
    name: 'default devices exist as character devices with the right numbers',
    spec: 'config-linux.md#default-devices',
    fn: (t) => {
      const st = t.probe<StatRes>(['stat', ...DEFAULT_DEVICES.map((d) => d[0])]).json;
      const problems: string[] = [];
      for (const [p, maj, min] of DEFAULT_DEVICES) {
        const s = st[p];
        if (s.errno) problems.push(`${p}: ${s.errno}`);
        else if (s.type !== 'chr' || s.major !== maj || s.minor !== min) problems.push(`${p}: ${s.type} ${s.major}:${s.minor}, want chr ${maj}:${min}`);
      }
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'devices',
    name: 'default devices are usable under a deny-all device cgroup rule',
    spec: 'config-linux.md#default-devices ("the runtime MUST also supply"), #allowed-device-list',
    fn: (t) => {
      // the default config's linux.resources.devices is [{allow:false, access:rwm}]
      const [w, rd] = t.probe<[WriteRes, ReadRes]>(['each', 'write', '/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '--', 'read', '/dev/null', '/dev/zero', '/dev/urandom', '/dev/random']).json;
      const problems: string[] = [];
      for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom']) if (w[p] !== 'ok') problems.push(`open ${p} for writing: ${w[p]}`);
      if (rd['/dev/null'].bytes !== 0) problems.push(`read /dev/null: ${JSON.stringify(rd['/dev/null'])}`);
      const z = rd['/dev/zero'];
      if (z.bytes !== 4096 || !/^\0+$/.test(z.data ?? '')) problems.push(`read /dev/zero: ${z.errno ?? `${z.bytes} bytes`}`);
      for (const p of ['/dev/urandom', '/dev/random']) if (rd[p].bytes !== 4096) problems.push(`read ${p}: ${rd[p].errno ?? `${rd[p].bytes} bytes`}`);
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'devices',
    name: '/dev/ptmx is the container\'s /dev/pts/ptmx',
    spec: 'config-linux.md#default-devices (/dev/ptmx: "A bind-mount or symlink of the container\'s /dev/pts/ptmx")',
    fn: (t) => {
      const st = t.probe<StatRes>(['stat', '/dev/ptmx', '/dev/pts/ptmx']).json;
      const s = st['/dev/ptmx'];
      if (s.type === 'symlink') {
        assert(['pts/ptmx', '/dev/pts/ptmx'].includes(s.link ?? ''), `/dev/ptmx links to ${s.link}, want pts/ptmx`);
      } else {
        const pts = st['/dev/pts/ptmx'];
        assert(s.type === 'chr' && s.major === 5 && s.minor === 2, `/dev/ptmx is ${JSON.stringify(s)}, want a symlink to pts/ptmx or a bind mount of it`);
        assertEq([s.major, s.minor], [pts.major, pts.minor], '/dev/ptmx vs /dev/pts/ptmx');
      }
    },
  },
  {
    group: 'devices',
    name: '/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks',
    spec: 'runtime-linux.md#dev-symbolic-links',
    fn: (t) => {
      const want: Record<string, string> = {
        '/dev/fd': '/proc/self/fd',
        '/dev/stdin': '/proc/self/fd/0',
        '/dev/stdout': '/proc/self/fd/1',
        '/dev/stderr': '/proc/self/fd/2',
      };
      const st = t.probe<StatRes>(['stat', ...Object.keys(want)]).json;
      const problems: string[] = [];
      for (const [p, target] of Object.entries(want)) {
        if (st[p].type !== 'symlink' || st[p].link !== target) problems.push(`${p}: ${st[p].errno ?? st[p].type}${st[p].link ? ` -> ${st[p].link}` : ''}, want a symlink to ${target}`);
      }
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'devices',
    name: 'linux.devices are created with type, numbers, mode and owner',
    spec: 'config-linux.md#devices',
    fn: (t) => {
      const devices = [
        { path: '/dev/conf-null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 0, gid: 5 },
        { path: '/dev/conf-blk', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 65534, gid: 65534 },
        { path: '/conf-fifo', type: 'p', fileMode: 0o620, uid: 0, gid: 0 },
      ];
      const st = t.probe<StatRes>(['stat', ...devices.map((d) => d.path)], (c) => {
        c.linux!.devices = devices;
        c.root!.readonly = false;
      }).json;
      const problems: string[] = [];
      const types: Record<string, string> = { c: 'chr', b: 'blk', p: 'fifo' };
      for (const d of devices) {
        const s = st[d.path];
        if (s.errno) {
          problems.push(`${d.path}: ${s.errno}`);
          continue;
        }
        if (s.type !== types[d.type]) problems.push(`${d.path}: ${s.type}, want ${types[d.type]}`);
        if (d.type !== 'p' && (s.major !== d.major || s.minor !== d.minor)) problems.push(`${d.path}: ${s.major}:${s.minor}, want ${d.major}:${d.minor}`);
        if (s.mode !== d.fileMode) problems.push(`${d.path}: mode ${s.mode?.toString(8)}, want ${d.fileMode.toString(8)}`);
        if (s.uid !== d.uid || s.gid !== d.gid) problems.push(`${d.path}: owner ${s.uid}:${s.gid}, want ${d.uid}:${d.gid}`);
      }
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'devices',
    name: 'device cgroup: a device not in the allow list cannot be opened, an allowed one can',
    spec: 'config-linux.md#allowed-device-list',
    fn: (t) => {
      // /dev/kmsg (c 1:11) opened write-only needs no capability, and is not among the devices
      // runtimes allow by default (runc also allows /dev/net/tun, 10:200). The device cgroup is
      // asked before the driver, so a denied open is EPERM.
      const devices = [
        { path: '/dev/conf-denied', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/conf-allowed', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 },
      ];
      const denied = t.probe<WriteRes>(['write', '/dev/conf-denied'], (c) => {
        c.linux!.devices = [devices[0]];
      }).json;
      assertEq(denied['/dev/conf-denied'], 'EPERM', 'open of c 1:11 under the deny-all rule');
      const allowed = t.probe<WriteRes>(['write', '/dev/conf-allowed'], (c) => {
        c.linux!.devices = [devices[1]];
        c.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'rwm' });
      }).json;
      assertEq(allowed['/dev/conf-allowed'], 'ok', 'open of c 1:11 with an allow rule');
    },
  },
];
