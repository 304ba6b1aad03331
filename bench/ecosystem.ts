// The benchmark's `ecosystem` section (bench/bench.ts `--only ecosystem` or `--ecosystem`): what a
// user of Docker or Podman feels, `docker run --rm IMG true` and `podman run --rm IMG true` with
// tsrunc and with runc as the OCI runtime. See bench/README.md.
//
// One private dockerd (daemons.ts, as test/integration/docker.test.ts starts it: own data/exec
// roots, pidfile and unix socket, no bridge, no iptables, the cgroupfs driver, tsrunc added with
// --add-runtime) and one private podman (own --root/--runroot/--tmpdir, cgroupfs, file events),
// each with a busybox-static image imported. The runs are interleaved (tsrunc, runc, tsrunc, ...)
// after warm-ups; every run must exit 0. At the end, also on failure or Ctrl-C, dockerd is stopped
// by its PID and the section's processes, mounts, cgroups and dirs are removed.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CONMON, DOCKER, DOCKERD, Dockerd, PODMAN, Podman } from '../test/integration/daemons';
import { cgroupDirsNamed, cleanupSuite, suiteLeftovers, type SuiteScope } from '../test/integration/support';

export interface EcosystemInput {
  runs: number;
  warmup: number;
  /** Absolute paths of the two runtimes. */
  tsrunc: string;
  runc: string;
  /** The environment of the daemons (and so of the runtimes they start). */
  env: NodeJS.ProcessEnv;
  /** A private dir for the section (the bench's state dir: tmpfs when /dev/shm is one). */
  dir: string;
  /** Called between runs: throws when the bench was interrupted. */
  tick: () => Promise<void>;
  /** Each finished row: its samples in ms, keyed `tsrunc` and `runc`. */
  row: (operation: string, ms: Record<string, number[]>) => void;
  note: (text: string) => void;
}

const IMAGE = 'tsrunc-bench-busybox';
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

/** One timed client call; throws with its stderr unless it exited 0. */
function timed(what: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, timeout: 120_000, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) {
    throw new Error(`${what}: \`${argv.join(' ')}\` ${r.error ? `could not run: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}: ${(r.stderr ?? '').trim().slice(-1500)}`);
  }
  return ms;
}

/** warmup + runs iterations of tsrunc then runc; the measured samples. */
async function interleave(i: EcosystemInput, what: string, argv: (side: 'tsrunc' | 'runc') => string[], env: NodeJS.ProcessEnv): Promise<Record<string, number[]>> {
  const ms: Record<string, number[]> = { tsrunc: [], runc: [] };
  for (let n = 0; n < i.warmup + i.runs; n++) {
    for (const side of ['tsrunc', 'runc'] as const) {
      await i.tick();
      const t = timed(`${what} with ${side}`, argv(side), env);
      if (n >= i.warmup) ms[side]!.push(t);
    }
  }
  return ms;
}

/**
 * Run `body` with `lastResort` also registered for process exit: the bench exits at once (no
 * finally) on a second signal, and a Ctrl-C reaches it twice, from the terminal and forwarded by
 * tsrunc-reaper. `lastResort` must be synchronous. `finish` runs after `body` in any case.
 */
async function withExitCleanup(lastResort: () => void, body: () => Promise<void>, finish: () => Promise<void>): Promise<void> {
  process.on('exit', lastResort);
  try {
    await body();
  } finally {
    try {
      await finish();
    } finally {
      process.off('exit', lastResort);
    }
  }
}

/** Leftovers of a stopped daemon's scope as a note (the cleanup removes them anyway). */
function noteLeftovers(i: EcosystemInput, who: string, s: SuiteScope): void {
  const left = suiteLeftovers(s);
  if (left.length) i.note(`${who} left (removed): ${left.join('; ')}`);
}

async function dockerRows(i: EcosystemInput): Promise<void> {
  for (const f of [DOCKERD, DOCKER]) if (!fs.existsSync(f)) throw new Error(`ecosystem: ${f} is not installed (npm run setup installs docker.io)`);
  const dir = path.join(i.dir, 'docker');
  fs.mkdirSync(dir);
  const parent = `tsrunc-bench-dk-${process.pid}`;
  const hadDockerCgroup = cgroupDirsNamed('docker').length > 0;
  const dk = new Dockerd(dir, { runtimes: { tsrunc: i.tsrunc }, cgroupParent: parent, namespace: `tsrunc-bench-${process.pid}`, env: i.env });
  const scope: SuiteScope = { dir, roots: [dk.runtimeRoot()], cgroupParents: [parent] };
  const extraCgroups = hadDockerCgroup ? [] : ['docker'];
  const measure = async (): Promise<void> => {
    dk.start();
    dk.importBusybox(IMAGE);
    // dockerd's own `runc` is the runc in its PATH: say which, as the row compares with it.
    const which = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8', env: i.env }).stdout.trim();
    i.note(`docker: dockerd ${dk.docker(['version', '-f', '{{.Server.Version}}']).stdout.trim()}; --runtime tsrunc = ${i.tsrunc} ` +
      `(--add-runtime), --runtime runc = dockerd's built-in runc (${which ? fs.realpathSync(which) : 'not in PATH'}); both runtimes' --root ${dk.runtimeRoot()}`);
    // tsrunc must really be the one that runs the tsrunc side: a detached container is in its list.
    const id = dk.docker(['run', '-d', '--network', 'none', '--runtime', 'tsrunc', IMAGE, 'sleep', '60']);
    if (id.status !== 0) throw new Error(`docker run -d --runtime tsrunc: ${id.stderr}\n--- dockerd.log\n${dk.log()}`);
    const listed = spawnSync(i.tsrunc, ['--root', dk.runtimeRoot(), 'list', '-q'], { encoding: 'utf8', env: i.env }).stdout;
    dk.docker(['rm', '-f', id.stdout.trim()]);
    if (!listed.includes(id.stdout.trim())) throw new Error(`docker --runtime tsrunc: container ${id.stdout.trim()} is not in \`tsrunc --root ${dk.runtimeRoot()} list\``);
    const ms = await interleave(i, 'docker run', (side) =>
      [DOCKER, '-H', `unix://${dk.sock}`, 'run', '--rm', '--network', 'none', '--runtime', side, IMAGE, 'true'], dk.env());
    i.row('docker run --rm IMG true', ms);
  };
  const finish = async (): Promise<void> => {
    const how = await dk.stop();
    if (!/^exited|^not started/.test(how)) i.note(`dockerd ${how}`);
    noteLeftovers(i, 'dockerd', scope);
    cleanupSuite(scope, extraCgroups);
  };
  await withExitCleanup(() => { dk.stopNow(); cleanupSuite(scope, extraCgroups); }, measure, finish);
}

async function podmanRows(i: EcosystemInput): Promise<void> {
  for (const f of [PODMAN, CONMON]) if (!fs.existsSync(f)) throw new Error(`ecosystem: ${f} is not installed (npm run setup installs podman)`);
  const dir = path.join(i.dir, 'podman');
  fs.mkdirSync(dir);
  const parent = `tsrunc-bench-pm-${process.pid}`;
  const hadLibpodCgroup = cgroupDirsNamed('libpod_parent').length > 0;
  const pm = new Podman(dir, i.env);
  // conmon passes no --root: each runtime keeps its state in its default dir (/run/tsrunc, /run/runc).
  const scope: SuiteScope = { dir, roots: [], sharedRoots: ['/run/tsrunc', '/run/runc'], cgroupParents: [parent], daemonCgroups: ['conmon'] };
  const extraCgroups = hadLibpodCgroup ? [] : ['libpod_parent'];
  const removeAll = () => pm.podman(i.tsrunc, ['rm', '-af', '-t', '0']);
  const measure = async (): Promise<void> => {
    pm.importBusybox(i.tsrunc, IMAGE);
    i.note(`podman: ${pm.podman(i.tsrunc, ['version', '-f', '{{.Client.Version}}']).stdout.trim()}, conmon; --runtime ${i.tsrunc} vs --runtime ${i.runc}; ` +
      `--cgroup-parent /${parent}, ${ULIMITS.join(' ')}`);
    const id = pm.podman(i.tsrunc, ['run', '-d', '--network', 'none', '--cgroup-parent', `/${parent}`, ...ULIMITS, IMAGE, 'sleep', '60']);
    if (id.status !== 0) throw new Error(`podman --runtime ${i.tsrunc} run -d: ${id.stderr}`);
    const rt = pm.podman(i.tsrunc, ['inspect', '-f', '{{.OCIRuntime}}', id.stdout.trim()]).stdout.trim();
    pm.podman(i.tsrunc, ['rm', '-f', '-t', '0', id.stdout.trim()]);
    if (rt !== i.tsrunc) throw new Error(`podman --runtime ${i.tsrunc}: the container's OCI runtime is ${JSON.stringify(rt)}`);
    const ms = await interleave(i, 'podman run', (side) =>
      [PODMAN, ...pm.globals(side === 'tsrunc' ? i.tsrunc : i.runc), 'run', '--rm', '--network', 'none', '--cgroup-parent', `/${parent}`, ...ULIMITS, IMAGE, 'true'], i.env);
    i.row('podman run --rm IMG true', ms);
  };
  const finish = async (): Promise<void> => {
    removeAll();
    noteLeftovers(i, 'podman', scope);
    cleanupSuite(scope, extraCgroups);
  };
  await withExitCleanup(() => { removeAll(); cleanupSuite(scope, extraCgroups); }, measure, finish);
}

/** The docker rows, then the podman rows. A daemon that cannot start throws (the bench exits 1). */
export async function benchEcosystem(i: EcosystemInput): Promise<void> {
  if (process.geteuid?.() !== 0) throw new Error('ecosystem: dockerd and podman need root');
  await dockerRows(i);
  await podmanRows(i);
}
