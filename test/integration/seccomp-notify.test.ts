// SCMP_ACT_NOTIFY with listenerPath/listenerMetadata (config-linux.md "Seccomp", "The Container
// Process State"): a seccomp agent (build/Release/tsrunc-seccomp-agent) receives the listener fd
// in SCM_RIGHTS and the container process state as JSON over its unix socket, and answers the
// container's notified syscalls (mkdir fails with the agent's errno, EXDEV). Checked from inside
// the container, with and without noNewPrivileges, differential against runc 1.1.5; bad profiles
// and an unreachable agent fail create naming the field and leave nothing behind.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/seccomp-notify.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../conformance/lib/config';
import { buildRootfs, repoRoot } from '../../conformance/lib/rootfs';
import { RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';

const P = `hk-ntf-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const HAVE_RUNC = fs.existsSync(RUNC);
const AGENT = path.join(repoRoot(), 'build', 'Release', 'tsrunc-seccomp-agent');
const EXDEV = 18;

let tmp = '';
let rootfs = '';
let t: Tsrunc;
let runc: RuntimeCli | undefined;
const ids = new Set<string>();
const agents: ChildProcess[] = [];
let seq = 0;

before(() => {
  tmp = tmpDir('tsrunc-it-scmp-notify');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 20000);
  if (HAVE_RUNC) runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
});

after(() => {
  for (const a of agents) if (a.exitCode === null) a.kill('SIGKILL');
  if (runc) for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

interface Agent { sock: string; out: string; proc: ChildProcess; exited: Promise<number | null> }

async function startAgent(): Promise<Agent> {
  const sock = path.join(tmp, `agent-${++seq}.sock`);
  const out = path.join(tmp, `agent-${seq}.out`);
  const proc = spawn(AGENT, [sock, out, String(EXDEV)], { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(proc);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', () => reject(new Error('the agent exited before it was ready')));
  });
  return { sock, out, proc, exited };
}

function agentLines(a: Agent): Record<string, unknown>[] {
  return fs.readFileSync(a.out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function bundle(tag: string, seccomp: Record<string, unknown>, nnp: boolean, script = 'mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/f && echo touch-ok'): string {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  fs.mkdirSync(dir);
  const c = defaultConfig(['sh', '-c', script]);
  c.root = { path: rootfs, readonly: true };
  c.process!.noNewPrivileges = nnp;
  c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  (c as Record<string, unknown>).annotations = { 'org.example/a': 'b' };
  (c.linux as Record<string, unknown>).seccomp = seccomp;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

const notify = (sock: string, extra: Record<string, unknown> = {}) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  listenerPath: sock,
  listenerMetadata: 'MKDIR=deny',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  ...extra,
});

describe('seccomp: SCMP_ACT_NOTIFY and a seccomp agent', () => {
  for (const nnp of [true, false]) {
    for (const rt of ['tsrunc', 'runc'] as const) {
      it(`${rt}, noNewPrivileges ${nnp}: the agent gets the fd and the container process state, and answers mkdir`, { skip: rt === 'runc' && !HAVE_RUNC && 'runc is not installed' }, async () => {
        const a = await startAgent();
        const dir = bundle(`n-${rt}-${nnp}`, notify(a.sock), nnp);
        const id = `${P}-${rt}-${nnp}-${seq}`;
        ids.add(id);
        const r = rt === 'tsrunc' ? t.call(['run', '--bundle', dir, id]) : runc!.call(['run', '--bundle', dir, id]);
        assert.equal(r.status, 0, show(r));
        assert.equal(r.stdout, "mkdir: can't create directory '/tmp/x': Invalid cross-device link\nrc=1\ntouch-ok\n");
        assert.equal(await a.exited, 0, 'the agent sees the filter lose its last user');
        const [first, ...rest] = agentLines(a);
        const st = first!.state as Record<string, unknown>;
        assert.equal(first!.fds, 1);
        assert.deepEqual(st.fds, ['seccompFd']);
        assert.equal(st.metadata, 'MKDIR=deny');
        assert.equal(typeof st.pid, 'number');
        const inner = st.state as Record<string, unknown>;
        assert.deepEqual({ ...inner, ociVersion: 'x' }, {
          ociVersion: 'x', id, status: 'creating', pid: st.pid, bundle: dir, annotations: { 'org.example/a': 'b' },
        });
        if (rt === 'tsrunc') assert.equal(st.ociVersion, '1.3.0');
        assert.deepEqual(rest.map((x) => x.notified), ['mkdir']);
      });
    }
  }

  it('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV with a listener is passed to seccomp(2)', async () => {
    const a = await startAgent();
    const dir = bundle('wkr', notify(a.sock, { flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_LOG'] }), true);
    const id = `${P}-wkr-${seq}`;
    ids.add(id);
    const r = t.call(['run', '--bundle', dir, id]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /Invalid cross-device link/);
    assert.equal(await a.exited, 0);
  });

  it('an unreachable listenerPath fails create naming the field; nothing is left', () => {
    const sock = path.join(tmp, 'nobody-listens.sock');
    const dir = bundle('unreach', notify(sock), true);
    const id = `${P}-unreach-${seq}`;
    ids.add(id);
    const w = snapshot(t.root, [id]);
    const r = t.call(['run', '--bundle', dir, id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), `tsrunc run failed: send the seccomp listener fd to \`${sock}\` (linux.seccomp.listenerPath): ENOENT`);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ['NOTIFY as the default action', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x.sock' }, /\/linux\/seccomp\/defaultAction: SCMP_ACT_NOTIFY cannot be used as default action/],
    ['NOTIFY without listenerPath', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/listenerPath: SCMP_ACT_NOTIFY needs a listenerPath/],
    ['NOTIFY on sendmsg', { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x.sock', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/syscalls\/0\/names: SCMP_ACT_NOTIFY cannot be used for sendmsg/],
    ['WAIT_KILLABLE_RECV without NOTIFY', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, /\/linux\/seccomp\/flags\/0: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule/],
    ['listenerMetadata without listenerPath', { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }, /\/linux\/seccomp\/listenerMetadata: must not be set without listenerPath/],
  ];
  for (const [what, sc, re] of refusals) {
    it(`refused: ${what}`, () => {
      const dir = bundle('bad', sc, true);
      const id = `${P}-bad-${seq}`;
      ids.add(id);
      const w = snapshot(t.root, [id]);
      const r = t.call(['create', '--bundle', dir, id]);
      assert.equal(r.status, 1, show(r));
      assert.match(errMsg(r), re);
      assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
    });
  }

  it('the init holds no listener fd once it handed it over (the container process has none)', async () => {
    const a = await startAgent();
    const dir = bundle('nofd', notify(a.sock), true, 'ls -l /proc/self/fd/ | grep -c anon_inode:seccomp');
    const id = `${P}-nofd-${seq}`;
    ids.add(id);
    const r = t.call(['run', '--bundle', dir, id]);
    assert.equal(r.stdout, '0\n', show(r));
    assert.equal(await a.exited, 0);
  });
});
