// The container's filesystem: config.md (Root, Mounts, Linux mount options) and config-linux.md
// (Default Filesystems, Masked Paths, Readonly Paths).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, OciMount } from '../lib/config';
import { assert, assertEq, CheckDef, fail } from '../lib/harness';
import { defaultAll } from './process';

export interface ProbeMount {
  id: number;
  parent: number;
  dev: string;
  root: string;
  mountpoint: string;
  options: string[];
  optional: string[];
  fstype: string;
  source: string;
  super: string[];
}

/** The visible (last) mount at `dest`. */
function mountAt(mounts: ProbeMount[], dest: string): ProbeMount | undefined {
  for (let i = mounts.length - 1; i >= 0; i--) if (mounts[i].mountpoint === dest) return mounts[i];
  return undefined;
}

/** tmpfs/devpts sizes: "65536k", "1m", "1048576" → bytes. */
function sizeBytes(v: string): number | undefined {
  const m = /^(\d+)([kmgKMG%]?)$/.exec(v);
  if (!m || m[2] === '%') return undefined;
  const mul = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mul;
}

/** Data options the kernel does not print when they have their default value. */
const FS_DEFAULTS: Record<string, Record<string, string>> = {
  tmpfs: { mode: '1777' },
  devpts: { mode: '600', ptmxmode: '000' },
};

const FLAG_PRESENT: Record<string, string> = { ro: 'ro', rw: 'rw', nosuid: 'nosuid', nodev: 'nodev', noexec: 'noexec', noatime: 'noatime', relatime: 'relatime', nodiratime: 'nodiratime' };
const FLAG_ABSENT: Record<string, string> = { suid: 'nosuid', dev: 'nodev', exec: 'noexec' };

/**
 * Problems with how a config mount's options show up in mountinfo: per-mount flags in field 6,
 * filesystem data options (key=value) in the super options. Propagation and bind flags and bare
 * data options the kernel does not print (newinstance, ...) are not checked here.
 */
export function mountOptionProblems(m: ProbeMount, options: string[]): string[] {
  const p: string[] = [];
  const bind = options.includes('bind') || options.includes('rbind');
  for (const o of options) {
    if (o in FLAG_PRESENT) {
      if (!m.options.includes(FLAG_PRESENT[o])) p.push(`option ${o} not in ${m.options.join(',')}`);
    } else if (o in FLAG_ABSENT) {
      if (m.options.includes(FLAG_ABSENT[o])) p.push(`option ${o} but mounted ${FLAG_ABSENT[o]}`);
    } else if (o === 'strictatime') {
      if (m.options.includes('relatime') || m.options.includes('noatime')) p.push(`option strictatime but mounted ${m.options.join(',')}`);
    } else if (o.includes('=') && !bind) {
      const [k, v] = [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)];
      const got = m.super.find((s) => s.startsWith(`${k}=`));
      // the kernel leaves out values equal to the filesystem's default
      const gv = got?.slice(k.length + 1) ?? FS_DEFAULTS[m.fstype]?.[k];
      let same: boolean;
      if (gv === undefined) same = false;
      else if (k.endsWith('mode')) same = parseInt(gv, 8) === parseInt(v, 8);
      else if (k === 'size' || k === 'nr_inodes') same = sizeBytes(gv) !== undefined && sizeBytes(gv) === sizeBytes(v);
      else same = gv === v;
      if (!same) p.push(`option ${o} but the filesystem has ${got ?? `no ${k}=`} (${m.super.join(',')})`);
    }
  }
  return p;
}

export interface WriteRes {
  [path: string]: string;
}
export interface ReadRes {
  [path: string]: { type?: string; entries?: string[]; bytes?: number; data?: string; errno?: string };
}
export interface StatRes {
  [path: string]: { type?: string; mode?: number; uid?: number; gid?: number; major?: number; minor?: number; mountFlags?: string[]; link?: string; errno?: string };
}

export const filesystemChecks: CheckDef[] = [
  {
    group: 'filesystem',
    name: 'root.readonly: the root filesystem is read-only',
    spec: 'config.md#root (readonly: "the root filesystem MUST be read-only inside the container")',
    fn: (t) => {
      const r = t.probe<WriteRes>(['write', '/', '/etc/passwd', '/bin'], { root: { readonly: true } });
      for (const p of ['/', '/etc/passwd', '/bin']) assertEq(r.json[p], 'EROFS', `write to ${p}`);
    },
  },
  {
    group: 'filesystem',
    name: 'root.readonly false and an absolute root.path: the root filesystem is writable',
    spec: 'config.md#root (path: absolute or relative to the bundle; readonly defaults to false)',
    fn: (t) => {
      const b = t.bundle({ process: { args: ['/probe', 'write', '/', '/etc/passwd'] } });
      t.editConfig(b, (c) => {
        c.root = { path: b.rootfs };
      });
      const w = t.runBundle<WriteRes>(b).json;
      assertEq(w['/'], 'ok', 'mkdir in /');
      assertEq(w['/etc/passwd'], 'ok', 'open /etc/passwd for writing');
    },
  },
  {
    group: 'filesystem',
    name: 'the default mounts are present with their type and options',
    spec: 'config.md#mounts, #linux-mount-options; config-linux.md#default-filesystems',
    fn: (t) => {
      const mounts = defaultAll(t).mounts as ProbeMount[];
      const problems: string[] = [];
      for (const want of defaultConfig().mounts!) {
        const m = mountAt(mounts, want.destination);
        if (!m) {
          problems.push(`${want.destination}: not mounted`);
          continue;
        }
        if (want.type === 'cgroup') {
          // cgroup v1 hosts get a tmpfs with one mount per hierarchy below it; v2 hosts cgroup2.
          if (!['cgroup', 'cgroup2', 'tmpfs'].includes(m.fstype)) problems.push(`${want.destination}: type ${m.fstype}`);
          continue;
        }
        if (m.fstype !== want.type) problems.push(`${want.destination}: type ${m.fstype}, want ${want.type}`);
        for (const p of mountOptionProblems(m, want.options ?? [])) problems.push(`${want.destination}: ${p}`);
      }
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'filesystem',
    name: 'mounts are made in the listed order',
    spec: 'config.md#mounts ("The runtime MUST mount entries in the listed order")',
    fn: (t) => {
      const mounts = defaultAll(t).mounts as ProbeMount[];
      const order = defaultConfig().mounts!.map((m) => ({ d: m.destination, i: mounts.findIndex((x) => x.mountpoint === m.destination) }));
      const missing = order.filter((o) => o.i < 0).map((o) => o.d);
      assert(missing.length === 0, `not mounted: ${missing.join(', ')}`);
      for (let k = 1; k < order.length; k++) {
        assert(order[k].i > order[k - 1].i, `${order[k].d} was mounted before ${order[k - 1].d} (mountinfo: ${mounts.map((m) => m.mountpoint).join(' ')})`);
      }
    },
  },
  {
    group: 'filesystem',
    name: 'tmpfs mounts with flags and data options',
    spec: 'config.md#mounts, #linux-mount-options',
    fn: (t) => {
      const extra: OciMount[] = [
        { destination: '/conf/tmp1', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=0710', 'size=1m'] },
        { destination: '/conf/tmp2', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'noatime', 'mode=755'] },
      ];
      const b = t.bundle((c) => {
        c.mounts!.push(...extra);
        c.process!.args = ['/probe', 'each', 'mounts', '--', 'write', '/conf/tmp1', '/conf/tmp2'];
      });
      fs.mkdirSync(path.join(b.rootfs, 'conf/tmp1'), { recursive: true });
      fs.mkdirSync(path.join(b.rootfs, 'conf/tmp2'), { recursive: true });
      // (The mode of the mounted directory itself is not checked: runc chmods a tmpfs to the mode of
      // the directory it covers; mountinfo still shows the mode= it was mounted with.)
      const [mounts, w] = t.runBundle<[ProbeMount[], WriteRes]>(b).json;
      const problems: string[] = [];
      for (const e of extra) {
        const m = mountAt(mounts, e.destination);
        if (!m) {
          problems.push(`${e.destination}: not mounted`);
          continue;
        }
        if (m.fstype !== 'tmpfs') problems.push(`${e.destination}: type ${m.fstype}`);
        for (const p of mountOptionProblems(m, e.options!)) problems.push(`${e.destination}: ${p}`);
      }
      if (w['/conf/tmp1'] !== 'ok') problems.push(`write to /conf/tmp1: ${w['/conf/tmp1']}`);
      if (w['/conf/tmp2'] !== 'EROFS') problems.push(`write to the ro tmpfs /conf/tmp2: ${w['/conf/tmp2']}, want EROFS`);
      if (problems.length) fail(problems.join('; '));
    },
  },
  {
    group: 'filesystem',
    name: 'bind mounts (absolute and bundle-relative sources, ro and rw, file and directory)',
    spec: 'config.md#mounts (source: "Path values for bind mounts are either absolute or relative to the bundle"; bind, rbind, ro: MUST)',
    fn: (t) => {
      const b = t.bundle();
      fs.mkdirSync(path.join(b.dir, 'data-ro'));
      fs.writeFileSync(path.join(b.dir, 'data-ro/file'), 'host-ro');
      fs.mkdirSync(path.join(b.dir, 'data-rw'));
      fs.writeFileSync(path.join(b.dir, 'data-rw/file'), 'host-rw');
      fs.writeFileSync(path.join(b.dir, 'single-file'), 'host-file');
      for (const d of ['mnt/ro', 'mnt/rw']) fs.mkdirSync(path.join(b.rootfs, d), { recursive: true });
      fs.writeFileSync(path.join(b.rootfs, 'etc/conf-file'), 'rootfs-file');
      t.editConfig(b, (cfg) => {
        cfg.mounts!.push(
          { destination: '/mnt/ro', type: 'bind', source: path.join(b.dir, 'data-ro'), options: ['rbind', 'ro'] },
          { destination: '/mnt/rw', type: 'bind', source: 'data-rw', options: ['bind', 'rw'] },
          { destination: '/etc/conf-file', type: 'bind', source: path.join(b.dir, 'single-file'), options: ['bind', 'ro'] },
        );
        cfg.process!.args = ['/probe', 'each', 'read', '/mnt/ro/file', '/mnt/rw/file', '/etc/conf-file', '--', 'write', '/mnt/ro', '/mnt/rw', '/mnt/rw/created', '/etc/conf-file', '--', 'mounts'];
      });
      const [rd, w, mounts] = t.runBundle<[ReadRes, WriteRes, ProbeMount[]]>(b).json;
      assertEq(rd['/mnt/ro/file'].data, 'host-ro', 'content of /mnt/ro/file (absolute source)');
      assertEq(rd['/mnt/rw/file'].data, 'host-rw', 'content of /mnt/rw/file (source relative to the bundle)');
      assertEq(rd['/etc/conf-file'].data, 'host-file', 'content of the file bind mount /etc/conf-file');
      assertEq(w['/mnt/ro'], 'EROFS', 'write to the ro bind mount /mnt/ro');
      assertEq(w['/etc/conf-file'], 'EROFS', 'write to the ro file bind mount');
      assertEq(w['/mnt/rw'], 'ok', 'write to the rw bind mount /mnt/rw');
      assertEq(w['/mnt/rw/created'], 'ok', 'create a file in the rw bind mount');
      const m = mountAt(mounts, '/mnt/ro');
      assert(m && m.options.includes('ro'), `/mnt/ro mount options: ${m ? m.options.join(',') : 'not mounted'}`);
      assert(!fs.existsSync(path.join(b.dir, 'data-rw/created')), 'the probe\'s test file is left on the host');
    },
  },
  {
    group: 'filesystem',
    name: 'recursive mount options (rro, rnosuid, rnoexec) on an rbind reach its submounts',
    spec: 'config.md#linux-mount-options (rro, rnosuid, rnoexec: "Recursive ro/nosuid/noexec", AT_RECURSIVE)',
    fn: (t) => {
      const b = t.bundle();
      const src = path.join(b.dir, 'rec-src');
      fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
      // A submount on the host side, which the rbind carries into the container.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path.join(src, 'sub')]);
      try {
        t.editConfig(b, (c) => {
          c.mounts!.push({ destination: '/conf/rec', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid', 'rnoexec'] });
          c.process!.args = ['/probe', 'each', 'mounts', '--', 'write', '/conf/rec/sub'];
        });
        const [mounts, w] = t.runBundle<[ProbeMount[], WriteRes]>(b).json;
        const problems: string[] = [];
        for (const d of ['/conf/rec', '/conf/rec/sub']) {
          const m = mountAt(mounts, d);
          if (!m) { problems.push(`${d}: not mounted`); continue; }
          for (const o of ['ro', 'nosuid', 'noexec']) if (!m.options.includes(o)) problems.push(`${d}: ${o} not in ${m.options.join(',')}`);
        }
        if (w['/conf/rec/sub'] !== 'EROFS') problems.push(`write to the submount /conf/rec/sub: ${w['/conf/rec/sub']}, want EROFS`);
        if (problems.length) fail(problems.join('; '));
      } finally {
        execFileSync('umount', ['-l', path.join(src, 'sub')]);
      }
    },
  },
  {
    group: 'filesystem',
    name: 'tmpcopyup: the tmpfs starts with the content of the directory it covers',
    spec: 'config.md#linux-mount-options (tmpcopyup: "copy up the contents to a tmpfs")',
    fn: (t) => {
      const b = t.bundle((c) => {
        c.mounts!.push({ destination: '/conf/copy', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] });
        c.process!.args = ['/probe', 'each', 'mounts', '--', 'read', '/conf/copy/f', '/conf/copy/d/g', '--', 'write', '/conf/copy'];
      });
      fs.mkdirSync(path.join(b.rootfs, 'conf/copy/d'), { recursive: true });
      fs.writeFileSync(path.join(b.rootfs, 'conf/copy/f'), 'image-f');
      fs.writeFileSync(path.join(b.rootfs, 'conf/copy/d/g'), 'image-g');
      const [mounts, rd, w] = t.runBundle<[ProbeMount[], ReadRes, WriteRes]>(b).json;
      const m = mountAt(mounts, '/conf/copy');
      assert(m && m.fstype === 'tmpfs', `/conf/copy: ${m ? m.fstype : 'not mounted'}`);
      assertEq(rd['/conf/copy/f'].data, 'image-f', 'content of /conf/copy/f');
      assertEq(rd['/conf/copy/d/g'].data, 'image-g', 'content of /conf/copy/d/g');
      assertEq(w['/conf/copy'], 'ok', 'write to the tmpfs');
      assert(fs.readdirSync(path.join(b.rootfs, 'conf/copy')).sort().join(',') === 'd,f', 'the probe wrote into the image instead of the tmpfs');
    },
  },
  {
    group: 'filesystem',
    name: 'maskedPaths cannot be read',
    spec: 'config-linux.md#masked-paths',
    fn: (t) => {
      const own = ['/etc/conf-masked-file', '/etc/conf-masked-dir'];
      const b = t.bundle((c) => {
        c.linux!.maskedPaths = [...c.linux!.maskedPaths!, ...own];
      });
      fs.writeFileSync(path.join(b.rootfs, 'etc/conf-masked-file'), 'secret-file');
      fs.mkdirSync(path.join(b.rootfs, 'etc/conf-masked-dir'));
      fs.writeFileSync(path.join(b.rootfs, 'etc/conf-masked-dir/secret'), 'secret-dir');
      const paths = b.config.linux!.maskedPaths!;
      t.editConfig(b, (c) => {
        c.process!.args = ['/probe', 'read', ...paths];
      });
      const rd = t.runBundle<ReadRes>(b).json;
      const problems: string[] = [];
      let masked = 0;
      for (const p of paths) {
        const r = rd[p];
        if (r.errno === 'ENOENT' && !own.includes(p)) continue; // not on this kernel
        masked++;
        if (r.errno) {
          if (!['EACCES', 'EPERM'].includes(r.errno)) problems.push(`${p}: ${r.errno}`);
        } else if (r.type === 'dir') {
          if (r.entries!.length) problems.push(`${p}: directory lists ${r.entries!.join(',')}`);
        } else if (r.bytes !== 0) {
          problems.push(`${p}: read ${r.bytes} bytes${own.includes(p) ? ` (${JSON.stringify(r.data)})` : ''}`);
        }
      }
      if (problems.length) fail(problems.join('; '));
      assert(masked >= own.length, 'no masked path was checked');
    },
  },
  {
    group: 'filesystem',
    name: 'readonlyPaths are read-only, and only they',
    spec: 'config-linux.md#readonly-paths',
    fn: (t) => {
      const own = ['/etc/conf-ro-dir', '/etc/conf-ro-file'];
      const b = t.bundle((c) => {
        c.root!.readonly = false;
        c.linux!.readonlyPaths = [...c.linux!.readonlyPaths!, ...own];
      });
      fs.mkdirSync(path.join(b.rootfs, 'etc/conf-ro-dir'));
      fs.writeFileSync(path.join(b.rootfs, 'etc/conf-ro-file'), 'ro-content');
      const paths = b.config.linux!.readonlyPaths!;
      t.editConfig(b, (c) => {
        c.process!.args = ['/probe', 'each', 'stat', ...paths, '/proc/sys/kernel/hostname', '--', 'write', '/', '/etc', ...paths, '/proc/sys/kernel/hostname', '--', 'read', '/etc/conf-ro-file'];
      });
      const [st, w, rd] = t.runBundle<[StatRes, WriteRes, ReadRes]>(b).json;
      const problems: string[] = [];
      for (const p of paths) {
        if (st[p].errno === 'ENOENT' && !own.includes(p)) continue; // not on this kernel
        if (st[p].errno) problems.push(`stat ${p}: ${st[p].errno}`);
        else if (!st[p].mountFlags?.includes('ro')) problems.push(`${p} is not on a read-only mount (statvfs flags ${JSON.stringify(st[p].mountFlags)})`);
        // a new name in a procfs directory is ENOENT before the mount is asked: only files and
        // ordinary directories must say EROFS
        if (w[p] === 'ok' || (w[p] !== 'EROFS' && !p.startsWith('/proc/'))) problems.push(`write to ${p}: ${w[p]}, want EROFS`);
      }
      if (st['/proc/sys/kernel/hostname'] && !st['/proc/sys/kernel/hostname'].errno && w['/proc/sys/kernel/hostname'] !== 'EROFS') {
        problems.push(`write to /proc/sys/kernel/hostname (under the readonly /proc/sys): ${w['/proc/sys/kernel/hostname']}, want EROFS`);
      }
      if (w['/'] !== 'ok') problems.push(`write to / (not a readonly path): ${w['/']}`);
      if (w['/etc'] !== 'ok') problems.push(`write to /etc (not a readonly path): ${w['/etc']}`);
      if (rd['/etc/conf-ro-file'].data !== 'ro-content') problems.push(`/etc/conf-ro-file reads ${JSON.stringify(rd['/etc/conf-ro-file'])}`);
      if (problems.length) fail(problems.join('; '));
    },
  },
];

