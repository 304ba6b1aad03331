// config.json loading, schema validation and semantic checks (src/spec/), plus the state schema.
// Needs the generated validators: `npx tsc -p tsconfig.json && node scripts/build-schemas.js`.

import { test, describe, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync, spawnSync } from 'child_process';
import { TsruncError } from '../../src/errors';
import { loadSpec, loadCheckedSpec, parseSpecText, specFromJson } from '../../src/spec/load';
import {
  CAPABILITY_NAMES, checkSpec, formatProblem, resolveRootfs, rootfsProblem, RLIMIT_NAMES, specProblems, specWarnings,
  statRootfs,
} from '../../src/spec/checks';
import { jsonPointer, limitProblems, validateSpecObject, validateState, valueAt, withoutNulls } from '../../src/spec/validate';
import type { Spec } from '../../src/spec/types';

const REPO = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'configs');
const DIST = path.join(REPO, 'dist');

let scratch: string;
before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-spec-test-'));
});
after(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

type Rootfs = 'dir' | 'none' | 'file';

/** A bundle in the scratch dir: the fixture as config.json and the rootfs as asked. */
function bundleFor(fixture: string, rootfs: Rootfs = 'dir', absRoot = false): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'b-'));
  let text = fs.readFileSync(fixture, 'utf8');
  if (absRoot) {
    // Fixtures copied from callers that use an absolute root.path (containerd): point it here.
    const obj = JSON.parse(text) as { root: { path: string } };
    assert.ok(path.isAbsolute(obj.root.path), `${fixture}: root.path is expected to be absolute`);
    obj.root.path = path.join(dir, 'rootfs');
    text = JSON.stringify(obj);
  }
  fs.writeFileSync(path.join(dir, 'config.json'), text);
  if (rootfs === 'dir') fs.mkdirSync(path.join(dir, 'rootfs'));
  if (rootfs === 'file') fs.writeFileSync(path.join(dir, 'rootfs'), 'not a directory');
  return dir;
}

function caught(fn: () => unknown): TsruncError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TsruncError, `expected a TsruncError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error, got none');
}

function minimal(): Spec {
  return { ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['/bin/true'], user: { uid: 0, gid: 0 } } };
}

/** specProblems as `pointer: message` lines (no rootfs access). */
function problems(spec: Spec, needProcess = true): string[] {
  return specProblems(spec, { needProcess }).map((p) => `${p.pointer}: ${p.message}`);
}

describe('generated validators', () => {
  test('dist/schemas holds both standalone modules, and they validate', () => {
    for (const f of ['config-validator.js', 'state-validator.js']) {
      const p = path.join(DIST, 'schemas', f);
      assert.ok(fs.existsSync(p), `${p} missing: run node scripts/build-schemas.js`);
      const src = fs.readFileSync(p, 'utf8');
      // Standalone means no schema compilation at run time: no Ajv instance, no compile() call.
      assert.doesNotMatch(src, /require\("ajv"\)|new Ajv|\.compile\(/);
    }
    assert.deepEqual(validateSpecObject({ ociVersion: '1.0.0' }), []);
    assert.deepEqual(validateSpecObject({}), ["config.json: /: must have required property 'ociVersion'"]);
  });

  test('importing load.ts/checks.ts/validate.ts does not load the validator; the first load does', () => {
    const bundle = bundleFor(path.join(FIXTURES, 'good', 'minimal.json'));
    const script = `
      const has = () => Object.keys(require.cache).some((k) => k.endsWith('config-validator.js'));
      require(${JSON.stringify(path.join(DIST, 'src', 'spec', 'load.js'))});
      require(${JSON.stringify(path.join(DIST, 'src', 'spec', 'checks.js'))});
      require(${JSON.stringify(path.join(DIST, 'src', 'spec', 'validate.js'))});
      const before = has();
      require(${JSON.stringify(path.join(DIST, 'src', 'spec', 'load.js'))}).loadSpec(${JSON.stringify(bundle)});
      process.stdout.write(JSON.stringify({ before, after: has() }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true });
  });
});

describe('good configs', () => {
  const cases: Array<{ file: string; absRoot?: boolean }> = [
    { file: 'runc-spec.json' },
    { file: 'containerd-ctr-run.json', absRoot: true },
    { file: 'cri-container.json' },
    { file: 'full-1.3.json' },
    { file: 'minimal.json' },
    { file: 'go-nulls.json' },
    { file: 'unknown-fields.json' },
    { file: 'warn-relative-mount-destination.json' },
  ];

  test('every good fixture has a case', () => {
    const files = fs.readdirSync(path.join(FIXTURES, 'good')).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, cases.map((c) => c.file).sort());
  });

  for (const c of cases) {
    test(`${c.file} loads and passes the checks`, () => {
      const bundle = bundleFor(path.join(FIXTURES, 'good', c.file), 'dir', c.absRoot);
      const spec = loadCheckedSpec(bundle, { needProcess: true });
      assert.equal(typeof spec.ociVersion, 'string');
      assert.equal(resolveRootfs(spec, bundle), path.join(bundle, 'rootfs'));
    });
  }

  test('containerd config: no env, cgroupsPath, a device rule without minor', () => {
    const bundle = bundleFor(path.join(FIXTURES, 'good', 'containerd-ctr-run.json'), 'dir', true);
    const spec = loadCheckedSpec(bundle, { needProcess: true });
    assert.equal(spec.process?.env, undefined);
    assert.equal(spec.linux?.cgroupsPath, '/default/x');
    const rule = spec.linux?.resources?.devices?.find((d) => d.major === 136);
    assert.deepEqual(rule, { allow: true, type: 'c', major: 136, access: 'rwm' });
  });

  test('Go-style nulls read as absent members', () => {
    const bundle = bundleFor(path.join(FIXTURES, 'good', 'go-nulls.json'));
    const spec = loadSpec(bundle);
    assert.equal('env' in spec.process!, false);
    assert.equal('annotations' in spec, false);
    assert.deepEqual(spec.linux?.resources?.devices, [{ allow: false, access: 'rwm' }]);
    // The raw object (nulls kept) is not schema-valid: the normalization is what makes it load.
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'good', 'go-nulls.json'), 'utf8'));
    assert.ok(validateSpecObject(raw).includes('config.json: /process/env: must be array'));
  });

  test('uint64 maxima (RLIM_INFINITY) pass the schema', () => {
    const bundle = bundleFor(path.join(FIXTURES, 'good', 'full-1.3.json'));
    const spec = loadSpec(bundle);
    const memlock = spec.process?.rlimits?.find((r) => r.type === 'RLIMIT_MEMLOCK');
    // JSON numbers are doubles: 2^64-1 arrives as 2^64. Consumers must treat >= 2^64-1 as infinity.
    assert.equal(memlock?.hard, 18446744073709551615);
    assert.equal(BigInt(memlock!.hard), 2n ** 64n);
  });
});

describe('bad configs', () => {
  interface BadCase {
    file: string;
    code: 'E_CONFIG_PARSE' | 'E_CONFIG_INVALID';
    /** Exact message lines, in order; `<bundle>` stands for the bundle directory. */
    lines: string[];
    rootfs?: Rootfs;
  }
  const cases: BadCase[] = [
    { file: 'args-string.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /process/args: must be array'] },
    { file: 'args-empty.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /process/args: args must not be empty'] },
    { file: 'args-null.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /process/args: args must not be empty'] },
    { file: 'no-process.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /process: process property must not be empty'] },
    { file: 'no-cwd.json', code: 'E_CONFIG_INVALID', lines: ["config.json: /process: must have required property 'cwd'"] },
    { file: 'no-root.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /root: root property must not be empty'] },
    { file: 'not-an-object.json', code: 'E_CONFIG_INVALID', lines: ['config.json: /: must be object'] },
    {
      file: 'malformed.json', code: 'E_CONFIG_PARSE',
      lines: ['config.json: invalid JSON: expected double-quoted property name at line 4, column 44'],
    },
    {
      file: 'many-wrong-types.json', code: 'E_CONFIG_INVALID',
      lines: [
        'config.json: /ociVersion: must be string',
        'config.json: /root/readonly: must be boolean',
        'config.json: /mounts/0/options: must be array',
        "config.json: /mounts/1: must have required property 'destination'",
        'config.json: /process/terminal: must be boolean',
        'config.json: /process/user/uid: must be integer',
        'config.json: /process/user/gid: must be >= 0, got -1',
        'config.json: /process/args/1: must be string',
        'config.json: /process/env: must be array',
        'config.json: /process/rlimits/0/soft: must be integer',
        'config.json: /process/rlimits/0/hard: must be integer',
        'config.json: /process/oomScoreAdj: must be <= 1000, got 5000',
        'config.json: /process/ioPriority/class: must be one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", got "IOPRIO_CLASS_FOO"',
        'config.json: /process/ioPriority/priority: must be <= 7, got 9',
        'config.json: /hostname: must be string',
        'config.json: /annotations/a: must be string',
        "config.json: /linux/namespaces/0: must have required property 'type'",
        'config.json: /linux/uidMappings/0/hostID: must be <= 4294967295, got 4294967296',
        'config.json: /linux/resources/devices/0/allow: must be boolean',
        'config.json: /linux/resources/devices/0/access: must match pattern "[rwm]", got "RWX"',
        'config.json: /linux/resources/memory/limit: must be integer',
        'config.json: /linux/resources/memory/swappiness: must be >= 0, got -1',
        'config.json: /linux/resources/hugepageLimits/0/pageSize: must match pattern "^[1-9][0-9]*[KMGTPE]B$", got "2M"',
        'config.json: /linux/seccomp/defaultAction: must be one of "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", ' +
          '"SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", ' +
          '"SCMP_ACT_NOTIFY", got "SCMP_ACT_DENY"',
        'config.json: /linux/seccomp/syscalls/0/names: must NOT have fewer than 1 items',
        'config.json: /linux/maskedPaths: must be array',
        "config.json: /linux/uidMappings: user namespace mappings specified, but user namespace isn't enabled in the config",
      ],
    },
    {
      file: 'many-semantic.json', code: 'E_CONFIG_INVALID',
      lines: [
        'config.json: /mounts/0: uidMappings and gidMappings must be given together',
        'config.json: /process/cwd: must be an absolute path, got "tmp"',
        'config.json: /process/env/1: invalid environment variable: "NOEQUALS"',
        'config.json: /process/env/2: environment variable name can\'t be empty: "=value"',
        'config.json: /process/rlimits/0: soft limit 2048 is greater than hard limit 1024',
        'config.json: /process/rlimits/1/type: duplicate rlimit "RLIMIT_NOFILE" (also at /process/rlimits/0)',
        'config.json: /hooks/poststart/1/path: must be an absolute path, got "notify"',
        'config.json: /annotations/: annotation keys must not be empty',
        'config.json: /linux/namespaces/1/path: must be an absolute path, got "run/netns/x"',
        'config.json: /linux/uidMappings/1: container uids 5-14 overlap /linux/uidMappings/0 (0-9)',
        'config.json: /linux/gidMappings/0/size: must be at least 1',
        'config.json: /linux/timeOffsets/realtime: clock must be one of "monotonic", "boottime", got "realtime"',
        "config.json: /linux/timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config",
        'config.json: /linux/devices/0: minor is required for device type "c"',
        'config.json: /linux/devices/1/type: must be one of "c", "b", "u", "p", got "x"',
        'config.json: /linux/devices/1/path: must be an absolute path, got "dev/y"',
        'config.json: /linux/resources/memory/swappiness: must be between 0 and 100, got 101',
        'config.json: /linux/resources/cpu/burst: must not be larger than quota (5000 > 1000)',
        'config.json: /linux/resources/blockIO/weightDevice/0: must have weight or leafWeight',
        'config.json: /linux/resources/rdma/mlx5_0: must have hcaHandles or hcaObjects',
        'config.json: /linux/rootfsPropagation: must be one of "shared", "slave", "private", "unbindable", "rshared", ' +
          '"rslave", "rprivate", "runbindable", got "recursive"',
        'config.json: /linux/sysctl/: sysctl keys must not be empty',
        'config.json: /linux/maskedPaths/1: must be an absolute path, got "proc/keys"',
        'config.json: /linux/readonlyPaths/0: must be an absolute path, got "sys"',
        'config.json: /linux/seccomp/listenerMetadata: must not be set without listenerPath',
      ],
    },
    {
      file: 'duplicate-namespace.json', code: 'E_CONFIG_INVALID',
      lines: ['config.json: /linux/namespaces/2/type: duplicate namespace "pid" (also at /linux/namespaces/0)'],
    },
    {
      file: 'unknown-namespace.json', code: 'E_CONFIG_INVALID',
      lines: [
        'config.json: /linux/namespaces/1/type: must be one of "pid", "network", "mount", "ipc", "uts", "user", ' +
          '"cgroup", "time", got "net"',
      ],
    },
    {
      file: 'unknown-rlimit.json', code: 'E_CONFIG_INVALID',
      lines: ['config.json: /process/rlimits/1/type: unknown rlimit "RLIMIT_FOO"'],
    },
    {
      file: 'oci-version-2.json', code: 'E_CONFIG_INVALID',
      lines: ['config.json: /ociVersion: major version must be 1, got "2.0.0"'],
    },
    {
      file: 'oci-version-junk.json', code: 'E_CONFIG_INVALID',
      lines: ['config.json: /ociVersion: must be a SemVer 2.0.0 version, got "1.0"'],
    },
    {
      file: 'rootfs-missing.json', code: 'E_CONFIG_INVALID', rootfs: 'none',
      lines: ['config.json: /root/path: invalid rootfs: stat <bundle>/rootfs: no such file or directory'],
    },
    {
      file: 'rootfs-is-file.json', code: 'E_CONFIG_INVALID', rootfs: 'file',
      lines: ['config.json: /root/path: invalid rootfs: <bundle>/rootfs: not a directory'],
    },
    {
      // Unknown capability names are refused (the spec only asks for a warning; runc 1.1.5 ignores them).
      file: 'unknown-capability.json', code: 'E_CONFIG_INVALID',
      lines: [
        'config.json: /process/capabilities/bounding/1: unknown capability "CAP_FOO"',
        'config.json: /process/capabilities/ambient/0: unknown capability "kill"',
      ],
    },
    {
      file: 'userns-without-mappings.json', code: 'E_CONFIG_INVALID',
      lines: [
        'config.json: /linux/uidMappings: user namespaces enabled, but no uid mappings found',
        'config.json: /linux/gidMappings: user namespaces enabled, but no gid mappings found',
      ],
    },
  ];

  test('every bad fixture has a case', () => {
    const files = fs.readdirSync(path.join(FIXTURES, 'bad')).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, cases.map((c) => c.file).sort());
  });

  for (const c of cases) {
    test(`${c.file}: ${c.code}, every problem reported`, () => {
      const bundle = bundleFor(path.join(FIXTURES, 'bad', c.file), c.rootfs ?? 'dir');
      const err = caught(() => loadCheckedSpec(bundle, { needProcess: true }));
      assert.equal(err.code, c.code);
      assert.equal(err.exitCode, 1);
      const want = c.lines.map((l) => l.split('<bundle>').join(bundle));
      // At most 20 problems, then `and N more`.
      assert.deepEqual(err.message.split('\n'), want.length > 20 ? [...want.slice(0, 20), `and ${want.length - 20} more`] : want);
    });
  }

  test('missing config.json: runc\'s text', () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'empty-'));
    const err = caught(() => loadSpec(dir));
    assert.equal(err.code, 'E_CONFIG_MISSING');
    assert.equal(err.message, 'JSON specification file config.json not found');
    // A bundle path that does not exist, or is a file, has no config.json either.
    assert.equal(caught(() => loadSpec(path.join(dir, 'nope'))).code, 'E_CONFIG_MISSING');
    fs.writeFileSync(path.join(dir, 'file'), '');
    assert.equal(caught(() => loadSpec(path.join(dir, 'file'))).code, 'E_CONFIG_MISSING');
  });

  test('config.json that is not a regular file (a directory, a FIFO, a device): E_CONFIG_PARSE naming the file, no hang', () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'dir-'));
    fs.mkdirSync(path.join(dir, 'config.json'));
    const err = caught(() => loadSpec(dir));
    assert.equal(err.code, 'E_CONFIG_PARSE');
    assert.equal(err.message, `config.json: \`${path.join(dir, 'config.json')}\` is not a regular file`);
    const fifoDir = fs.mkdtempSync(path.join(scratch, 'fifo-'));
    execFileSync('mkfifo', [path.join(fifoDir, 'config.json')]);
    assert.equal(caught(() => loadSpec(fifoDir)).message, `config.json: \`${path.join(fifoDir, 'config.json')}\` is not a regular file`);
    const devDir = fs.mkdtempSync(path.join(scratch, 'dev-'));
    fs.symlinkSync('/dev/zero', path.join(devDir, 'config.json'));
    assert.equal(caught(() => loadSpec(devDir)).message, `config.json: \`${path.join(devDir, 'config.json')}\` is not a regular file`);
  });

  test('parse errors give the position, never the content (config.json may be a symlink to a secret)', () => {
    const err = caught(() => parseSpecText('root:x:0:0:root:/root:/bin/bash\n'));
    assert.equal(err.code, 'E_CONFIG_PARSE');
    assert.equal(err.message, 'config.json: invalid JSON: unexpected token at line 1, column 1');
    for (const [text, want] of [
      ['{"a":1,}', 'expected double-quoted property name at line 1, column 8'],
      ['{"a" 1}', "expected ':' after property name at line 1, column 6"],
      ['[1,2 3]', "expected ',' or ']' after array element at line 1, column 6"],
      ['{"a":1} secret', 'unexpected non-whitespace character after JSON at line 1, column 9'],
      ['{"a":"s\\q"}', 'bad escaped character at line 1, column 9'],
      ['{"a":"s\tq"}', 'bad control character in string literal at line 1, column 8'],
      ['{"a":-x}', 'no number after minus sign at line 1, column 7'],
      ['{"a":1.x}', 'unterminated fractional number at line 1, column 8'],
      ['{"a":1ex}', 'exponent part is missing a number at line 1, column 8'],
      ['{"a":"\\u12x4"}', 'bad unicode escape at line 1, column 11'],
      ['{"a":secret}', 'unexpected token at line 1, column 6'],
      ['{"a":"secret', 'unexpected end of JSON input at line 1, column 13'],
    ] as const) {
      const e = caught(() => parseSpecText(text));
      assert.equal(e.message, `config.json: invalid JSON: ${want}`, text);
      assert.ok(!e.message.includes('secret'));
    }
  });

  test('nesting: 1000 levels parse, 1001 are refused with the position; any depth is safe', () => {
    const deep = (n: number) => '{"a":' + '['.repeat(n - 1) + ']'.repeat(n - 1) + '}';
    assert.deepEqual(Object.keys(parseSpecText(deep(1000)) as object), ['a']);
    assert.equal(caught(() => parseSpecText(deep(1001))).message, 'config.json: invalid JSON: exceeded max depth 1000 at line 1, column 1005');
    assert.match(caught(() => parseSpecText('['.repeat(1_000_000))).message, /exceeded max depth 1000 at line 1, column 1001$/);
    // Brackets inside strings do not count.
    assert.deepEqual(parseSpecText(`{"a":"${'['.repeat(5000)}"}`), { a: '['.repeat(5000) });
    // 999 levels below a known field: a clean schema error, no stack overflow anywhere.
    const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'good', 'runc-spec.json'), 'utf8')) as Record<string, unknown>;
    const text = JSON.stringify(cfg).replace('"hostname":"runc"', `"hostname":${'['.repeat(998)}${']'.repeat(998)}`);
    assert.match(caught(() => specFromJson(parseSpecText(text))).message, /^config\.json: \/hostname: must be string$/);
    const unknown = JSON.stringify({ ...cfg, x: JSON.parse('['.repeat(998) + ']'.repeat(998)) });
    assert.doesNotThrow(() => specFromJson(parseSpecText(unknown)));
  });

  test('NUL bytes in any string or key are refused, naming the field', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'good', 'runc-spec.json'), 'utf8')) as Spec;
    cfg.process!.cwd = '/a\0b';
    cfg.mounts![1]!.options = ['nosuid', 'x\0y'];
    cfg.root!.path = 'root\0fs';
    (cfg as unknown as Record<string, unknown>)['a/b~'] = ['\0'];
    cfg.linux!.sysctl = { 'net.\0x': '1' };
    const err = caught(() => specFromJson(cfg));
    assert.equal(err.code, 'E_CONFIG_INVALID');
    assert.deepEqual(err.message.split('\n').filter((l) => l.includes('NUL')).sort(), [
      'config.json: /a~1b~0/0: must not contain a NUL byte',
      'config.json: /linux/sysctl: keys must not contain a NUL byte',
      'config.json: /mounts/1/options/1: must not contain a NUL byte',
      'config.json: /process/cwd: must not contain a NUL byte',
      'config.json: /root/path: must not contain a NUL byte',
    ]);
  });

  test('at most 20 problems, then `and N more`', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'good', 'runc-spec.json'), 'utf8')) as Record<string, unknown>;
    (cfg.process as Record<string, unknown>).args = new Array(50000).fill(7);
    const err = caught(() => specFromJson(cfg));
    const lines = err.message.split('\n');
    assert.equal(lines.length, 21);
    assert.equal(lines[0], 'config.json: /process/args/0: must be string');
    assert.equal(lines[20], 'and 49980 more');
    assert.equal(limitProblems(['a', 'b']), 'a\nb');
  });

  test('empty and truncated files', () => {
    assert.equal(caught(() => parseSpecText('')).message, 'config.json: invalid JSON: unexpected end of JSON input at line 1, column 1');
    assert.equal(caught(() => parseSpecText('{\n  "a": [1,')).message, 'config.json: invalid JSON: unexpected end of JSON input at line 2, column 11');
    const err = caught(() => parseSpecText('{\n  "ociVersion": "1.0.0",\n  "root": {"path": "rootfs"}\n  "x": 1}'));
    assert.equal(err.code, 'E_CONFIG_PARSE');
    assert.equal(err.message, "config.json: invalid JSON: expected ',' or '}' after property value at line 4, column 3");
  });

  test('schema errors come before semantic checks: a schema-invalid config never reaches checkSpec', () => {
    // Both a type error and an absolute-path problem; only the schema error is reported.
    const err = caught(() => specFromJson({ ociVersion: '1.0.0', root: { path: 'rootfs' },
      process: { cwd: 'relative', args: 'sh' } }));
    assert.deepEqual(err.message.split('\n'), ['config.json: /process/args: must be array']);
  });
});

describe('checkSpec (pure part)', () => {
  test('a minimal spec has no problems; process is only required when asked for', () => {
    assert.deepEqual(problems(minimal()), []);
    const noProc: Spec = { ociVersion: '1.0.0', root: { path: 'r' } };
    assert.deepEqual(problems(noProc, false), []);
    assert.deepEqual(problems(noProc, true), ['/process: process property must not be empty']);
  });

  test('list limits: additionalGids (NGROUPS_MAX), each setup list, and the setup lists together', () => {
    const s = minimal();
    s.process!.user.additionalGids = new Array(65537).fill(1);
    s.process!.env = new Array(65537).fill('A=1');
    s.process!.args = new Array(65536).fill('true');
    s.linux = { maskedPaths: new Array(40000).fill('/x'), readonlyPaths: new Array(30000).fill('/y') };
    assert.deepEqual(problems(s), [
      '/process/user/additionalGids: at most 65536 additional gids are allowed (NGROUPS_MAX), got 65537',
      '/process/env: at most 65536 entries are allowed, got 65537',
      '/: /mounts, /linux/maskedPaths, /linux/readonlyPaths and /linux/devices together must have at most 65536 entries, got 70000',
    ]);
    s.linux = { devices: new Array(65537).fill({ path: '/dev/x', type: 'p' }) };
    s.process!.user.additionalGids = new Array(65536).fill(1);
    s.process!.env = [];
    assert.deepEqual(problems(s), ['/linux/devices: at most 65536 entries are allowed, got 65537']);
  });

  test('warnings are bounded: 20, then how many more', () => {
    const s = minimal();
    s.mounts = Array.from({ length: 50 }, (_, i) => ({ destination: `mnt${i}`, type: 'tmpfs', source: 'tmpfs' }));
    const w = specWarnings(s).map(formatProblem);
    assert.equal(w.length, 21);
    assert.equal(w[20], 'config.json: /: and 30 more warnings');
  });

  test('long values are cut in messages', () => {
    const s = minimal();
    s.process!.cwd = 'a'.repeat(5000);
    assert.deepEqual(problems(s), [`/process/cwd: must be an absolute path, got "${'a'.repeat(97)}..."`]);
  });

  test('cpu.shares: 0 is unset, otherwise [2, 262144] (runc\'s texts)', () => {
    const withShares = (shares: number) => ({ ...minimal(), linux: { resources: { cpu: { shares } } } }) as Spec;
    for (const ok of [0, 2, 1024, 262144]) assert.deepEqual(problems(withShares(ok)), [], String(ok));
    assert.deepEqual(problems(withShares(1e12)), ['/linux/resources/cpu/shares: the maximum allowed cpu-shares is 262144']);
    assert.deepEqual(problems(withShares(262145)), ['/linux/resources/cpu/shares: the maximum allowed cpu-shares is 262144']);
    assert.deepEqual(problems(withShares(1)), ['/linux/resources/cpu/shares: the minimum allowed cpu-shares is 2']);
  });

  test('ociVersion: pre-release and build metadata are fine, other majors and non-SemVer are not', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.3.0', '1.0.0-rc.1+build.5', '1.99.0']) {
      assert.deepEqual(problems({ ...minimal(), ociVersion: v }), [], v);
    }
    assert.deepEqual(problems({ ...minimal(), ociVersion: '0.5.0' }), ['/ociVersion: major version must be 1, got "0.5.0"']);
    for (const v of ['1', '1.0', 'v1.0.0', '01.0.0', '1.0.0-', '']) {
      assert.deepEqual(problems({ ...minimal(), ociVersion: v }), [`/ociVersion: must be a SemVer 2.0.0 version, got ${JSON.stringify(v)}`], v);
    }
  });

  test('every kernel capability is known (41, up to CAP_CHECKPOINT_RESTORE) and only those', () => {
    assert.equal(CAPABILITY_NAMES.length, 41);
    assert.equal(CAPABILITY_NAMES.indexOf('CAP_CHECKPOINT_RESTORE'), 40);
    assert.equal(CAPABILITY_NAMES.indexOf('CAP_SYS_ADMIN'), 21);
    assert.equal(new Set(CAPABILITY_NAMES).size, 41);
    const spec = minimal();
    spec.process!.capabilities = { bounding: [...CAPABILITY_NAMES], permitted: ['CAP_SYS_ADMIN', 'cap_sys_admin', 'CAP_ALL'] };
    // config.md asks only for a warning; tsrunc refuses a name the kernel does not know rather than
    // run without a capability the config asked for.
    assert.deepEqual(problems(spec), [
      '/process/capabilities/permitted/1: unknown capability "cap_sys_admin"',
      '/process/capabilities/permitted/2: unknown capability "CAP_ALL"',
    ]);
    assert.deepEqual(specWarnings(spec), []);
  });

  test('every rlimit name is known; soft <= hard; no duplicates', () => {
    assert.equal(RLIMIT_NAMES.length, 16);
    const spec = minimal();
    spec.process!.rlimits = RLIMIT_NAMES.map((type) => ({ type, soft: 1, hard: 2 }));
    assert.deepEqual(problems(spec), []);
    spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1025, hard: 1024 }, { type: 'RLIMIT_OFILE', soft: 1, hard: 1 }];
    assert.deepEqual(problems(spec), [
      '/process/rlimits/0: soft limit 1025 is greater than hard limit 1024',
      '/process/rlimits/1/type: unknown rlimit "RLIMIT_OFILE"',
    ]);
  });

  test('uid/gid mappings: size, 32-bit ranges, overlaps on either side, kernel count limit', () => {
    const spec = minimal();
    spec.linux = {
      namespaces: [{ type: 'user' }],
      uidMappings: [
        { containerID: 0, hostID: 100000, size: 65536 },
        { containerID: 70000, hostID: 100010, size: 5 }, // host side overlaps entry 0
        { containerID: 4294967290, hostID: 1, size: 6 }, // ends at 4294967295: (uid_t)-1
      ],
      gidMappings: [{ containerID: 0, hostID: 4294967294, size: 1 }], // the last valid id: fine
    };
    assert.deepEqual(problems(spec), [
      '/linux/uidMappings/2: containerID 4294967290 + size 6 goes past the largest uid 4294967294',
      '/linux/uidMappings/1: host uids 100010-100014 overlap /linux/uidMappings/0 (100000-165535)',
    ]);
    spec.linux.uidMappings = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
    assert.deepEqual(problems(spec), ['/linux/uidMappings: at most 340 uid mappings are allowed, got 341']);
    // A user namespace joined by path brings its own maps.
    spec.linux = { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }] };
    assert.deepEqual(problems(spec), []);
  });

  test('devices: p needs no numbers; c, b and u need both', () => {
    const spec = minimal();
    spec.linux = {
      devices: [
        { type: 'p', path: '/run/fifo' },
        { type: 'u', path: '/dev/u', minor: 1 },
        { type: 'b', path: '/dev/b', major: 8, minor: 0 },
      ],
    };
    assert.deepEqual(problems(spec), ['/linux/devices/1: major is required for device type "u"']);
  });

  test('known hook names only: unknown members of hooks are ignored', () => {
    const spec = minimal();
    spec.hooks = { createRuntime: [{ path: 'rel' }], somethingNew: [{ path: 'rel' }] };
    assert.deepEqual(problems(spec), ['/hooks/createRuntime/0/path: must be an absolute path, got "rel"']);
  });

  test('rootfsPropagation: the spec values and runc\'s recursive forms', () => {
    for (const v of ['shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable']) {
      assert.deepEqual(problems({ ...minimal(), linux: { rootfsPropagation: v } }), [], v);
    }
  });

  test('pointers escape ~ and / in keys (sysctl names, annotation keys)', () => {
    assert.equal(jsonPointer([]), '/');
    assert.equal(jsonPointer(['linux', 'sysctl', 'a/b~c']), '/linux/sysctl/a~1b~0c');
    assert.equal(valueAt({ a: { 'x/y': [5, { '~': 7 }] } }, '/a/x~1y/1/~0'), 7);
    const spec = minimal();
    spec.linux = { resources: { rdma: { 'mlx/5': {} } } };
    assert.deepEqual(problems(spec), ['/linux/resources/rdma/mlx~15: must have hcaHandles or hcaObjects']);
  });

  test('swappiness: 0-100, or uint64(-1) meaning "not set" as runc reads it', () => {
    for (const swappiness of [0, 60, 100, 18446744073709551615]) {
      assert.deepEqual(problems({ ...minimal(), linux: { resources: { memory: { swappiness } } } }), [], String(swappiness));
    }
    assert.deepEqual(problems({ ...minimal(), linux: { resources: { memory: { swappiness: 4294967295 } } } }),
      ['/linux/resources/memory/swappiness: must be between 0 and 100, got 4294967295']);
  });

  test('burst may exceed a quota that is unlimited (-1)', () => {
    const spec = minimal();
    spec.linux = { resources: { cpu: { quota: -1, burst: 5000 } } };
    assert.deepEqual(problems(spec), []);
  });
});

describe('rootfs', () => {
  test('resolveRootfs: relative to the bundle, or absolute as given', () => {
    const spec = minimal();
    assert.equal(resolveRootfs(spec, '/b'), '/b/rootfs');
    spec.root = { path: '/srv/rootfs/' };
    assert.equal(resolveRootfs(spec, '/b'), '/srv/rootfs');
    spec.root = { path: '../shared/./rootfs' };
    assert.equal(resolveRootfs(spec, '/x/b'), '/x/shared/rootfs');
    delete spec.root;
    const err = caught(() => resolveRootfs(spec, '/b'));
    assert.equal(err.code, 'E_CONFIG_INVALID');
    assert.equal(err.message, 'config.json: /root: root property must not be empty');
  });

  test('rootfsProblem: runc\'s texts', () => {
    assert.equal(rootfsProblem('/r', { kind: 'directory' }), undefined);
    assert.deepEqual(rootfsProblem('/r', { kind: 'error', text: 'permission denied' }),
      { pointer: '/root/path', message: 'invalid rootfs: stat /r: permission denied' });
    assert.deepEqual(rootfsProblem('/r', { kind: 'other' }),
      { pointer: '/root/path', message: 'invalid rootfs: /r: not a directory' });
  });

  test('statRootfs refuses a symlinked rootfs (runc); ENOTDIR reads like stat(1)', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(scratch, 'st-')));
    fs.mkdirSync(path.join(dir, 'real'));
    fs.symlinkSync('real', path.join(dir, 'link'));
    fs.writeFileSync(path.join(dir, 'f'), '');
    assert.deepEqual(statRootfs(path.join(dir, 'real')), { kind: 'directory' });
    assert.deepEqual(statRootfs(path.join(dir, 'link')), { kind: 'symlinked' });
    assert.deepEqual(rootfsProblem('/r', { kind: 'symlinked' }),
      { pointer: '/root/path', message: 'invalid rootfs: not an absolute path, or a symlink' });
    assert.deepEqual(statRootfs(path.join(dir, 'f')), { kind: 'other' });
    assert.deepEqual(statRootfs(path.join(dir, 'f', 'x')), { kind: 'error', text: 'not a directory' });
  });

  test('checkSpec reports the rootfs together with the other problems', () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'ck-'));
    const spec = minimal();
    spec.process!.cwd = 'x';
    spec.ociVersion = '3.0.0';
    const err = caught(() => checkSpec(spec, dir, { needProcess: true }));
    assert.deepEqual(err.message.split('\n'), [
      'config.json: /ociVersion: major version must be 1, got "3.0.0"',
      `config.json: /root/path: invalid rootfs: stat ${dir}/rootfs: no such file or directory`,
      'config.json: /process/cwd: must be an absolute path, got "x"',
    ]);
  });
});

describe('withoutNulls', () => {
  test('drops null members at any depth, keeps nulls inside arrays, keeps __proto__ as data', () => {
    const raw = JSON.parse('{"a":null,"b":{"c":null,"d":[null,{"e":null,"f":1}]},"__proto__":{"g":null,"polluted":true}}');
    const out = withoutNulls(raw) as Record<string, unknown>;
    // Compared as text: an object literal cannot express an own "__proto__" member.
    assert.equal(JSON.stringify(out), '{"b":{"d":[null,{"f":1}]},"__proto__":{"polluted":true}}');
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal((out as { polluted?: unknown }).polluted, undefined);
    assert.equal(withoutNulls(null), null);
  });
});

describe('state schema', () => {
  const runcState = {
    ociVersion: '1.0.2-dev', id: 'c1', pid: 5883, status: 'created', bundle: '/abs/bundle', rootfs: '/abs/bundle/rootfs',
    created: '2026-11-23T15:21:55.180284652Z', annotations: { 'org.example.key': 'v1' }, owner: '',
  };

  test('runc-shaped states pass, in every status', () => {
    assert.deepEqual(validateState(runcState), []);
    for (const status of ['created', 'running', 'paused']) assert.deepEqual(validateState({ ...runcState, status }), [], status);
    assert.deepEqual(validateState({ ...runcState, status: 'stopped', pid: 0 }), []);
    assert.deepEqual(validateState({ ociVersion: '1.0.2', id: 'x', status: 'creating', pid: 0, bundle: '/b' }), []);
    assert.deepEqual(validateState({ ...runcState, created: '2026-11-23T15:21:55+02:00', extra: { any: 1 } }), []);
  });

  test('violations, all of them', () => {
    const bad = { ...runcState, id: '', status: 'exploded', bundle: 'rel', created: 'yesterday', annotations: { a: 1 } };
    assert.deepEqual(validateState(bad), [
      'state: /id: must NOT have fewer than 1 characters, got ""',
      'state: /status: must be one of "creating", "created", "running", "paused", "stopped", got "exploded"',
      'state: /bundle: must match pattern "^/", got "rel"',
      'state: /created: must match pattern "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$", got "yesterday"',
      'state: /annotations/a: must be string',
    ]);
  });

  test('pid is always present, and > 0 for a live container', () => {
    const { pid: _pid, ...noPid } = runcState;
    assert.deepEqual(validateState(noPid), ["state: /: must have required property 'pid'"]);
    assert.deepEqual(validateState({ ...noPid, status: 'stopped' }), ["state: /: must have required property 'pid'"]);
    assert.deepEqual(validateState({ ...runcState, status: 'running', pid: 0 }), ['state: /pid: must be >= 1, got 0']);
    assert.deepEqual(validateState([]), ['state: /: must be object']);
  });
});

test('deprecated or ignorable inputs are warnings, not errors (config.md)', () => {
  const good = path.join(FIXTURES, 'good');
  const rel = loadSpec(bundleFor(path.join(good, 'warn-relative-mount-destination.json')));
  assert.deepEqual(specWarnings(rel).map(formatProblem), [
    'config.json: /mounts/2/destination: relative destination "proc" is deprecated: interpreted as "/proc"',
  ]);
});
