// Mounts from inside real containers: config.md's whole option table (flags, propagation, the
// recursive mount_setattr options, remount, tmpcopyup, relative destinations), linux.devices of
// every type, maskedPaths/readonlyPaths edge cases and mountLabel, differential against runc 1.1.5
// wherever runc supports the option; and attacks: symlinks planted in the image at a mount
// destination, on the way to a missing target, at a file-bind target, at a masked path, a
// read-only path, a tmpcopyup destination and a device path, each checked to change nothing on
// the host. Where runc 1.1.5 differs from the spec the test says so and asserts the spec.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from '../../conformance/lib/rootfs';
import type { OciConfig, OciMount } from '../../conformance/lib/config';
import { RuntimeCli, type CallResult } from '../../conformance/lib/runtime';
import { TSRUNC, cleanup, errMsg, show, tmpDir } from './support';

let tmp = '';
let ts: RuntimeCli;
let runc: RuntimeCli;
let src = ''; // a host directory with a tmpfs submount, for the recursive bind tests
let host = ''; // a host directory that attacks aim at
const ids: string[] = [];
let n = 0;

before(() => {
  tmp = tmpDir('tsrunc-mnt');
  ts = new RuntimeCli(TSRUNC, path.join(tmp, 'ts-root'), { timeoutMs: 30000 });
  runc = new RuntimeCli('runc', path.join(tmp, 'runc-root'), { timeoutMs: 30000 });
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path.join(src, 'sub')]);
  host = path.join(tmp, 'host');
  fs.mkdirSync(path.join(host, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(host, 'secret'), 'HOST-SECRET\n', { mode: 0o600 });
});

after(() => {
  try { execFileSync('umount', ['-l', path.join(src, 'sub')]); } catch { /* not mounted */ }
  for (const id of ids) runc?.call(['delete', '--force', id]);
  cleanup(undefined, ids, []);
  for (const id of ids) ts?.call(['delete', '--force', id]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Case {
  /** Mounts appended to the default config's. */
  mounts?: OciMount[];
  linux?: Record<string, unknown>;
  edit?: (c: OciConfig) => void;
  /** Shell run in the rootfs directory on the host before the container starts (image set-up). */
  image?: string;
}

/** `run` the shell command `cmd` in a fresh bundle under `rt`; the container id starts with mnt-. */
function run(rt: RuntimeCli, c: Case, cmd: string): CallResult & { id: string; rootfs: string } {
  const id = `mnt-${process.pid}-${++n}`;
  ids.push(id);
  const b = makeBundle(path.join(tmp, id), (cfg) => {
    if (c.mounts) cfg.mounts!.push(...c.mounts);
    if (c.linux) Object.assign(cfg.linux!, c.linux);
    c.edit?.(cfg);
  }, { args: ['sh', '-c', cmd] });
  if (c.image) execFileSync('sh', ['-c', c.image], { cwd: b.rootfs });
  const r = rt.call(['run', '--bundle', b.dir, id]);
  rt.call(['delete', '--force', id]);
  return { ...r, id, rootfs: b.rootfs };
}

/** Run under both; both must succeed. */
function both(c: Case, cmd: string): { r: string; t: string } {
  const r = run(runc, c, cmd);
  assert.equal(r.status, 0, `runc: ${show(r)}`);
  const t = run(ts, c, cmd);
  assert.equal(t.status, 0, `tsrunc: ${show(t)}`);
  return { r: r.stdout, t: t.stdout };
}

// The mountinfo lines of mounts at or below `prefix`, as "mountpoint options [optional] - fstype
// superoptions" with peer-group numbers dropped.
const MOUNTS = (prefix: string) =>
  `awk -v p='${prefix}' 'index($5, p) == 1 { $1 = $2 = $3 = $4 = ""; print }' /proc/self/mountinfo | sed -e 's/^ *//' -e 's/\\(shared\\|master\\|propagate_from\\):[0-9]*/\\1/g'`;

function lines(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of out.split('\n')) if (l.trim()) m.set(l.split(' ')[0]!, l);
  return m;
}

/** The per-mount options (mountinfo field 6) of the mount at `mp`. */
function opts(out: string, mp: string): string[] {
  const l = lines(out).get(mp);
  assert.ok(l, `no mount at ${mp} in:\n${out}`);
  return l.split(' ')[1]!.split(',');
}

function superOpts(out: string, mp: string): string[] {
  const f = lines(out).get(mp)!.split(' ');
  return f[f.indexOf('-') + 3]!.split(',');
}

const tmpfsAt = (dest: string, options: string[]): OciMount => ({ destination: dest, type: 'tmpfs', source: 'tmpfs', options });

describe('the option table of config.md, from inside', () => {
  // Every flag option on its own tmpfs in one container, under both runtimes.
  const FLAG_OPTIONS = [
    'async', 'atime', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud', 'mand', 'noatime',
    'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid',
    'nosymfollow', 'relatime', 'ro', 'rw', 'silent', 'strictatime', 'suid', 'symfollow', 'sync',
    'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable',
  ];
  const want: Record<string, (o: string[], s: string[], line: string) => boolean> = {
    noatime: (o) => o.includes('noatime'), strictatime: (o) => !o.includes('relatime') && !o.includes('noatime'),
    nodev: (o) => o.includes('nodev'), nodiratime: (o) => o.includes('nodiratime'), noexec: (o) => o.includes('noexec'),
    nosuid: (o) => o.includes('nosuid'), nosymfollow: (o) => o.includes('nosymfollow'), ro: (o) => o.includes('ro'),
    dirsync: (_o, s) => s.includes('dirsync'), sync: (_o, s) => s.includes('sync'), lazytime: (_o, s) => s.includes('lazytime'),
    mand: (_o, s) => s.includes('mand'),
    shared: (_o, _s, l) => / shared /.test(l), rshared: (_o, _s, l) => / shared /.test(l),
    unbindable: (_o, _s, l) => / unbindable /.test(l), runbindable: (_o, _s, l) => / unbindable /.test(l),
  };
  const mounts = FLAG_OPTIONS.map((o) => tmpfsAt(`/m/${o}`, [o]));
  let out: { r: string; t: string };
  before(() => { out = both({ mounts }, MOUNTS('/m/')); });

  it('each option takes effect in tsrunc (mountinfo), and the same as under runc 1.1.5', () => {
    for (const o of FLAG_OPTIONS) {
      const mp = `/m/${o}`;
      const t = opts(out.t, mp);
      if (want[o]) assert.ok(want[o]!(t, superOpts(out.t, mp), lines(out.t).get(mp)!), `${o}: ${lines(out.t).get(mp)}`);
      // The clearing options leave the defaults: rw, relatime, nothing else.
      if (['async', 'atime', 'dev', 'diratime', 'exec', 'loud', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'rw', 'suid', 'symfollow', 'noiversion'].includes(o)) {
        assert.deepEqual(t, ['rw', 'relatime'], o);
      }
      assert.deepEqual(t, opts(out.r, mp), `${o}: per-mount options differ from runc`);
      // runc mounts a `ro` tmpfs writable and makes the mount read-only later; tsrunc makes the
      // superblock read-only too. Everything else must match exactly.
      if (o !== 'ro') assert.equal(lines(out.t).get(mp), lines(out.r).get(mp), `${o}: mountinfo differs from runc`);
    }
  });

  it('defaults: no flags (config.md: MUST; runc 1.1.5 passes it to tmpfs as data and fails with EINVAL)', () => {
    const r = run(runc, { mounts: [tmpfsAt('/d', ['defaults'])] }, 'true');
    assert.notEqual(r.status, 0, 'runc 1.1.5 was expected to fail');
    assert.match(errMsg(r), /data: defaults: invalid argument/);
    const t = run(ts, { mounts: [tmpfsAt('/d', ['defaults', 'size=1m'])] }, MOUNTS('/d'));
    assert.equal(t.status, 0, show(t));
    assert.deepEqual(opts(t.stdout, '/d'), ['rw', 'relatime']);
    assert.ok(superOpts(t.stdout, '/d').includes('size=1024k'), t.stdout);
  });

  it('propagation options are applied in turn, as runc does (rprivate then shared → shared)', () => {
    const o = both({ mounts: [tmpfsAt('/p', ['rprivate', 'shared']), tmpfsAt('/q', ['shared', 'private'])] }, MOUNTS('/'));
    assert.match(lines(o.t).get('/p')!, / shared /);
    assert.doesNotMatch(lines(o.t).get('/q')!, / shared /);
    assert.equal(lines(o.t).get('/p'), lines(o.r).get('/p'));
    assert.equal(lines(o.t).get('/q'), lines(o.r).get('/q'));
  });

  it('remount changes the mount an earlier entry made (bind and tmpfs), as runc does', () => {
    const o = both({
      mounts: [
        { destination: '/b', type: 'bind', source: src, options: ['rbind', 'nosuid'] },
        { destination: '/b', type: 'bind', source: src, options: ['bind', 'remount', 'ro', 'noexec'] },
        tmpfsAt('/t', ['size=1m']), tmpfsAt('/t', ['remount', 'size=2m', 'nodev']),
      ],
    }, MOUNTS('/'));
    assert.deepEqual(opts(o.t, '/b'), ['ro', 'noexec', 'relatime']);
    assert.deepEqual(opts(o.t, '/t'), ['rw', 'nodev', 'relatime']);
    assert.ok(superOpts(o.t, '/t').includes('size=2048k'));
    for (const mp of ['/b', '/b/sub', '/t']) assert.equal(lines(o.t).get(mp), lines(o.r).get(mp), mp);
    assert.equal([...lines(o.t).keys()].filter((k) => k === '/t').length, 1, 'remount must not stack a second tmpfs');
  });

  it('remount of a destination where nothing is mounted fails, as in runc', () => {
    const t = run(ts, { mounts: [tmpfsAt('/mnt', ['remount'])] }, 'true');
    assert.notEqual(t.status, 0);
    assert.match(errMsg(t), /remount `tmpfs` on `\/mnt`/);
    assert.notEqual(run(runc, { mounts: [tmpfsAt('/mnt', ['remount'])] }, 'true').status, 0);
  });

  it('bind targets: a file onto a missing path makes a file, a directory makes a directory; a mismatch fails in both runtimes', () => {
    const file = path.join(tmp, 'bindfile');
    fs.writeFileSync(file, 'F\n');
    const o = both({
      mounts: [{ destination: '/new/f', type: 'bind', source: file, options: ['bind'] }, { destination: '/new/d', type: 'bind', source: src, options: ['rbind'] }],
    }, 'stat -c "%n %F" /new/f /new/d; cat /new/f');
    assert.equal(o.t, o.r);
    assert.match(o.t, /^\/new\/f regular file$/m);
    assert.match(o.t, /^\/new\/d directory$/m);
    const mismatched: OciMount[] = [{ destination: '/etc', type: 'bind', source: file, options: ['bind'] },
      { destination: '/etc/passwd', type: 'bind', source: src, options: ['rbind'] }];
    for (const m of mismatched) {
      const r = run(runc, { mounts: [m] }, 'true');
      const t = run(ts, { mounts: [m] }, 'true');
      assert.notEqual(r.status, 0, `runc: ${show(r)}`);
      assert.equal(t.status, 1, show(t));
      assert.match(errMsg(t), new RegExp(`bind-mount .* on \`${m.destination}\`.*(ENOTDIR|EISDIR)`));
    }
  });

  it('relative destinations are relative to `/` (with a warning), as in runc', () => {
    const o = both({ mounts: [tmpfsAt('rel/x', ['nodev'])] }, MOUNTS('/rel'));
    assert.equal(o.t, o.r);
    assert.deepEqual(opts(o.t, '/rel/x'), ['rw', 'nodev', 'relatime']);
  });
});

describe('recursive attributes (mount_setattr AT_RECURSIVE)', () => {
  const REC = ['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnoatime', 'rstrictatime', 'rrelatime', 'rnosymfollow'];

  it('on an rbind with a submount: the mount and the submount get each attribute, as under runc 1.1.5', () => {
    const mounts = REC.map((o) => ({ destination: `/r/${o}`, type: 'bind', source: src, options: ['rbind', o] }));
    // Clearing: a read-only, nosuid bind made rw and suid again, recursively.
    mounts.push({ destination: '/r/clear', type: 'bind', source: src, options: ['rbind', 'ro', 'nosuid', 'rrw', 'rsuid'] });
    const o = both({ mounts }, MOUNTS('/r/'));
    const flag: Record<string, string> = {
      rro: 'ro', rnosuid: 'nosuid', rnodev: 'nodev', rnoexec: 'noexec', rnodiratime: 'nodiratime', rnoatime: 'noatime', rrelatime: 'relatime', rnosymfollow: 'nosymfollow',
    };
    for (const r of REC) {
      for (const mp of [`/r/${r}`, `/r/${r}/sub`]) {
        const t = opts(o.t, mp);
        if (flag[r]) assert.ok(t.includes(flag[r]!), `${r} on ${mp}: ${t}`);
        if (r === 'rstrictatime') assert.ok(!t.includes('relatime') && !t.includes('noatime'), `${r} on ${mp}: ${t}`);
        assert.deepEqual(t, opts(o.r, mp), `${r} on ${mp}: differs from runc`);
      }
    }
    assert.deepEqual(opts(o.t, '/r/clear'), ['rw', 'relatime']);
    assert.deepEqual(opts(o.t, '/r/clear/sub'), ['rw', 'relatime']);
  });

  it('ratime and rnostrictatime mean the recursive atime/nostrictatime (runc 1.1.5: EINVAL)', () => {
    for (const [first, o] of [['rnoatime', 'ratime'], ['rstrictatime', 'rnostrictatime']]) {
      const r = run(runc, { mounts: [{ destination: '/r', type: 'bind', source: src, options: ['rbind', o!] }] }, 'true');
      assert.notEqual(r.status, 0, `runc 1.1.5 was expected to fail on ${o}`);
      const alone = run(ts, { mounts: [{ destination: '/r', type: 'bind', source: src, options: ['rbind', o!] }] }, MOUNTS('/r'));
      assert.deepEqual(opts(alone.stdout, '/r/sub'), ['rw', 'relatime'], show(alone));
      const t = run(ts, { mounts: [{ destination: '/r', type: 'bind', source: src, options: ['rbind', first!, o!] }] }, MOUNTS('/r'));
      assert.equal(t.status, 0, show(t));
      assert.deepEqual(opts(t.stdout, '/r'), ['rw', 'relatime'], o);
      assert.deepEqual(opts(t.stdout, '/r/sub'), ['rw', 'relatime'], o);
    }
  });

  it('on a tmpfs too (the spec applies them to any mount; runc 1.1.5 applies them to binds only)', () => {
    const t = run(ts, { mounts: [tmpfsAt('/t', ['rro', 'rnoexec']), tmpfsAt('/u', ['rnosuid'])] }, `${MOUNTS('/')}; touch /t/x 2>/dev/null || echo EROFS`);
    assert.equal(t.status, 0, show(t));
    assert.deepEqual(opts(t.stdout, '/t'), ['ro', 'noexec', 'relatime']);
    assert.deepEqual(opts(t.stdout, '/u'), ['rw', 'nosuid', 'relatime']);
    assert.match(t.stdout, /EROFS/);
  });

  it('rro on a tmpfs that later mounts go into: applied once they are in (recursively)', () => {
    const t = run(ts, { mounts: [tmpfsAt('/t', ['rro']), tmpfsAt('/t/in', [])] }, MOUNTS('/t'));
    assert.equal(t.status, 0, show(t));
    assert.deepEqual(opts(t.stdout, '/t'), ['ro', 'relatime']);
    assert.deepEqual(opts(t.stdout, '/t/in'), ['ro', 'relatime']);
  });
});

describe('tmpcopyup (Podman --read-only)', () => {
  const IMAGE = 'mkdir -p var/tmp/d/e && echo data > var/tmp/d/e/f && chmod 0751 var/tmp/d && chown 5:7 var/tmp/d/e/f && ' +
    'chmod 0604 var/tmp/d/e/f && ln -s /etc/passwd var/tmp/lnk && mkfifo var/tmp/fifo && chmod 1733 var/tmp && mknod var/tmp/null c 1 3';

  it('the new tmpfs holds a copy of the image\'s directory: content, modes, owners, symlinks, fifos, devices', () => {
    const cmd = `${MOUNTS('/var/tmp')}; cd /var/tmp && stat -c '%n %A %u:%g %F' . d d/e/f lnk fifo null && cat d/e/f && readlink lnk && touch new && echo WRITABLE`;
    const t = run(ts, { mounts: [tmpfsAt('/var/tmp', ['nosuid', 'nodev', 'tmpcopyup'])], image: IMAGE }, cmd);
    assert.equal(t.status, 0, show(t));
    assert.match(lines(t.stdout).get('/var/tmp')!, /^\/var\/tmp rw,nosuid,nodev,relatime - tmpfs /);
    assert.match(t.stdout, /^\. drwx-wx-wt 0:0 directory$/m);
    assert.match(t.stdout, /^d drwxr-x--x 0:0 directory$/m);
    assert.match(t.stdout, /^d\/e\/f -rw----r-- 5:7 regular file$/m);
    assert.match(t.stdout, /^lnk lrwxrwxrwx 0:0 symbolic link$/m);
    assert.match(t.stdout, /^fifo p.* fifo$/m);
    assert.match(t.stdout, /^null c.* character special file$/m);
    assert.match(t.stdout, /^data$/m);
    assert.match(t.stdout, /^\/etc\/passwd$/m);
    assert.match(t.stdout, /WRITABLE/);
    // The image itself is untouched (the copy went to the tmpfs).
    assert.ok(!fs.existsSync(path.join(t.rootfs, 'var/tmp/new')));
  });

  it('runc 1.1.5 agrees on content, modes and owners (without the fifo, which it cannot copy)', () => {
    const image = 'mkdir -p var/tmp/d/e && echo data > var/tmp/d/e/f && chmod 0751 var/tmp/d && chown 5:7 var/tmp/d/e/f && chmod 0604 var/tmp/d/e/f && ln -s /etc/passwd var/tmp/lnk';
    const o = both({ mounts: [tmpfsAt('/var/tmp', ['tmpcopyup'])], image }, 'cd /var/tmp && stat -c "%n %A %u:%g %F" d d/e/f lnk && cat d/e/f');
    assert.equal(o.t, o.r);
  });

  it('ro with tmpcopyup: the copy is made, then the mount is read-only', () => {
    const t = run(ts, { mounts: [tmpfsAt('/var/tmp', ['ro', 'tmpcopyup'])], image: IMAGE }, `${MOUNTS('/var/tmp')}; cat /var/tmp/d/e/f; touch /var/tmp/x 2>/dev/null || echo EROFS`);
    assert.equal(t.status, 0, show(t));
    assert.match(t.stdout, /^data$/m);
    assert.match(t.stdout, /EROFS/);
  });

  it('a missing destination is created and gets an empty tmpfs', () => {
    const t = run(ts, { mounts: [tmpfsAt('/new/dir', ['tmpcopyup'])] }, `${MOUNTS('/new')}; ls -A /new/dir | wc -l`);
    assert.equal(t.status, 0, show(t));
    assert.ok(lines(t.stdout).has('/new/dir'));
    assert.match(t.stdout, /^0$/m);
  });

  it('refused on anything but a tmpfs, naming the mount', () => {
    const t = run(ts, { mounts: [{ destination: '/x', type: 'bind', source: src, options: ['rbind', 'tmpcopyup'] }] }, 'true');
    assert.equal(t.status, 1);
    assert.match(errMsg(t), /config\.json: \/mounts\/\d+\/options: tmpcopyup is only for tmpfs mounts/);
  });
});

describe('attacks: symlinks planted in the image never lead a mount, a mkdir or a copy onto the host', () => {
  const hostEntries = () => fs.readdirSync(host).sort().join(',');
  const hostMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(host)).join('\n');
  let before0 = '';
  let mounts0 = '';
  before(() => { before0 = hostEntries(); mounts0 = hostMounts(); });
  const unchanged = (what: string) => {
    assert.equal(hostEntries(), before0, `${what}: something was created in the host directory`);
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'HOST-SECRET\n', what);
    assert.equal(fs.statSync(path.join(host, 'secret')).mode & 0o7777, 0o600, what);
    assert.equal(hostMounts(), mounts0, `${what}: a mount appeared on the host`);
    assert.deepEqual(fs.readdirSync(path.join(host, 'dir')), [], what);
  };

  it('mount destination: an absolute symlink to a host directory (and a missing target below it)', () => {
    for (const dest of ['/evil', '/evil/new/deeper']) {
      // Where the symlink leads inside the root exists: the mount lands there.
      const t = run(ts, { mounts: [tmpfsAt(dest, ['nodev'])], image: `mkdir -p .${host}/dir && ln -s ${host}/dir evil` }, `${MOUNTS('/')} | grep ' rw,nodev,'`);
      assert.equal(t.status, 0, show(t));
      assert.ok(lines(t.stdout).has(`${host}/dir${dest.slice('/evil'.length)}`), t.stdout);
      unchanged(dest);
      // Where it leads nowhere inside the root (only on the host): a clean error, nothing made
      // (runc creates the directories the symlink names inside its rootfs instead).
      const u = run(ts, { mounts: [tmpfsAt(dest, ['nodev'])], image: `ln -s ${host}/dir evil` }, 'true');
      assert.equal(u.status, 1, show(u));
      assert.match(errMsg(u), new RegExp(`mount \`tmpfs\` on \`${dest}\` .*: mkdir ${dest}: ENOENT`));
      unchanged(`${dest} (dangling)`);
    }
  });

  it('mount destination: a relative symlink climbing out with ../ stays in the root', () => {
    const t = run(ts, { mounts: [tmpfsAt('/evil/x', ['nodev'])], image: `mkdir -p .${host}/dir && ln -s ../../../../../../../../${host.slice(1)}/dir evil` },
      `${MOUNTS('/')} | grep ' rw,nodev,'`);
    assert.equal(t.status, 0, show(t));
    assert.ok(lines(t.stdout).has(`${host}/dir/x`), t.stdout);
    unchanged('relative ../ symlink');
  });

  it('bind of a file onto a symlink to a host file, and onto a missing file below a symlink', () => {
    const file = path.join(tmp, 'bindsrc');
    fs.writeFileSync(file, 'BIND\n');
    for (const dest of ['/evil', '/evil2/newfile']) {
      const bind = [{ destination: dest, type: 'bind', source: file, options: ['bind', 'ro'] }];
      // The targets exist inside the root: the file is bound there.
      const t = run(ts, { mounts: bind, image: `mkdir -p .${host}/dir && echo IMG > .${host}/secret && ln -s ${host}/secret evil && ln -s ${host}/dir evil2` },
        `cat ${dest}; ${MOUNTS('/')} | grep -c '^${host}/'`);
      assert.equal(t.status, 0, show(t));
      assert.equal(t.stdout, 'BIND\n1\n');
      unchanged(dest);
      // Only on the host: a clean error, nothing created.
      const u = run(ts, { mounts: bind, image: `ln -s ${host}/secret evil && ln -s ${host}/dir evil2` }, 'true');
      assert.equal(u.status, 1, show(u));
      assert.match(errMsg(u), /bind-mount .*: (create|mkdir) .*: (ELOOP|ENOENT)/);
      unchanged(`${dest} (dangling)`);
    }
  });

  it('masked path and read-only path: symlinks to host paths', () => {
    const t = run(ts, {
      linux: { maskedPaths: ['/m1', '/m2'], readonlyPaths: ['/r1'] },
      image: `ln -s ${host}/secret m1 && ln -s ${host}/dir m2 && ln -s ${host}/dir r1`,
    }, 'true');
    assert.equal(t.status, 0, show(t));
    unchanged('masked/read-only');
    // Made to exist inside the root, the same symlinks mask and protect the container's own files.
    const u = run(ts, {
      linux: { maskedPaths: ['/m1'], readonlyPaths: ['/r1'] },
      image: `mkdir -p .${host}/dir && echo IMAGE > .${host}/secret && ln -s ${host}/secret m1 && ln -s ${host}/dir r1`,
    }, `cat ${host}/secret | wc -c; touch ${host}/dir/x 2>/dev/null || echo EROFS`);
    assert.equal(u.status, 0, show(u));
    assert.match(u.stdout, /^0\n/);
    assert.match(u.stdout, /EROFS/);
    unchanged('masked/read-only inside the root');
  });

  it('tmpcopyup: destination a symlink to a host directory, content with symlinks to host files', () => {
    const t = run(ts, {
      mounts: [tmpfsAt('/var/tmp', ['tmpcopyup']), tmpfsAt('/evil', ['tmpcopyup'])],
      image: `mkdir -p var/tmp .${host} && ln -s ${host}/secret var/tmp/abs && ln -s ../../../../../../../${host.slice(1)}/secret var/tmp/rel && ln -s ${host} evil`,
    }, 'cat /var/tmp/abs /var/tmp/rel 2>&1; readlink /var/tmp/abs');
    assert.equal(t.status, 0, show(t));
    assert.doesNotMatch(t.stdout, /HOST-SECRET/);
    assert.match(t.stdout, new RegExp(`^${host}/secret$`, 'm'));
    unchanged('tmpcopyup');
  });

  it('device path: a symlink to a host file is refused; nothing is created, chmod-ed or chown-ed on the host', () => {
    for (const image of [`ln -s ${host}/secret dv`, `ln -s ${host}/dir/newdev dv`]) {
      const t = run(ts, { linux: { devices: [{ path: '/dv', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 5 }] }, image }, 'true');
      assert.equal(t.status, 1, show(t));
      assert.match(errMsg(t), /create device `\/dv` \(c 1:3\): \/dv exists and is not the requested device/);
      unchanged(image);
    }
    const t = run(ts, { linux: { devices: [{ path: '/dd/newdev', type: 'c', major: 1, minor: 3 }] }, image: `mkdir -p .${host}/dir && ln -s ${host}/dir dd` }, `stat -c '%n %t:%T' ${host}/dir/newdev`);
    assert.equal(t.status, 0, show(t));
    assert.match(t.stdout, /newdev 1:3/);
    unchanged('device below a symlinked directory');
  });
});

describe('linux.devices', () => {
  const DEVICES = [
    { path: '/dev/c1', type: 'c', major: 1, minor: 3 },
    { path: '/dev/u1', type: 'u', major: 1, minor: 5, fileMode: 0o640, uid: 5, gid: 7 },
    { path: '/dev/b1', type: 'b', major: 7, minor: 200, fileMode: 0o600 },
    { path: '/dev/p1', type: 'p' },
    // The chown after the chmod drops set-user-ID (the kernel's rule), in runc as here.
    { path: '/elsewhere/deep/c2', type: 'c', major: 1, minor: 9, fileMode: 0o6644, gid: 3 },
  ];
  const LIST = 'for f in /dev/c1 /dev/u1 /dev/b1 /dev/p1 /elsewhere/deep/c2; do stat -c "%n %A %u:%g %t:%T %F" $f; done; ls -ln /dev/c1';

  it('every type with major/minor/fileMode/uid/gid (defaults 0666, 0:0), as under runc 1.1.5', () => {
    const o = both({ linux: { devices: DEVICES } }, LIST);
    assert.equal(o.t, o.r);
    assert.match(o.t, /^\/dev\/c1 crw-rw-rw- 0:0 1:3 character special file$/m);
    assert.match(o.t, /^\/dev\/u1 crw-r----- 5:7 1:5 character special file$/m);
    assert.match(o.t, /^\/dev\/b1 brw------- 0:0 7:c8 block special file$/m);
    assert.match(o.t, /^\/dev\/p1 prw-rw-rw- 0:0 0:0 fifo$/m);
    assert.match(o.t, /^\/elsewhere\/deep\/c2 crw-r-Sr-- 0:3 1:9 character special file$/m);
  });

  it('an existing file that is not the device is an error (config-linux.md; runc 1.1.5 keeps the file)', () => {
    const dev = { path: '/etc/passwd', type: 'c', major: 1, minor: 3 };
    const r = run(runc, { linux: { devices: [dev] } }, 'test -f /etc/passwd && echo KEPT');
    assert.equal(r.stdout, 'KEPT\n', `runc 1.1.5 was expected to keep the file: ${show(r)}`);
    for (const [image, d] of [['true', dev], ['mknod etc/dv c 1 5', { ...dev, path: '/etc/dv' }], ['mkfifo etc/dv', { ...dev, path: '/etc/dv' }],
      ['mknod etc/dv b 1 3', { ...dev, path: '/etc/dv' }], ['ln -s /nonexistent etc/dv', { ...dev, path: '/etc/dv' }]] as const) {
      const t = run(ts, { linux: { devices: [d] }, image }, 'true');
      assert.equal(t.status, 1, `${image}: ${show(t)}`);
      assert.match(errMsg(t), new RegExp(`create device \`${d.path}\` \\(c 1:3\\): ${d.path} exists and is not the requested device`), image);
    }
  });

  it('an existing file that is the device (also through a symlink inside the root) is kept, as in runc', () => {
    const o = both({ linux: { devices: [{ path: '/etc/dv', type: 'c', major: 1, minor: 3 }, { path: '/etc/lnk', type: 'c', major: 1, minor: 3 }] },
      image: 'mknod -m 600 etc/dv c 1 3 && ln -s /dev/null etc/lnk' }, 'stat -c "%n %A %t:%T" /etc/dv /etc/lnk; readlink /etc/lnk');
    assert.equal(o.t, o.r);
    assert.match(o.t, /^\/etc\/dv crw------- 1:3$/m);
  });

  it('bad devices are refused at create, naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ path: '/dev/x', type: 'x', major: 1, minor: 1 }, /\/linux\/devices\/0\/type/],
      [{ path: '/dev/x', type: 'c', minor: 1 }, /\/linux\/devices\/0: major is required for device type "c"/],
      [{ path: 'dev/x', type: 'c', major: 1, minor: 1 }, /\/linux\/devices\/0\/path: must be an absolute path/],
    ];
    for (const [d, re] of cases) {
      const t = run(ts, { linux: { devices: [d] } }, 'true');
      assert.equal(t.status, 1, show(t));
      assert.match(errMsg(t), re);
    }
  });
});

describe('maskedPaths and readonlyPaths edge cases, as runc 1.1.5', () => {
  const IMAGE = 'mkdir -p data/dir ro/in && echo x > data/f && touch data/dir/in && ln -s ../../../../etc/group data/lnk && ln -s /ro/in ro/lnk';
  const SEE = `${MOUNTS('/')} | grep -v '^/\\(proc\\|sys\\|dev\\)'; cat /data/f /etc/group 2>&1 | wc -c; ls -A /data/dir /etc | wc -l; touch /ro/in/x 2>&1 | grep -c Read-only`;

  it('nested, duplicates, missing, file vs directory, symlinks inside the image', () => {
    const o = both({
      edit: (c) => { c.root!.readonly = false; },
      linux: {
        maskedPaths: ['/data/lnk', '/data/f', '/data/f', '/data/dir/../dir', '/nope', '/data/dir/in'],
        readonlyPaths: ['/ro/lnk', '/ro', '/ro', '/nope2'],
      },
      image: IMAGE,
    }, SEE);
    assert.equal(o.t, o.r);
    const m = lines(o.t);
    assert.match(m.get('/data/f')!, /tmpfs/); // /dev/null of the container's /dev tmpfs
    assert.match(m.get('/data/dir')!, /^\/data\/dir ro,/);
    assert.match(m.get('/etc/group')!, / - tmpfs /); // through the symlink, inside the root
    assert.match(m.get('/ro/in')!, /^\/ro\/in ro,/);
  });

  it('a masked directory hides a masked path below it (nested, either order)', () => {
    const o = both({ linux: { maskedPaths: ['/data', '/data/f'], readonlyPaths: [] }, image: IMAGE }, `${MOUNTS('/data')}; ls -A /data | wc -l`);
    assert.equal(o.t, o.r);
    const p = both({ linux: { maskedPaths: ['/data/f', '/data'], readonlyPaths: [] }, image: IMAGE }, `${MOUNTS('/data')}; ls -A /data | wc -l`);
    assert.equal(p.t, p.r);
  });

  it('relative paths are refused (config-linux.md: MUST be absolute; runc 1.1.5 takes them relative to /)', () => {
    const t = run(ts, { linux: { maskedPaths: ['data/f'], readonlyPaths: ['data/dir'] }, image: IMAGE }, 'true');
    assert.equal(t.status, 1);
    assert.match(errMsg(t), /\/linux\/maskedPaths\/0: must be an absolute path, got "data\/f"\nconfig.json: \/linux\/readonlyPaths\/0: must be an absolute path/);
  });
});

describe('mountLabel', () => {
  // runc 1.1.5 appends `context="<label>"` to the data of the mounts it labels (tmpfs, devpts and
  // other non-bind mounts but proc, sysfs, mqueue and cgroup; the tmpfs of a masked directory)
  // whether or not SELinux is enabled; a kernel without SELinux refuses that option. tsrunc does
  // the same, so the same configs work and fail.
  const LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
  before(() => assert.ok(!fs.existsSync('/sys/fs/selinux/enforce'), 'these tests expect a host without SELinux'));

  it('the default mounts: both fail at the /dev tmpfs, with the label in the mount data', () => {
    const c: Case = { linux: { mountLabel: LABEL } };
    const r = run(runc, c, 'true');
    assert.match(errMsg(r), /at "\/dev": .*data: mode=755,size=65536k,context="system_u:object_r:container_file_t:s0:c1,c2": invalid argument/);
    const t = run(ts, c, 'true');
    assert.equal(t.status, 1, show(t));
    assert.equal(errMsg(t), `tsrunc run failed: mount \`tmpfs\` on \`/dev\` (type tmpfs, nosuid|strictatime, mode=755,size=65536k,context="${LABEL}"): mount: EINVAL (step 5)`);
  });

  it('only proc, sysfs and binds: both run; a masked directory (tmpfs) fails in both', () => {
    const only = (cfg: OciConfig) => { cfg.mounts = cfg.mounts!.filter((m) => m.type === 'proc' || m.type === 'sysfs'); };
    const ok: Case = { linux: { mountLabel: LABEL, maskedPaths: ['/proc/kcore'] }, edit: only };
    const o = both(ok, MOUNTS('/proc'));
    assert.equal(o.t, o.r);
    const bad: Case = { linux: { mountLabel: LABEL, maskedPaths: ['/proc/acpi'] }, edit: only };
    const r = run(runc, bad, 'true');
    assert.match(errMsg(r), /can't mask path \/proc\/acpi: .*invalid argument/);
    const t = run(ts, bad, 'true');
    assert.equal(t.status, 1, show(t));
    assert.match(errMsg(t), /^tsrunc run failed: mask `\/proc\/acpi`: create tmpfs: EINVAL/);
  });
});
