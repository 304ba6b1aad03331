// `tsrunc exec` in real containers: each runc flag, exit codes, refusals, the container's
// capabilities, no_new_privs and seccomp filter, differentially against runc 1.1.5, and the
// CVE-2019-5736 attack on the process that joins the container.
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/exec.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, makeBundle, repoRoot } from '../../conformance/lib/rootfs';
import type { OciConfig } from '../../conformance/lib/config';
import { RuntimeCli, sleepMs } from '../../conformance/lib/runtime';
import { Tsrunc, assertFails, cleanup, errMsg, isAlive, pollUntil, show, tmpDir } from './support';

const RUNC = '/usr/sbin/runc';

/** Tsrunc's file-based calls, for runc (its `run -d` child must not hold a pipe of ours). */
class Runc extends Tsrunc {
  constructor(root: string, ioDir: string) {
    super(root, ioDir);
    (this as { rt: RuntimeCli }).rt = new RuntimeCli(RUNC, root, { timeoutMs: 20000 });
  }
}

let tmp = '';
let t: Tsrunc;
const ids: string[] = [];
const A = 'nsj-ex-a'; // noNewPrivileges, runc's default capabilities
const S = 'nsj-ex-s'; // a seccomp filter, noNewPrivileges false

function bundle(name: string, args: string[], edit: (c: OciConfig) => void = () => {}): string {
  return makeBundle(path.join(tmp, name), (c) => { c.process!.args = args; edit(c); }).dir;
}

function runDetached(rt: Tsrunc, id: string, dir: string): number {
  ids.push(id);
  const r = rt.call(['run', '-d', '-b', dir, id]);
  assert.equal(r.status, 0, show(r));
  return Number(rt.state(id).pid);
}

function exec(args: string[], o: Parameters<Tsrunc['call']>[1] = {}) {
  return t.call(['exec', ...args], o);
}

function statusField(out: string, field: string): string {
  const m = new RegExp(`^${field}:\\s+(\\S+)`, 'm').exec(out);
  assert.ok(m, `${field} in ${out}`);
  return m[1]!;
}

const SECCOMP = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };

before(() => {
  tmp = tmpDir('tsrunc-nsj-exec');
  t = new Tsrunc(path.join(tmp, 'root'), tmp);
  runDetached(t, A, bundle('a', ['sleep', '1000'], (c) => { c.root!.readonly = false; }));
  runDetached(t, S, bundle('s', ['sleep', '1000'], (c) => {
    c.process!.noNewPrivileges = false;
    c.linux!.seccomp = SECCOMP as never;
  }));
});

after(() => cleanup(t, ids, [tmp]));

describe('exec', () => {
  it('exit status: the process\'s own code, 128+signal, 255 when exec itself fails (runc\'s texts)', () => {
    assert.equal(exec([A, 'sh', '-c', 'echo out; echo err >&2; exit 3']).status, 3);
    const r = exec([A, 'sh', '-c', 'echo out; exit 0']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'out\n', 'the process shares tsrunc\'s stdout');
    assert.equal(exec([A, 'sh', '-c', 'kill -9 $$']).status, 137);
    assertFails(exec([A, 'nosuch']), 'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 255);
    assertFails(exec([A]), 'exec failed: process args cannot be empty', 255);
    assertFails(exec(['nsj-nosuch', 'true']), 'exec failed: container does not exist', 255);
    assertFails(exec(['--cwd', '/nonexistent', A, 'true']), 'exec failed: unable to start container process: chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory', 255);
  });

  it('-e, -u uid:gid, -g, --cwd; HOME from the image\'s /etc/passwd; flags after the id belong to the command', () => {
    const r = exec(['-e', 'FOO=bar', '--env', 'X=1', '-u', '65534:65534', '-g', '5', '-g', '7', '--cwd', '/tmp', A,
      'sh', '-c', 'echo "$FOO $X $HOME $PATH"; id -u; id -g; id -G; pwd', '-e', 'ignored']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'bar 1 /nonexistent /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n65534\n65534\n65534 5 7\n/tmp\n');
    const u = exec(['-u', '1000', A, 'sh', '-c', 'id -u; id -g; echo $HOME']);
    assert.equal(u.stdout, '1000\n0\n/\n', show(u));
    assertFails(exec(['-u', 'abc', A, 'true']), 'exec failed: parsing abc as int for uid failed: strconv.Atoi: parsing "abc": invalid syntax', 255);
  });

  it('a hostile --cwd (CVE-2024-21626: an fd of the joining process, /proc magic links) never gives a cwd outside the container', () => {
    for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/4/../../..', '/proc/self/cwd/../../..', '/proc/1/root/../..']) {
      const r = exec(['--cwd', cwd, A, 'sh', '-c', 'pwd; ls /']);
      if (r.status === 0) {
        assert.match(r.stdout, /^\/[^\n]*\n/, `pwd for --cwd ${cwd}: ${show(r)}`);
        assert.doesNotMatch(r.stdout, /unreachable/, cwd);
      } else {
        assert.equal(r.status, 255, show(r));
        assert.match(errMsg(r), /cwd/, `the error names the cwd: ${show(r)}`);
      }
    }
  });

  it('-d with --pid-file: the host pid of the process, in the container\'s namespaces and cgroup; it outlives tsrunc exec', () => {
    const pidFile = path.join(tmp, 'exec.pid');
    const r = exec(['-d', '--pid-file', pidFile, A, 'sleep', '100']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(isAlive(pid), `pid ${pid} from the pid file`);
    assert.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\u0000100\u0000');
    const init = Number(t.state(A).pid);
    for (const n of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'user']) {
      assert.equal(fs.readlinkSync(`/proc/${pid}/ns/${n}`), fs.readlinkSync(`/proc/${init}/ns/${n}`), `${n} namespace of the exec'd process`);
    }
    assert.equal(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${init}/cgroup`, 'utf8'), 'the container\'s cgroups');
    const ps = JSON.parse(t.call(['ps', '-f', 'json', A]).stdout) as number[];
    assert.ok(ps.includes(pid), `ps lists the exec'd process: ${ps}`);
    process.kill(pid, 'SIGKILL');
  });

  it('-p process.json: used as it is (the trailing args are ignored); without cwd or args refused; without env there is no PATH', () => {
    const pj = path.join(tmp, 'process.json');
    fs.writeFileSync(pj, JSON.stringify({ args: ['/bin/sh', '-c', 'echo "[$PATH] $(id -u) $(pwd)"; exit 5'], cwd: '/etc', user: { uid: 2, gid: 2 } }));
    const r = exec(['-p', pj, A, 'ignored', 'args']);
    assert.equal(r.status, 5, show(r));
    assert.equal(r.stdout, '[/sbin:/usr/sbin:/bin:/usr/bin] 2 /etc\n', 'busybox sh\'s own PATH: the process has none');
    fs.writeFileSync(pj, JSON.stringify({ args: ['sh'], cwd: '/' }));
    assertFails(exec(['-p', pj, A]), 'exec failed: unable to start container process: exec: "sh": executable file not found in $PATH', 255);
    fs.writeFileSync(pj, JSON.stringify({ args: ['true'] }));
    assertFails(exec(['-p', pj, A]), 'exec failed: Cwd property must not be empty', 255);
    fs.writeFileSync(pj, JSON.stringify({ args: [], cwd: '/' }));
    assertFails(exec(['-p', pj, A]), 'exec failed: args must not be empty', 255);
    fs.writeFileSync(pj, JSON.stringify({ args: 'true', cwd: '/' }));
    assertFails(exec(['-p', pj, A]), /^exec failed: .*process\.json: \/args: must be an array of strings$/, 255);
    fs.writeFileSync(pj, JSON.stringify({ args: ['cat', '/proc/self/oom_score_adj'], cwd: '/', env: ['PATH=/bin'], oomScoreAdj: 123 }));
    assert.equal(exec(['-p', pj, A]).stdout, '123\n', 'process.oomScoreAdj');
  });

  it('--preserve-fds N: fds 3..3+N-1 reach the process, no other; an N beyond the fds that exist is refused', () => {
    const f = path.join(tmp, 'preserved');
    fs.writeFileSync(f, 'preserved content\n');
    const fd = fs.openSync(f, 'r');
    try {
      const r = exec(['--preserve-fds', '1', A, 'sh', '-c', 'cat /proc/self/fd/3; ls /proc/self/fd'], { fds: [fd] });
      assert.equal(r.status, 0, show(r));
      const [content, ...rest] = r.stdout.split('\n');
      assert.equal(content, 'preserved content');
      // 0 1 2 3, plus the fd ls itself opens for the directory.
      assert.deepEqual(rest.filter(Boolean).map(Number).filter((n) => n !== 4 || false).sort(), [0, 1, 2, 3]);
      const none = exec([A, 'sh', '-c', 'ls /proc/self/fd'], { fds: [fd] });
      assert.deepEqual(none.stdout.split('\n').filter(Boolean).map(Number).filter((n) => n !== 3).sort(), [0, 1, 2], 'without --preserve-fds fd 3 is closed');
      // fd 4 exists in tsrunc (Node's own first fd): it must not reach the container.
      assertFails(exec(['--preserve-fds', '2', A, 'true'], { fds: [fd] }), 'exec failed: --preserve-fds 2: fd 4 was not passed to tsrunc (it was given fd 3 only)', 255);
      assertFails(exec(['--preserve-fds', '1', A, 'true']), 'exec failed: --preserve-fds 1: fd 3 was not passed to tsrunc (it was given no fd above 2)', 255);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('capabilities: the container\'s by default, -c adds one to the bounding, effective, permitted and ambient sets', () => {
    const r = exec([A, 'cat', '/proc/self/status']);
    assert.equal(statusField(r.stdout, 'CapEff'), '0000000020000420');
    assert.equal(statusField(r.stdout, 'CapBnd'), '0000000020000420');
    const c = exec(['-c', 'CAP_SYS_ADMIN', A, 'cat', '/proc/self/status']);
    assert.equal(statusField(c.stdout, 'CapEff'), '0000000020200420');
    assert.equal(statusField(c.stdout, 'CapBnd'), '0000000020200420');
    assert.equal(statusField(c.stdout, 'CapPrm'), '0000000020200420');
  });

  it('no_new_privs: the process\'s value (the container\'s config), or --no-new-privs', () => {
    assert.equal(statusField(exec([A, 'cat', '/proc/self/status']).stdout, 'NoNewPrivs'), '1');
    assert.equal(statusField(exec([S, 'cat', '/proc/self/status']).stdout, 'NoNewPrivs'), '0');
    assert.equal(statusField(exec(['--no-new-privs', S, 'cat', '/proc/self/status']).stdout, 'NoNewPrivs'), '1');
  });

  it('seccomp: the container\'s filter applies to every exec\'d process (with and without no_new_privs)', () => {
    for (const extra of [[], ['--no-new-privs']]) {
      const r = exec([...extra, S, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo rc=$?']);
      assert.match(r.stdout, /^Seccomp:\s+2$/m, show(r));
      assert.match(r.stdout, /rc=1$/m);
      assert.match(r.stderr, /Permission denied/, 'errnoRet 13 (EACCES)');
    }
    assert.match(exec([A, 'sh', '-c', 'mkdir /tmp/y && echo made']).stdout, /made/, 'no filter in the container without one');
  });

  it('refusals with runc\'s texts: a paused container (and --ignore-paused), a stopped one, -t, a console socket', async () => {
    assert.equal(t.call(['pause', A]).status, 0);
    try {
      assertFails(exec([A, 'true']), 'exec failed: cannot exec in a paused container (use --ignore-paused to override)', 255);
      // With --ignore-paused the process joins the frozen cgroup and runs once it is thawed.
      const pending = t.callAsync(['exec', '--ignore-paused', A, 'sh', '-c', 'echo ran']);
      sleepMs(300);
      assert.equal(t.call(['resume', A]).status, 0);
      const r = await pending;
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout, 'ran\n');
    } finally {
      t.call(['resume', A]);
    }
    assertFails(exec(['--apparmor', 'foo', A, 'true']), 'exec failed: process: apparmorProfile (--apparmor): not supported by this version of tsrunc', 255);
    assertFails(exec(['--process-label', 'foo', A, 'true']), 'exec failed: selinux label is specified in config, but selinux is disabled or not supported', 255);
    const w = exec(['-c', 'CAP_FOO', A, 'true']);
    assert.equal(w.status, 0, show(w));
    assert.match(w.stderr, /level=warning msg="ignoring unknown or unavailable capabilities: \[CAP_FOO\]"/);
    const g = exec(['-g', 'x', A, 'true']);
    assert.equal(g.status, 1, show(g));
    assert.equal(errMsg(g), 'invalid value "x" for flag -g: strconv.ParseInt: parsing "x": invalid syntax');
    assertFails(exec(['-t', '--console-socket', '/tmp/x.sock', A, 'true']), 'exec failed: cannot use console socket if runc will not detach or allocate tty', 255);
    assertFails(exec(['--console-socket', '/tmp/x.sock', A, 'true']), 'exec failed: cannot use console socket if runc will not detach or allocate tty', 255);
    assertFails(exec(['-t', '-d', A, 'true']), 'exec failed: cannot allocate tty if runc will detach without setting console socket', 255);
    const st = 'nsj-ex-st';
    runDetached(t, st, bundle('st', ['true']));
    assert.equal(t.waitStatus(st, 'stopped', 5000), 'stopped');
    assertFails(exec([st, 'true']), 'exec failed: cannot exec in a stopped container', 255);
    assert.equal(t.call(['delete', st]).status, 0);
  });

  it('a created container (its init waits for start): exec runs in its namespaces, the container stays created', () => {
    const id = 'nsj-ex-cr';
    ids.push(id);
    const c = t.call(['create', '-b', bundle('cr', ['sleep', '1000']), id]);
    assert.equal(c.status, 0, show(c));
    const r = exec([id, 'sh', '-c', 'hostname; cat /proc/1/comm']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'runc\ntsrunc:[INIT]\n', 'the waiting init is pid 1');
    assert.equal(t.status(id), 'created');
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });

  it('--cgroup: the process joins an existing sub-cgroup of the container', () => {
    const paths = (JSON.parse(fs.readFileSync(path.join(t.root, A, 'state.json'), 'utf8')) as { cgroup: { paths: Record<string, string> } }).cgroup.paths;
    const key = 'pids' in paths ? 'pids' : '';
    const sub = path.join(paths[key]!, 'sub');
    fs.mkdirSync(sub);
    try {
      const arg = key === '' ? 'sub' : `${key}:sub`;
      const r = exec(['--cgroup', arg, A, 'cat', '/proc/self/cgroup']);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, new RegExp(`^\\d+:${key}:.*/sub$`, 'm'), r.stdout);
      assertFails(exec(['--cgroup', `${key === '' ? '' : `${key}:`}../../escape`, A, 'true']), 'exec failed: ../../escape is not a sub cgroup path', 255);
      assertFails(exec(['--cgroup', 'a:b:c', A, 'true']), 'exec failed: invalid --cgroup argument: a:b:c', 255);
    } finally {
      pollUntil(() => { try { fs.rmdirSync(sub); return true; } catch { return false; } }, 3000);
    }
  });
});

describe('exec differentially against runc 1.1.5', { skip: fs.existsSync(RUNC) ? false : 'no runc' }, () => {
  it('the same exec command lines give the same exit status, output and errors', () => {
    const r = new Runc(path.join(tmp, 'runc-root'), tmp);
    const dir = bundle('diff', ['sleep', '1000']);
    const cases: string[][] = [
      ['sh', '-c', 'exit 3'],
      ['-u', '1000:1000', '-g', '5', 'sh', '-c', 'id; echo $HOME'],
      ['-e', 'A=1', '--cwd', '/tmp', 'sh', '-c', 'echo $A; pwd'],
      ['sh', '-c', 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'],
      ['-c', 'CAP_SYS_ADMIN', '--no-new-privs', 'sh', '-c', 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'],
      ['nosuch'],
      [],
    ];
    const outcomes = (rt: Tsrunc, id: string): string[] => {
      runDetached(rt, id, dir);
      try {
        const out = cases.map((c) => {
          const res = rt.call(['exec', id, ...c]);
          return `${c.join(' ')} => rc ${res.status} ${res.stdout.trim()} ${res.status === 0 || res.stdout ? '' : errMsg(res)}`;
        });
        rt.call(['kill', id, 'KILL']);
        rt.waitStatus(id, 'stopped', 5000);
        out.push(`stopped => ${errMsg(rt.call(['exec', id, 'true']))}`);
        return out;
      } finally {
        rt.call(['delete', '--force', id]);
      }
    };
    assert.deepEqual(outcomes(t, 'nsj-ex-diff'), outcomes(r, 'nsj-ex-diff'));
  });
});

// CVE-2019-5736 from the exec side: a process inside the container watches for the process that
// joins it to appear in its pid namespace and goes for /proc/<pid>/exe (for writing), its fds (the
// links, which need ptrace access; the names of a root process's fds are visible to root) and its
// memory. The image's /etc/passwd (the attacker's to shape) is made huge, so that the joining
// process spends a long time reading it (HOME lookup) while it is visible: the attacker always gets
// its chance. What it must find: tsrunc-init from the sealed memfd, not dumpable, so every access
// is refused; never node or any host binary. The host binaries' hashes are compared too.
describe('exec attack: /proc/<pid>/exe, fds and memory of the joining process', () => {
  const WATCH = `seen=" $$ 1 "
while [ ! -e /stop ]; do
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    case "$seen" in *" $p "*) continue ;; esac
    seen="$seen$p "
    c=$(cat $d/comm 2>/dev/null) || continue
    x=$(readlink $d/exe 2>&1) && x="OK:$x" || x="ERR"
    w=$( { (exec 9>>$d/exe) && echo OK; } 2>&1 ); case "$w" in OK) ;; *) w=ERR ;; esac
    f=ERR; for e in $d/fd/*; do readlink $e >/dev/null 2>&1 && f=OK; done
    m=$( { (exec 8<$d/mem) && echo OK; } 2>&1 ); case "$m" in OK) ;; *) m=ERR ;; esac
    # The process may have exec'd its own program meanwhile (then its memory is readable, as any
    # of the container's): such a line is not about the joining process.
    c2=$(cat $d/comm 2>/dev/null); [ "$c2" = "$c" ] || c="$c->$c2"
    echo "SEEN|$p|$c|exe=$x|write=$w|fd=$f|mem=$m" >> /tmp/seen
  done
done
echo DONE >> /tmp/seen
`;
  const hash = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

  it('the attacker sees tsrunc-init from a sealed memfd, not dumpable: exe, fds and memory are refused', () => {
    const id = 'nsj-ex-atk';
    const b = makeBundle(path.join(tmp, 'atk'), (c) => {
      c.process!.args = ['sh', '/watch.sh'];
      c.root!.readonly = false;
    });
    fs.writeFileSync(path.join(b.rootfs, 'watch.sh'), WATCH);
    // ~40 MB of passwd lines that do not match, then root's.
    const line = 'u:x:4242:4242::/h:/bin/sh\n';
    const chunk = line.repeat(40000);
    const fd = fs.openSync(path.join(b.rootfs, 'etc/passwd'), 'w');
    for (let i = 0; i < 40; i++) fs.writeSync(fd, chunk);
    fs.writeSync(fd, 'root:x:0:0:root:/root:/bin/sh\n');
    fs.closeSync(fd);
    const hosts = [fs.realpathSync(process.execPath), path.join(repoRoot(), 'build/Release/tsrunc-init'), fs.realpathSync(BUSYBOX)];
    const before = hosts.map(hash);
    runDetached(t, id, b.dir);
    let lines: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = exec([id, 'true']);
      assert.equal(r.status, 0, show(r));
      lines = fs.readFileSync(path.join(b.rootfs, 'tmp/seen'), 'utf8').split('\n').filter((l) => l.startsWith('SEEN|'));
      if (lines.some((l) => l.split('|')[2] === 'tsrunc:[INIT]')) break;
    }
    fs.writeFileSync(path.join(b.rootfs, 'stop'), '');
    const joining = lines.filter((l) => l.split('|')[2] === 'tsrunc:[INIT]');
    assert.ok(joining.length > 0, `the attacker saw the joining process (its chance to attack): ${lines.join('\n')}`);
    for (const l of joining) assert.match(l, /\|exe=ERR\|write=ERR\|fd=ERR\|mem=ERR$/, l);
    for (const l of lines) {
      assert.doesNotMatch(l, /write=OK/, `no /proc/<pid>/exe opened for writing: ${l}`);
      for (const h of hosts.slice(0, 2)) assert.ok(!l.includes(`exe=OK:${h}`), `a host binary is visible: ${l}`);
    }
    assert.deepEqual(hosts.map(hash), before, 'host binaries unchanged');
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });
});
