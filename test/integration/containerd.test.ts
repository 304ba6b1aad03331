// Ecosystem: containerd 1.6 (Debian) drives tsrunc through its own runc shim, exactly as it
// drives runc (`ctr run --runc-binary`; the shim calls create/start/kill/delete with
// `--root R --log L --log-format json`, the pid file, and the container's stdio as pipes).
// containerd runs with private root/state dirs and sockets under a temp dir, and is stopped by
// its PID; the containers use a private containerd namespace so their cgroups are easy to find.
// The last case stops containerd and checks that nothing of the suite is left (support.ts
// suiteLeftovers).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { TSRUNC, cgroupDirsNamed, cleanupSuite, pollUntil, stopDaemon, suiteLeftovers, tmpDir, type SuiteScope } from './support';
import { encode, unary } from './grpc';
import { DRIVER, WAIT_FOR_SIZE } from './tty-driver';

const NS = 'tsrunc-ctd-test';
const haveContainerd = spawnSync('sh', ['-c', 'command -v containerd && command -v ctr && command -v containerd-shim-runc-v2']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !haveContainerd ? 'containerd is not installed (apt-get install containerd)'
    : !fs.existsSync('/bin/busybox') ? 'busybox-static is not installed' : false;

let dir = '';
let daemon: ChildProcess | undefined;
const sock = () => path.join(dir, 'ctd.sock');
const tsrootBase = () => path.join(dir, 'tsroot');

function ctr(args: string[], timeout = 30000) {
  return spawnSync('ctr', ['--address', sock(), '-n', NS, ...args], { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
}

function runArgs(id: string, extra: string[], cmd: string[]): string[] {
  return ['run', ...extra, '--runc-binary', TSRUNC, '--runc-root', tsrootBase(), '--rootfs', path.join(dir, 'rootfs'), id, ...cmd];
}

/** What the suite owns: containerd's cgroupsPath is /<namespace>/<id>. */
function scope(): SuiteScope {
  return { dir, roots: [path.join(tsrootBase(), NS)], cgroupParents: [NS] };
}

function tsruncList(): unknown {
  const r = spawnSync(TSRUNC, ['--root', path.join(tsrootBase(), NS), 'list', '-f', 'json'], { encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

describe('containerd (ctr --runc-binary tsrunc)', { skip }, () => {
  before(async () => {
    dir = tmpDir('tsrunc-ctd');
    buildRootfs(path.join(dir, 'rootfs'));
    fs.writeFileSync(path.join(dir, 'config.toml'), [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]', `  address = "${sock()}"`,
      '[ttrpc]', `  address = "${dir}/ttrpc.sock"`,
      '[debug]', `  address = "${dir}/debug.sock"`,
      '[metrics]', '  address = ""',
      // Only what ctr needs: no CRI, no image pulls.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '',
    ].join('\n'));
    const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
    daemon = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    assert.ok(pollUntil(() => fs.existsSync(sock()) && ctr(['version']).status === 0, 20000), 'containerd did not come up');
  });

  after(async () => {
    // Best effort, for when a case failed before the last one.
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      for (const id of ['ctd-fg', 'ctd-bg', 'ctd-pause', 'ctd-lim', 'ctd-upd', 'ctd-tty', 'ctd-exec', 'ctd-join']) {
        ctr(['task', 'kill', '-s', 'KILL', id]);
        ctr(['task', 'delete', id]);
        ctr(['container', 'rm', id]);
      }
    }
    if (daemon) await stopDaemon(daemon, 10000);
    // runc (and tsrunc) leave the parent cgroup `/<namespace>` in place: cleanupSuite removes it.
    if (dir) cleanupSuite(scope());
  });

  it('ctr run --rm: output reaches ctr, the exit code is the container\'s, nothing is left', () => {
    const r = ctr(runArgs('ctd-fg', ['--rm'], ['/bin/sh', '-c', 'echo hello from ctr; cat /proc/self/cgroup; exit 3']));
    assert.equal(r.status, 3, `ctr run: ${r.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
    assert.match(r.stdout, /hello from ctr/);
    // containerd's cgroupsPath is /<namespace>/<id>.
    assert.match(r.stdout, new RegExp(`devices:/${NS}/ctd-fg`));
    assert.equal(tsruncList(), null);
    assert.deepEqual(cgroupDirsNamed('ctd-fg'), []);
  });

  it('ctr run --memory-limit --cpus: the limits reach the container\'s cgroup (issue 7)', () => {
    const r = ctr(runArgs('ctd-lim', ['-d', '--memory-limit', '67108864', '--cpus', '0.5'], ['/bin/sleep', '1000']));
    assert.equal(r.status, 0, `ctr run: ${r.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
    const dirs = cgroupDirsNamed('ctd-lim');
    const file = (ctl: string, f: string) => {
      const d = dirs.find((x) => x.startsWith(`/sys/fs/cgroup/${ctl}/`));
      assert.ok(d, `no ${ctl} cgroup: ${dirs.join(' ')}`);
      return fs.readFileSync(path.join(d, f), 'utf8').trim();
    };
    assert.equal(file('memory', 'memory.limit_in_bytes'), '67108864');
    assert.equal(file('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(file('cpu', 'cpu.cfs_period_us'), '100000');
    assert.equal(ctr(['task', 'kill', '-s', 'KILL', 'ctd-lim']).status, 0);
    assert.ok(pollUntil(() => /ctd-lim\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10000), 'the task did not stop');
    assert.equal(ctr(['task', 'delete', 'ctd-lim']).status, 0);
    assert.equal(ctr(['container', 'rm', 'ctd-lim']).status, 0);
    assert.deepEqual(cgroupDirsNamed('ctd-lim'), []);
  });

  it('ctr run -t --rm (issue 8): the shim receives the console from --console-socket; a real pty drives ctr', () => {
    // ctr needs a terminal of its own: run it on a pty (test/integration/tty_driver.py). It resizes
    // the console after the task starts: the container waits until it has a size before it looks.
    const argv = ['--address', sock(), '-n', NS, ...runArgs('ctd-tty', ['-t', '--rm'], ['/bin/sh', '-c', `${WAIT_FOR_SIZE}tty; stty size; exit 4`])];
    const r = spawnSync('python3', [DRIVER, 'pty-run', '30', '90', '--', 'ctr', ...argv], { encoding: 'utf8', timeout: 60000, input: '' });
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const end = lines.find((l) => 'exit' in l);
    const out = String(lines.find((l) => 'output' in l)?.output ?? '');
    assert.equal(end?.exit, 4, `ctr run -t: ${r.stdout} ${r.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
    assert.match(out, /\/dev\/pts\/0\r*\n/);
    assert.match(out, /30 90\r*\n/, 'ctr resized the console it got from the shim');
    assert.equal(tsruncList(), null);
    assert.deepEqual(cgroupDirsNamed('ctd-tty'), []);
  });

  it('ctr run -d, task ls, task kill -s KILL, task delete, container rm', () => {
    const r = ctr(runArgs('ctd-bg', ['-d'], ['/bin/sleep', '1000']));
    assert.equal(r.status, 0, r.stderr);
    const ls = ctr(['task', 'ls']);
    assert.match(ls.stdout, /ctd-bg\s+\d+\s+RUNNING/);
    const pid = Number(/ctd-bg\s+(\d+)/.exec(ls.stdout)![1]);
    const states = tsruncList() as { id: string; pid: number; status: string }[];
    assert.deepEqual(states.map((s) => [s.id, s.pid, s.status]), [['ctd-bg', pid, 'running']]);
    assert.equal(ctr(['task', 'kill', '-s', 'KILL', 'ctd-bg']).status, 0);
    assert.ok(pollUntil(() => /ctd-bg\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10000), 'the task did not stop');
    const del = ctr(['task', 'delete', 'ctd-bg']);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(ctr(['container', 'rm', 'ctd-bg']).status, 0);
    assert.equal(tsruncList(), null);
    assert.deepEqual(cgroupDirsNamed('ctd-bg'), []);
  });

  it('ctr task pause, ps, resume (tsrunc pause/ps --format json/resume), and kill of a paused task', () => {
    const id = 'ctd-pause';
    const r = ctr(runArgs(id, ['-d'], ['/bin/sh', '-c', 'sleep 1000 & wait']));
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(/ctd-pause\s+(\d+)/.exec(ctr(['task', 'ls']).stdout)![1]);
    const pause = ctr(['task', 'pause', id]);
    assert.equal(pause.status, 0, pause.stderr);
    assert.match(ctr(['task', 'ls']).stdout, /ctd-pause\s+\d+\s+PAUSED/);
    assert.deepEqual((tsruncList() as { status: string }[]).map((s) => s.status), ['paused']);
    // The shim calls `ps --format json <id>` and parses the pids.
    const ps = ctr(['task', 'ps', id]);
    assert.equal(ps.status, 0, ps.stderr);
    const pids = [...ps.stdout.matchAll(/^(\d+)\s/gm)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2, ps.stdout);
    assert.ok(pids.includes(pid), ps.stdout);
    const resume = ctr(['task', 'resume', id]);
    assert.equal(resume.status, 0, resume.stderr);
    assert.match(ctr(['task', 'ls']).stdout, /ctd-pause\s+\d+\s+RUNNING/);
    assert.equal(ctr(['task', 'pause', id]).status, 0);
    assert.equal(ctr(['task', 'kill', '-a', '-s', 'KILL', id]).status, 0);
    assert.ok(pollUntil(() => /ctd-pause\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10000), 'the paused task did not stop');
    assert.equal(ctr(['task', 'delete', id]).status, 0);
    assert.equal(ctr(['container', 'rm', id]).status, 0);
    assert.equal(tsruncList(), null);
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('Tasks.Update through containerd\'s API reaches `tsrunc update --resources -` and changes the limit', async () => {
    const id = 'ctd-upd';
    const r = ctr(runArgs(id, ['-d', '--memory-limit', '67108864'], ['/bin/sleep', '1000']));
    assert.equal(r.status, 0, r.stderr);
    const memDir = () => cgroupDirsNamed(id).find((x) => x.startsWith('/sys/fs/cgroup/memory/'))!;
    assert.equal(fs.readFileSync(path.join(memDir(), 'memory.limit_in_bytes'), 'utf8').trim(), '67108864');
    // containerd.services.tasks.v1.UpdateTaskRequest { container_id = 1; google.protobuf.Any
    // resources = 2 }, the Any holding specs.LinuxResources as JSON under containerd's type URL
    // (what the Go client's task.Update(WithResources(...)) sends).
    const resources = { memory: { limit: 100663296, swap: 100663296 }, pids: { limit: 77 } };
    await unary(sock(), '/containerd.services.tasks.v1.Tasks/Update', encode([
      [1, id],
      [2, [[1, 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources'], [2, Buffer.from(JSON.stringify(resources))]]],
    ]), { 'containerd-namespace': NS });
    assert.equal(fs.readFileSync(path.join(memDir(), 'memory.limit_in_bytes'), 'utf8').trim(), '100663296');
    const pidsDir = cgroupDirsNamed(id).find((x) => x.startsWith('/sys/fs/cgroup/pids/'))!;
    assert.equal(fs.readFileSync(path.join(pidsDir, 'pids.max'), 'utf8').trim(), '77');
    assert.equal(ctr(['task', 'kill', '-s', 'KILL', id]).status, 0);
    assert.ok(pollUntil(() => /ctd-upd\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10000), 'the task did not stop');
    assert.equal(ctr(['task', 'delete', id]).status, 0);
    assert.equal(ctr(['container', 'rm', id]).status, 0);
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('ctr task exec (the shim\'s `exec --process F --detach --pid-file P`), with -t, and ctr run --with-ns (a namespace joined by path)', () => {
    const id = 'ctd-exec';
    assert.equal(ctr(runArgs(id, ['-d'], ['/bin/sleep', '1000'])).status, 0);
    const pid = Number(/ctd-exec\s+(\d+)/.exec(ctr(['task', 'ls']).stdout)![1]);
    // The exit status reaches ctr through the shim's subreaper: the exec'd process is tsrunc's
    // child and re-parents to the shim when `tsrunc exec -d` returns.
    const e = ctr(['task', 'exec', '--exec-id', 'e1', id, '/bin/sh', '-c', 'echo from exec $(readlink /proc/self/ns/pid); exit 5']);
    assert.equal(e.status, 5, `ctr task exec: ${e.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
    assert.equal(e.stdout.trim(), `from exec ${fs.readlinkSync(`/proc/${pid}/ns/pid`)}`);
    // `ctr task exec -t` (the shim's `exec ... --detach --console-socket S`), ctr on a real pty: the
    // shim gets the master of the process's pty and ctr resizes it after the start.
    const argv = ['--address', sock(), '-n', NS, 'task', 'exec', '-t', '--exec-id', 'e2', id, '/bin/sh', '-c', `${WAIT_FOR_SIZE}tty; stty size; exit 6`];
    const tr = spawnSync('python3', [DRIVER, 'pty-run', '30', '90', '--', 'ctr', ...argv], { encoding: 'utf8', timeout: 60000, input: '' });
    const lines = tr.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const out = String(lines.find((l) => 'output' in l)?.output ?? '');
    assert.equal(lines.find((l) => 'exit' in l)?.exit, 6, `ctr task exec -t: ${tr.stdout} ${tr.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
    assert.match(out, /\/dev\/pts\/\d+\r*\n/);
    assert.match(out, /30 90\r*\n/, 'ctr resized the console it got from the shim');
    const j = ctr(runArgs('ctd-join', ['--rm', '--with-ns', `network:/proc/${pid}/ns/net`], ['/bin/readlink', '/proc/self/ns/net']));
    assert.equal(j.status, 0, j.stderr);
    assert.equal(j.stdout.trim(), fs.readlinkSync(`/proc/${pid}/ns/net`));
    assert.equal(ctr(['task', 'kill', '-s', 'KILL', id]).status, 0);
    assert.ok(pollUntil(() => /ctd-exec\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10000), 'the task did not stop');
    assert.equal(ctr(['task', 'delete', id]).status, 0);
    assert.equal(ctr(['container', 'rm', id]).status, 0);
    assert.equal(tsruncList(), null);
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('after containerd stops: no state dirs, container cgroups, mounts or processes left', async () => {
    const how = await stopDaemon(daemon!, 10000);
    assert.match(how, /^exited/, `containerd did not stop on SIGTERM: ${how}`);
    let left = suiteLeftovers(scope());
    pollUntil(() => (left = suiteLeftovers(scope())).length === 0, 5000);
    assert.deepEqual(left, []);
  });
});
