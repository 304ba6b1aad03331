// Private high-level runtimes for the ecosystem tests (docker.test.ts, podman.test.ts) and the
// benchmark's ecosystem section (bench/ecosystem.ts): a dockerd with its own --data-root,
// --exec-root, --pidfile, config file and unix socket under a temp dir, and a podman with its own
// --root/--runroot/--tmpdir. Nothing here touches the machine's own Docker or Podman state.
//
// Images are a busybox-static rootfs (conformance/lib/rootfs.ts buildRootfs), imported: there is
// no registry. Errors name the daemon and carry the end of its log; a daemon that does not come
// up throws, so a caller never goes on silently without it.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { isAlive, pollUntil, stopDaemon } from './support';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker'; // Debian's client, the daemon's own version
export const PODMAN = '/usr/bin/podman';
export const CONMON = '/usr/bin/conmon';

/** A busybox-static rootfs under `dir`, as a tar stream (what `docker/podman import -` take). */
export function rootfsTar(dir: string): Buffer {
  const rootfs = path.join(dir, 'rootfs');
  if (!fs.existsSync(rootfs)) buildRootfs(rootfs);
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 28 });
  if (tar.status !== 0) throw new Error(`tar of ${rootfs}: ${tar.stderr?.toString() ?? tar.error?.message}`);
  return tar.stdout;
}

export interface DockerdOptions {
  /** `--add-runtime NAME=PATH` for each entry (absolute paths). */
  runtimes: Record<string, string>;
  /** `--cgroup-parent`: the containers' cgroups are <parent>/<id> (cgroupfs driver). */
  cgroupParent: string;
  /** containerd namespaces of this dockerd (apart from the machine's `moby`). */
  namespace: string;
  /** dockerd's environment, which its containerd, the shims and the runtimes inherit (default ours). */
  env?: NodeJS.ProcessEnv;
}

/**
 * dockerd under `dir`: no bridge, no iptables, the cgroupfs driver. It starts its own containerd
 * under the exec root. Stopped by its PID (stop()).
 */
export class Dockerd {
  readonly sock: string;
  readonly execRoot: string;
  child: ChildProcess | undefined;

  constructor(readonly dir: string, readonly o: DockerdOptions) {
    this.sock = path.join(dir, 'docker.sock');
    this.execRoot = path.join(dir, 'exec');
  }

  /**
   * The --root the runtimes get (through containerd's runc shim), the same for every runtime:
   * Docker 20.10 gives each added runtime the shim option Root = <exec-root>/runtime-runc (named
   * after the default runtime, not the added one) and the shim appends the containerd namespace.
   */
  runtimeRoot(): string {
    return path.join(this.execRoot, 'runtime-runc', this.o.namespace);
  }

  /** Start dockerd and wait (≤ ms) until `docker version` answers; throws with its log otherwise. */
  start(ms = 60000): void {
    fs.mkdirSync(path.join(this.dir, 'client'), { recursive: true });
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
    const log = fs.openSync(path.join(this.dir, 'dockerd.log'), 'w');
    try {
      this.child = spawn(DOCKERD, [
        '--config-file', path.join(this.dir, 'daemon.json'),
        '--data-root', path.join(this.dir, 'data'), '--exec-root', this.execRoot,
        '--pidfile', path.join(this.dir, 'docker.pid'), '-H', `unix://${this.sock}`,
        '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false',
        '--exec-opt', 'native.cgroupdriver=cgroupfs', '--cgroup-parent', this.o.cgroupParent,
        '--containerd-namespace', this.o.namespace, '--containerd-plugins-namespace', `${this.o.namespace}-plugins`,
        ...Object.entries(this.o.runtimes).flatMap(([n, p]) => ['--add-runtime', `${n}=${p}`]),
      // Its own process group: a Ctrl-C meant for the caller must not stop it under the caller's
      // feet (the caller stops it by its PID).
      ], { stdio: ['ignore', log, log], env: this.o.env ?? process.env, detached: true });
    } finally {
      fs.closeSync(log);
    }
    // Polled synchronously: the child's exit event cannot arrive meanwhile, /proc tells.
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`dockerd: could not run ${DOCKERD}`);
    const up = pollUntil(() => !isAlive(pid) || (fs.existsSync(this.sock) && this.docker(['version'], 10000).status === 0), ms);
    if (!isAlive(pid)) throw new Error(`dockerd exited while starting:\n${this.log()}`);
    if (!up) throw new Error(`dockerd did not answer on ${this.sock} within ${ms} ms:\n${this.log()}`);
  }

  /** `docker -H unix://SOCK ARGS...` with a private client config. */
  docker(args: string[], timeout = 60000, input?: string | Buffer): SpawnSyncReturns<string> {
    return spawnSync(DOCKER, ['-H', `unix://${this.sock}`, ...args], {
      encoding: 'utf8', timeout, input, maxBuffer: 1 << 26,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: this.env(),
    });
  }

  /** The client's environment (for callers that run `docker` themselves, e.g. on a pty). */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_CONFIG: path.join(this.dir, 'client') };
  }

  /** The end of dockerd's log. */
  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  /** `docker import` of a busybox-static rootfs as `image`. */
  importBusybox(image: string): void {
    const r = this.docker(['import', '-', image], 120000, rootfsTar(this.dir));
    if (r.status !== 0) throw new Error(`docker import ${image}: rc ${r.status} ${r.error?.message ?? ''}\n${r.stderr}\n--- dockerd.log\n${this.log()}`);
  }

  /**
   * Synchronous stop for an `exit` handler (no event loop left): SIGTERM to dockerd's PID, wait
   * (≤ ms) until it is gone, then SIGKILL. dockerd stops its containers as it shuts down.
   */
  stopNow(ms = 20000): void {
    const pid = this.child?.pid;
    if (pid === undefined || !isAlive(pid)) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    if (!pollUntil(() => !isAlive(pid), ms)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }

  /** Remove every container (best effort), then stop dockerd by its PID and wait for it to exit. */
  async stop(ms = 20000): Promise<string> {
    if (!this.child) return 'not started';
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const ids = this.docker(['ps', '-aq'], 30000).stdout?.split('\n').filter(Boolean) ?? [];
      if (ids.length) this.docker(['rm', '-f', ...ids], 60000);
    }
    return stopDaemon(this.child, ms);
  }
}

/**
 * podman with private --root, --runroot and --tmpdir under `dir`, the cgroupfs manager (no systemd
 * here) and the file events backend. No daemon: each container has its conmon.
 */
export class Podman {
  /** `env`: podman's environment, which conmon and the runtime inherit (default ours). */
  constructor(readonly dir: string, readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The global flags, with `--runtime RUNTIME` (absolute path). */
  globals(runtime: string): string[] {
    return [
      '--root', path.join(this.dir, 'root'), '--runroot', path.join(this.dir, 'run'), '--tmpdir', path.join(this.dir, 'tmp'),
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', runtime,
    ];
  }

  /** `podman GLOBALS ARGS...` */
  podman(runtime: string, args: string[], timeout = 60000, input?: Buffer): SpawnSyncReturns<string> {
    return spawnSync(PODMAN, [...this.globals(runtime), ...args], {
      encoding: 'utf8', timeout, input, maxBuffer: 1 << 26, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: this.env,
    });
  }

  /** `podman import` of a busybox-static rootfs as `image`. */
  importBusybox(runtime: string, image: string): void {
    const r = this.podman(runtime, ['import', '-', image], 120000, rootfsTar(this.dir));
    if (r.status !== 0) throw new Error(`podman import ${image}: rc ${r.status} ${r.error?.message ?? ''}\n${r.stderr}`);
  }
}
