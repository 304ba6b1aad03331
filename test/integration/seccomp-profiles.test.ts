// Docker's and Podman's default seccomp profiles, exactly as those tools send them to their runtime
// (test/fixtures/seccomp/: `linux.seccomp` of the config.json that docker 20.10.24 and podman 4.3.1
// from Debian 12 generated for `run --network none`, captured by a runtime wrapper that copied the
// bundle's config.json before calling runc). From inside a container, with CAP_SYS_ADMIN so that
// only the filter can refuse: a syscall the profile denies fails with the profile's errno (its
// explicit errnoRet, or the default one), an allowed one works, an argument rule tells calls apart;
// without the profile the same calls get through. Differential against runc 1.1.5.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/seccomp-profiles.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../conformance/lib/config';
import { buildRootfs, defaultProbePath, repoRoot } from '../../conformance/lib/rootfs';
import { RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, show, tmpDir } from './support';

const P = `hk-scp-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const HAVE_RUNC = fs.existsSync(RUNC);
const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'seccomp');

let tmp = '';
let rootfs = '';
let t: Tsrunc;
let runc: RuntimeCli | undefined;
const ids = new Set<string>();
let seq = 0;

before(() => {
  tmp = tmpDir('tsrunc-it-seccomp-profiles');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs, { probe: defaultProbePath() });
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 20000);
  if (HAVE_RUNC) runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
});

after(() => {
  if (runc) for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

const ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_KILL'];

// Each line: one probe call. sethostname(NULL, 0) succeeds in the container's UTS namespace with
// CAP_SYS_ADMIN; add_key(NULL, ...), clone3(NULL, 0) and io_uring_setup(0, NULL) fail with EFAULT or
// EINVAL when they get through.
const CALLS = [
  ['getpid'], ['sethostname', '0', '0'], ['add_key', '0', '0', '0', '0', '0'], ['clone3', '0', '0'],
  ['socket', '1', '1', '0'], ['socket', '16', '3', '9'], ['io_uring_setup', '0', '0'],
];
const SCRIPT = [...CALLS.map((c) => `/probe syscall ${c.join(' ')}`), 'mkdir /tmp/d && echo mkdir-ok'].join('; ');

function run(tag: string, seccomp: unknown, nnp: boolean): { tsrunc: string; runc?: string } {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  fs.mkdirSync(dir);
  const c = defaultConfig(['sh', '-c', SCRIPT]);
  c.root = { path: rootfs, readonly: true };
  c.process!.noNewPrivileges = nnp;
  c.process!.capabilities = { bounding: ALL_CAPS, effective: ALL_CAPS, permitted: ALL_CAPS };
  c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  if (seccomp) (c.linux as Record<string, unknown>).seccomp = seccomp;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  const out: { tsrunc: string; runc?: string } = { tsrunc: '' };
  const id = `${P}-${tag}-${seq}`;
  ids.add(id);
  const r = t.call(['run', '--bundle', dir, id]);
  assert.equal(r.status, 0, show(r));
  out.tsrunc = r.stdout;
  if (runc) {
    const rr = runc.call(['run', '--bundle', dir, id]);
    assert.equal(rr.status, 0, show(rr));
    out.runc = rr.stdout;
  }
  return out;
}

/** `probe syscall` lines as {name(args): errno or 'ok'}. */
function results(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  const lines = out.trim().split('\n');
  lines.slice(0, CALLS.length).forEach((l, i) => {
    const v = JSON.parse(l) as { ret: number; errno: string | null };
    r[`${CALLS[i]![0]}(${CALLS[i]!.slice(1).join(',')})`] = v.errno ?? 'ok';
  });
  r.mkdir = lines[CALLS.length] === 'mkdir-ok' ? 'ok' : String(lines[CALLS.length]);
  return r;
}

const profile = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

describe('seccomp: the default profiles Docker and Podman send', () => {
  it('the fixtures are what the tools generated (default action, errno, archs)', () => {
    const d = profile('docker-20.10.24.json');
    assert.equal(d.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(d.defaultErrnoRet, undefined);
    const p = profile('podman-4.3.1.json');
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 38);
  });

  it('without a profile the same calls get through (the control)', () => {
    const o = run('none', undefined, false);
    assert.deepEqual(results(o.tsrunc), {
      'getpid()': 'ok', 'sethostname(0,0)': 'ok', 'add_key(0,0,0,0,0)': 'EFAULT', 'clone3(0,0)': 'EINVAL',
      'socket(1,1,0)': 'ok', 'socket(16,3,9)': 'ok', 'io_uring_setup(0,0)': 'EFAULT', mkdir: 'ok',
    });
  });

  for (const nnp of [false, true]) {
    it(`Docker 20.10.24 (noNewPrivileges ${nnp}): unlisted syscalls EPERM, clone3 ENOSYS, the rest works`, () => {
      const o = run(`docker-${nnp}`, profile('docker-20.10.24.json'), nnp);
      assert.deepEqual(results(o.tsrunc), {
        'getpid()': 'ok', 'sethostname(0,0)': 'EPERM', 'add_key(0,0,0,0,0)': 'EPERM', 'clone3(0,0)': 'ENOSYS',
        'socket(1,1,0)': 'ok', 'socket(16,3,9)': 'ok', 'io_uring_setup(0,0)': 'EFAULT', mkdir: 'ok',
      });
      if (o.runc !== undefined) assert.deepEqual(results(o.tsrunc), results(o.runc));
    });

    it(`Podman 4.3.1 (noNewPrivileges ${nnp}): unlisted syscalls ENOSYS (defaultErrnoRet), listed ones EPERM, the audit socket EINVAL`, () => {
      const o = run(`podman-${nnp}`, profile('podman-4.3.1.json'), nnp);
      assert.deepEqual(results(o.tsrunc), {
        'getpid()': 'ok', 'sethostname(0,0)': 'EPERM', 'add_key(0,0,0,0,0)': 'ENOSYS', 'clone3(0,0)': 'EINVAL',
        'socket(1,1,0)': 'ok', 'socket(16,3,9)': 'EINVAL', 'io_uring_setup(0,0)': 'ENOSYS', mkdir: 'ok',
      });
      if (o.runc !== undefined) assert.deepEqual(results(o.tsrunc), results(o.runc));
    });
  }
});
