// Ecosystem: Docker 20.10 (Debian's docker.io) drives tsrunc as an added runtime
// (`dockerd --add-runtime tsrunc=/abs/bin/tsrunc`, `docker run --runtime tsrunc`). dockerd runs
// with private --data-root, --exec-root, --pidfile, config file and a unix socket under a temp
// dir, no bridge and no iptables; it starts its own containerd under the exec root. Containers
// use `--network none`. dockerd is stopped by its PID. A daemon that cannot start fails the suite
// with its log: this test never passes silently.
//
// Docker passes `--root <exec-root>/runtime-tsrunc/moby` to tsrunc, so what tsrunc has left is
// read with `tsrunc --root` there; the containers' cgroups live under a private cgroup parent.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { TSRUNC, cgroupDirsNamed, mountsMentioning, pollUntil, removeCgroupTreesNamed, tmpDir } from './support';

const DOCKERD = '/usr/sbin/dockerd';
const DOCKER = '/usr/bin/docker'; // Debian's client, the daemon's own version
const PARENT = 'tsrunc-docker-test';
const IMAGE = 'tsrunc-busybox';
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let dir = '';
// dockerd makes a `docker` cgroup of its own even with --cgroup-parent: removed after, unless it was there.
const hadDockerCgroup = cgroupDirsNamed('docker').length > 0;
let daemon: ChildProcess | undefined;
const sock = () => path.join(dir, 'docker.sock');

function docker(args: string[], timeout = 60000, input?: string): SpawnSyncReturns<string> {
  return spawnSync(DOCKER, ['-H', `unix://${sock()}`, ...args], {
    encoding: 'utf8', timeout, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'client') },
  });
}

function daemonLog(): string {
  try {
    return fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
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
  const r = spawnSync(TSRUNC, ['--root', path.join(dir, 'exec', 'runtime-tsrunc', 'moby'), 'list', '-q'], { encoding: 'utf8' });
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
    fs.mkdirSync(path.join(dir, 'client'));
    fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
    daemon = spawn(DOCKERD, [
      '--config-file', path.join(dir, 'daemon.json'),
      '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'docker.pid'), '-H', `unix://${sock()}`,
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs', '--cgroup-parent', PARENT,
      '--containerd-namespace', 'tsrunc-dk', '--containerd-plugins-namespace', 'tsrunc-dk-plugins',
      '--add-runtime', `tsrunc=${TSRUNC}`,
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const up = pollUntil(() => fs.existsSync(sock()) && docker(['version'], 10000).status === 0, 60000);
    assert.ok(up, `dockerd did not come up:\n${daemonLog()}`);
    // The image: a busybox-static rootfs, imported (no registry here).
    const rootfs = path.join(dir, 'rootfs');
    buildRootfs(rootfs);
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 28 });
    assert.equal(tar.status, 0);
    const imp = spawnSync(DOCKER, ['-H', `unix://${sock()}`, 'import', '-', IMAGE], { input: tar.stdout, encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'client') } });
    assert.equal(imp.status, 0, `docker import: ${imp.stderr}`);
  });

  after(() => {
    if (daemon?.pid) {
      docker(['rm', '-f', ...docker(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
      process.kill(daemon.pid, 'SIGTERM');
      const t = Date.now();
      while (Date.now() - t < 20000 && spawnSync('kill', ['-0', String(daemon.pid)]).status === 0) spawnSync('sleep', ['0.1']);
    }
    // Docker leaves the cgroup parent (as it does with runc) and its overlay mounts are gone once
    // the daemon has stopped: remove what is ours.
    removeCgroupTreesNamed(PARENT);
    if (!hadDockerCgroup) removeCgroupTreesNamed('docker');
    for (const line of mountsMentioning([dir]).values()) spawnSync('umount', ['-l', line.split(' ')[4]!]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
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
      encoding: 'utf8', timeout: 60000, env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'client') },
    });
    assert.equal(r.status, 4, `${r.stdout}\n${r.stderr}\n${daemonLog()}`);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  it('docker exec (with and without -t), top, pause, unpause, stats, update --memory', () => {
    const id = runDetached('dk-exec', ['--memory', '64m', '--pids-limit', '50', '--cpus', '0.5'], ['sleep', '1000']);
    const e = docker(['exec', 'dk-exec', 'sh', '-c', 'echo in $(hostname); exit 5']);
    assert.equal(e.status, 5, `${e.stderr}\n${daemonLog()}`);
    assert.match(e.stdout, /^in \w+/);
    const cmd = [DOCKER, '-H', `unix://${sock()}`, 'exec', '-it', 'dk-exec', 'tty'];
    const t = spawnSync('script', ['-qec', cmd.join(' '), '/dev/null'], { encoding: 'utf8', timeout: 60000, env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'client') } });
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
});
