import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { UsageError, checkArgCount, parseCommand, parseGlobal, parseGoBool, parseGoInt, parseRootless } from '../../src/cli/args';
import { GLOBAL_FLAGS, command } from '../../src/cli/table';

function usage(fn: () => unknown, msg: string, kind: 'flag' | 'args' = 'flag'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.message, msg);
    assert.equal(e.kind, kind);
    assert.equal(e.exitCode, 1);
    assert.equal(e.code, 'E_USAGE');
    return true;
  });
}

test('globals in go-runc order, then the command', () => {
  const { values, rest } = parseGlobal(GLOBAL_FLAGS,
    ['--root', '/R', '--log', '/L/log.json', '--log-format', 'json', '--systemd-cgroup', 'create', '--bundle', 'B', 'c1']);
  assert.equal(values.root, '/R');
  assert.equal(values.log, '/L/log.json');
  assert.equal(values['log-format'], 'json');
  assert.equal(values['systemd-cgroup'], true);
  assert.equal(values.debug, false);
  assert.deepEqual(rest, ['create', '--bundle', 'B', 'c1']);
});

test('global defaults', () => {
  const { values, rest } = parseGlobal(GLOBAL_FLAGS, ['state', 'x']);
  assert.equal(values.root, '/run/tsrunc');
  assert.equal(values.log, '');
  assert.equal(values['log-format'], 'text');
  assert.equal(values.rootless, 'auto');
  assert.equal(values.criu, 'criu');
  assert.equal(values['systemd-cgroup'], false);
  assert.deepEqual(rest, ['state', 'x']);
});

test('`=` forms, one-dash long names, --rootless=true (go-runc), bool=false', () => {
  const { values, rest } = parseGlobal(GLOBAL_FLAGS,
    ['--root=/R', '-log=/L', '-log-format', 'json', '--rootless=true', '--debug=false', '--systemd-cgroup=1', '--criu', '/usr/sbin/criu', 'list']);
  assert.equal(values.root, '/R');
  assert.equal(values.log, '/L');
  assert.equal(values['log-format'], 'json');
  assert.equal(values.rootless, 'true');
  assert.equal(values.debug, false);
  assert.equal(values['systemd-cgroup'], true);
  assert.equal(values.criu, '/usr/sbin/criu');
  assert.deepEqual(rest, ['list']);
});

test('a value may start with a dash or be empty; `=` splits at the first =', () => {
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--root', '-weird', 'x']).values.root, '-weird');
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--root=', 'x']).values.root, '');
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--root=a=b', 'x']).values.root, 'a=b');
});

test('globals stop at the first non-flag and after --', () => {
  assert.deepEqual(parseGlobal(GLOBAL_FLAGS, ['state', '--root', 'x']).rest, ['state', '--root', 'x']);
  assert.deepEqual(parseGlobal(GLOBAL_FLAGS, ['--debug', '--', '--state']).rest, ['--state']);
  assert.deepEqual(parseGlobal(GLOBAL_FLAGS, ['-', 'x']).rest, ['-', 'x']);
  assert.deepEqual(parseGlobal(GLOBAL_FLAGS, []).rest, []);
});

test('last value wins', () => {
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--root', 'a', '--root=b', 'x']).values.root, 'b');
});

test('global flag errors carry Go flag texts', () => {
  usage(() => parseGlobal(GLOBAL_FLAGS, ['--bogus', 'state']), 'flag provided but not defined: -bogus');
  usage(() => parseGlobal(GLOBAL_FLAGS, ['-x=1', 'state']), 'flag provided but not defined: -x');
  usage(() => parseGlobal(GLOBAL_FLAGS, ['---root', 'x']), 'bad flag syntax: ---root');
  usage(() => parseGlobal(GLOBAL_FLAGS, ['-=x']), 'bad flag syntax: -=x');
  usage(() => parseGlobal(GLOBAL_FLAGS, ['--root']), 'flag needs an argument: -root');
  usage(() => parseGlobal(GLOBAL_FLAGS, ['--debug=maybe', 'x']), 'invalid boolean value "maybe" for -debug: parse error');
});

test('help and version flags, long and short', () => {
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['-v']).values.version, true);
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--version']).values.version, true);
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['-h']).values.help, true);
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--help']).values.help, true);
  assert.equal(parseGlobal(GLOBAL_FLAGS, ['--h']).values.help, true);
});

test('create as go-runc sends it', () => {
  const { values, args } = parseCommand(command('create').flags,
    ['--bundle', '/b', '--pid-file', '/b/init.pid', '--console-socket', '/tmp/pty1/pty.sock', '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', 'c1']);
  assert.deepEqual(values, {
    bundle: '/b', 'console-socket': '/tmp/pty1/pty.sock', 'pid-file': '/b/init.pid', 'no-pivot': true,
    'no-new-keyring': true, 'preserve-fds': 2, help: false,
  });
  assert.deepEqual(args, ['c1']);
});

test('create defaults, short -b, = forms, Go integer syntax', () => {
  const d = parseCommand(command('create').flags, ['c1']).values;
  assert.equal(d.bundle, '');
  assert.equal(d['preserve-fds'], 0);
  assert.equal(d['no-pivot'], false);
  const v = parseCommand(command('create').flags, ['-b', 'B', '--preserve-fds=0x10', 'c1']).values;
  assert.equal(v.bundle, 'B');
  assert.equal(v['preserve-fds'], 16);
  assert.equal(parseCommand(command('create').flags, ['-b=B2', '--b', 'B3', 'c1']).values.bundle, 'B3');
  usage(() => parseCommand(command('create').flags, ['--preserve-fds=abc', 'c1']), 'invalid value "abc" for flag -preserve-fds: parse error');
  usage(() => parseCommand(command('create').flags, ['--bundle']), 'flag needs an argument: -bundle');
  usage(() => parseCommand(command('create').flags, ['--detach', 'c1']), 'flag provided but not defined: -detach');
});

test('flags may follow the positionals; a bool never swallows the next word', () => {
  const k = parseCommand(command('kill').flags, ['c1', '--all', '9']);
  assert.equal(k.values.all, true);
  assert.deepEqual(k.args, ['c1', '9']);
  const k2 = parseCommand(command('kill').flags, ['--all', 'c1', '9']);
  assert.deepEqual(k2.args, ['c1', '9']);
  assert.equal(parseCommand(command('kill').flags, ['-a', 'c1']).values.all, true);
  const d = parseCommand(command('delete').flags, ['c1', '--force']);
  assert.equal(d.values.force, true);
  assert.deepEqual(d.args, ['c1']);
  const c = parseCommand(command('create').flags, ['c1', '--bundle', '/b']);
  assert.equal(c.values.bundle, '/b');
  assert.deepEqual(c.args, ['c1']);
  // Go: `--force false` is the flag plus a positional.
  assert.deepEqual(parseCommand(command('delete').flags, ['--force', 'false']).args, ['false']);
});

test('-- ends command flags; - is a positional', () => {
  const r = parseCommand(command('kill').flags, ['--', '-c1', '-9']);
  assert.deepEqual(r.args, ['-c1', '-9']);
  assert.equal(r.values.all, false);
  assert.deepEqual(parseCommand(command('state').flags, ['-']).args, ['-']);
});

test('no grouping of short flags, as runc', () => {
  usage(() => parseCommand(command('list').flags, ['-qf', 'json']), 'flag provided but not defined: -qf');
  const l = parseCommand(command('list').flags, ['-q', '-f', 'json']).values;
  assert.equal(l.quiet, true);
  assert.equal(l.format, 'json');
  assert.equal(parseCommand(command('list').flags, ['--format=json']).values.format, 'json');
  assert.equal(parseCommand(command('list').flags, []).values.format, 'table');
});

test('run has create\'s flags plus detach, keep, no-subreaper', () => {
  const r = parseCommand(command('run').flags, ['-d', '--keep', '--no-subreaper', '-b', 'B', '--pid-file=p', 'c1']).values;
  assert.equal(r.detach, true);
  assert.equal(r.keep, true);
  assert.equal(r['no-subreaper'], true);
  assert.equal(r.bundle, 'B');
  assert.equal(r['pid-file'], 'p');
});

test('spec and explain flags', () => {
  const s = parseCommand(command('spec').flags, ['--rootless', '-b', 'B']).values;
  assert.equal(s.rootless, true);
  assert.equal(s.bundle, 'B');
  const e = parseCommand(command('explain').flags, ['--format', 'json', '-b', 'B', '--no-pivot']).values;
  assert.equal(e.format, 'json');
  assert.equal(e['no-pivot'], true);
  assert.equal(parseCommand(command('explain').flags, []).values.format, 'text');
});

test('command help flag', () => {
  assert.equal(parseCommand(command('state').flags, ['-h']).values.help, true);
  assert.equal(parseCommand(command('state').flags, ['x', '--help']).values.help, true);
});

test('argument counts: runc checkArgs texts', () => {
  usage(() => checkArgCount('tsrunc', 'state', { exact: 1 }, 0), 'tsrunc: "state" requires exactly 1 argument(s)', 'args');
  usage(() => checkArgCount('tsrunc', 'list', { exact: 0 }, 1), 'tsrunc: "list" requires exactly 0 argument(s)', 'args');
  usage(() => checkArgCount('tsrunc', 'kill', { min: 1, max: 2 }, 0), 'tsrunc: "kill" requires a minimum of 1 argument(s)', 'args');
  usage(() => checkArgCount('tsrunc', 'kill', { min: 1, max: 2 }, 3), 'tsrunc: "kill" requires a maximum of 2 argument(s)', 'args');
  checkArgCount('tsrunc', 'kill', { min: 1, max: 2 }, 1);
  checkArgCount('tsrunc', 'kill', { min: 1, max: 2 }, 2);
  checkArgCount('tsrunc', 'state', { exact: 1 }, 1);
});

test('Go ParseBool and ParseInt(s, 0, 64)', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false, f);
  for (const x of ['', 'yes', 'tRUE', '2']) assert.equal(parseGoBool(x), undefined, x);
  assert.equal(parseGoInt('0'), 0);
  assert.equal(parseGoInt('17'), 17);
  assert.equal(parseGoInt('-3'), -3);
  assert.equal(parseGoInt('+3'), 3);
  assert.equal(parseGoInt('010'), 8);
  assert.equal(parseGoInt('0o10'), 8);
  assert.equal(parseGoInt('0x1f'), 31);
  assert.equal(parseGoInt('0b101'), 5);
  for (const x of ['', 'abc', '1.5', '08', '0x', ' 1', '1e3']) assert.equal(parseGoInt(x), undefined, x);
});

test('--rootless values (runc parseBoolOrAuto)', () => {
  assert.equal(parseRootless(''), 'auto');
  assert.equal(parseRootless('auto'), 'auto');
  assert.equal(parseRootless('AUTO'), 'auto');
  assert.equal(parseRootless('true'), 'true');
  assert.equal(parseRootless('1'), 'true');
  assert.equal(parseRootless('False'), 'false');
  assert.equal(parseRootless('xyz'), undefined);
  assert.equal(parseRootless('yes'), undefined);
});
