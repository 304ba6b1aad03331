// Ecosystem: Docker 20.10 (Debian's docker.io) drives tsrunc as an added runtime
// (`dockerd --add-runtime tsrunc=/abs/bin/tsrunc`, `docker run --runtime tsrunc`). dockerd runs
// with private --data-root, --exec-root, --pidfile, config file and a unix socket under a temp
// dir, no bridge and no iptables; it starts its own containerd under the exec root. Containers
// use `--network none`. dockerd is stopped by its PID. A daemon that cannot start fails the suite
// with its log: this test never passes silently.
//
// Docker passes `--root <exec-root>/runtime-runc/<containerd namespace>` to tsrunc (daemons.ts
// runtimeRoot), so what tsrunc has left is read with `tsrunc --root` there; the containers'
// cgroups live under a private cgroup parent.
// The daemon's start and stop are shared with the benchmark (daemons.ts). The last case stops
// dockerd and checks that nothing of the suite is left (support.ts suiteLeftovers).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOCKER, DOCKERD, Dockerd } from './daemons';
import { TSRUNC, cgroupDirsNamed, cleanupSuite, pollUntil, suiteLeftovers, tmpDir, type SuiteScope } from './support';

const PARENT = 'tsrunc-docker-test';
const IMAGE = 'tsrunc-busybox';
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let dir = '';
// dockerd makes a `docker` cgroup of its own even with --cgroup-parent: removed after, unless it was there.
const hadDockerCgroup = cgroupDirsNamed('docker').length > 0;
let dk: Dockerd | undefined;
const sock = () => dk!.sock;
const docker = (args: string[], timeout = 60000): SpawnSyncReturns<string> => dk!.docker(args, timeout);
const daemonLog = (): string => dk?.log() ?? '';

/** What the suite owns; its leftovers are checked by the last case. */
function scope(): SuiteScope {
  return { dir, roots: [dk!.runtimeRoot()], cgroupParents: [PARENT] };
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what}: rc ${r.status}\n${r.stderr}\n--- dockerd.log\n${daemonLog()}`);
  return r.stdout;
}

/** `docker run --runtime tsrunc --network none [extra] IMAGE cmd...` */
function run(extra: string[], cmd: string[], timeout = 60000): SpawnSyncReturns<string> {
  return docker(['run', '--runtime', 'tsrunc', '--network', 'none', ...extra, IMAGE, ...cmd], timeout);
}

/** A detached container running `cmd`; returns its full id. */
function runDetached(name: string, extra: string[], cmd: string[]): string {
  return ok(run(['-d', '--name', name, ...extra], cmd), `docker run -d ${name}`).trim();
}

function inspect(name: string, format: string): string {
  return ok(docker(['inspect', '-f', format, name]), `docker inspect ${name}`).trim();
}

function tsruncIds(): string[] {
  const r = spawnSync(TSRUNC, ['--root', dk!.runtimeRoot(), 'list', '-q'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

/** The container's cgroup directory of one v1 controller (or the unified one). */
function cgroupFile(id: string, ctl: string, file: string): string {
  const dirs = cgroupDirsNamed(id);
  const d = dirs.find((x) => x.startsWith(`/sys/fs/cgroup/${ctl}/`)) ?? dirs.find((x) => fs.existsSync(path.join(x, file)));
  assert.ok(d, `no ${ctl} cgroup for ${id}: ${dirs.join(' ')}`);
  return fs.readFileSync(path.join(d, file), 'utf8').trim();
}

describe('Docker (dockerd --add-runtime tsrunc)', { skip }, () => {
  before(() => {
    assert.ok(fs.existsSync(DOCKERD) && fs.existsSync(DOCKER), 'docker.io is not installed (npm run setup installs it)');
    dir = tmpDir('tsrunc-dk');
    dk = new Dockerd(dir, { runtimes: { tsrunc: TSRUNC }, cgroupParent: PARENT, namespace: 'tsrunc-dk' });
    dk.start();
    // The image: a busybox-static rootfs, imported (no registry here).
    dk.importBusybox(IMAGE);
  });

  after(async () => {
    // Best effort, for when a case failed before the last one: stop dockerd if it still runs, then
    // kill, unmount and remove whatever of the suite is left.
    await dk?.stop();
    if (dir) cleanupSuite(scope(), hadDockerCgroup ? [] : ['docker']);
  });

  it('docker run: output, exit code, the default seccomp profile stays on', () => {
    const r = run(['--rm'], ['sh', '-c', 'echo hello from docker; grep Seccomp: /proc/self/status; exit 3']);
    assert.equal(r.status, 3, `${r.stderr}\n${daemonLog()}`);
    assert.match(r.stdout, /hello from docker/);
    assert.match(r.stdout, /Seccomp:\s+2/);
  });

  it('docker run -it: a tty through a pty, and its exit code', () => {
    const cmd = [DOCKER, '-H', `unix://${sock()}`, 'run', '--rm', '-it', '--runtime', 'tsrunc', '--network', 'none', IMAGE, 'sh', '-c', 'tty; stty size; exit 4'];
    const r = spawnSync('script', ['-qec', cmd.join(' '), '/dev/null'], {
      encoding: 'utf8', timeout: 60000, env: dk!.env(),
    });
    assert.equal(r.status, 4, `${r.stdout}\n${r.stderr}\n${daemonLog()}`);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  it('docker exec (with and without -t), top, pause, unpause, stats, update --memory', () => {
    const id = runDetached('dk-exec', ['--memory', '64m', '--pids-limit', '50', '--cpus', '0.5'], ['sleep', '1000']);
    // tsrunc runs it: its state is under the root Docker gives the runtime.
    assert.deepEqual(tsruncIds(), [id]);
    const e = docker(['exec', 'dk-exec', 'sh', '-c', 'echo in $(hostname); exit 5']);
    assert.equal(e.status, 5, `${e.stderr}\n${daemonLog()}`);
    assert.match(e.stdout, /^in \w+/);
    const cmd = [DOCKER, '-H', `unix://${sock()}`, 'exec', '-it', 'dk-exec', 'tty'];
    const t = spawnSync('script', ['-qec', cmd.join(' '), '/dev/null'], { encoding: 'utf8', timeout: 60000, env: dk!.env() });
    assert.equal(t.status, 0, `${t.stdout}\n${t.stderr}`);
    assert.match(t.stdout, /\/dev\/pts\/\d+/);
    assert.match(ok(docker(['top', 'dk-exec']), 'docker top'), /sleep 1000/);
    // The limits reach the cgroup.
    assert.equal(cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(cgroupFile(id, 'pids', 'pids.max'), '50');
    assert.equal(cgroupFile(id, 'cpu', 'cpu.cfs_quota_us'), '50000');
    ok(docker(['pause', 'dk-exec']), 'docker pause');
    assert.equal(inspect('dk-exec', '{{.State.Status}}'), 'paused');
    assert.equal(cgroupFile(id, 'freezer', 'freezer.state'), 'FROZEN');
    ok(docker(['unpause', 'dk-exec']), 'docker unpause');
    assert.equal(inspect('dk-exec', '{{.State.Status}}'), 'running');
    const stats = ok(docker(['stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', 'dk-exec']), 'docker stats');
    assert.match(stats, /\/ 64MiB 1\b/);
    ok(docker(['update', '--memory', '96m', '--memory-swap', '96m', 'dk-exec']), 'docker update');
    assert.equal(cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
    ok(docker(['rm', '-f', 'dk-exec']), 'docker rm -f');
    assert.deepEqual(cgroupDirsNamed(id), []);
  });

  it('docker stop: a process that traps SIGTERM exits 0; one that does not is killed after -t', () => {
    runDetached('dk-trap', [], ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    ok(docker(['stop', '-t', '20', 'dk-trap']), 'docker stop');
    assert.equal(inspect('dk-trap', '{{.State.ExitCode}}'), '0');
    runDetached('dk-kill', [], ['sleep', '1000']);
    ok(docker(['stop', '-t', '1', 'dk-kill']), 'docker stop');
    assert.equal(inspect('dk-kill', '{{.State.ExitCode}}'), '137');
    runDetached('dk-k2', [], ['sleep', '1000']);
    ok(docker(['kill', 'dk-k2']), 'docker kill');
    assert.ok(pollUntil(() => inspect('dk-k2', '{{.State.Status}}') === 'exited', 10000));
    ok(docker(['rm', 'dk-trap', 'dk-kill', 'dk-k2']), 'docker rm');
  });

  it('--read-only, --user 1000, --cap-drop ALL, -v bind, --tmpfs', () => {
    const host = path.join(dir, 'shared');
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'in'), 'from the host\n');
    const r = run(['--rm', '--read-only', '--user', '1000', '--cap-drop', 'ALL', '-v', `${host}:/data`, '--tmpfs', '/scratch'], ['sh', '-c', [
      'id -u', 'grep CapEff /proc/self/status', 'cat /data/in',
      'touch /etc/x 2>/dev/null && echo root-writable || echo root-readonly',
      'echo ok > /scratch/f && cat /scratch/f', 'grep " /scratch " /proc/self/mountinfo',
    ].join('; ')]);
    assert.equal(r.status, 0, `${r.stderr}\n${daemonLog()}`);
    const out = r.stdout;
    assert.match(out, /^1000$/m);
    assert.match(out, /CapEff:\s+0000000000000000/);
    assert.match(out, /from the host/);
    assert.match(out, /root-readonly/);
    assert.match(out, /^ok$/m);
    assert.match(out, / \/scratch .* - tmpfs /);
  });

  it('nothing is left under tsrunc\'s root or in the cgroups after docker rm', () => {
    const left = ok(docker(['ps', '-aq']), 'docker ps').split('\n').filter(Boolean);
    if (left.length) ok(docker(['rm', '-f', ...left]), 'docker rm -f');
    assert.deepEqual(tsruncIds(), []);
    assert.deepEqual(cgroupDirsNamed(PARENT).flatMap((d) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${d}/${e.name}`)), []);
  });

  it('after dockerd stops: no state dirs, container cgroups, mounts or processes left', async () => {
    const how = await dk!.stop();
    assert.match(how, /^exited/, `dockerd did not stop on SIGTERM: ${how}\n${daemonLog()}`);
    // The shims exit once their containers are deleted: give them a moment.
    let left = suiteLeftovers(scope());
    pollUntil(() => (left = suiteLeftovers(scope())).length === 0, 5000);
    assert.deepEqual(left, []);
  });
});
