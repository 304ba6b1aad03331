// linux.seccomp -> the filter description addon/seccomp.cc compiles (src/plan/seccomp.ts), where
// the SECCOMP op goes in the plan, and the BPF the addon makes of it (libseccomp, no container).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compile, checkSupported } from '../../src/plan/compile';
import { linkSeccomp, seccompPlan } from '../../src/plan/seccomp';
import { loadNative } from '../../src/sys/native';
import { defaultSpec } from '../../src/spec/default';
import { TsruncError } from '../../src/errors';
import { specWarnings } from '../../src/spec/checks';
import type { LinuxSeccomp, Spec } from '../../src/spec/types';

const ERRNO = 0x00050000;
const ALLOW = 0x7fff0000;

test('actions: errnoRet (default EPERM) for ERRNO and TRACE, defaultErrnoRet for the default, KILL is KILL_THREAD', () => {
  const p = seccompPlan({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE' },
      { names: ['kill'], action: 'SCMP_ACT_KILL' },
      { names: ['tkill'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['uname'], action: 'SCMP_ACT_LOG' },
      { names: ['getpid'], action: 'SCMP_ACT_TRAP' },
    ],
  });
  assert.equal(p.filter.defaultAction, ERRNO | 38);
  assert.deepEqual(p.filter.rules.map((r) => [r.name, r.action]), [
    ['read', ALLOW], ['write', ALLOW], ['mkdir', ERRNO | 1], ['rmdir', ERRNO | 13], ['ptrace', 0x7ff00001],
    ['kill', 0], ['tkill', 0x80000000], ['uname', 0x7ffc0000], ['getpid', 0x00030000],
  ]);
  assert.equal(p.flags, 0);
});

test('a rule with the default action is dropped (runc; libseccomp refuses it)', () => {
  const p = seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.deepEqual(p.filter.rules.map((r) => r.name), ['mkdir']);
});

test('args: conditions on distinct indexes are ANDed in one rule; two on one index become a rule each (runc)', () => {
  const and = seccompPlan({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 17, op: 'SCMP_CMP_EQ' }, { index: 1, value: 0xf, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' }] }],
  });
  assert.deepEqual(and.filter.rules, [{ name: 'socket', action: ERRNO | 1, args: [
    { index: 0, op: 4, value: '17', valueTwo: '0' }, { index: 1, op: 7, value: '15', valueTwo: '3' }] }]);
  const split = seccompPlan({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality', 'clone'], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 8, op: 'SCMP_CMP_NE' }, { index: 0, value: 0xffffffff, op: 'SCMP_CMP_LT' }] }],
  });
  assert.deepEqual(split.filter.rules.map((r) => [r.name, r.args.map((a) => `${a.index}:${a.op}:${a.value}`)]), [
    ['personality', ['0:1:8']], ['personality', ['0:2:4294967295']], ['clone', ['0:1:8']], ['clone', ['0:2:4294967295']],
  ]);
});

test('architectures and flags', () => {
  const p = seccompPlan({
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
  });
  assert.deepEqual(p.filter.archs, ['x86_64', 'x86', 'x32', 'aarch64']);
  assert.equal(p.flags, 7);
});

test('refused, naming the field: archs libseccomp 2.5 lacks (E_UNSUPPORTED); NOTIFY misuse (E_CONFIG_INVALID)', () => {
  assert.throws(() => seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_M68K'] }),
    (e: unknown) => e instanceof TsruncError && e.code === 'E_UNSUPPORTED' && /\/linux\/seccomp\/architectures\/1: SCMP_ARCH_M68K/.test(e.message));
  const cases: [LinuxSeccomp, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a.sock' }, /\/linux\/seccomp\/defaultAction: SCMP_ACT_NOTIFY cannot be used as default action/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW' }, { names: ['y'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/listenerPath: SCMP_ACT_NOTIFY needs a listenerPath/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a.sock', syscalls: [{ names: ['read', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }, /\/linux\/seccomp\/syscalls\/0\/names: SCMP_ACT_NOTIFY cannot be used for sendmsg/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, /\/linux\/seccomp\/flags\/0: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule/],
  ];
  for (const [sc, re] of cases) {
    assert.throws(() => seccompPlan(sc), (e: unknown) => e instanceof TsruncError && e.code === 'E_CONFIG_INVALID' && re.test(e.message), re.source);
  }
  assert.throws(() => seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [''], action: 'SCMP_ACT_ERRNO' }] }),
    /\/linux\/seccomp\/syscalls\/0\/names: empty string/);
  assert.throws(() => seccompPlan({ defaultAction: 'SCMP_ACT_DENY' }), /unknown seccomp action "SCMP_ACT_DENY"/);
});

test('errnoRet with an action that takes none is a warning naming the field (ignored, as runc does)', () => {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0 });
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 5, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }, { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 }] };
  assert.deepEqual(specWarnings(s).map((w) => w.pointer), ['/linux/seccomp/defaultErrnoRet', '/linux/seccomp/syscalls/0/errnoRet']);
});

function spec(nnp: boolean): Spec {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0 });
  s.process!.terminal = false;
  s.process!.noNewPrivileges = nnp;
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  return s;
}

function ops(s: Spec): string[] {
  checkSupported(s);
  return compile(s, {
    bundle: '/b', rootfs: '/b/rootfs', fifoPath: '/run/x/exec.fifo', noPivot: false, keepFds: 0,
    host: { cgroup: { mode: 'v2', v1: [], unifiedDir: '/sys/fs/cgroup/c' } },
  }).ops.map((o) => o.op);
}

test('plan: with noNewPrivileges the filter comes last, between WAIT_START and EXEC (installed right before execve)', () => {
  const o = ops(spec(true));
  assert.deepEqual(o.slice(-3), ['WAIT_START', 'SECCOMP', 'EXEC']);
  assert.equal(o.filter((x) => x === 'SECCOMP').length, 1);
});

test('plan: without noNewPrivileges it comes before the capabilities are dropped (it needs CAP_SYS_ADMIN)', () => {
  const o = ops(spec(false));
  assert.equal(o.indexOf('SECCOMP') + 1, o.indexOf('CAPS'));
  assert.ok(o.indexOf('SECCOMP') < o.indexOf('USER'));
  assert.equal(o.filter((x) => x === 'SECCOMP').length, 1);
});

test('libseccomp (addon): a BPF program of sock_filters; unknown names skipped; linked into the plan as hex', () => {
  const n = loadNative();
  const p = seccompPlan({
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['read', 'no_such_syscall_x'], action: 'SCMP_ACT_ALLOW' },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
  });
  const r = n.seccompCompile(p.filter);
  assert.ok(r.bpf.length > 0 && r.bpf.length % 8 === 0, `${r.bpf.length} bytes`);
  assert.deepEqual(r.skipped, ['no_such_syscall_x']);
  // The first instruction loads seccomp_data.arch (BPF_LD|BPF_W|BPF_ABS, k = 4).
  assert.equal(r.bpf.readUInt16LE(0), 0x20);
  assert.equal(r.bpf.readUInt32LE(4), 4);
  const logs: string[] = [];
  const linked = linkSeccomp([{ op: 'SECCOMP', strs: [JSON.stringify(p.filter)] }, { op: 'EXEC', strs: ['sh'] }],
    (f) => n.seccompCompile(f), (m) => logs.push(m));
  assert.equal(linked[0]!.strs[0], r.bpf.toString('hex'));
  assert.deepEqual(linked[1]!.strs, ['sh']);
  assert.deepEqual(logs, ['unknown seccomp syscall "no_such_syscall_x" ignored']);
});

test('NOTIFY: the listener, flags without TSYNC (EINVAL with NEW_LISTENER), listenerPath ignored without NOTIFY', () => {
  const p = seccompPlan({
    defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'm',
    flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  });
  assert.deepEqual(p.listener, { path: '/run/agent.sock', metadata: 'm' });
  assert.equal(p.flags, 32);
  assert.equal(p.filter.rules[0]!.action, 0x7fc00000);
  assert.equal(seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }).listener, undefined);
});

test('plan: NOTIFY installs SECCOMP_LISTENER right before WAIT_START with noNewPrivileges, before CAPS without', () => {
  for (const nnp of [true, false]) {
    const s = spec(nnp);
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    const o = ops(s);
    assert.ok(!o.includes('SECCOMP'));
    assert.equal(o.filter((x) => x === 'SECCOMP_LISTENER').length, 1);
    if (nnp) assert.deepEqual(o.slice(-3), ['SECCOMP_LISTENER', 'WAIT_START', 'EXEC']);
    else assert.equal(o.indexOf('SECCOMP_LISTENER') + 1, o.indexOf('CAPS'));
  }
});
