// argv → lifecycle call mapping and exit codes, through main() with injected I/O and a recording
// fake of the lifecycle library.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIo, LifecycleApi } from '../../src/cli/context';
import { TsruncError } from '../../src/errors';
import type { GlobalOptions, OciState } from '../../src/lifecycle/api';
import { formatState } from '../../src/cli/format';

const T = new Date(Date.UTC(2026, 10, 23, 15, 43, 43));

const C1: OciState = {
  ociVersion: '1.3.0', id: 'c1', pid: 42, status: 'running', bundle: '/b', rootfs: '/b/rootfs',
  created: '2026-11-23T15:21:55.180284652Z', owner: '',
};

interface Call { fn: string; g: GlobalOptions; args: unknown[] }

class Harness {
  calls: Call[] = [];
  out = '';
  err = '';
  systemd = false;
  states: Record<string, OciState> = { c1: C1 };
  runResult = 0;
  throwOn: Partial<Record<string, unknown>> = {};
  cwd = '/work/dir';

  private rec(fn: string, g: GlobalOptions, ...args: unknown[]): void {
    this.calls.push({ fn, g, args });
    if (fn in this.throwOn) throw this.throwOn[fn];
  }

  lifecycle(): LifecycleApi {
    const h = this;
    const notExist = () => new TsruncError('E_NOT_EXIST', 'container does not exist');
    return {
      create(g, o) { h.rec('create', g, o); },
      start(g, id) { h.rec('start', g, id); },
      state(g, id) {
        h.rec('state', g, id);
        const s = h.states[id];
        if (!s) throw notExist();
        return s;
      },
      list(g) { h.rec('list', g); return Object.values(h.states).map((s) => ({ ...s, owner: 'root' })); },
      kill(g, o) { h.rec('kill', g, o); },
      del(g, o) { h.rec('del', g, o); },
      run(g, o) { h.rec('run', g, o); return Promise.resolve(h.runResult); },
      explain(g, o, json) { h.rec('explain', g, o, json); return json ? '{"plan":[]}' : 'plan text'; },
      pause(g, id) { h.rec('pause', g, id); },
      resume(g, id) { h.rec('resume', g, id); },
      ps(g, o) { h.rec('ps', g, o); return o.format === 'json' ? '[1,2]\n' : 'PID\n'; },
      eventsStats(g, o) { h.rec('eventsStats', g, o); return '{"type":"stats"}\n'; },
      events(g, o, emit) { h.rec('events', g, o); emit('{"type":"oom","id":"c1"}\n'); return Promise.resolve(); },
      update(g, o) { h.rec('update', g, o); },
      exec(g, o) { h.rec('exec', g, o); return Promise.resolve(h.runResult); },
    };
  }

  io(): CliIo {
    return {
      stdout: (s) => { this.out += s; },
      stderr: { write: (s) => { this.err += s; }, isTTY: false },
      cwd: () => this.cwd,
      lifecycle: () => this.lifecycle(),
      systemdRunning: () => this.systemd,
      cgroup2Unified: () => false,
      euid: () => 0,
      egid: () => 0,
      now: () => T,
    };
  }

  run(argv: string[]): Promise<number> {
    return main(argv, this.io());
  }

  only(fn: string): Call {
    const c = this.calls.filter((x) => x.fn !== 'state' || fn === 'state');
    assert.equal(c.length, 1, `calls: ${JSON.stringify(this.calls.map((x) => x.fn))}`);
    assert.equal(c[0].fn, fn);
    return c[0];
  }
}

function assertErr(h: Harness, msg: string): void {
  const m = /^time="[^"]+" level=error msg=(.*)\n$/.exec(h.err);
  assert.ok(m, `stderr is not one logrus error line: ${JSON.stringify(h.err)}`);
  const got = m[1].startsWith('"') ? JSON.parse(m[1]) as string : m[1];
  assert.equal(got, msg);
}

test('state: prints runc-shaped JSON, nothing on stderr, rc 0; default root', async () => {
  const h = new Harness();
  assert.equal(await h.run(['state', 'c1']), 0);
  const c = h.only('state');
  assert.deepEqual(c.args, ['c1']);
  assert.equal(c.g.root, '/run/tsrunc');
  assert.equal(c.g.debug, false);
  assert.equal(c.g.systemdCgroup, false);
  assert.equal(c.g.rootless, 'auto');
  assert.equal(h.out, formatState(C1));
  assert.equal(h.err, '');
});

test('state of an unknown id: rc 1, runc\'s text line on stderr, nothing on stdout', async () => {
  const h = new Harness();
  assert.equal(await h.run(['state', 'nope']), 1);
  assertErr(h, 'container does not exist');
  assert.equal(h.out, '');
});

test('go-runc global order with --log/--log-format json: error in the file, plain line on stderr', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cli-'));
  try {
    const log = path.join(dir, 'log.json');
    const h = new Harness();
    assert.equal(await h.run(['--root', '/R', '--log', log, '--log-format', 'json', 'state', 'nope']), 1);
    assert.equal(h.calls[0].g.root, '/R');
    assert.equal(h.err, 'container does not exist\n');
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0]) as { level: string; msg: string; time: string };
    assert.equal(o.level, 'error');
    assert.equal(o.msg, 'container does not exist');
    assert.equal(new Date(o.time).getTime(), T.getTime());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-format json without --log: JSON line on stderr', async () => {
  const h = new Harness();
  assert.equal(await h.run(['--log-format=json', 'state', 'nope']), 1);
  assert.equal((JSON.parse(h.err) as { msg: string }).msg, 'container does not exist');
});

test('relative --root is resolved against the cwd', async () => {
  const h = new Harness();
  await h.run(['--root', 'rel/root', 'state', 'c1']);
  assert.equal(h.calls[0].g.root, '/work/dir/rel/root');
});

test('create: every flag mapped (go-runc argv)', async () => {
  const h = new Harness();
  const rc = await h.run(['--root', '/R', '--log', '/dev/null', '--log-format', 'json', 'create', '--bundle', '/b',
    '--pid-file', '/b/init.pid', '--console-socket', '/tmp/pty/pty.sock', '--no-pivot', '--no-new-keyring', '--preserve-fds', '1', 'c9']);
  assert.equal(rc, 0);
  const c = h.only('create');
  assert.deepEqual(c.args, [{
    id: 'c9', bundle: '/b', pidFile: '/b/init.pid', consoleSocket: '/tmp/pty/pty.sock', noPivot: true, noNewKeyring: true, preserveFds: 1,
  }]);
  assert.equal(c.g.root, '/R');
  assert.equal(h.out, '');
  assert.equal(h.err, '');
});

test('create: defaults (bundle = cwd, optional paths absent, empty values count as absent)', async () => {
  const h = new Harness();
  assert.equal(await h.run(['create', '--pid-file=', 'c9']), 0);
  assert.deepEqual(h.only('create').args, [{ id: 'c9', bundle: '/work/dir', noPivot: false, noNewKeyring: false, preserveFds: 0 }]);
});

test('create: errors are prefixed `tsrunc create failed:` and keep the exit code', async () => {
  const h = new Harness();
  h.throwOn.create = new TsruncError('E_CONFIG_MISSING', 'JSON specification file config.json not found');
  assert.equal(await h.run(['create', 'c9']), 1);
  assertErr(h, 'tsrunc create failed: JSON specification file config.json not found');
  const h2 = new Harness();
  h2.throwOn.create = new TsruncError('E_SETUP', 'x', { exitCode: 7, cause: new Error('inner') });
  assert.equal(await h2.run(['create', 'c9']), 7);
  assertErr(h2, 'tsrunc create failed: x'); // a TsruncError's message is complete; its cause is not repeated
});

test('--systemd-cgroup without systemd: create and run fail with runc\'s text before calling lifecycle', async () => {
  for (const cmd of ['create', 'run']) {
    const h = new Harness();
    assert.equal(await h.run(['--root', '/R', '--log-format', 'text', '--systemd-cgroup', cmd, 'c9']), 1);
    assert.equal(h.calls.length, 0);
    assertErr(h, `tsrunc ${cmd} failed: systemd not running on this host, cannot use systemd cgroups manager`);
  }
  const h = new Harness();
  h.systemd = true;
  assert.equal(await h.run(['--systemd-cgroup', 'create', 'c9']), 0);
  assert.equal(h.only('create').g.systemdCgroup, true);
  // Other commands ignore it, as runc's do.
  const h2 = new Harness();
  assert.equal(await h2.run(['--systemd-cgroup', 'delete', '--force', 'c1']), 0);
  assert.equal(h2.only('del').g.systemdCgroup, true);
});

test('--rootless: true/false/auto passed on; a bad value fails create only', async () => {
  const h = new Harness();
  await h.run(['--rootless=true', 'create', 'c9']);
  assert.equal(h.only('create').g.rootless, 'true');
  const h2 = new Harness();
  await h2.run(['--rootless', 'FALSE', 'state', 'c1']);
  assert.equal(h2.only('state').g.rootless, 'false');
  const h3 = new Harness();
  assert.equal(await h3.run(['--rootless=xyz', 'state', 'c1']), 0);
  assert.equal(h3.only('state').g.rootless, 'auto');
  const h4 = new Harness();
  assert.equal(await h4.run(['--rootless=xyz', 'create', 'c9']), 1);
  assert.equal(h4.calls.length, 0);
  assert.match(h4.err, /tsrunc create failed: invalid --rootless value/);
});

test('run: the container\'s status is the exit code; flags mapped', async () => {
  const h = new Harness();
  h.runResult = 137;
  assert.equal(await h.run(['run', '-d', '--keep', '--no-subreaper', '-b', 'rel', 'c9']), 137);
  assert.deepEqual(h.only('run').args, [{
    id: 'c9', bundle: 'rel', noPivot: false, noNewKeyring: false, preserveFds: 0, detach: true, keep: true,
  }]);
  const h2 = new Harness();
  h2.throwOn.run = new TsruncError('E_NOT_EXIST', 'boom');
  assert.equal(await h2.run(['run', 'c9']), 1);
  assertErr(h2, 'tsrunc run failed: boom');
});

test('start and delete', async () => {
  const h = new Harness();
  assert.equal(await h.run(['start', 'c1']), 0);
  assert.deepEqual(h.only('start').args, ['c1']);
  const h2 = new Harness();
  assert.equal(await h2.run(['delete', 'c1']), 0);
  assert.deepEqual(h2.only('del').args, [{ id: 'c1', force: false }]);
  const h3 = new Harness();
  assert.equal(await h3.run(['delete', '--force', 'c1']), 0);
  assert.deepEqual(h3.only('del').args, [{ id: 'c1', force: true }]);
  const h4 = new Harness();
  assert.equal(await h4.run(['delete', 'c1', '-f']), 0);
  assert.deepEqual(h4.only('del').args, [{ id: 'c1', force: true }]);
  const h5 = new Harness();
  h5.throwOn.start = new TsruncError('E_STATUS', 'cannot start an already running container');
  assert.equal(await h5.run(['start', 'c1']), 1);
  assertErr(h5, 'cannot start an already running container');
});

test('kill: default SIGTERM, numbers as containerd sends them, names, --all', async () => {
  const cases: [string[], number, boolean][] = [
    [['kill', 'c1'], 15, false],
    [['kill', 'c1', '15'], 15, false],
    [['kill', '--all', 'c1', '9'], 9, true],
    [['kill', 'c1', 'KILL'], 9, false],
    [['kill', 'c1', 'sigusr1', '-a'], 10, true],
    [['kill', 'c1', '--all', '9'], 9, true],
  ];
  for (const [argv, signal, all] of cases) {
    const h = new Harness();
    assert.equal(await h.run(argv), 0, argv.join(' '));
    assert.deepEqual(h.only('kill').args, [{ id: 'c1', signal, all }], argv.join(' '));
  }
});

test('kill with a bad signal: runc\'s texts in runc\'s order, kill never called', async () => {
  const cases: [string[], string, Partial<OciState>?][] = [
    [['kill', 'c1', 'FOO'], 'unknown signal "FOO"'],
    [['kill', 'nope', 'FOO'], 'container does not exist'],
    [['kill', 'c1', '99'], 'unable to signal init: invalid argument'],
    [['kill', 'nope', '99'], 'container does not exist'],
    [['kill', 'c1', '99'], 'container not running', { status: 'stopped', pid: 0 }],
    [['kill', '--all', 'c1', '99'], 'unable to signal init: invalid argument', { status: 'stopped', pid: 0 }],
    [['kill', 'c1', 'FOO'], 'unknown signal "FOO"', { status: 'stopped', pid: 0 }],
  ];
  for (const [argv, msg, patch] of cases) {
    const h = new Harness();
    if (patch) h.states.c1 = { ...C1, ...patch };
    assert.equal(await h.run(argv), 1, argv.join(' '));
    assert.equal(h.calls.filter((c) => c.fn === 'kill').length, 0);
    assertErr(h, msg);
  }
});

test('list: table, json, quiet; format checked after listing (runc order)', async () => {
  const h = new Harness();
  assert.equal(await h.run(['list']), 0);
  assert.match(h.out, /^ID {10}PID {9}STATUS {6}BUNDLE {6}CREATED {26}OWNER\nc1 {10}42 {10}running {5}\/b {10}2026-11-23T15:21:55.180284652Z {3}root\n$/);
  const h2 = new Harness();
  assert.equal(await h2.run(['list', '--format=json']), 0);
  assert.deepEqual(JSON.parse(h2.out), [{ ...C1, owner: 'root' }]);
  assert.equal(h2.out.split('\n').length, 2);
  const h3 = new Harness();
  h3.states = {};
  assert.equal(await h3.run(['list', '-f', 'json']), 0);
  assert.equal(h3.out, 'null\n');
  const h4 = new Harness();
  assert.equal(await h4.run(['list', '-q', '--format', 'xml']), 0);
  assert.equal(h4.out, 'c1\n');
  const h5 = new Harness();
  assert.equal(await h5.run(['list', '--format', 'xml']), 1);
  assert.equal(h5.calls.length, 1);
  assertErr(h5, 'invalid format option');
  assert.equal(h5.out, '');
});

test('explain: flags mapped, output printed with a newline', async () => {
  const h = new Harness();
  assert.equal(await h.run(['explain', '--format', 'json', '-b', '/b', '--no-pivot', 'c1']), 0);
  assert.deepEqual(h.only('explain').args, [{ bundle: '/b', noPivot: true, id: 'c1' }, true]);
  assert.equal(h.out, '{"plan":[]}\n');
  const h2 = new Harness();
  assert.equal(await h2.run(['explain']), 0);
  assert.deepEqual(h2.only('explain').args, [{ bundle: '/work/dir', noPivot: false }, false]);
  const h3 = new Harness();
  assert.equal(await h3.run(['explain', '--format', 'yaml']), 1);
  assert.equal(h3.calls.length, 0);
});

test('ids are checked before the lifecycle is called (runc\'s texts)', async () => {
  for (const [argv, msg] of [
    [['delete', '-f', '..'], 'invalid container ID format'],
    [['state', 'a/b'], 'invalid container ID format'],
    [['kill', '../x', '9'], 'invalid container ID format'],
    [['start', ''], 'container id cannot be empty'],
    [['create', 'x y'], 'tsrunc create failed: invalid container ID format'],
  ] as [string[], string][]) {
    const h = new Harness();
    assert.equal(await h.run(argv), 1, argv.join(' '));
    assert.equal(h.calls.length, 0, argv.join(' '));
    assertErr(h, msg);
  }
});

test('usage errors: rc 1 (args, flags), rc 3 (unknown command); usage on stdout', async () => {
  const h = new Harness();
  assert.equal(await h.run(['state']), 1);
  assertErr(h, 'tsrunc: "state" requires exactly 1 argument(s)');
  assert.ok(h.out.startsWith('Incorrect Usage.\n\n'));
  assert.match(h.out, /tsrunc state - output the state of a container/);

  const h2 = new Harness();
  assert.equal(await h2.run(['kill', 'a', 'b', 'c']), 1);
  assertErr(h2, 'tsrunc: "kill" requires a maximum of 2 argument(s)');

  const h3 = new Harness();
  assert.equal(await h3.run(['state', '--bogus', 'c1']), 1);
  assertErr(h3, 'flag provided but not defined: -bogus');
  assert.ok(h3.out.startsWith('Incorrect Usage: flag provided but not defined: -bogus\n\n'));

  const h4 = new Harness();
  assert.equal(await h4.run(['--bogus', 'state', 'c1']), 1);
  assertErr(h4, 'flag provided but not defined: -bogus');
  assert.ok(h4.out.startsWith('Incorrect Usage. flag provided but not defined: -bogus\n\n'));

  const h5 = new Harness();
  assert.equal(await h5.run(['foo', 'x']), 3);
  assertErr(h5, "No help topic for 'foo'");
  assert.equal(h5.out, '');

  const h6 = new Harness();
  assert.equal(await h6.run(['top', 'c1']), 3);
  assertErr(h6, "No help topic for 'top'");

  for (const x of [h, h2, h3, h4, h5, h6]) assert.equal(x.calls.length, 0);
});

test('--log-format other than text/json: `invalid log-format: xml`, rc 1', async () => {
  const h = new Harness();
  assert.equal(await h.run(['--log-format', 'xml', 'state', 'c1']), 1);
  assertErr(h, 'invalid log-format: xml');
  assert.equal(h.calls.length, 0);
});

test('--log into a missing directory: rc 1, runc-style open error', async () => {
  const h = new Harness();
  assert.equal(await h.run(['--log', '/nonexistent-dir-tsrunc/x', 'state', 'c1']), 1);
  assertErr(h, 'open /nonexistent-dir-tsrunc/x: no such file or directory');
  assert.equal(h.calls.length, 0);
});

test('-v / --version: three lines', async () => {
  for (const flag of ['-v', '--version']) {
    const h = new Harness();
    assert.equal(await h.run([flag]), 0);
    const lines = h.out.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^tsrunc version \d+\.\d+\.\d+/);
    assert.match(lines[1], /^commit: \S+$/);
    assert.equal(lines[2], 'spec: 1.3.0');
    assert.equal(lines[3], '');
  }
});

test('help: app, command, help topic, unknown topic', async () => {
  const h = new Harness();
  assert.equal(await h.run([]), 0);
  assert.match(h.out, /USAGE:\n {3}tsrunc \[global options\] command/);
  const h2 = new Harness();
  assert.equal(await h2.run(['help', 'kill']), 0);
  assert.match(h2.out, /tsrunc kill \[command options\] <container-id> \[signal\]/);
  assert.match(h2.out, /--all, -a/);
  const h3 = new Harness();
  assert.equal(await h3.run(['state', '-h']), 0);
  assert.match(h3.out, /tsrunc state - output the state/);
  const h4 = new Harness();
  assert.equal(await h4.run(['help', 'nope']), 3);
  assertErr(h4, "No help topic for 'nope'");
  const h5 = new Harness();
  assert.equal(await h5.run(['--help']), 0);
  assert.match(h5.out, /GLOBAL OPTIONS:/);
  for (const x of [h, h2, h3, h4, h5]) assert.equal(x.calls.length, 0);
});

test('--debug: lifecycle debug lines reach the log only with --debug', async () => {
  const h = new Harness();
  const base = h.lifecycle.bind(h);
  h.lifecycle = () => ({ ...base(), start(g: GlobalOptions) { g.log('debug', 'opening exec.fifo'); g.log('warning', 'w'); } });
  assert.equal(await h.run(['start', 'c1']), 0);
  assert.doesNotMatch(h.err, /exec.fifo/);
  assert.match(h.err, /level=warning msg=w/);
  const h2 = new Harness();
  const base2 = h2.lifecycle.bind(h2);
  h2.lifecycle = () => ({ ...base2(), start(g: GlobalOptions) { assert.equal(g.debug, true); g.log('debug', 'opening exec.fifo'); } });
  assert.equal(await h2.run(['--debug', 'start', 'c1']), 0);
  assert.match(h2.err, /level=debug msg="opening exec.fifo"/);
});

test('a non-TsruncError from the library: rc 1 with its message', async () => {
  const h = new Harness();
  h.throwOn.start = new Error('EACCES: permission denied');
  assert.equal(await h.run(['start', 'c1']), 1);
  assertErr(h, 'EACCES: permission denied');
});

test('spec: writes runc-shaped config.json into the bundle, refuses to overwrite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-spec-'));
  try {
    const h = new Harness();
    h.cwd = dir;
    assert.equal(await h.run(['spec']), 0);
    const text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    assert.ok(text.startsWith('{\n\t"ociVersion": "1.3.0",\n'));
    assert.ok(text.endsWith('\n}'));
    assert.equal((JSON.parse(text) as { hostname: string }).hostname, 'tsrunc');
    assert.equal(h.calls.length, 0);

    const h2 = new Harness();
    h2.cwd = dir;
    assert.equal(await h2.run(['spec']), 1);
    assertErr(h2, 'File config.json exists. Remove it first');
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), text);

    fs.mkdirSync(path.join(dir, 'b2'));
    const h3 = new Harness();
    h3.cwd = dir;
    assert.equal(await h3.run(['spec', '--rootless', '-b', 'b2']), 0);
    const r = JSON.parse(fs.readFileSync(path.join(dir, 'b2', 'config.json'), 'utf8')) as { linux: { uidMappings: unknown[] } };
    assert.deepEqual(r.linux.uidMappings, [{ containerID: 0, hostID: 0, size: 1 }]);

    const h4 = new Harness();
    h4.cwd = dir;
    assert.equal(await h4.run(['spec', '-b', 'missing']), 1);
    assertErr(h4, 'chdir missing: no such file or directory');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- pause, resume, ps, events (issue 7) --------------------------------------------------------

test('pause / resume: one lifecycle call with the id, nothing printed; errors as runc lines', async () => {
  for (const cmd of ['pause', 'resume']) {
    const h = new Harness();
    assert.equal(await h.run([cmd, 'c1']), 0);
    assert.deepEqual(h.only(cmd).args, ['c1']);
    assert.equal(h.out + h.err, '');
    const h2 = new Harness();
    h2.throwOn[cmd] = new TsruncError('E_STATUS', cmd === 'pause' ? 'container not running' : 'container not paused');
    assert.equal(await h2.run([cmd, 'c1']), 1);
    assertErr(h2, cmd === 'pause' ? 'container not running' : 'container not paused');
    const h3 = new Harness();
    assert.equal(await h3.run([cmd]), 1);
    assertErr(h3, `tsrunc: "${cmd}" requires exactly 1 argument(s)`);
  }
});

test('ps: -f json before the id; everything after the id goes to ps (SkipArgReorder)', async () => {
  const h = new Harness();
  assert.equal(await h.run(['ps', '-f', 'json', 'c1']), 0);
  assert.deepEqual(h.only('ps').args, [{ id: 'c1', format: 'json', psArgs: [] }]);
  assert.equal(h.out, '[1,2]\n');
  const h2 = new Harness();
  assert.equal(await h2.run(['ps', 'c1', '-o', 'pid,comm', '-f', 'x', '--', 'y']), 0);
  assert.deepEqual(h2.only('ps').args, [{ id: 'c1', format: 'table', psArgs: ['-o', 'pid,comm', '-f', 'x', '--', 'y'] }]);
  const h3 = new Harness();
  assert.equal(await h3.run(['ps', '--format=json', 'c1']), 0);
  assert.equal((h3.only('ps').args[0] as { format: string }).format, 'json');
  const h4 = new Harness();
  assert.equal(await h4.run(['ps']), 1);
  assertErr(h4, 'tsrunc: "ps" requires a minimum of 1 argument(s)');
});

test('events: --stats prints one line; the stream by default; --interval is a Go duration', async () => {
  const h = new Harness();
  assert.equal(await h.run(['events', '--stats', 'c1']), 0);
  assert.deepEqual(h.only('eventsStats').args, [{ id: 'c1', stats: true, intervalMs: 5000 }]);
  assert.equal(h.out, '{"type":"stats"}\n');
  const h2 = new Harness();
  assert.equal(await h2.run(['events', '--interval', '1m30.5s', 'c1']), 0);
  assert.deepEqual(h2.only('events').args, [{ id: 'c1', stats: false, intervalMs: 90500 }]);
  assert.equal(h2.out, '{"type":"oom","id":"c1"}\n');
  const h3 = new Harness();
  assert.equal(await h3.run(['events', '--interval=250ms', 'c1']), 0);
  assert.equal((h3.only('events').args[0] as { intervalMs: number }).intervalMs, 250);
  const h4 = new Harness();
  assert.equal(await h4.run(['events', '--interval', '5', 'c1']), 1);
  assert.ok(h4.out.startsWith('Incorrect Usage: invalid value "5" for flag -interval: parse error\n'), h4.out);
  assertErr(h4, 'invalid value "5" for flag -interval: parse error');
  assert.equal(h4.calls.length, 0);
});

test('help lists pause, resume, ps and events; events -h shows the duration default unquoted', async () => {
  const h = new Harness();
  assert.equal(await h.run(['--help']), 0);
  for (const c of ['pause', 'resume', 'ps', 'events']) assert.match(h.out, new RegExp(`^   ${c} `, 'm'));
  const h2 = new Harness();
  assert.equal(await h2.run(['events', '-h']), 0);
  assert.match(h2.out, /--interval value\s+set the stats collection interval \(default: 5s\)/);
});

test('update: runc\'s flags become a LinuxResources patch (sizes with suffixes, -1, only what is given)', async () => {
  const h = new Harness();
  assert.equal(await h.run(['update', '--memory', '64m', '--memory-swap=-1', '--memory-reservation', '1.5KiB', '--cpu-share', '512',
    '--cpu-quota', '-1', '--cpu-period', '100000', '--cpuset-cpus', '0-1', '--pids-limit', '20', '--blkio-weight', '300', 'c1']), 0, h.err);
  assert.deepEqual(h.only('update').args[0], {
    id: 'c1',
    resources: {
      blockIO: { weight: 300 }, pids: { limit: 20 },
      memory: { limit: 64 * 1024 * 1024, swap: -1, reservation: 1536 },
      cpu: { cpus: '0-1', period: 100000, shares: 512, quota: -1 },
    },
  });
  const h2 = new Harness();
  assert.equal(await h2.run(['update', '--cpu-shares', '2', 'c1']), 0);
  assert.deepEqual(h2.only('update').args[0], { id: 'c1', resources: { cpu: { shares: 2 } } });
});

test('update: bad values get runc\'s texts; an unknown id wins; kernel memory flags only warn', async () => {
  for (const [argv, msg] of [
    [['--memory', 'abc'], "invalid value for memory: invalid size: 'abc'"],
    [['--cpu-share', 'x'], 'invalid value for cpu-share: strconv.ParseUint: parsing \\"x\\": invalid syntax'],
    [['--cpu-quota', '1.5'], 'invalid value for cpu-quota: strconv.ParseInt: parsing \\"1.5\\": invalid syntax'],
  ] as const) {
    const h = new Harness();
    assert.equal(await h.run(['update', ...argv, 'c1']), 1);
    assert.ok(h.err.includes(msg), h.err);
  }
  const h = new Harness();
  assert.equal(await h.run(['update', '--memory', 'abc', 'nope']), 1);
  assert.match(h.err, /container does not exist/);
  const w = new Harness();
  assert.equal(await w.run(['update', '--kernel-memory', '10m', 'c1']), 0);
  assert.match(w.err, /Setting --kernel-memory is ignored and will be removed/);
});

test('update --resources: Go json.Decoder texts', async () => {
  const { decodeResources, ramInBytes } = await import('../../src/cli/commands/update');
  assert.throws(() => decodeResources(''), { message: 'EOF' });
  assert.throws(() => decodeResources('{"memory":{'), { message: 'unexpected EOF' });
  assert.throws(() => decodeResources('{"memory":{"limit":1'), { message: 'unexpected EOF' });
  assert.throws(() => decodeResources('x'), { message: "invalid character 'x' looking for beginning of value" });
  assert.throws(() => decodeResources('{"memory":{"limit":"1"}}'), { message: 'json: cannot unmarshal string into Go struct field LinuxMemory.memory.limit of type int64' });
  assert.throws(() => decodeResources('{"cpu":{"shares":-1}}'), { message: 'json: cannot unmarshal number -1 into Go struct field LinuxCPU.cpu.shares of type uint64' });
  assert.throws(() => decodeResources('{"memory":5}'), { message: 'json: cannot unmarshal number into Go struct field LinuxResources.memory of type specs.LinuxMemory' });
  assert.throws(() => decodeResources('[1]'), { message: 'json: cannot unmarshal array into Go value of type specs.LinuxResources' });
  // containerd's shim: JSON + newline; Go matches field names case-insensitively; null leaves a value.
  assert.deepEqual(decodeResources('{"Memory":{"Limit":1048576,"swap":null},"pids":{"limit":5},"unified":{"memory.high":"1"}}\n'),
    { memory: { limit: 1048576 }, pids: { limit: 5 }, unified: { 'memory.high': '1' } });
  assert.equal(ramInBytes('64m'), 64 * 2 ** 20);
  assert.equal(ramInBytes('1g'), 2 ** 30);
  assert.equal(ramInBytes('512 KiB'), 512 * 1024);
  assert.equal(ramInBytes('100'), 100);
  assert.throws(() => ramInBytes('1x'), { message: "invalid size: '1x'" });
});
