// Integration: bad input through the real CLI. Every case must give a clear error (one error line,
// runc's text where reference/runc-cli-contract.md §2/§7 lists one), a non-zero exit, and leave
// NOTHING behind: no entry under --root, no cgroup directory named after the id, no process (an
// init adopted by our subreaper, or one in such a cgroup), no new mount.
// Run under the subreaper (npm test, or build/Release/tsrunc-reaper node --test <this file>).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, defaultConfig, type ConfigPatch } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import type { CallResult } from '../../conformance/lib/runtime';
import {
  Tsrunc, type TsruncCall, type Want, assertFails, cgroupDirsNamed, cleanup, isAlive, leftovers, pollUntil, pool,
  processesInCgroupNamed, show, snapshot, tmpDir,
} from './support';

const P = `it-bad-${process.pid}`;
const SLEEP = ['sleep', '1000'];

let tmp = '';
let root = '';
let rootfs = '';
let t: Tsrunc;
/** Every id a case may have created, for the after hook. */
const allIds = new Set<string>();

before(() => {
  tmp = tmpDir('tsrunc-it-bad');
  root = path.join(tmp, 'root');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(root, tmp);
});

after(() => {
  cleanup(t, allIds, tmp ? [tmp] : []);
});

/**
 * A bundle dir `name` with a config.json: defaultConfig(args) with `patch` applied and root.path
 * the shared (read-only) rootfs; or `raw` text as the config; or no config at all (raw null).
 */
function bundle(name: string, patch: ConfigPatch = {}, o: { args?: string[]; raw?: string | null } = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  if (o.raw === null) return dir;
  const text = o.raw ?? JSON.stringify(applyPatch(applyPatch(defaultConfig(o.args ?? SLEEP), { root: { path: rootfs } }), patch));
  fs.writeFileSync(path.join(dir, 'config.json'), text);
  return dir;
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** `<prog> create failed: TEXT` (runc prints `runc create failed: `; tsrunc its own name). */
function createFailed(text: string, cmd = 'create'): RegExp {
  return new RegExp(`^\\w+ ${cmd} failed: ${esc(text)}$`);
}

/** Leftovers of a case that mention one of `ids` (state entries, cgroups, processes in them). */
function mentioning(found: string[], ids: string[]): string[] {
  const named = ids.filter((id) => id !== '' && id !== '.' && id !== '..');
  return found.filter((f) => named.some((id) => new RegExp(`(/|\`)${esc(id)}(\`|/|\\s|$)`).test(f)));
}

// ---- config, bundle and id errors: all independent, run side by side --------------------------

interface Case {
  name: string;
  args: () => string[];
  want: Want;
  /** Ids (and cgroup/path names) whose leftovers this case would own. */
  ids: string[];
  opts?: TsruncCall;
  /** Extra checks after the batch. */
  also?: () => void;
  /** Exit status (default 1). */
  rc?: number;
}

const LONG = 'a'.repeat(1025);

function createCase(name: string, id: string, dir: () => string, want: Want, extra: string[] = []): Case {
  return { name, ids: [id], args: () => [...extra, 'create', '--bundle', dir(), id], want };
}

const dirs: Record<string, string> = {};

const CASES: Case[] = [
  createCase('no config.json: runc\'s text', `${P}-noconf`, () => dirs.noconf!,
    createFailed('JSON specification file config.json not found')),
  createCase('malformed JSON: names config.json, says where, and says it once', `${P}-malformed`, () => dirs.malformed!, (msg) => {
    assert.match(msg, /^\w+ create failed: config\.json: invalid JSON: .*line 1, column \d+/);
    assert.doesNotMatch(msg, /in JSON at position/, `V8's raw text repeated after the formatted one: ${msg}`);
  }),
  createCase('wrong types: every wrong path is reported at once', `${P}-types`, () => dirs.types!, (msg) => {
    for (const p of ['/process/args', '/process/cwd', '/hostname', '/linux/namespaces', '/root/readonly']) {
      assert.ok(msg.includes(`config.json: ${p}: `), `${p} not reported in ${JSON.stringify(msg)}`);
    }
  }),
  createCase('empty args', `${P}-noargs`, () => dirs.noargs!, /^\w+ create failed: .*args must not be empty$/),
  createCase('no process', `${P}-noproc`, () => dirs.noproc!, /^\w+ create failed: .*process property must not be empty$/),
  createCase('missing rootfs', `${P}-norootfs`, () => dirs.norootfs!,
    (msg) => assert.match(msg, new RegExp(`^\\w+ create failed: .*${esc(`invalid rootfs: stat ${dirs.norootfs}/rootfs: no such file or directory`)}$`))),
  createCase('rootfs is a symlink: refused, runc\'s text', `${P}-symroot`, () => dirs.symroot!,
    /^\w+ create failed: (.*: )?invalid rootfs: not an absolute path, or a symlink$/),
  createCase('binary missing in the rootfs (absolute): error at create, runc\'s text', `${P}-nobin`, () => dirs.nobin!,
    createFailed('unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory')),
  createCase('binary missing in the rootfs (looked up in $PATH): error at create, runc\'s text', `${P}-nobinpath`, () => dirs.nobinpath!,
    createFailed('unable to start container process: exec: "nonexistent": executable file not found in $PATH')),
  {
    name: 'binary missing, with run: same error, nothing left',
    ids: [`${P}-nobinrun`],
    args: () => ['run', '--bundle', dirs.nobin!, `${P}-nobinrun`],
    want: createFailed('unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory', 'run'),
  },
  createCase('bind mount of a missing source: error at create naming it (the init is killed, nothing left)', `${P}-mount`, () => dirs.mount!,
    (msg) => {
      assert.match(msg, /^\w+ create failed: /);
      assert.ok(msg.includes('/nonexistent-src'), `the source is not named: ${msg}`);
      assert.match(msg, /ENOENT|no such file or directory/);
    }),
  createCase('hostname without a private UTS namespace: refused, as runc (it would be the host\'s hostname)', `${P}-nouts`, () => dirs.nouts!,
    (msg) => {
      // runc: `unable to set hostname without a private UTS namespace`
      assert.match(msg, /^\w+ create failed: /);
      assert.match(msg, /hostname/);
      assert.match(msg, /UTS namespace/i);
    }),
  createCase('terminal: true without --console-socket: runc\'s text', `${P}-tty`, () => dirs.tty!,
    /^\w+ create failed: cannot allocate tty if runc will detach without setting console socket$/),
  createCase('unified keys on a v1/hybrid host: runc\'s text, nothing left behind', `${P}-mem`, () => dirs.mem!,
    /^\w+ create failed: invalid configuration: cannot use unified on cgroup v1$/),
  ...(fs.existsSync('/run/systemd/system') ? [] : [
    createCase('--systemd-cgroup without systemd: runc\'s text', `${P}-systemd`, () => dirs.good!,
      createFailed('systemd not running on this host, cannot use systemd cgroups manager'), ['--systemd-cgroup']),
  ]),
  {
    name: '--log-format xml: `invalid log-format: xml`',
    ids: [`${P}-logfmt`],
    args: () => ['--log-format', 'xml', 'create', '--bundle', dirs.good!, `${P}-logfmt`],
    want: 'invalid log-format: xml',
  },
  {
    name: 'unknown command: `No help topic for \'frobnicate\'`, rc 3',
    ids: [],
    args: () => ['frobnicate', `${P}-cmd`],
    want: 'No help topic for \'frobnicate\'',
    rc: 3,
  },
  // ids
  createCase('id `a/b`', `${P}-a/${P}-b`, () => dirs.good!, createFailed('invalid container ID format')),
  createCase('id `..`', '..', () => dirs.good!, createFailed('invalid container ID format')),
  createCase('id `.`', '.', () => dirs.good!, createFailed('invalid container ID format')),
  {
    ...createCase('id `../x`', `../${P}-x`, () => dirs.good!, createFailed('invalid container ID format')),
    ids: [`../${P}-x`, `${P}-x`],
    also: () => assert.ok(!fs.existsSync(path.join(tmp, `${P}-x`)), 'created next to the root'),
  },
  createCase('id empty', '', () => dirs.good!, createFailed('container id cannot be empty')),
  createCase('id with a space', `${P} y`, () => dirs.good!, createFailed('invalid container ID format')),
  createCase('id over 1024 characters', LONG, () => dirs.good!, /^\w+ create failed: invalid container ID format\b/),
  {
    name: '`delete --force ..` is refused and does not touch the parent of the root',
    ids: ['..'],
    args: () => ['delete', '--force', '..'],
    want: 'invalid container ID format',
    also: () => {
      assert.ok(fs.existsSync(dirs.good!), 'the parent of --root was deleted');
      assert.ok(fs.existsSync(rootfs));
    },
  },
];

describe('config, bundle and id errors', () => {
  const results = new Map<string, CallResult>();
  let found: string[] = [];

  before(async () => {
    dirs.good = bundle('b-good');
    dirs.noconf = bundle('b-noconf', {}, { raw: null });
    dirs.malformed = bundle('b-malformed', {}, { raw: '{"ociVersion": "1.0.2-dev", "process": {' });
    dirs.types = bundle('b-types', {
      process: { args: 'sh', cwd: 7 }, hostname: 5, linux: { namespaces: 'pid' }, root: { readonly: 'yes' },
    });
    dirs.noargs = bundle('b-noargs', { process: { args: [] } });
    dirs.noproc = bundle('b-noproc', { process: null });
    dirs.norootfs = bundle('b-norootfs', { root: { path: 'rootfs' } });
    dirs.nobin = bundle('b-nobin', {}, { args: ['/nonexistent'] });
    dirs.nobinpath = bundle('b-nobinpath', {}, { args: ['nonexistent'] });
    dirs.tty = bundle('b-tty', { process: { terminal: true } });
    dirs.mem = bundle('b-mem', { linux: { resources: { memory: { limit: 104857600 }, unified: { 'memory.high': '50000000' } } } });
    dirs.symroot = bundle('b-symroot', { root: { path: 'rootfs' } });
    fs.symlinkSync(rootfs, path.join(dirs.symroot, 'rootfs'));
    dirs.mount = bundle('b-mount', {
      mounts: [...defaultConfig().mounts!, { destination: '/mnt', type: 'bind', source: '/nonexistent-src', options: ['bind'] }],
    });
    dirs.nouts = bundle('b-nouts', {
      hostname: 'it-bad-host',
      linux: { namespaces: defaultConfig().linux!.namespaces!.filter((n) => n.type !== 'uts') },
    });
    for (const c of CASES) for (const id of c.ids) allIds.add(id);
    const w = snapshot(root, [tmp]);
    const rs = await pool(4, CASES.map((c) => () => t.callAsync(c.args(), c.opts)));
    CASES.forEach((c, i) => results.set(c.name, rs[i]!));
    found = leftovers(root, w, CASES.flatMap((c) => c.ids), [tmp]);
  });

  for (const c of CASES) {
    it(c.name, () => {
      assertFails(results.get(c.name)!, c.want, c.rc);
      assert.deepEqual(mentioning(found, c.ids), [], 'left behind');
      c.also?.();
    });
  }

  it('nothing left that no single case accounts for (processes outside their cgroups, mounts)', () => {
    assert.deepEqual(found.filter((f) => !CASES.some((c) => mentioning([f], c.ids).length > 0)), []);
  });
});

// ---- misuse of a live container ------------------------------------------------------------------

describe('one container, used wrongly at every step', () => {
  const id = `${P}-live`;
  let pid = 0;
  let stateJson = '';

  before(() => {
    allIds.add(id);
    dirs.live = bundle('b-live');
    const pidFile = path.join(tmp, 'live.pid');
    const r = t.call(['create', '--pid-file', pidFile, '--bundle', dirs.live, id]);
    assert.equal(r.status, 0, show(r));
    pid = Number(fs.readFileSync(pidFile, 'utf8'));
    stateJson = fs.readFileSync(path.join(root, id, 'state.json'), 'utf8');
  });

  it('duplicate id: `container with given ID already exists`; the first container is untouched', () => {
    const w = snapshot(root, [tmp]);
    const r = t.call(['create', '--bundle', bundle('b-live2'), id]);
    assertFails(r, createFailed('container with given ID already exists'));
    assert.ok(isAlive(pid), 'the first init was killed');
    assert.equal(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8'), stateJson, 'state.json changed');
    assert.deepEqual(processesInCgroupNamed(id), [pid], 'the cgroup should hold just the first init');
    assert.deepEqual(leftovers(root, w, [], [tmp]), []);
    const s = t.state(id);
    assert.equal(s.status, 'created');
    assert.equal(s.pid, pid);
  });

  it('start twice: `cannot start an already running container`', () => {
    const r = t.call(['start', id]);
    assert.equal(r.status, 0, show(r));
    assertFails(t.call(['start', id]), 'cannot start an already running container');
  });

  it('delete of a running container: `cannot delete container <id> that is not stopped: running`', () => {
    assertFails(t.call(['delete', id]), `cannot delete container ${id} that is not stopped: running`);
    assert.ok(isAlive(pid));
    assert.ok(fs.existsSync(path.join(root, id, 'state.json')));
  });

  it('kill with an unknown signal name: `unknown signal "FOO"`', () => {
    assertFails(t.call(['kill', id, 'FOO']), 'unknown signal "FOO"');
  });

  it('kill with signal 99: `unable to signal init: invalid argument`; the container still runs', () => {
    assertFails(t.call(['kill', id, '99']), 'unable to signal init: invalid argument');
    assert.ok(isAlive(pid));
    assert.equal(t.state(id).status, 'running');
  });

  it('start a stopped container: `cannot start a container that has stopped`', () => {
    assert.equal(t.call(['kill', id, 'KILL']).status, 0);
    pollUntil(() => !isAlive(pid), 2000);
    assertFails(t.call(['start', id]), 'cannot start a container that has stopped');
  });

  it('delete then leaves nothing', () => {
    assert.equal(t.call(['delete', id]).status, 0);
    assert.ok(!fs.existsSync(path.join(root, id)));
    assert.deepEqual(cgroupDirsNamed(id), []);
  });
});

// ---- unknown ids ---------------------------------------------------------------------------------

describe('unknown id', () => {
  const id = `${P}-unknown`;
  const cmds: string[][] = [['state', id], ['start', id], ['kill', id], ['kill', id, 'KILL'], ['kill', '--all', id, 'KILL'], ['delete', id]];
  const results: CallResult[] = [];
  let force: CallResult;

  before(async () => {
    allIds.add(id);
    results.push(...(await Promise.all(cmds.map((c) => t.callAsync(c)))));
    force = await t.callAsync(['delete', '--force', id]);
  });

  cmds.forEach((c, i) => {
    it(`${c.join(' ').replace(id, '<id>')}: \`container does not exist\`, rc 1`, () => {
      assertFails(results[i]!, 'container does not exist');
    });
  });

  it('delete --force <id>: rc 0, silent', () => {
    assert.equal(force.status, 0, show(force));
    assert.equal(force.stdout, '');
    assert.equal(force.stderr, '');
    assert.ok(!fs.existsSync(path.join(root, id)));
  });
});

// ---- a failure after the init exists -------------------------------------------------------------

describe('--pid-file in a directory that does not exist', () => {
  it('create fails and leaves nothing: no state, no cgroup, no init still running', () => {
    const id = `${P}-pidfile`;
    allIds.add(id);
    const w = snapshot(root, [tmp]);
    const pidFile = path.join(tmp, 'no-such-dir', 'pid');
    const r = t.call(['create', '--pid-file', pidFile, '--bundle', bundle('b-pidfile'), id]);
    const found = leftovers(root, w, [id], [tmp]);
    assert.deepEqual(found, [], `left behind (now cleaned up by the test): ${show(r)}`);
    assertFails(r, (msg) => {
      assert.match(msg, /^\w+ create failed: /);
      assert.ok(msg.includes(pidFile), `the message should name the pid file: ${msg}`);
    });
  });
});
