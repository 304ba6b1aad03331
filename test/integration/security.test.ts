// Attacks from a container (or from its config/image) on the host: issue 5 §1 and §2 and issue 11
// point 1. Every case attacks for real and checks the security property on the host, not the
// plan:
//   1. CVE-2024-21626: process.cwd through a host fd (`/proc/self/fd/N`, `…/../../<k>/root`).
//   2. An image's /etc/passwd that is a symlink through `/proc/self/fd/N` to a root-only host file,
//      or a FIFO (the HOME lookup must neither leak nor hang).
//   3. linux.sysctl keys that are not namespaced (or whose namespace is the host's), and keys that
//      try to escape /proc/sys with separators.
//   4. Config mounts over /proc/sys files that would redirect a sysctl write to a host file or to
//      another (host) sysctl; the lxcfs-style binds runc allows still work.
//   5. root.readonly without a /proc mount and an image whose /proc/self/fd is a trap.
//   6. --no-pivot must not leave a fully visible procfs reachable (unshare + mount proc fails), with
//      runc 1.1.5 run on the same bundle when it is installed.
// Cases that would write host sysctls if the runtime is vulnerable use harmless values and restore
// the host's value right after the case (and in `after`), reporting the change as the failure.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/security.test.js
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, type OciConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { type CallResult, RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, show, snapshot, tmpDir, type World } from './support';

const P = `it-sec-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const TAG = crypto.randomBytes(6).toString('hex');

let tmp = '';
let root = '';
let hostDir = '';
let t: Tsrunc;
const ids = new Set<string>();
let seq = 0;
/** Host sysctl values to put back in `after` should a case have changed them. */
const sysctlBefore = new Map<string, string>();

function newId(tag: string): string {
  const id = `${P}-${tag}-${++seq}`;
  ids.add(id);
  return id;
}

before(() => {
  tmp = tmpDir('tsrunc-it-sec');
  root = path.join(tmp, 'root');
  hostDir = path.join(tmp, 'host');
  fs.mkdirSync(hostDir, { mode: 0o755 });
  t = new Tsrunc(root, tmp, 15000);
});

after(() => {
  for (const [k, v] of sysctlBefore) {
    if (readSysctl(k) !== v) writeSysctl(k, v);
  }
  cleanup(t, ids, tmp ? [tmp] : []);
});

// ---- helpers ------------------------------------------------------------------------------------

function sysctlPath(key: string): string {
  return path.join('/proc/sys', ...key.split('.'));
}

function readSysctl(key: string): string {
  return fs.readFileSync(sysctlPath(key), 'utf8').replace(/\n$/, '');
}

function writeSysctl(key: string, v: string): void {
  fs.writeFileSync(sysctlPath(key), `${v}\n`);
}

/** Remember `keys`' host values (restored in `after` and by checkHost). */
function remember(keys: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of keys) {
    const v = readSysctl(k);
    m.set(k, v);
    if (!sysctlBefore.has(k)) sysctlBefore.set(k, v);
  }
  return m;
}

/** Host sysctls that changed since `before` (put back at once); [] when none did. */
function changedSysctls(before: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of before) {
    const now = readSysctl(k);
    if (now !== v) {
      out.push(`host ${k} changed from ${JSON.stringify(v)} to ${JSON.stringify(now)}`);
      writeSysctl(k, v);
    }
  }
  return out;
}

/** A shared busybox rootfs (built once per name), with /ctr-marker-TAG in it. */
const rootfsCache = new Map<string, string>();
function rootfs(name = 'rootfs'): string {
  let d = rootfsCache.get(name);
  if (d) return d;
  d = path.join(tmp, name);
  buildRootfs(d);
  fs.writeFileSync(path.join(d, `ctr-marker-${TAG}`), 'container\n');
  rootfsCache.set(name, d);
  return d;
}

/** A bundle dir with config.json = defaultConfig(['sh','-c',script]) edited by `edit`, root.path `rfs`. */
function bundle(name: string, script: string, edit: (c: OciConfig) => void = () => {}, rfs = rootfs()): string {
  const dir = path.join(tmp, `b-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  const c = defaultConfig(['sh', '-c', script]);
  c.root = { path: rfs, readonly: true };
  edit(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

function withNs(c: OciConfig, add: string[], remove: string[] = []): void {
  const ns = (c.linux!.namespaces ?? []).filter((n) => !remove.includes(n.type));
  for (const a of add) if (!ns.some((n) => n.type === a)) ns.push({ type: a });
  c.linux!.namespaces = ns;
}

function noFailureOrHang(r: CallResult): void {
  assert.ok(!r.timedOut, `runtime hung: ${show(r)}`);
  assert.equal(r.signal, null, `runtime killed by a signal: ${show(r)}`);
}

/** The case under way: what existed before it and its ids (cleaned by the afterEach hook if it throws). */
let pending: { before: World; ids: string[] } | undefined;

/** Start a case: snapshot the world; returns the snapshot for assertClean. */
function track(caseIds: string[]): World {
  const before = snapshot(root, [tmp]);
  pending = { before, ids: caseIds };
  return before;
}

/** Remove what a case left (kill, rmdir cgroups, delete --force, then the state entry itself). */
function clean(before: World, caseIds: string[]): string[] {
  const found = leftovers(root, before, caseIds, [tmp]);
  for (const id of caseIds) {
    if (fs.existsSync(path.join(root, id))) t.call(['delete', '--force', id]);
    fs.rmSync(path.join(root, id), { recursive: true, force: true });
  }
  return found;
}

/** What a case left behind (state entries, cgroups, processes, mounts); killed and removed. */
function assertClean(before: World, caseIds: string[]): void {
  pending = undefined;
  assert.deepEqual(clean(before, caseIds), [], 'left behind');
}

/** A case that failed before its assertClean: clean up silently (its own failure is what counts). */
function cleanupHook(): void {
  afterEach(() => {
    if (pending) { clean(pending.before, pending.ids); pending = undefined; }
  });
}

/**
 * create + start with the container's stdout/stderr in files (so that output written after
 * `create` returned is kept), wait until it stopped, delete it; returns create's result and the
 * container's output.
 */
function createStart(id: string, dir: string): { create: CallResult; start?: CallResult; out: string } {
  const outFile = path.join(tmp, `${id}.out`);
  const errFile = path.join(tmp, `${id}.err`);
  const out = fs.openSync(outFile, 'w+');
  const err = fs.openSync(errFile, 'w+');
  let create: CallResult;
  try {
    create = t.rt.call(['create', '--bundle', dir, id], { stdio: ['ignore', out, err] });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const output = () => fs.readFileSync(outFile, 'utf8') + fs.readFileSync(errFile, 'utf8');
  if (create.status !== 0) {
    create.stderr = fs.readFileSync(errFile, 'utf8');
    return { create, out: output() };
  }
  const start = t.call(['start', id]);
  t.waitStatus(id, 'stopped', 5000);
  t.call(['delete', '--force', id]);
  return { create, start, out: output() };
}

// ---- 1. process.cwd through a host fd (CVE-2024-21626) ------------------------------------------

describe('CVE-2024-21626: process.cwd = /proc/self/fd/N[/../../<k>/root] never starts outside the root', () => {
  cleanupHook();
  let hostMarker = '';
  let hostMarkerText = '';
  const suffixes = ['', '/../../1/root', '/../../2/root', '/../../self/root'];
  /** Per case: a host file the container tries to append to and a host dir it tries to create files in. */
  const canaries: { file: string; dir: string }[] = [];

  before(() => {
    hostMarkerText = `HOST-MARKER-${TAG}`;
    hostMarker = path.join(hostDir, 'host-marker');
    fs.writeFileSync(hostMarker, `${hostMarkerText}\n`, { mode: 0o644 });
  });

  function canary(n: number): { file: string; dir: string } {
    const c = { file: path.join(hostDir, `canary-file-${n}`), dir: path.join(hostDir, `canary-dir-${n}`) };
    fs.writeFileSync(c.file, 'intact\n', { mode: 0o666 });
    fs.chmodSync(c.file, 0o666);
    fs.mkdirSync(c.dir, { mode: 0o777 });
    fs.chmodSync(c.dir, 0o777);
    canaries.push(c);
    return c;
  }

  /**
   * The script climbs `..` 40 times from its cwd: inside the container's root that ends at `/`
   * (`..` of the root is the root); from a host directory it ends at a host mount's root. Then it
   * tries the host files through that top and through `../../..` paths.
   */
  function script(c: { file: string; dir: string }): string {
    const up = Array(40).fill('..').join('/');
    return [
      'echo "PWD=[$(pwd)]"',
      `top=./${up}`,
      'echo "TOP=$(stat -c %d:%i "$top" 2>&1) ROOT=$(stat -c %d:%i / 2>&1)"',
      `[ -e "$top/ctr-marker-${TAG}" ] && echo TOP_HAS_CTR_MARKER`,
      `cat "$top${hostMarker}" 2>/dev/null`,
      `cat "./${up}${hostMarker}" 2>/dev/null`,
      `echo pwned >> "$top${c.file}" 2>/dev/null`,
      `echo pwned > "$top${c.dir}/c" 2>/dev/null`,
      `echo pwned > "../../../..${c.dir}/d" 2>/dev/null`,
      'echo DONE',
    ].join('\n');
  }

  function check(cwd: string, c: { file: string; dir: string }, r: CallResult, out: string, failed: boolean, how: string): void {
    noFailureOrHang(r);
    // The host first: nothing read, nothing written.
    assert.ok(!out.includes(hostMarkerText), `${how}: the host marker was read from the container: ${JSON.stringify(out)}`);
    assert.equal(fs.readFileSync(c.file, 'utf8'), 'intact\n', `${how}: the host canary file was written: ${JSON.stringify(out)}`);
    assert.deepEqual(fs.readdirSync(c.dir), [], `${how}: files were created in the host canary dir: ${JSON.stringify(out)}`);
    if (failed) {
      assert.notEqual(r.status, 0);
      // Named: `cwd`, or the path (runc 1.1.5 names the failing prefix: `mkdir /proc/self/fd/N: not a directory`).
      const msg = errMsg(r);
      const prefix = /^\/proc\/self\/fd\/\d+/.exec(cwd)![0];
      assert.ok(msg.includes('cwd') || msg.includes(prefix), `${how}: the error must name the cwd (\`cwd\` or ${prefix}): ${show(r)}`);
      assert.ok(!out.includes('DONE'), `${how}: failed, yet the container process ran: ${JSON.stringify(out)}`);
    } else {
      assert.ok(out.includes('DONE'), `${how}: the container did not run the script: ${JSON.stringify(out)} ${show(r)}`);
      const m = /TOP=(\S+) ROOT=(\S+)/.exec(out);
      assert.ok(m, `${how}: no TOP/ROOT line: ${JSON.stringify(out)}`);
      assert.equal(m[1], m[2], `${how}: the cwd is outside the container's root (climbing .. does not reach /): ${JSON.stringify(out)}`);
      assert.ok(out.includes('TOP_HAS_CTR_MARKER'), `${how}: climbing .. from the cwd does not reach the container's files: ${JSON.stringify(out)}`);
      assert.ok(/^PWD=\[\/[^\]]*\]$/m.test(out), `${how}: pwd is not a path in the container: ${JSON.stringify(out)}`);
    }
  }

  for (let n = 3; n <= 12; n++) {
    for (const suf of suffixes) {
      const cwd = `/proc/self/fd/${n}${suf}`;
      it(`run with cwd ${cwd}`, () => {
        const id = newId(`cwd${n}`);
        const before = track([id]);
        const c = canary(seq);
        const dir = bundle(id, script(c), (cfg) => { cfg.process!.cwd = cwd; });
        const r = t.call(['run', '--bundle', dir, id]);
        check(cwd, c, r, r.stdout + r.stderr, r.status !== 0, `run cwd=${cwd}`);
        assertClean(before, [id]);
      });
    }
  }

  for (let n = 3; n <= 12; n++) {
    for (const suf of ['', '/../../2/root']) {
      const cwd = `/proc/self/fd/${n}${suf}`;
      it(`create + start with cwd ${cwd}`, () => {
        const id = newId(`cwdcs${n}`);
        const before = track([id]);
        const c = canary(seq);
        const dir = bundle(id, script(c), (cfg) => { cfg.process!.cwd = cwd; });
        const cs = createStart(id, dir);
        if (cs.create.status !== 0) {
          check(cwd, c, cs.create, cs.out, true, `create cwd=${cwd}`);
        } else {
          noFailureOrHang(cs.start!);
          // Either start refuses (naming the cwd) or the process ran inside the root.
          check(cwd, c, cs.start!, cs.out, cs.start!.status !== 0, `create+start cwd=${cwd}`);
        }
        assertClean(before, [id]);
      });
    }
  }

  it('canary: nothing any of the containers tried to write exists on the host', () => {
    assert.ok(canaries.length > 0, 'no case ran');
    const written = canaries.filter((c) => fs.readFileSync(c.file, 'utf8') !== 'intact\n' || fs.readdirSync(c.dir).length > 0);
    assert.deepEqual(written.map((c) => c.file), []);
  });
});

// ---- 2. /etc/passwd of the image: symlink through /proc/self/fd, FIFO ---------------------------

describe('image /etc/passwd: a symlink through /proc/self/fd/N to a host secret, or a FIFO', () => {
  cleanupHook();
  let secretFile = '';
  let secret = '';
  let rfs = '';

  before(() => {
    secret = `SECRET-${TAG}-${crypto.randomBytes(8).toString('hex')}`;
    const secDir = path.join(hostDir, 'secret');
    fs.mkdirSync(secDir, { mode: 0o700 });
    secretFile = path.join(secDir, 'passwd-secret');
    // Shaped like a passwd line, so that a lookup that reads it would put the secret into HOME.
    fs.writeFileSync(secretFile, `root:x:0:0:${secret}:/${secret}:/bin/sh\n`, { mode: 0o600 });
    fs.chmodSync(secretFile, 0o600);
    rfs = rootfs('rootfs-passwd');
  });

  function setPasswd(make: (p: string) => void): void {
    const p = path.join(rfs, 'etc/passwd');
    fs.rmSync(p, { force: true });
    make(p);
  }

  for (let n = 3; n <= 8; n++) {
    for (const k of ['1', '2', 'self']) {
      it(`/etc/passwd -> /proc/self/fd/${n}/../../${k}/root<secret>: HOME does not carry the secret`, () => {
        const id = newId(`pw${n}${k}`);
        const before = track([id]);
        setPasswd((p) => fs.symlinkSync(`/proc/self/fd/${n}/../../${k}/root${secretFile}`, p));
        const dir = bundle(id, 'echo "HOME=[$HOME]"; cat /etc/passwd 2>/dev/null; echo DONE', (c) => {
          c.process!.env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
        }, rfs);
        const r = t.call(['run', '--bundle', dir, id]);
        noFailureOrHang(r);
        assert.ok(!(r.stdout + r.stderr).includes(secret), `the host secret leaked into the container: ${show(r)}`);
        if (r.status === 0) assert.match(r.stdout, /^HOME=\[\/[^\]]*\]$/m, show(r));
        assertClean(before, [id]);
      });
    }
  }

  it('/etc/passwd is a FIFO: run finishes within 10 s (HOME=/ or a clear error), never hangs', () => {
    const id = newId('pwfifo');
    const before = track([id]);
    setPasswd((p) => { const r = spawnSync('mkfifo', ['-m', '0644', p]); assert.equal(r.status, 0, String(r.stderr)); });
    const dir = bundle(id, 'echo "HOME=[$HOME]"', (c) => { c.process!.env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']; }, rfs);
    const quick = new Tsrunc(root, tmp, 10000);
    const t0 = Date.now();
    const r = quick.call(['run', '--bundle', dir, id]);
    const ms = Date.now() - t0;
    setPasswd((p) => fs.writeFileSync(p, 'root:x:0:0:root:/root:/bin/sh\n'));
    assert.ok(!r.timedOut, `run hung on a FIFO /etc/passwd (killed after ${ms} ms): ${show(r)}`);
    assert.equal(r.signal, null, show(r));
    if (r.status === 0) assert.match(r.stdout, /^HOME=\[\/\]$/m, show(r));
    else assert.ok(errMsg(r).length > 0, `no error message: ${show(r)}`);
    assertClean(before, [id]);
  });
});

// ---- 3. linux.sysctl: only namespaced keys, only with their namespace new -----------------------

describe('linux.sysctl: host sysctls are refused and never written', () => {
  cleanupHook();
  interface Refused {
    name: string;
    key: string;
    value: (host: string) => string;
    ns?: { add?: string[]; remove?: string[] };
    want: RegExp;
    /** Host sysctls that a vulnerable runtime would write. */
    watch: string[];
  }
  const refused: Refused[] = [
    {
      name: 'fs.file-max (not namespaced)', key: 'fs.file-max', value: (h) => String(Number(h) + 1),
      want: /sysctl "fs\.file-max" is not in a separate kernel namespace/, watch: ['fs.file-max'],
    },
    {
      name: 'kernel.core_pattern (not namespaced)', key: 'kernel.core_pattern', value: () => `core.tsrunc-${TAG}`,
      want: /sysctl "kernel\.core_pattern" is not in a separate kernel namespace/, watch: ['kernel.core_pattern'],
    },
    {
      name: 'kernel.hostname (conflicts with the hostname field)', key: 'kernel.hostname', value: () => `evil-${TAG}`,
      want: /sysctl.*kernel\.hostname/, watch: ['kernel.hostname'],
    },
    {
      name: 'net.ipv4.ip_forward without a network namespace', key: 'net.ipv4.ip_forward', value: (h) => (h === '1' ? '0' : '1'),
      ns: { remove: ['network'] }, want: /sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace/,
      watch: ['net.ipv4.ip_forward'],
    },
    {
      name: 'kernel.shmmax without an ipc namespace', key: 'kernel.shmmax', value: () => '123456789',
      ns: { remove: ['ipc'] }, want: /sysctl "kernel\.shmmax" is not allowed in the hosts ipc namespace/,
      watch: ['kernel.shmmax'],
    },
    {
      name: 'escape with separators: net./../kernel.core_pattern', key: 'net./../kernel.core_pattern',
      value: () => `core.tsrunc-esc1-${TAG}`, want: /sysctl|\/proc\/sys/, watch: ['kernel.core_pattern'],
    },
    {
      name: 'escape with separators: net.ipv4/../../kernel/core_pattern', key: 'net.ipv4/../../kernel/core_pattern',
      value: () => `core.tsrunc-esc2-${TAG}`, want: /sysctl|\/proc\/sys/, watch: ['kernel.core_pattern'],
    },
    {
      name: 'escape with separators: net/../../../proc/sys/kernel/core_pattern', key: 'net/../../../proc/sys/kernel/core_pattern',
      value: () => `core.tsrunc-esc3-${TAG}`, want: /sysctl|\/proc\/sys/, watch: ['kernel.core_pattern'],
    },
    {
      name: 'escape with separators: fs.mqueue/../../kernel/core_pattern', key: 'fs.mqueue/../../kernel/core_pattern',
      value: () => `core.tsrunc-esc4-${TAG}`, want: /sysctl|\/proc\/sys/, watch: ['kernel.core_pattern'],
    },
  ];

  for (const c of refused) {
    it(`refused: ${c.name}`, () => {
      const id = newId('sysctl');
      const host = remember([...new Set([...c.watch, 'kernel.hostname'])]);
      const before = track([id]);
      const hostValue = host.get(c.watch[0]!)!;
      const dir = bundle(id, 'echo RAN', (cfg) => {
        withNs(cfg, c.ns?.add ?? [], c.ns?.remove ?? []);
        cfg.linux!.sysctl = { [c.key]: c.value(hostValue) };
      });
      const r = t.call(['create', '--bundle', dir, id]);
      const changed = changedSysctls(host);
      noFailureOrHang(r);
      assert.deepEqual(changed, [], `the host was written: ${show(r)}`);
      assert.notEqual(r.status, 0, `create accepted sysctl ${c.key}: ${show(r)}`);
      assert.match(errMsg(r), c.want, show(r));
      assertClean(before, [id]);
    });
  }

  interface Allowed { name: string; key: string; value: string; ns: string }
  const allowed: Allowed[] = [
    { name: 'kernel.shmmax with an ipc namespace', key: 'kernel.shmmax', value: '12345678', ns: 'ipc' },
    { name: 'net.ipv4.ip_forward with a network namespace', key: 'net.ipv4.ip_forward', value: '1', ns: 'network' },
    { name: 'kernel.domainname with a uts namespace', key: 'kernel.domainname', value: `dom-${TAG}`, ns: 'uts' },
  ];
  for (const c of allowed) {
    it(`allowed: ${c.name} (the value shows inside; the host's does not change)`, () => {
      const id = newId('sysctl-ok');
      const host = remember([c.key]);
      const before = track([id]);
      const file = sysctlPath(c.key);
      const dir = bundle(id, `cat ${file}`, (cfg) => {
        withNs(cfg, [c.ns]);
        cfg.linux!.sysctl = { [c.key]: c.value };
      });
      const r = t.call(['run', '--bundle', dir, id]);
      const changed = changedSysctls(host);
      noFailureOrHang(r);
      assert.deepEqual(changed, [], show(r));
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout.trim(), c.value, show(r));
      assertClean(before, [id]);
    });
  }
});

// ---- 4. config mounts over /proc files -----------------------------------------------------------

describe('config mounts inside /proc: a sysctl write must never be redirected', () => {
  cleanupHook();
  it('a host file bound onto /proc/sys/net/ipv4/ip_forward (net ns, sysctl set): refused; host file and sysctl unchanged', () => {
    const id = newId('procmnt1');
    const host = remember(['net.ipv4.ip_forward']);
    const before = track([id]);
    const victim = path.join(hostDir, 'victim-ip-forward');
    fs.writeFileSync(victim, 'VICTIM-ORIGINAL\n', { mode: 0o644 });
    const dir = bundle(id, 'cat /proc/sys/net/ipv4/ip_forward', (c) => {
      c.mounts!.push({ destination: '/proc/sys/net/ipv4/ip_forward', type: 'bind', source: victim, options: ['bind'] });
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    const r = t.call(['create', '--bundle', dir, id]);
    const changed = changedSysctls(host);
    noFailureOrHang(r);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'VICTIM-ORIGINAL\n', `the sysctl write landed in the host file: ${show(r)}`);
    assert.deepEqual(changed, [], show(r));
    assert.notEqual(r.status, 0, `a mount on /proc/sys/net/ipv4/ip_forward was accepted: ${show(r)}`);
    assert.match(errMsg(r), /\/proc/, show(r));
    assertClean(before, [id]);
  });

  it('a bind source that is a symlink to /proc/sys/kernel/domainname onto /proc/sys/kernel/shmmax (ipc ns, sysctl set): refused; host unchanged', () => {
    const id = newId('procmnt2');
    const host = remember(['kernel.domainname', 'kernel.shmmax']);
    const before = track([id]);
    const link = path.join(hostDir, 'link-to-domainname');
    fs.rmSync(link, { force: true });
    fs.symlinkSync('/proc/sys/kernel/domainname', link);
    const dir = bundle(id, 'cat /proc/sys/kernel/shmmax', (c) => {
      withNs(c, ['ipc']);
      c.mounts!.push({ destination: '/proc/sys/kernel/shmmax', type: 'bind', source: link, options: ['bind'] });
      c.linux!.sysctl = { 'kernel.shmmax': '4242424242' };
    });
    const r = t.call(['create', '--bundle', dir, id]);
    const changed = changedSysctls(host);
    noFailureOrHang(r);
    assert.deepEqual(changed, [], `the sysctl write was redirected to the host: ${show(r)}`);
    assert.notEqual(r.status, 0, `a mount on /proc/sys/kernel/shmmax was accepted: ${show(r)}`);
    assert.match(errMsg(r), /\/proc/, show(r));
    assertClean(before, [id]);
  });

  it('a bind onto /proc/sys (a directory, read-only path) with a sysctl set: refused; the host dir is unchanged', () => {
    const id = newId('procmnt3');
    const host = remember(['net.ipv4.ip_forward']);
    const before = track([id]);
    const victimDir = path.join(hostDir, 'victim-sys');
    fs.mkdirSync(path.join(victimDir, 'net/ipv4'), { recursive: true });
    fs.writeFileSync(path.join(victimDir, 'net/ipv4/ip_forward'), 'VICTIM\n');
    const dir = bundle(id, 'true', (c) => {
      c.mounts!.push({ destination: '/proc/sys', type: 'bind', source: victimDir, options: ['rbind'] });
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    const r = t.call(['create', '--bundle', dir, id]);
    const changed = changedSysctls(host);
    noFailureOrHang(r);
    assert.equal(fs.readFileSync(path.join(victimDir, 'net/ipv4/ip_forward'), 'utf8'), 'VICTIM\n', show(r));
    assert.deepEqual(changed, [], show(r));
    assert.notEqual(r.status, 0, show(r));
    assert.match(errMsg(r), /\/proc/, show(r));
    assertClean(before, [id]);
  });

  for (const dest of ['/proc/uptime', '/proc/cpuinfo', '/proc/meminfo']) {
    it(`allowed (lxcfs style): a host file bound onto ${dest} shows its content inside`, () => {
      const id = newId('lxcfs');
      const before = track([id]);
      const src = path.join(hostDir, `fake-${path.basename(dest)}`);
      const text = `FAKE-${path.basename(dest)}-${TAG}`;
      fs.writeFileSync(src, `${text}\n`, { mode: 0o644 });
      const dir = bundle(id, `cat ${dest}`, (c) => {
        c.mounts!.push({ destination: dest, type: 'bind', source: src, options: ['bind', 'ro'] });
      });
      const r = t.call(['run', '--bundle', dir, id]);
      noFailureOrHang(r);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout.trim(), text, show(r));
      assert.equal(fs.readFileSync(src, 'utf8'), `${text}\n`);
      assertClean(before, [id]);
    });
  }
});

// ---- 5. root.readonly without /proc, hostile image /proc ----------------------------------------

describe('root.readonly without a /proc mount and a hostile image /proc', () => {
  cleanupHook();
  const PROBE = [
    'if touch /x 2>/dev/null; then echo ROOT=writable; else echo ROOT=readonly; fi',
    'if touch /dev/x 2>/dev/null; then echo DEV=writable; else echo DEV=readonly; fi',
    'echo "KCORE=[$(cat /proc/kcore 2>/dev/null)]"',
    'echo DONE',
  ].join('\n');

  /** Image variants: what /proc holds in the image. */
  const variants: Record<string, (proc: string, r: string) => void> = {
    'proc/self/fd/0..20 -> /dev': (proc) => {
      fs.mkdirSync(path.join(proc, 'self/fd'), { recursive: true });
      for (let i = 0; i <= 20; i++) fs.symlinkSync('/dev', path.join(proc, 'self/fd', String(i)));
    },
    'proc/self/fd/0..20 -> /': (proc) => {
      fs.mkdirSync(path.join(proc, 'self/fd'), { recursive: true });
      for (let i = 0; i <= 20; i++) fs.symlinkSync('/', path.join(proc, 'self/fd', String(i)));
    },
    'proc/self -> /evil (evil/fd/N -> /dev)': (proc, r) => {
      fs.mkdirSync(path.join(r, 'evil/fd'), { recursive: true });
      for (let i = 0; i <= 20; i++) fs.symlinkSync('/dev', path.join(r, 'evil/fd', String(i)));
      fs.symlinkSync('/evil', path.join(proc, 'self'));
    },
    'proc/self/fd/N -> /tmp (an image dir), plus /proc/thread-self': (proc) => {
      fs.mkdirSync(path.join(proc, 'self/fd'), { recursive: true });
      fs.mkdirSync(path.join(proc, 'thread-self'), { recursive: true });
      for (let i = 0; i <= 20; i++) {
        fs.symlinkSync('/tmp', path.join(proc, 'self/fd', String(i)));
        fs.symlinkSync('/tmp', path.join(proc, 'thread-self', String(i)));
      }
    },
    'no trap (plain directory /proc)': () => {},
  };

  let n = 0;
  for (const [name, make] of Object.entries(variants)) {
    it(`${name}: / stays read-only, /dev writable, /proc/kcore masked (or a clean refusal)`, () => {
      const id = newId('rohostile');
      const before = track([id]);
      const rfs = path.join(tmp, `rootfs-ro-${++n}`);
      buildRootfs(rfs);
      const proc = path.join(rfs, 'proc');
      make(proc, rfs);
      // A present /proc/kcore in the image: the default maskedPaths must mask it.
      fs.writeFileSync(path.join(proc, 'kcore'), `KCORE-${TAG}\n`);
      const dir = bundle(id, PROBE, (c) => {
        c.mounts = c.mounts!.filter((m) => m.destination !== '/proc');
        c.root = { path: rfs, readonly: true };
      }, rfs);
      const r = t.call(['run', '--bundle', dir, id]);
      noFailureOrHang(r);
      // runc 1.1.5 refuses every such config (`/proc/self/fd is not on procfs`); a refusal is fine.
      if (r.status !== 0) {
        assert.ok(!r.stdout.includes('DONE'), show(r));
        assert.ok(errMsg(r).length > 0, show(r));
      } else {
        assert.ok(r.stdout.includes('DONE'), show(r));
        assert.match(r.stdout, /^ROOT=readonly$/m, `root.readonly bypassed: / is writable: ${show(r)}`);
        assert.match(r.stdout, /^DEV=writable$/m, `/dev (tmpfs) became read-only: ${show(r)}`);
        assert.match(r.stdout, /^KCORE=\[\]$/m, `/proc/kcore of the image is not masked: ${show(r)}`);
      }
      assert.ok(!fs.existsSync(path.join(rfs, 'x')), 'the container wrote to its read-only root');
      assertClean(before, [id]);
    });
  }
});

// ---- 6. --no-pivot -------------------------------------------------------------------------------

describe('--no-pivot: no fully visible procfs stays reachable (issue 11 point 1)', () => {
  cleanupHook();
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP'];
  // CAP_SETFCAP: since Linux 5.12 mapping uid 0 in a new user namespace needs it (verify_root_map);
  // without it `unshare -r` fails before the mount is even tried, under runc and tsrunc alike.
  const ATTACK = 'unshare -mrpf sh -c "mount -t proc none /proc && echo MOUNTED"; echo "RC=$?"; echo DONE';

  function noPivotBundle(name: string, script: string): string {
    return bundle(name, script, (c) => {
      c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: caps };
    });
  }

  it('the same bundle WITHOUT --no-pivot: the proc mount fails (the attack works only if procfs is exposed)', () => {
    const id = newId('pivot');
    const before = track([id]);
    const r = t.call(['run', '--bundle', noPivotBundle(id, ATTACK), id]);
    noFailureOrHang(r);
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stdout.includes('DONE'), show(r));
    assert.ok(!r.stdout.includes('MOUNTED'), `proc mounted in a nested user namespace: ${show(r)}`);
    assertClean(before, [id]);
  });

  it('run --no-pivot: `unshare -mrpf` + `mount -t proc` inside fails (runc 1.1.5: permission denied)', () => {
    const id = newId('nopivot');
    const before = track([id]);
    const r = t.call(['run', '--no-pivot', '--bundle', noPivotBundle(id, ATTACK), id]);
    noFailureOrHang(r);
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stdout.includes('DONE'), show(r));
    assert.ok(!r.stdout.includes('MOUNTED'), `a fresh procfs could be mounted: the old root's /proc is fully visible: ${show(r)}`);
    assert.match(r.stdout + r.stderr, /permission denied|not permitted/i, show(r));
    assertClean(before, [id]);
  });

  it('differential: runc --no-pivot on the same bundle gives the same outcome', (ctx) => {
    if (!fs.existsSync(RUNC)) { ctx.skip(`${RUNC} not installed`); return; }
    const id = newId('nopivot-runc');
    const runcRoot = path.join(tmp, 'runc-root');
    const runc = new RuntimeCli(RUNC, runcRoot, { timeoutMs: 15000 });
    const dir = noPivotBundle(id, ATTACK);
    const rr = runc.call(['run', '--no-pivot', '--bundle', dir, id]);
    try {
      const tr = t.call(['run', '--no-pivot', '--bundle', dir, `${id}-t`]);
      ids.add(`${id}-t`);
      noFailureOrHang(rr);
      noFailureOrHang(tr);
      const outcome = (r: CallResult) => ({ status: r.status, mounted: r.stdout.includes('MOUNTED'), done: r.stdout.includes('DONE') });
      assert.equal(outcome(rr).mounted, false, `runc itself mounted proc? ${show(rr)}`);
      assert.deepEqual(outcome(tr), outcome(rr), `tsrunc: ${show(tr)}\nrunc: ${show(rr)}`);
    } finally {
      runc.call(['delete', '--force', id]);
    }
  });

  // sysfs has the same rule (mount_too_revealing): a fresh sysfs in a new user+net namespace only
  // when no fully visible sysfs is reachable; the old root's /sys must be gone or covered too.
  const SYSFS_ATTACK = 'unshare -mrpfn sh -c "mount -t sysfs none /sys && echo SYSFS_MOUNTED"; echo "RC=$?"; echo DONE';

  it('run --no-pivot: `unshare -mrpfn` + `mount -t sysfs` inside fails (runc 1.1.5: permission denied)', () => {
    const id = newId('nopivot-sys');
    const before = track([id]);
    const r = t.call(['run', '--no-pivot', '--bundle', noPivotBundle(id, SYSFS_ATTACK), id]);
    noFailureOrHang(r);
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stdout.includes('DONE'), show(r));
    assert.ok(!r.stdout.includes('SYSFS_MOUNTED'), `a fresh sysfs could be mounted: the old root's /sys is fully visible: ${show(r)}`);
    assertClean(before, [id]);
  });

  it('differential (sysfs): runc --no-pivot on the same bundle gives the same outcome', (ctx) => {
    if (!fs.existsSync(RUNC)) { ctx.skip(`${RUNC} not installed`); return; }
    const id = newId('nopivot-sys-runc');
    const runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 15000 });
    const dir = noPivotBundle(id, SYSFS_ATTACK);
    const rr = runc.call(['run', '--no-pivot', '--bundle', dir, id]);
    try {
      ids.add(`${id}-t`);
      const tr = t.call(['run', '--no-pivot', '--bundle', dir, `${id}-t`]);
      noFailureOrHang(rr);
      noFailureOrHang(tr);
      const outcome = (r: CallResult) => ({ status: r.status, mounted: r.stdout.includes('SYSFS_MOUNTED'), done: r.stdout.includes('DONE') });
      assert.equal(outcome(rr).mounted, false, `runc itself mounted sysfs? ${show(rr)}`);
      assert.deepEqual(outcome(tr), outcome(rr), `tsrunc: ${show(tr)}\nrunc: ${show(rr)}`);
    } finally {
      runc.call(['delete', '--force', id]);
    }
  });

  it('--no-pivot: /proc/self/mountinfo inside shows no procfs/sysfs outside /proc and /sys', () => {
    const id = newId('nopivot-mi');
    const before = track([id]);
    const r = t.call(['run', '--no-pivot', '--bundle', bundle(id, 'cat /proc/self/mountinfo; echo DONE'), id]);
    noFailureOrHang(r);
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stdout.includes('DONE'), show(r));
    const bad = parseMountinfo(r.stdout).filter((m) => (m.fstype === 'proc' && !/^\/proc(\/|$)/.test(m.mountPoint)) ||
      (m.fstype === 'sysfs' && !/^\/sys(\/|$)/.test(m.mountPoint)));
    assert.deepEqual(bad.map((m) => m.line), [], show(r));
    assertClean(before, [id]);
  });
});

interface MountLine { id: string; parent: string; dev: string; root: string; mountPoint: string; fstype: string; line: string }

function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 10 || sep < 0) continue;
    out.push({ id: f[0]!, parent: f[1]!, dev: f[2]!, root: f[3]!, mountPoint: f[4]!, fstype: f[sep + 1]!, line });
  }
  return out;
}

