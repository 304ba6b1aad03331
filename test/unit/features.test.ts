// `tsrunc features`: the output validates against schemas/features.schema.json (compiled at build
// time, dist/schemas/features-validator.js), and every claim is cross-checked against the tables and
// the gate that create uses (checkSupported), independently of the probes in features.ts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/context';
import { TsruncError } from '../../src/errors';
import { OCI_VERSION_MIN, features, probe } from '../../src/lifecycle/features';
import { OCI_VERSION } from '../../src/lifecycle/container';
import { checkSupported } from '../../src/plan/compile';
import {
  CAPABILITIES, EXTENSION_OPTIONS, MOUNT_FLAGS, PROPAGATION_FLAGS, RECURSIVE_FLAGS,
} from '../../src/plan/tables';
import { HOOK_NAMES, NAMESPACE_TYPES, specProblems } from '../../src/spec/checks';
import { SPEC_VERSION, defaultSpec } from '../../src/spec/default';
import { specFromJson } from '../../src/spec/load';
import type { Spec } from '../../src/spec/types';
import { SECCOMP_SPEC_ACTIONS, SECCOMP_SPEC_ARCHS, SECCOMP_SPEC_FLAGS } from '../../src/plan/seccomp';

// dist/test/unit -> dist/schemas
const validate = require(path.join(__dirname, '..', '..', 'schemas', 'features-validator.js')) as
  ((d: unknown) => boolean) & { errors?: unknown[] | null };

function schemaErrors(v: unknown): string {
  return validate(v) ? '' : JSON.stringify(validate.errors, null, 1);
}

/** A config the way a bundle would give it, run through create's checks: schema, semantics, gate. */
function gate(edit: (s: Spec) => void): 'accepted' | string {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0 });
  s.process!.terminal = false;
  edit(s);
  const spec = specFromJson(JSON.parse(JSON.stringify(s)));
  assert.deepEqual(specProblems(spec, { needProcess: true }), [], 'the test config itself must be valid');
  try {
    checkSupported(spec);
    return 'accepted';
  } catch (e) {
    assert.ok(e instanceof TsruncError && e.code === 'E_UNSUPPORTED', `not E_UNSUPPORTED: ${String(e)}`);
    return e.message;
  }
}

function cli(argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => { out += s; },
    stderr: { write: (s) => { err += s; }, isTTY: false },
    cwd: () => '/',
    lifecycle: () => { throw new Error('features must not load the lifecycle library'); },
    systemdRunning: () => false,
    cgroup2Unified: () => false,
    euid: () => 0,
    egid: () => 0,
  };
  return main(argv, io).then((rc) => ({ rc, out, err }));
}

const F = features();

test('features: valid against schemas/features.schema.json', () => {
  assert.equal(schemaErrors(F), '');
});

test('features schema: rejects what 1.3.0 does not define, a bad name and seccomp lists while disabled', () => {
  const bad: [string, unknown][] = [
    ['unknown top-level member', { ...F, foo: 1 }],
    ['unknown linux member', { ...F, linux: { ...F.linux, personality: {} } }],
    ['no ociVersionMax', { ...F, ociVersionMax: undefined }],
    ['an unknown namespace', { ...F, linux: { ...F.linux, namespaces: ['pid', 'nope'] } }],
    ['a duplicate hook', { ...F, hooks: ['prestart', 'prestart'] }],
    ['seccomp actions while disabled', { ...F, linux: { ...F.linux, seccomp: { enabled: false, actions: ['SCMP_ACT_ALLOW'] } } }],
    ['a capability not named CAP_*', { ...F, linux: { ...F.linux, capabilities: ['chown'] } }],
  ];
  for (const [what, v] of bad) {
    assert.equal(validate(JSON.parse(JSON.stringify(v))), false, what);
  }
});

test('features: versions are what validation accepts and state.json reports', () => {
  assert.equal(F.ociVersionMin, OCI_VERSION_MIN);
  assert.equal(F.ociVersionMax, SPEC_VERSION);
  assert.equal(F.ociVersionMax, OCI_VERSION);
  for (const v of [F.ociVersionMin, F.ociVersionMax]) assert.equal(gate((s) => { s.ociVersion = v; }), 'accepted');
});

test('features: capabilities are the capability table, in bit order, and each one is accepted', () => {
  assert.deepEqual(F.linux.capabilities, [...CAPABILITIES]);
  assert.equal(F.linux.capabilities[40], 'CAP_CHECKPOINT_RESTORE');
  for (const c of F.linux.capabilities) {
    assert.equal(gate((s) => { s.process!.capabilities = { bounding: [c] }; }), 'accepted', c);
  }
});

test('features: mountOptions are the flag, propagation, recursive and extension tables and the idmap options', () => {
  const tables = [
    ...Object.keys(MOUNT_FLAGS), ...Object.keys(PROPAGATION_FLAGS), ...Object.keys(RECURSIVE_FLAGS), ...EXTENSION_OPTIONS, 'idmap', 'ridmap',
  ].sort();
  // config.md's table: every MUST and SHOULD option.
  for (const o of ['async', 'defaults', 'iversion', 'lazytime', 'loud', 'nosymfollow', 'symfollow', 'remount', 'rro', 'ratime', 'rnosymfollow', 'tmpcopyup', 'idmap', 'ridmap']) {
    assert.ok(F.mountOptions.includes(o), o);
  }
  assert.deepEqual(F.mountOptions, tables);
  // Filesystem data (features.md: not listed).
  for (const o of ['mode=755', 'size=65536k', 'newinstance']) assert.ok(!F.mountOptions.includes(o), o);
  for (const o of ['ro', 'nosuid', 'rbind', 'rslave', 'strictatime', 'nosymfollow']) assert.ok(F.mountOptions.includes(o), o);
});

test('features: namespaces are exactly the types create accepts', () => {
  assert.deepEqual([...F.linux.namespaces].sort(), F.linux.namespaces);
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  for (const t of NAMESPACE_TYPES) {
    const verdict = gate((s) => {
      if (!s.linux!.namespaces!.some((n) => n.type === t)) s.linux!.namespaces!.push({ type: t as never });
      if (t === 'user') { s.linux!.uidMappings = map; s.linux!.gidMappings = map; }
    });
    assert.equal(F.linux.namespaces.includes(t), verdict === 'accepted', `${t}: ${verdict}`);
  }
  for (const t of ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'user', 'time']) assert.ok(F.linux.namespaces.includes(t), t);
});

test('features: hooks are exactly those create accepts (all six)', () => {
  for (const h of HOOK_NAMES) {
    const verdict = gate((s) => { s.hooks = { [h]: [{ path: '/bin/true' }] }; });
    assert.equal(F.hooks.includes(h), verdict === 'accepted', `${h}: ${verdict}`);
  }
  assert.deepEqual(F.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
});

test('features: optional features are claimed exactly when create accepts them', () => {
  const cases: [string, boolean, (s: Spec) => void][] = [
    ['seccomp', F.linux.seccomp.enabled, (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO' }; }],
    ['apparmor', F.linux.apparmor.enabled, (s) => { s.process!.apparmorProfile = 'p'; }],
    ['selinux', F.linux.selinux.enabled, (s) => { s.process!.selinuxLabel = 'l'; }],
    ['intelRdt', F.linux.intelRdt.enabled, (s) => { s.linux!.intelRdt = { closID: 'c' }; }],
    ['netDevices', F.linux.netDevices.enabled, (s) => { s.linux!.netDevices = { eth0: { name: 'eth1' } }; }],
    ['rdma', F.linux.cgroup.rdma, (s) => { s.linux!.resources = { rdma: { mlx4_0: { hcaHandles: 1 } } }; }],
    ['idmap', F.linux.mountExtensions.idmap.enabled, (s) => {
      const m = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.mounts!.push({ destination: '/m', type: 'bind', source: '/var', options: ['rbind', 'ridmap'], uidMappings: m, gidMappings: m });
    }],
    ['memoryPolicy', F.linux.memoryPolicy.modes.length > 0, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }; }],
  ];
  for (const [what, claimed, edit] of cases) {
    const verdict = gate(edit);
    assert.equal(claimed, verdict === 'accepted', `${what}: claimed ${claimed}, create says ${verdict}`);
  }
  // Today's answers, stated once so that a change is seen in review.
  assert.deepEqual(F.linux.seccomp, {
    enabled: true,
    actions: ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
      'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'],
    operators: ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'],
    archs: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
      'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
      'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
      'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64'],
    knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
  });
  assert.deepEqual(F.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
  assert.deepEqual(F.linux.memoryPolicy, {
    modes: ['MPOL_BIND', 'MPOL_DEFAULT', 'MPOL_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE'],
    flags: ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'],
  });
  assert.equal(F.linux.apparmor.enabled, true);
  assert.equal(F.linux.selinux.enabled, false);
  assert.equal(F.linux.intelRdt.enabled, false);
});

test('features: the probes never mistake an invalid probe config for "not supported"', () => {
  assert.equal(probe('base', () => {}), 'accepted');
  assert.throws(() => probe('broken', (s) => { (s as { ociVersion: unknown }).ociVersion = 7; }),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_INTERNAL' && /probe config for broken/.test(e.message));
  assert.throws(() => probe('duplicate namespace', (s) => { s.linux!.namespaces!.push({ type: 'pid' }); }),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_INTERNAL');
  assert.equal(probe('seccomp', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }; }), 'accepted');
  assert.equal(probe('seccomp notify', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' }; }), 'accepted');
  assert.equal(probe('seccomp m68k', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] }; }), 'unsupported');
});

test('features: every seccomp action, arch and flag is listed exactly when create accepts it', () => {
  const sc = (x: Record<string, unknown>) => (s: Spec) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', ...x }; };
  for (const a of SECCOMP_SPEC_ACTIONS) {
    assert.equal(F.linux.seccomp.actions!.includes(a), gate(sc({ syscalls: [{ names: ['mkdir'], action: a }] })) === 'accepted', a);
  }
  for (const a of SECCOMP_SPEC_ARCHS) assert.equal(F.linux.seccomp.archs!.includes(a), gate(sc({ architectures: [a] })) === 'accepted', a);
  for (const f of SECCOMP_SPEC_FLAGS) assert.equal(F.linux.seccomp.supportedFlags!.includes(f), gate(sc({ flags: [f] })) === 'accepted', f);
});

test('features: the output does not depend on the host and is stable', () => {
  assert.deepEqual(features(), F);
});

test('tsrunc features: runc\'s layout (4-space JSON, trailing newline), rc 0; arguments refused', async () => {
  const r = await cli(['features']);
  assert.equal(r.rc, 0);
  assert.equal(r.err, '');
  assert.ok(r.out.endsWith('\n}\n'));
  assert.ok(r.out.startsWith('{\n    "ociVersionMin": "1.0.0",\n    "ociVersionMax": "1.3.0",\n'), r.out.slice(0, 80));
  assert.deepEqual(JSON.parse(r.out), F);
  assert.deepEqual(Object.keys(JSON.parse(r.out) as object), ['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux']);
  const bad = await cli(['features', 'x']);
  assert.equal(bad.rc, 1);
  assert.match(bad.err, /features/);
  const help = await cli(['features', '--help']);
  assert.equal(help.rc, 0);
  assert.match(help.out, /show the enabled features/);
});
