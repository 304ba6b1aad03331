// Ecosystem: Podman 4.3 (Debian) with conmon drives tsrunc as its OCI runtime
// (`podman --runtime /abs/bin/tsrunc`). Private --root, --runroot and --tmpdir under a temp dir,
// the cgroupfs manager (no systemd here), the file events backend, `--network none`. conmon passes
// neither --root nor --log to the runtime, so tsrunc keeps its state in its default /run/tsrunc:
// what is left there is checked by the container ids podman chose.
//
// The capability bounding set of the project's machines lacks CAP_SYS_RESOURCE, so podman's
// default rlimits (nofile 1048576) cannot be set by any runtime, runc included: the containers
// run with lower ones.
//
// podman has no daemon: the last case removes every container and checks that nothing of the
// suite is left (support.ts suiteLeftovers): no conmon, no container process, no state entry of
// ours in /run/tsrunc, no container cgroup, no mount.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import { CONMON, PODMAN, Podman } from './daemons';
import { TSRUNC, cgroupDirsNamed, cleanupSuite, pollUntil, suiteLeftovers, tmpDir, type SuiteScope } from './support';

const PARENT = 'tsrunc-podman-test';
const IMAGE = 'localhost/tsrunc-busybox';
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let dir = '';
const hadLibpodCgroup = cgroupDirsNamed('libpod_parent').length > 0;
const made: string[] = [];

let pm: Podman | undefined;
const podman = (args: string[], timeout = 60000): SpawnSyncReturns<string> => pm!.podman(TSRUNC, args, timeout);

/**
 * What the suite owns. conmon runs in <parent>/conmon (podman's doing, as with runc); tsrunc's
 * state is in the shared /run/tsrunc, where the suite's entries are those whose bundle is in `dir`.
 */
function scope(): SuiteScope {
  return { dir, roots: [], sharedRoots: ['/run/tsrunc'], cgroupParents: [PARENT], daemonCgroups: ['conmon'] };
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what}: rc ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function run(extra: string[], cmd: string[]): SpawnSyncReturns<string> {
  return podman(['run', '--network', 'none', '--cgroup-parent', `/${PARENT}`, ...ULIMITS, ...extra, IMAGE, ...cmd]);
}

function tsruncIds(): string[] {
  const r = spawnSync(TSRUNC, ['list', '-q'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('Podman (podman --runtime tsrunc)', { skip }, () => {
  before(() => {
    assert.ok(fs.existsSync(PODMAN) && fs.existsSync(CONMON), 'podman is not installed (npm run setup installs it)');
    dir = tmpDir('tsrunc-pm');
    pm = new Podman(dir);
    pm.importBusybox(TSRUNC, IMAGE);
  });

  after(() => {
    // Best effort, for when a case failed before the last one.
    if (dir) {
      podman(['rm', '-af', '-t', '0']);
      // conmon puts itself in <cgroup parent>/conmon and, for some calls, libpod_parent/conmon.
      cleanupSuite(scope(), hadLibpodCgroup ? [] : ['libpod_parent']);
    }
  });

  it('podman run: output, exit code, seccomp on', () => {
    const r = run(['--rm'], ['sh', '-c', 'echo hello from podman; grep Seccomp: /proc/self/status; exit 3']);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /hello from podman/);
    assert.match(r.stdout, /Seccomp:\s+2/);
  });

  it('podman run -t: a tty (conmon\'s console socket)', () => {
    const cmd = [PODMAN, ...pm!.globals(TSRUNC), 'run', '--rm', '-t', '--network', 'none', ...ULIMITS, IMAGE, 'sh', '-c', '"tty; exit 4"'];
    const r = spawnSync('script', ['-qec', cmd.join(' '), '/dev/null'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 4, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  it('podman exec, stop, rm; nothing left in /run/tsrunc or the cgroups', () => {
    const id = ok(run(['-d', '--name', 'pm-exec'], ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']), 'podman run -d').trim();
    made.push(id);
    assert.ok(tsruncIds().includes(id), `tsrunc list lacks ${id}`);
    const e = podman(['exec', 'pm-exec', 'sh', '-c', 'echo exec ok; exit 6']);
    assert.equal(e.status, 6, e.stderr);
    assert.match(e.stdout, /exec ok/);
    // podman exec -t: conmon's `exec --detach --console-socket S` (issue 8), podman on a pty.
    const cmd = [PODMAN, ...pm!.globals(TSRUNC), 'exec', '-t', 'pm-exec', 'sh', '-c', '"tty; exit 7"'];
    const tt = spawnSync('script', ['-qec', cmd.join(' '), '/dev/null'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(tt.status, 7, `${tt.stdout}\n${tt.stderr}`);
    assert.match(tt.stdout, /\/dev\/pts\/\d+/);
    ok(podman(['stop', '-t', '20', 'pm-exec']), 'podman stop');
    assert.equal(ok(podman(['inspect', '-f', '{{.State.ExitCode}}', 'pm-exec']), 'podman inspect').trim(), '0');
    ok(podman(['rm', 'pm-exec']), 'podman rm');
    assert.ok(pollUntil(() => !tsruncIds().includes(id), 5000), `tsrunc still lists ${id}`);
    assert.deepEqual(cgroupDirsNamed(`libpod-${id}`).concat(cgroupDirsNamed(id)), []);
  });

  it('after podman rm -a: no conmon, state dirs, container cgroups, mounts or processes left', () => {
    ok(podman(['rm', '-af', '-t', '0']), 'podman rm -af');
    // conmon and its `podman container cleanup` exit once the containers are gone: give them a moment.
    let left = suiteLeftovers(scope());
    pollUntil(() => (left = suiteLeftovers(scope())).length === 0, 5000);
    assert.deepEqual(left, []);
  });
});
