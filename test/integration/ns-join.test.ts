// Joining existing namespaces (linux.namespaces[].path): a container joins another container's
// network, ipc, uts and pid namespaces through /proc/<pid>/ns/<type>, as containerd's CRI plugin
// does for every container of a pod (the sandbox's namespaces). Checked from inside and from the
// host: the namespaces are the sandbox's, the reported pid (state, --pid-file) is the container's
// own process and not an intermediate, `run` gets its exit status, and after the init of a
// container that shares the sandbox's pid namespace exits, `kill --all` and `delete` still work.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from '../../conformance/lib/rootfs';
import type { OciConfig } from '../../conformance/lib/config';
import { Tsrunc, assertFails, cleanup, leftovers, pollUntil, show, snapshot, tmpDir } from './support';

let tmp = '';
let t: Tsrunc;
const ids: string[] = [];

function bundle(name: string, args: string[], edit: (c: OciConfig) => void = () => {}): string {
  return makeBundle(path.join(tmp, name), (c) => { c.process!.args = args; edit(c); }).dir;
}

/** The ns entries of a config that joins `pid`'s namespaces of the given types (and makes a new mount ns). */
function joining(pid: number, types: string[]): never {
  const file: Record<string, string> = { network: 'net', pid: 'pid', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', mount: 'mnt', user: 'user' };
  return [...types.map((type) => ({ type, path: `/proc/${pid}/ns/${file[type]}` })), { type: 'mount' }] as never;
}

function sandbox(id: string): number {
  ids.push(id);
  const b = bundle(id, ['sleep', '1000'], (c) => { c.hostname = 'sandbox'; });
  const r = t.call(['run', '-d', '-b', b, id]);
  assert.equal(r.status, 0, show(r));
  return Number(t.state(id).pid);
}

function nsLinks(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of ['net', 'ipc', 'uts', 'pid', 'mnt']) out[n] = fs.readlinkSync(`/proc/${pid}/ns/${n}`);
  return out;
}

before(() => {
  tmp = tmpDir('tsrunc-nsj');
  t = new Tsrunc(path.join(tmp, 'root'), tmp);
});

after(() => cleanup(t, ids, [tmp]));

describe('joining namespaces by path', () => {
  it('a container joins a sandbox container\'s network, ipc, uts and pid namespaces; run gets its exit status', () => {
    const sb = sandbox('nsj-sb1');
    const host = nsLinks(sb);
    const b = bundle('c1', ['sh', '-c', 'for n in net ipc uts pid mnt; do echo $n $(readlink /proc/self/ns/$n); done; hostname; ps -o pid,args; exit 7'], (c) => {
      delete c.hostname;
      c.linux!.namespaces = joining(sb, ['pid', 'network', 'ipc', 'uts']);
    });
    ids.push('nsj-c1');
    const r = t.call(['run', '-b', b, 'nsj-c1']);
    assert.equal(r.status, 7, show(r));
    const seen = Object.fromEntries(r.stdout.split('\n').filter((l) => /^(net|ipc|uts|pid|mnt) /.test(l)).map((l) => l.split(' ') as [string, string]));
    for (const n of ['net', 'ipc', 'uts', 'pid']) assert.equal(seen[n], host[n], `${n} namespace inside: ${r.stdout}`);
    assert.notEqual(seen.mnt, host.mnt, 'its own mount namespace');
    assert.match(r.stdout, /^sandbox$/m, 'the sandbox\'s hostname (its uts namespace)');
    assert.match(r.stdout, /^\s*1 sleep 1000$/m, `the sandbox's init is pid 1 of the shared pid namespace: ${r.stdout}`);
    assert.equal(t.status('nsj-c1'), 'gone', 'run removed the container');
  });

  it('state and --pid-file report the container process itself (not the process that forked it), and it is tsrunc\'s child', () => {
    const sb = sandbox('nsj-sb2');
    const b = bundle('c2', ['sleep', '1000'], (c) => { delete c.hostname; c.linux!.namespaces = joining(sb, ['pid', 'network', 'ipc', 'uts']); });
    ids.push('nsj-c2');
    const pidFile = path.join(tmp, 'c2.pid');
    const r = t.call(['create', '--pid-file', pidFile, '-b', b, 'nsj-c2']);
    assert.equal(r.status, 0, show(r));
    const pid = Number(t.state('nsj-c2').pid);
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), pid, 'pid file and state agree');
    assert.equal(fs.readlinkSync(`/proc/${pid}/ns/pid`), fs.readlinkSync(`/proc/${sb}/ns/pid`), 'the reported process is in the joined pid namespace');
    // NSpid: host pid, then its pid in the sandbox's namespace (not 1: the sandbox's init is 1).
    const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/).map(Number);
    assert.equal(nspid.length, 2);
    assert.equal(nspid[0], pid);
    assert.ok(nspid[1]! > 1, `pid inside: ${nspid[1]}`);
    assert.equal(t.call(['start', 'nsj-c2']).status, 0);
    pollUntil(() => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), 2000);
    assert.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\u00001000\u0000', 'the reported pid runs the container\'s program');
    assert.equal(t.status('nsj-c2'), 'running');
    // exec joins the same namespaces, the shared pid namespace included.
    const e = t.call(['exec', 'nsj-c2', 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/net']);
    assert.equal(e.status, 0, show(e));
    assert.equal(e.stdout, `${fs.readlinkSync(`/proc/${sb}/ns/pid`)}\n${fs.readlinkSync(`/proc/${sb}/ns/net`)}\n`);
    assert.equal(t.call(['kill', 'nsj-c2', 'KILL']).status, 0);
    assert.equal(t.waitStatus('nsj-c2', 'stopped', 5000), 'stopped');
    assert.equal(t.call(['delete', 'nsj-c2']).status, 0);
  });

  it('the CRI flow: a container in the sandbox\'s pid namespace whose init exits; kill --all, then delete of both', () => {
    const before = snapshot(t.root, [tmp]);
    const sb = sandbox('nsj-sb3');
    const b = bundle('c3', ['sh', '-c', 'sleep 1000 & sleep 0.3'], (c) => { delete c.hostname; c.linux!.namespaces = joining(sb, ['pid', 'network', 'ipc', 'uts']); });
    ids.push('nsj-c3');
    assert.equal(t.call(['run', '-d', '-b', b, 'nsj-c3']).status, 0);
    // Its init exits; its background child lives on in the shared pid namespace (and its cgroup).
    assert.equal(t.waitStatus('nsj-c3', 'stopped', 5000), 'stopped');
    const ps = t.call(['ps', '-f', 'json', 'nsj-c3']);
    assert.equal(JSON.parse(ps.stdout).length, 1, `the orphaned child is still in the container's cgroup: ${show(ps)}`);
    // containerd's StopContainer on a stopped container sharing the pid namespace: kill --all 9.
    const k = t.call(['kill', '--all', 'nsj-c3', '9']);
    assert.equal(k.status, 0, show(k));
    pollUntil(() => JSON.parse(t.call(['ps', '-f', 'json', 'nsj-c3']).stdout) === null, 3000);
    assert.equal(t.call(['delete', 'nsj-c3']).status, 0);
    assert.equal(t.call(['kill', 'nsj-sb3', '9']).status, 0);
    assert.equal(t.waitStatus('nsj-sb3', 'stopped', 5000), 'stopped');
    assert.equal(t.call(['delete', 'nsj-sb3']).status, 0);
    assert.deepEqual(leftovers(t.root, before, ['nsj-c3', 'nsj-sb3'], [tmp]), []);
  });

  it('net sysctls in a joined network namespace that is the host\'s are refused (runc)', () => {
    const b = bundle('hostnet', ['true'], (c) => {
      c.linux!.namespaces = [...c.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: '/proc/self/ns/net' }] as never;
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    ids.push('nsj-hostnet');
    assertFails(t.call(['run', '-b', b, 'nsj-hostnet']), 'tsrunc run failed: config.json: /linux/sysctl: sysctl "net.ipv4.ip_forward" not allowed in host network namespace');
  });

  it('a path of the wrong namespace type, a missing path and a file that is no namespace: errors naming the field, nothing left behind', () => {
    const before = snapshot(t.root, [tmp]);
    const cases: [string, string, RegExp][] = [
      ['pid', `/proc/${process.pid}/ns/net`, /^tsrunc run failed: config\.json: \/linux\/namespaces\/0\/path: `\/proc\/\d+\/ns\/net` is a network namespace, not a pid namespace$/],
      ['network', path.join(tmp, 'nonexistent'), /^tsrunc run failed: config\.json: \/linux\/namespaces\/0\/path: open `.*nonexistent`: ENOENT$/],
      ['ipc', '/etc/hostname', /^tsrunc run failed: config\.json: \/linux\/namespaces\/0\/path: `\/etc\/hostname` is not a namespace \(ENOTTY\)$/],
    ];
    for (const [type, p, want] of cases) {
      const b = bundle(`bad-${type}`, ['true'], (c) => { delete c.hostname; c.linux!.namespaces = [{ type, path: p }, { type: 'mount' }] as never; });
      ids.push(`nsj-bad-${type}`);
      assertFails(t.call(['run', '-b', b, `nsj-bad-${type}`]), want);
    }
    assert.deepEqual(leftovers(t.root, before, cases.map(([type]) => `nsj-bad-${type}`), [tmp]), []);
  });

  it('a joined user namespace: joined first, the new namespaces are made inside it (mounts work), the process runs in it', async () => {
    // A user namespace held by a process of ours, with an identity mapping (a namespace whose root
    // is not host root also needs the user-namespace work: devices bound, the fifo's owner).
    const holder = spawn('unshare', ['--user', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const hp = holder.pid!;
      pollUntil(() => fs.readlinkSync(`/proc/${hp}/ns/user`) !== fs.readlinkSync('/proc/self/ns/user'), 2000);
      fs.writeFileSync(`/proc/${hp}/uid_map`, '0 0 4294967295');
      fs.writeFileSync(`/proc/${hp}/gid_map`, '0 0 4294967295');
      const b = bundle('u1', ['sh', '-c', 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; cat /proc/1/comm'], (c) => {
        c.linux!.namespaces = [{ type: 'user', path: `/proc/${hp}/ns/user` }, { type: 'mount' }, { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }] as never;
        // No mknod in a user namespace: the host's /dev is bound instead.
        c.mounts = c.mounts!.filter((m) => !m.destination.startsWith('/dev'));
        c.mounts.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'nosuid'] });
      });
      ids.push('nsj-u1');
      const r = t.call(['run', '-b', b, 'nsj-u1']);
      assert.equal(r.status, 0, show(r));
      const [userNs, map, uid, procs] = r.stdout.trim().split('\n');
      assert.equal(userNs, fs.readlinkSync(`/proc/${hp}/ns/user`));
      assert.match(map!, /^\s*0\s+0\s+4294967295$/);
      assert.equal(uid, '0');
      assert.equal(procs, 'cat', 'pid 1 of its procfs is the container (sh exec-ed its last command): a pid namespace made inside the joined user namespace');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a joined cgroup namespace (another container\'s): the container sees that cgroup namespace', () => {
    ids.push('nsj-sb4');
    const sbB = bundle('nsj-sb4', ['sleep', '1000'], (c) => { c.linux!.namespaces!.push({ type: 'cgroup' } as never); });
    assert.equal(t.call(['run', '-d', '-b', sbB, 'nsj-sb4']).status, 0);
    const sb = Number(t.state('nsj-sb4').pid);
    const b = bundle('c5', ['readlink', '/proc/self/ns/cgroup'], (c) => {
      c.linux!.namespaces = [...c.linux!.namespaces!, { type: 'cgroup', path: `/proc/${sb}/ns/cgroup` }] as never;
    });
    ids.push('nsj-c5');
    const r = t.call(['run', '-b', b, 'nsj-c5']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout.trim(), fs.readlinkSync(`/proc/${sb}/ns/cgroup`));
    assert.notEqual(r.stdout.trim(), fs.readlinkSync('/proc/self/ns/cgroup'));
  });
});
