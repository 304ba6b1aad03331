// checkpoint and restore: not supported, but known commands (issue 11 point 4). `-h`/`--help`
// answer with usage that says so (rc 0, as runc's help), a run fails with a clear E_UNSUPPORTED
// error (rc 1) and never reaches the lifecycle library, and runc's options are accepted so that a
// caller's full command line (containerd's `checkpoint --image-path ... --work-path ...`) gets
// that error rather than a flag error. Through main() with injected I/O, plus the built binary.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIo, LifecycleApi } from '../../src/cli/context';

const T = new Date(Date.UTC(2026, 11, 2, 5, 0, 0));
const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'tsrunc');

interface Result { rc: number; out: string; err: string; lifecycleUsed: boolean }

async function run(argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  let lifecycleUsed = false;
  const io: CliIo = {
    stdout: (s) => { out += s; },
    stderr: { write: (s) => { err += s; }, isTTY: false },
    cwd: () => '/work/dir',
    lifecycle: () => { lifecycleUsed = true; return {} as LifecycleApi; },
    systemdRunning: () => false,
    cgroup2Unified: () => false,
    euid: () => 0,
    egid: () => 0,
    now: () => T,
  };
  const rc = await main(argv, io);
  return { rc, out, err, lifecycleUsed };
}

/** The msg of the single logrus error line on stderr. */
function errMsg(err: string): string {
  const m = /^time="[^"]+" level=error msg=(.*)\n$/.exec(err);
  assert.ok(m, `stderr is not one logrus error line: ${JSON.stringify(err)}`);
  return m[1].startsWith('"') ? JSON.parse(m[1]) as string : m[1];
}

for (const cmd of ['checkpoint', 'restore']) {
  test(`${cmd} -h / --help / help ${cmd}: usage saying it is not supported, rc 0, nothing on stderr`, async () => {
    for (const argv of [[cmd, '-h'], [cmd, '--help'], [cmd, '-help'], ['help', cmd], [cmd, '--help', 'c1']]) {
      const r = await run(argv);
      assert.equal(r.rc, 0, `${argv.join(' ')}: ${r.err}`);
      assert.equal(r.err, '', argv.join(' '));
      assert.ok(r.out.startsWith(`NAME:\n   tsrunc ${cmd} - `), r.out);
      assert.match(r.out, new RegExp(`USAGE:\\n {3}tsrunc ${cmd} \\[command options\\] <container-id>\\n`));
      assert.match(r.out, /not supported by this version of tsrunc/);
      assert.match(r.out, /\n {3}--image-path value +path /);
      assert.doesNotMatch(r.out, /No help topic/);
      assert.equal(r.lifecycleUsed, false);
    }
  });

  test(`${cmd} <id>: \`${cmd} is not supported by this version of tsrunc\`, rc 1, nothing on stdout`, async () => {
    const r = await run([cmd, 'c1']);
    assert.equal(r.rc, 1);
    assert.equal(r.out, '');
    assert.equal(errMsg(r.err), `${cmd} is not supported by this version of tsrunc`);
    assert.equal(r.lifecycleUsed, false);
  });

  test(`${cmd}: without an id it is a usage error (rc 1) as for runc's other commands`, async () => {
    const r = await run([cmd]);
    assert.equal(r.rc, 1);
    assert.ok(r.out.startsWith(`Incorrect Usage.\n\nNAME:\n   tsrunc ${cmd} - `), r.out);
    assert.equal(errMsg(r.err), `tsrunc: "${cmd}" requires exactly 1 argument(s)`);
  });
}

test('checkpoint and restore accept runc 1.1.5\'s options and still fail with the clear error', async () => {
  const lines: Array<[string, string[]]> = [
    ['checkpoint', ['--image-path', '/tmp/img', '--work-path', '/tmp/work', '--leave-running', '--tcp-established',
      '--ext-unix-sk', '--shell-job', '--file-locks', '--pre-dump', '--parent-path', '../prev', '--lazy-pages',
      '--status-fd', '5', '--page-server', '127.0.0.1:9', '--manage-cgroups-mode', 'soft', '--empty-ns', 'network',
      '--auto-dedup', 'c1']],
    ['restore', ['--image-path', '/tmp/img', '--work-path', '/tmp/work', '--bundle', '/b', '-d', '--pid-file', '/p',
      '--console-socket', '/s', '--no-subreaper', '--no-pivot', '--tcp-established', '--ext-unix-sk', '--shell-job',
      '--file-locks', '--manage-cgroups-mode=full', '--empty-ns', 'network', '--auto-dedup', '--lazy-pages',
      '--lsm-profile', 'apparmor:x', '--lsm-mount-context', 'ctx', 'c1']],
  ];
  for (const [cmd, args] of lines) {
    const r = await run([cmd, ...args]);
    assert.equal(r.rc, 1, r.err);
    assert.equal(r.out, '');
    assert.equal(errMsg(r.err), `${cmd} is not supported by this version of tsrunc`);
  }
  // an option runc does not have is still a flag error
  const bad = await run(['checkpoint', '--bogus', 'c1']);
  assert.equal(bad.rc, 1);
  assert.equal(errMsg(bad.err), 'flag provided but not defined: -bogus');
});

test('the app help lists checkpoint and restore as not supported', async () => {
  const r = await run(['help']);
  assert.equal(r.rc, 0);
  assert.match(r.out, /\n {3}checkpoint +checkpoint a running container \(not supported by this version of tsrunc\)\n/);
  assert.match(r.out, /\n {3}restore +restore a container from a previous checkpoint \(not supported by this version of tsrunc\)\n/);
});

test('bin/tsrunc checkpoint -h: rc 0; checkpoint <id>: rc 1 with the error (not `No help topic`, rc 3)', () => {
  const h = spawnSync(BIN, ['checkpoint', '-h'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /not supported by this version of tsrunc/);
  assert.equal(h.stderr, '');
  const r = spawnSync(BIN, ['--root', '/nonexistent-tsrunc-root', 'restore', 'c1'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /level=error msg="restore is not supported by this version of tsrunc"\n$/);
});
