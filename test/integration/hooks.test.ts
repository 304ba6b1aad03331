// OCI hooks in real containers (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): every
// kind, in order, each in its namespace and at its moment, with the state on stdin, `args` (argv[0]
// included), `env`, `timeout`, the failure rules (create and start fail and leave nothing behind,
// poststop runs after them; a failing poststop is a warning), no fd of tsrunc reaching a hook, a
// Docker-style prestart hook that enters the container's network namespace through
// /proc/<pid>/ns/net, and the create-time hooks differential against runc 1.1.5.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/hooks.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, type OciConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { type CallResult, RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';

const P = `hk-it-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const HAVE_RUNC = fs.existsSync(RUNC);

let tmp = '';
let rootfs = '';
let t: Tsrunc;
let runc: RuntimeCli | undefined;
const ids = new Set<string>();
let seq = 0;

function newId(tag: string): string {
  const id = `${P}-${tag}-${++seq}`;
  ids.add(id);
  return id;
}

// The host-side hook (an inline `sh -c` script): one line per call in LOG, fields separated by `|`:
// kind | state JSON | mount ns | pid ns | cwd | fds of an `ls` it runs | comm of the state's pid
// (`ls /proc/self/fd` shows 0-2, its own directory fd 3, and any fd the hook inherited beyond.)
const HOST_HOOK = `kind=$1; log=$2
state=$(cat)
pid=$(echo "$state" | sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')
comm=-; [ -n "$pid" ] && comm=$(cat /proc/$pid/comm 2>/dev/null)
fds=$(ls /proc/self/fd | sort -n | tr '\\n' ' ')
echo "$kind|$state|$(readlink /proc/self/ns/mnt)|$(readlink /proc/self/ns/pid)|$(pwd)|$fds|$comm" >> "$log"
`;

// The startContainer hook, run inside the container (busybox sh): its path is /hk/in.sh there.
const IN_HOOK = `#!/bin/sh
state=$(cat)
echo "startContainer|$state|$(readlink /proc/self/ns/mnt)|$(readlink /proc/self/ns/pid)|$(pwd)|$(id -u)" >> /hk/log
`;

interface Case { dir: string; hk: string; log: string }

/** A bundle whose /hk is a host directory (the hooks' log and scripts). */
function bundle(tag: string, hooks: Record<string, unknown>, args: string[] = ['sleep', '100'], edit?: (c: OciConfig) => void): Case {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  const hk = path.join(dir, 'hk');
  fs.mkdirSync(hk, { recursive: true });
  fs.writeFileSync(path.join(hk, 'host.sh'), `#!/bin/sh\n${HOST_HOOK}`, { mode: 0o755 });
  fs.writeFileSync(path.join(hk, 'in.sh'), IN_HOOK, { mode: 0o755 });
  const c = defaultConfig(args);
  c.root = { path: rootfs, readonly: true };
  c.process!.user = { uid: 0, gid: 0 };
  c.mounts!.push({ destination: '/hk', type: 'bind', source: hk, options: ['rbind', 'rw'] });
  (c as Record<string, unknown>).hooks = hooks;
  edit?.(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return { dir, hk, log: path.join(hk, 'log') };
}

const host = (c: { hk: string; log: string } | string, kind: string, extra: Record<string, unknown> = {}) => {
  const hk = typeof c === 'string' ? c : c.hk;
  return { path: '/bin/sh', args: ['sh', '-c', HOST_HOOK, 'sh', kind, path.join(hk, 'log')], ...extra };
};

function lines(log: string): string[][] {
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split('|'));
}

const HOST_MNT = fs.readlinkSync('/proc/self/ns/mnt');
const HOST_PID = fs.readlinkSync('/proc/self/ns/pid');

before(() => {
  tmp = tmpDir('tsrunc-it-hooks');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 20000);
  if (HAVE_RUNC) runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
});

after(() => {
  if (runc) for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

/** One hook of every kind: host.sh in the runtime namespace, /hk/in.sh inside the container. */
function allKinds(hk: string): Record<string, unknown> {
  return {
    prestart: [host(hk, 'prestart')],
    createRuntime: [host(hk, 'createRuntime')],
    createContainer: [host(hk, 'createContainer')],
    startContainer: [{ path: '/hk/in.sh' }],
    poststart: [host(hk, 'poststart')],
    poststop: [host(hk, 'poststop')],
  };
}

describe('hooks: every kind, in order, in its namespace, with its state', () => {
  it('prestart, createRuntime, createContainer at create; startContainer, poststart at start; poststop at delete', () => {
    const c = bundle('all', {}, ['sleep', '100']);
    // Rewrite with the hooks pointing at this bundle's hk directory.
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = allKinds(c.hk);
    cfg.annotations = { 'org.example/k': 'v' };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('all');
    const r = t.call(['create', '--bundle', c.dir, id], { cwd: c.dir });
    assert.equal(r.status, 0, show(r));
    const pid = (t.state(id) as { pid: number }).pid;
    const ctrMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    const ctrPid = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    let l = lines(c.log);
    assert.deepEqual(l.map((x) => x[0]), ['prestart', 'createRuntime', 'createContainer'], fs.readFileSync(c.log, 'utf8'));
    const base = { ociVersion: '1.3.0', id };
    const ann = { annotations: { 'org.example/k': 'v' } };
    // Runtime namespace, the init's host pid, status creating, cwd = the caller's.
    for (const x of l.slice(0, 2)) {
      assert.deepEqual(JSON.parse(x[1]!), { ...base, status: 'creating', pid, bundle: c.dir, ...ann });
      assert.equal(x[2], HOST_MNT);
      assert.equal(x[3], HOST_PID);
      assert.equal(x[4], c.dir);
      assert.equal(x[6], 'tsrunc:[INIT]', 'the init is alive and waits (before pivot_root) while the hook runs');
    }
    // createContainer: the container's namespaces, pid as the container sees it, cwd the rootfs.
    const cc = l[2]!;
    assert.deepEqual(JSON.parse(cc[1]!), { ...base, status: 'creating', pid: 1, bundle: c.dir, ...ann });
    assert.equal(cc[2], ctrMnt);
    assert.equal(cc[3], ctrPid);
    assert.equal(cc[4], rootfs);
    // No fd of tsrunc (the sync socket, the lock, the plan, the fifo) reaches a hook.
    for (const x of l) assert.equal(x[5], '0 1 2 3 ', `fds of the ${x[0]} hook`);

    const s = t.call(['start', id]);
    assert.equal(s.status, 0, show(s));
    l = lines(c.log);
    assert.deepEqual(l.map((x) => x[0]), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart']);
    const sc = l[3]!;
    assert.deepEqual(JSON.parse(sc[1]!), { ...base, status: 'created', pid: 1, bundle: c.dir, ...ann });
    assert.equal(sc[2], ctrMnt);
    assert.equal(sc[3], ctrPid);
    assert.equal(sc[4], '/');
    const ps = l[4]!;
    assert.deepEqual(JSON.parse(ps[1]!), { ...base, status: 'running', pid, bundle: c.dir, ...ann });
    assert.equal(ps[2], HOST_MNT);
    assert.equal(ps[6], 'sleep', 'poststart runs once the container\'s program runs');

    // config.json edited after create does not change the hooks (runtime.md lifecycle step 2).
    cfg.hooks.poststop = [];
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const d = t.call(['delete', '--force', id]);
    assert.equal(d.status, 0, show(d));
    l = lines(c.log);
    assert.equal(l.length, 6);
    assert.equal(l[5]![0], 'poststop');
    assert.deepEqual(JSON.parse(l[5]![1]!), { ...base, status: 'stopped', bundle: c.dir, ...ann });
    assert.equal(l[5]![2], HOST_MNT);
  });

  it('args: args[0] is argv[0]; env replaces the environment; no env: the runtime\'s', () => {
    const c = bundle('args', {}, ['true']);
    const out = path.join(c.hk, 'args');
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = {
      createRuntime: [
        { path: '/bin/sh', args: ['my-argv0', '-c', `echo "a0=$0 foo=$FOO home=$HOME" >> ${out}`], env: ['FOO=bar'] },
        { path: '/bin/sh', args: ['sh', '-c', `echo "inherit=$HK_TEST_VAR" >> ${out}`] },
      ],
      createContainer: [{ path: '/bin/sh', args: ['x0', '-c', `echo "cc a0=$0 foo=$FOO" >> ${out}`], env: ['FOO=baz'] }],
    };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('args');
    const r = t.rt.call(['run', '--bundle', c.dir, id], { env: { ...process.env, HK_TEST_VAR: 'from-caller' } });
    assert.equal(r.status, 0, show(r));
    assert.equal(fs.readFileSync(out, 'utf8'), 'a0=my-argv0 foo=bar home=\ninherit=from-caller\ncc a0=x0 foo=baz\n');
  });

  it('a Docker-style prestart hook reads the pid from stdin and enters the container\'s network namespace', () => {
    const c = bundle('netns', {});
    const out = path.join(c.hk, 'net');
    const script = `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); readlink /proc/$pid/ns/net > ${out}; nsenter -t $pid -n ip -o link | cut -d: -f2 >> ${out}`;
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', script] }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('netns');
    const r = t.call(['create', '--bundle', c.dir, id]);
    assert.equal(r.status, 0, show(r));
    const pid = (t.state(id) as { pid: number }).pid;
    const [ns, ...links] = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(ns, fs.readlinkSync(`/proc/${pid}/ns/net`));
    assert.notEqual(ns, fs.readlinkSync('/proc/self/ns/net'));
    assert.deepEqual(links.map((x) => x.trim()), ['lo']);
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });

  it('no fd of the caller or of tsrunc reaches a hook, not even a --preserve-fds one', () => {
    const c = bundle('fds', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { prestart: [host(c, 'prestart')], createContainer: [host(c, 'createContainer')], poststart: [host(c, 'poststart')] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('fds');
    const f = fs.openSync(path.join(c.hk, 'extra'), 'w');
    try {
      const r = t.call(['run', '-d', '--preserve-fds', '1', '--bundle', c.dir, id], { fds: [f, f] });
      assert.equal(r.status, 0, show(r));
    } finally {
      fs.closeSync(f);
    }
    const l = lines(c.log);
    assert.deepEqual(l.map((x) => x[0]), ['prestart', 'createContainer', 'poststart']);
    for (const x of l) assert.equal(x[5], '0 1 2 3 ', `fds of the ${x[0]} hook`);
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });
});

describe('hooks: failures', () => {
  const failing = (code: number) => ({ path: '/bin/sh', args: ['sh', '-c', `echo out; echo err >&2; exit ${code}`] });

  for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
    it(`a failing ${kind} hook: create fails with runc's text, nothing is left, poststop runs`, () => {
      const c = bundle(kind, {});
      const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
      cfg.hooks = { [kind]: [host(c, kind), failing(3), host(c, 'never')], poststop: [host(c, 'poststop')] };
      fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
      const id = newId(kind);
      const w = snapshot(t.root, [id, c.dir]);
      const r = t.call(['create', '--bundle', c.dir, id]);
      assert.equal(r.status, 1, show(r));
      assert.equal(errMsg(r), `tsrunc create failed: error running ${kind} hook #1: error running hook: exit status 3, stdout: out\n, stderr: err\n`);
      assert.deepEqual(lines(c.log).map((x) => x[0]), [kind, 'poststop']);
      assert.deepEqual(JSON.parse(lines(c.log)[1]![1]!), { ociVersion: '1.3.0', id, status: 'stopped', bundle: c.dir });
      assert.deepEqual(leftovers(t.root, w, [id], [id, c.dir]), []);
    });
  }

  it('a hook past its timeout is killed and create fails (runc\'s text), in about the timeout', () => {
    const c = bundle('timeout', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('timeout');
    const w = snapshot(t.root, [id]);
    const t0 = Date.now();
    const r = t.call(['create', '--bundle', c.dir, id]);
    const took = Date.now() - t0;
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'tsrunc create failed: error running createRuntime hook #0: hook ran past specified timeout of 1.0s');
    assert.ok(took < 10000, `took ${took} ms`);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  it('a createContainer hook past its timeout (run by the init) is killed too', () => {
    const c = bundle('cctimeout', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('cctimeout');
    const w = snapshot(t.root, [id]);
    const r = t.call(['create', '--bundle', c.dir, id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'tsrunc create failed: error running createContainer hook #0: hook ran past specified timeout of 1.0s');
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  it('a hook that cannot be executed: Go\'s fork/exec text', () => {
    const c = bundle('noexec', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { prestart: [{ path: '/nonexistent/hook' }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('noexec');
    const r = t.call(['create', '--bundle', c.dir, id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'tsrunc create failed: error running prestart hook #0: fork/exec /nonexistent/hook: no such file or directory');
  });

  it('a failing startContainer hook: start fails with its text, the container is destroyed, poststop runs', () => {
    const c = bundle('sc', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 2'] }], poststop: [host(c, 'poststop')] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('sc');
    const w = snapshot(t.root, [id]);
    assert.equal(t.call(['create', '--bundle', c.dir, id]).status, 0);
    const r = t.call(['start', id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'error running startContainer hook #0: error running hook: exit status 2, stdout: , stderr: nope\n');
    assert.deepEqual(lines(c.log).map((x) => x[0]), ['poststop']);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  it('startContainer paths resolve in the container: a host-only path is not found', () => {
    const c = bundle('scpath', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { startContainer: [{ path: path.join(c.hk, 'host.sh') }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('scpath');
    assert.equal(t.call(['create', '--bundle', c.dir, id]).status, 0);
    const r = t.call(['start', id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), `error running startContainer hook #0: fork/exec ${path.join(c.hk, 'host.sh')}: no such file or directory`);
    assert.equal(t.status(id), 'gone');
  });

  it('a failing poststart hook: start fails, the running container is killed and destroyed, poststop runs', () => {
    const c = bundle('ps', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { poststart: [failing(5)], poststop: [host(c, 'poststop')] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('ps');
    const w = snapshot(t.root, [id]);
    const r = t.call(['run', '-d', '--bundle', c.dir, id]);
    assert.equal(r.status, 1, show(r));
    assert.equal(errMsg(r), 'tsrunc run failed: error running poststart hook #0: error running hook: exit status 5, stdout: out\n, stderr: err\n');
    assert.deepEqual(lines(c.log).map((x) => x[0]), ['poststop']);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  it('a failing poststop hook is a warning: delete succeeds, the next poststop hook still runs', () => {
    const c = bundle('pst', {}, ['true']);
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { poststop: [failing(4), host(c, 'poststop')] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('pst');
    const w = snapshot(t.root, [id]);
    const r = t.call(['run', '--bundle', c.dir, id]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /level=warning msg="error running poststop hook #0: error running hook: exit status 4, stdout: out\\n, stderr: err\\n"/);
    assert.deepEqual(lines(c.log).map((x) => x[0]), ['poststop']);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });

  it('a relative hook path is refused naming /hooks/<kind>/<i>/path, nothing runs', () => {
    const c = bundle('rel', {});
    const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
    cfg.hooks = { prestart: [host(c, 'prestart')], poststop: [host(c, 'x'), { path: 'bin/true' }] };
    fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
    const id = newId('rel');
    const w = snapshot(t.root, [id]);
    const r = t.call(['create', '--bundle', c.dir, id]);
    assert.equal(r.status, 1, show(r));
    assert.match(errMsg(r), /config\.json: \/hooks\/poststop\/1\/path: /);
    assert.deepEqual(lines(c.log), []);
    assert.deepEqual(leftovers(t.root, w, [id], [id]), []);
  });
});

/** A call with stdout/stderr in files (a created init holds the runtime's stdio: no pipes). */
function fileCall(cli: RuntimeCli, args: string[], cwd?: string): CallResult {
  const base = path.join(tmp, `io-${++seq}`);
  const out = fs.openSync(`${base}.out`, 'w+');
  const err = fs.openSync(`${base}.err`, 'w+');
  try {
    const r = cli.call(args, { stdio: ['ignore', out, err], cwd });
    r.stdout = fs.readFileSync(`${base}.out`, 'utf8');
    r.stderr = fs.readFileSync(`${base}.err`, 'utf8');
    return r;
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

describe('hooks: differential against runc 1.1.5', { skip: !HAVE_RUNC && 'runc is not installed' }, () => {
  it('prestart, createRuntime and createContainer: same moments, namespaces, cwd and state (but ociVersion and fds)', () => {
    const outs: string[][][] = [];
    for (const rt of ['tsrunc', 'runc'] as const) {
      const c = bundle(`diff-${rt}`, {});
      const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
      cfg.hooks = { prestart: [host(c, 'prestart')], createRuntime: [host(c, 'createRuntime')], createContainer: [host(c, 'createContainer')] };
      fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
      const id = newId(`diff-${rt}`);
      const cli = rt === 'tsrunc' ? t.rt : runc!;
      const r = fileCall(cli, ['create', '--bundle', c.dir, id], c.dir);
      assert.equal(r.status, 0, show(r));
      const st = cli.state(id) as { pid: number };
      const ctr = [fs.readlinkSync(`/proc/${st.pid}/ns/mnt`), fs.readlinkSync(`/proc/${st.pid}/ns/pid`)];
      outs.push(lines(c.log).map((x) => {
        const s = JSON.parse(x[1]!);
        // Normalise what differs by construction: the version, the id, pids, bundle, ns inodes.
        return [x[0]!, s.status, s.pid === st.pid ? 'host-pid' : String(s.pid),
          x[2] === HOST_MNT ? 'host' : x[2] === ctr[0] ? 'ctr' : x[2]!, x[3] === HOST_PID ? 'host' : x[3] === ctr[1] ? 'ctr' : x[3]!,
          // Not the fds: runc 1.1.5 leaks fds of its init (and whatever its caller passed) into
          // createContainer hooks; tsrunc's are checked above.
          x[4] === c.dir ? 'bundle' : x[4] === rootfs ? 'rootfs' : x[4]!];
      }));
      cli.call(['delete', '--force', id]);
    }
    assert.deepEqual(outs[0], outs[1]);
  });

  it('a failing prestart hook: the same error text after runc\'s prefix, and poststop runs in both', () => {
    const msgs: string[] = [];
    for (const rt of ['tsrunc', 'runc'] as const) {
      const c = bundle(`dfail-${rt}`, {});
      const cfg = JSON.parse(fs.readFileSync(path.join(c.dir, 'config.json'), 'utf8'));
      cfg.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo o; echo e >&2; exit 7'] }], poststop: [host(c, 'poststop')] };
      fs.writeFileSync(path.join(c.dir, 'config.json'), JSON.stringify(cfg));
      const id = newId(`dfail-${rt}`);
      const cli = rt === 'tsrunc' ? t.rt : runc!;
      const r = fileCall(cli, ['create', '--bundle', c.dir, id]);
      assert.equal(r.status, 1, show(r));
      msgs.push(errMsg(r).replace(/^.*error running (prestart )?hook #0: /, ''));
      assert.deepEqual(lines(c.log).map((x) => [x[0], JSON.parse(x[1]!).status, JSON.parse(x[1]!).pid]), [['poststop', 'stopped', undefined]]);
    }
    assert.equal(msgs[0], msgs[1]);
    assert.equal(msgs[0], 'error running hook: exit status 7, stdout: o\n, stderr: e\n');
  });
});
