// process.* and the process-like linux fields in real containers, checked from inside by the
// conformance probe (/probe): user (uid, gid, additionalGids, umask), every rlimit, oomScoreAdj,
// noNewPrivileges, the five capability sets, scheduler, ioPriority, linux.personality,
// linux.memoryPolicy; apparmorProfile and selinuxLabel on a host without AppArmor and SELinux
// (refused as runc 1.1.5 refuses them); bad input of each group refused naming the field, with
// nothing left behind. Where runc 1.1.5 supports the field, the same bundle runs under runc and the
// probe's reports must agree (differential).
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/process.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../conformance/lib/config';
import { buildRootfs, defaultProbePath } from '../../conformance/lib/rootfs';
import { type CallResult, RuntimeCli } from '../../conformance/lib/runtime';
import { Tsrunc, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';

const P = `prc-${process.pid}`;
const RUNC = '/usr/sbin/runc';
const HAVE_RUNC = fs.existsSync(RUNC);
const HAVE_AA = fs.existsSync('/sys/kernel/security/apparmor');
const HAVE_SELINUX = fs.existsSync('/sys/fs/selinux/enforce');
// Real-time group scheduling (cgroup v1 cpu controller with cpu.rt_runtime_us): a new cgroup gets
// no real-time runtime unless linux.resources.cpu.realtimeRuntime gives it some.
const RT_GROUPS = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');

let tmp = '';
let rootfs = '';
let t: Tsrunc;
let runc: RuntimeCli | undefined;
const ids = new Set<string>();
let seq = 0;

function newId(tag: string): string {
  const id = `${P}-${tag}-${++seq}`;
  ids.add(id);
  return id;
}

before(() => {
  tmp = tmpDir('tsrunc-it-process');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs, { probe: defaultProbePath() });
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 15000);
  if (HAVE_RUNC) runc = new RuntimeCli(RUNC, path.join(tmp, 'runc-root'), { timeoutMs: 15000 });
});

after(() => {
  if (runc) for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

// Everything the process fields can be tested with: a shared read-only rootfs.
function bundle(tag: string, args: string[], edit: (c: Record<string, any>) => void): string {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  fs.mkdirSync(dir);
  const c = defaultConfig(args) as unknown as Record<string, any>;
  c.root = { path: rootfs, readonly: true };
  edit(c);
  // 2^64-1 as its exact digits (a double prints 18446744073709552000, which Go refuses as uint64).
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2).replace(/18446744073709552000/g, '18446744073709551615'));
  return dir;
}

function run(tag: string, dir: string): CallResult {
  return t.call(['run', '--bundle', dir, newId(tag)]);
}

/** The probe's JSON from a run that must succeed. */
function probe<T = any>(tag: string, dir: string): T {
  const r = run(tag, dir);
  assert.equal(r.status, 0, show(r));
  return JSON.parse(r.stdout) as T;
}

/** tsrunc's and runc's probe reports of the same bundle: equal, and tsrunc's is returned. */
function both<T = any>(tag: string, dir: string): T {
  const mine = probe<T>(tag, dir);
  if (runc) {
    const id = newId(`${tag}-runc`);
    const r = runc.call(['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    runc.call(['delete', '--force', id]);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(mine, JSON.parse(r.stdout), `tsrunc and runc differ:\ntsrunc: ${JSON.stringify(mine)}\nrunc:   ${r.stdout}`);
  }
  return mine;
}

/** A create that must fail with `re`, leaving nothing behind (state, cgroup, process, mount). */
function refused(tag: string, dir: string, re: RegExp): string {
  const id = newId(tag);
  const w = snapshot(t.root, [id, dir]);
  const r = t.call(['run', '--bundle', dir, id]);
  assert.equal(r.status, 1, show(r));
  const msg = errMsg(r).replace(/^tsrunc run failed: /, '');
  assert.match(msg, re);
  assert.deepEqual(leftovers(t.root, w, [id], [id, dir]), []);
  return msg;
}

const hex = (names: string[], all: readonly string[]) => {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(all.indexOf(n));
  return m.toString(16).padStart(16, '0');
};

describe('process: user, rlimits, oomScoreAdj, noNewPrivileges, capabilities (differential against runc 1.1.5)', () => {
  it('uid, gid, additionalGids and umask', () => {
    const ids = both('user', bundle('user', ['/probe', 'ids'], (c) => {
      c.process!.user = { uid: 1234, gid: 2345, additionalGids: [5, 3456, 70000], umask: 0o027 } as any;
    }));
    assert.equal(ids.uid, 1234);
    assert.equal(ids.euid, 1234);
    assert.equal(ids.gid, 2345);
    assert.deepEqual([...ids.groups].sort((a: number, b: number) => a - b), [5, 3456, 70000]);
    assert.equal(ids.status.Umask, '0027');
  });

  it('no umask in the config: 0022 (as runc)', () => {
    const ids = both('umask', bundle('umask', ['/probe', 'ids'], () => {}));
    assert.equal(ids.status.Umask, '0022');
  });

  it('every rlimit name, soft and hard as configured (2^64-1 is unlimited)', () => {
    const lims: [string, number, number][] = [
      ['RLIMIT_CPU', 100, 200], ['RLIMIT_FSIZE', 1 << 30, 1 << 30], ['RLIMIT_DATA', 2 ** 40, 2 ** 40], ['RLIMIT_STACK', 8 << 20, 16 << 20],
      ['RLIMIT_CORE', 0, 18446744073709551615], ['RLIMIT_RSS', 1 << 30, 1 << 30], ['RLIMIT_NPROC', 500, 600], ['RLIMIT_NOFILE', 300, 400],
      ['RLIMIT_MEMLOCK', 65536, 65536], ['RLIMIT_AS', 2 ** 40, 2 ** 40], ['RLIMIT_LOCKS', 10, 20], ['RLIMIT_SIGPENDING', 100, 100],
      ['RLIMIT_MSGQUEUE', 819200, 819200], ['RLIMIT_NICE', 5, 10], ['RLIMIT_RTPRIO', 1, 2], ['RLIMIT_RTTIME', 1000000, 2000000],
    ];
    // A hard limit can only be raised with CAP_SYS_RESOURCE, which this host may not give its
    // root: stay at or below the host's own hard limits (/proc/self/limits, in RLIMIT_* order).
    const hostHard = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1, 17)
      .map((l) => l.split(/\s{2,}/)[2]!).map((h) => (h === 'unlimited' ? Infinity : Number(h)));
    lims.forEach((l, i) => {
      l[2] = Math.min(l[2], hostHard[i]!);
      l[1] = Math.min(l[1], l[2]);
    });
    const got = both('rlimits', bundle('rlimits', ['/probe', 'rlimits'], (c) => {
      c.process!.rlimits = lims.map(([type, soft, hard]) => ({ type, soft, hard }));
    }));
    for (const [type, soft, hard] of lims) {
      const big = (v: number) => (v >= 2 ** 63 ? '18446744073709551615' : BigInt(v).toString());
      assert.deepEqual(got[type], { soft: big(soft), hard: big(hard) }, type);
    }
  });

  it('oomScoreAdj, and no change when it is not set', () => {
    assert.deepEqual(both('oom', bundle('oom', ['/probe', 'oom'], (c) => { c.process!.oomScoreAdj = 345; })), { oom_score_adj: 345 });
    const own = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8'));
    assert.deepEqual(probe('oom0', bundle('oom0', ['/probe', 'oom'], (c) => { delete c.process!.oomScoreAdj; })), { oom_score_adj: own });
  });

  it('noNewPrivileges true and false', () => {
    for (const nnp of [true, false]) {
      const ids = both('nnp', bundle('nnp', ['/probe', 'ids'], (c) => { c.process!.noNewPrivileges = nnp; }));
      assert.equal(ids.noNewPrivs, nnp ? 1 : 0);
      assert.equal(ids.status.NoNewPrivs, nnp ? '1' : '0');
    }
  });

  it('the five capability sets, as a non-root user with ambient capabilities', () => {
    const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
      'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE'];
    const caps = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN', 'CAP_SETUID'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
    const ids = both('caps', bundle('caps', ['/probe', 'ids'], (c) => {
      c.process!.user = { uid: 1000, gid: 1000 } as any;
      c.process!.capabilities = caps;
    }));
    // After execve as a non-root user: permitted and effective are the ambient set.
    assert.equal(ids.status.CapBnd, hex(caps.bounding, CAPS));
    assert.equal(ids.status.CapInh, hex(caps.inheritable, CAPS));
    assert.equal(ids.status.CapAmb, hex(caps.ambient, CAPS));
    assert.equal(ids.status.CapPrm, hex(caps.ambient, CAPS));
    assert.equal(ids.status.CapEff, hex(caps.ambient, CAPS));
    const root = both('caps-root', bundle('caps-root', ['/probe', 'ids'], (c) => { c.process!.capabilities = caps; }));
    assert.equal(root.status.CapPrm, hex(caps.permitted, CAPS));
    // uid 0 without file capabilities: the kernel makes the effective set the permitted one at execve.
    assert.equal(root.status.CapEff, hex(caps.permitted, CAPS));
  });
});

describe('process: scheduler, ioPriority, personality, memoryPolicy (runc 1.1.5 has none of them)', () => {
  it('SCHED_BATCH with nice, the idle I/O class, LINUX32 (uname -m says i686), MPOL_BIND on node 0 with MPOL_F_STATIC_NODES', () => {
    const dir = bundle('sched', ['sh', '-c', '/probe sched; uname -m'], (c) => {
      c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      c.linux!.personality = { domain: 'LINUX32' };
      c.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] };
    });
    const r = run('sched', dir);
    assert.equal(r.status, 0, show(r));
    const [json, machine] = r.stdout.trim().split('\n');
    const s = JSON.parse(json!);
    assert.equal(s.policy, 3);
    assert.equal(s.nice, 7);
    assert.deepEqual(s.ioprio, { class: 3, priority: 0 });
    assert.equal(s.personality, 8);
    assert.deepEqual(s.mempolicy, { mode: 2, flags: 1 << 15, nodes: [0] });
    assert.equal(machine, 'i686');
  });

  it('SCHED_FIFO priority 10 with SCHED_FLAG_RESET_ON_FORK and the real-time I/O class (real-time runtime from linux.resources)', { skip: !RT_GROUPS && 'no cgroup v1 real-time group scheduling' }, () => {
    const s = probe('fifo', bundle('fifo', ['/probe', 'sched'], (c) => {
      c.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
      c.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 3 };
      c.linux!.resources = { ...c.linux!.resources, cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
    }));
    assert.deepEqual([s.policy, s.priority, s.flags], [1, 10, 1]);
    assert.deepEqual(s.ioprio, { class: 1, priority: 3 });
  });

  it('SCHED_DEADLINE with runtime, deadline and period; a child of the shell keeps the policy', () => {
    const r = run('dl', bundle('dl', ['sh', '-c', '/probe sched'], (c) => {
      c.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 2000000, deadline: 10000000, period: 20000000 };
    }));
    assert.equal(r.status, 0, show(r));
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.policy, s.runtime, s.deadline, s.period], [6, 2000000, 10000000, 20000000]);
  });

  it('MPOL_INTERLEAVE, MPOL_PREFERRED without nodes, MPOL_LOCAL', () => {
    const cases: [Record<string, unknown>, { mode: number; nodes: number[] }][] = [
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, { mode: 3, nodes: [0] }],
      [{ mode: 'MPOL_PREFERRED' }, { mode: 4, nodes: [] }], // the kernel reports an empty preferred as MPOL_LOCAL
      [{ mode: 'MPOL_LOCAL' }, { mode: 4, nodes: [] }],
    ];
    for (const [mp, want] of cases) {
      const s = probe('mpol', bundle('mpol', ['/probe', 'sched'], (c) => { c.linux!.memoryPolicy = mp; }));
      assert.equal(s.mempolicy.mode, want.mode, JSON.stringify(mp));
      assert.deepEqual(s.mempolicy.nodes, want.nodes, JSON.stringify(mp));
    }
  });

  it('without these fields nothing changes: SCHED_OTHER nice 0, no I/O class, PER_LINUX, MPOL_DEFAULT', () => {
    const s = probe('none', bundle('none', ['/probe', 'sched'], () => {}));
    assert.deepEqual([s.policy, s.nice, s.ioprio.class, s.personality, s.mempolicy.mode], [0, 0, 0, 0, 0]);
  });

  it('execCPUAffinity is accepted and, as the spec says, not applied to the container\'s init process', () => {
    const all = fs.readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)![1];
    const s = probe('aff', bundle('aff', ['/probe', 'sched'], (c) => { c.process!.execCPUAffinity = { initial: '0', final: '0' }; }));
    assert.equal(s.cpus, all);
  });
});

describe('process: AppArmor and SELinux where the LSM is not enabled (as runc 1.1.5)', () => {
  it('apparmorProfile: the init\'s write of attr/exec fails, create fails with runc\'s text', { skip: HAVE_AA && 'AppArmor is enabled here' }, () => {
    const dir = bundle('aa', ['true'], (c) => { c.process!.apparmorProfile = 'tsrunc-test'; });
    const msg = refused('aa', dir, /^unable to start container process: error during container init: unable to apply apparmor profile: apparmor failed to apply profile: write \/proc\/self\/attr\/exec: invalid argument$/);
    if (runc) {
      const id = newId('aa-runc');
      const r = runc.call(['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      runc.call(['delete', '--force', id]);
      assert.equal(r.status, 1);
      assert.equal(errMsg(r), `runc run failed: ${msg}`);
    }
  });

  it('selinuxLabel: refused before anything is made, with runc\'s text', { skip: HAVE_SELINUX && 'SELinux is enabled here' }, () => {
    const dir = bundle('se', ['true'], (c) => { c.process!.selinuxLabel = 'system_u:system_r:container_t:s0'; });
    refused('se', dir, /^config\.json: \/process\/selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported$/);
    if (runc) {
      const id = newId('se-runc');
      const r = runc.call(['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      runc.call(['delete', '--force', id]);
      assert.equal(errMsg(r), 'runc run failed: selinux label is specified in config, but selinux is disabled or not supported');
    }
  });
});

describe('process: bad input is refused naming the field and leaves nothing behind', () => {
  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['unknown capability', (c) => { c.process.capabilities.effective.push('CAP_NOPE'); }, /^config\.json: \/process\/capabilities\/effective\/\d+: unknown capability "CAP_NOPE"$/],
    ['unknown rlimit', (c) => { c.process.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }, /^config\.json: \/process\/rlimits\/0\/type: unknown rlimit "RLIMIT_NOPE"$/],
    ['bad ioPriority class', (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_NOPE', priority: 0 }; }, /^config\.json: \/process\/ioPriority\/class: must be one of/],
    ['bad ioPriority priority', (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }; }, /^config\.json: \/process\/ioPriority\/priority: must be <= 7, got 8$/],
    ['bad scheduler policy', (c) => { c.process.scheduler = { policy: 'SCHED_NOPE' }; }, /^config\.json: \/process\/scheduler\/policy: must be one of/],
    ['SCHED_ISO', (c) => { c.process.scheduler = { policy: 'SCHED_ISO' }; }, /^config\.json: \/process\/scheduler\/policy: SCHED_ISO is not implemented by the Linux kernel$/],
    ['nice out of range', (c) => { c.process.scheduler = { policy: 'SCHED_OTHER', nice: -21 }; }, /\/process\/scheduler\/nice: invalid scheduler\.nice: -21/],
    ['bad personality domain', (c) => { c.linux.personality = { domain: 'LINUX64' }; }, /^config\.json: \/linux\/personality\/domain: must be one of "LINUX", "LINUX32", got "LINUX64"$/],
    ['personality flags', (c) => { c.linux.personality = { domain: 'LINUX', flags: ['READ_IMPLIES_EXEC'] }; }, /^config\.json: \/linux\/personality\/flags: no personality flags are supported/],
    ['bad memoryPolicy mode', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_NOPE' }; }, /^config\.json: \/linux\/memoryPolicy\/mode: must be one of/],
    ['memoryPolicy nodes', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '1-0' }; }, /\/linux\/memoryPolicy\/nodes: invalid memory policy nodes "1-0": invalid range: 1-0/],
    ['bad execCPUAffinity', (c) => { c.process.execCPUAffinity = { final: 'x' }; }, /\/process\/execCPUAffinity\/final: bad CPUAffinity\.Final/],
    // What only the kernel can refuse: refused by the init, reported with the step, nothing left.
    ['a NUMA node this host lacks', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '63' }; },
      /^set the NUMA memory policy to MPOL_BIND on nodes `63`: set_mempolicy: EINVAL \(the kernel refused this policy: .*\) \(step \d+\)$/],
    ['SCHED_FIFO without real-time runtime in the cgroup', (c) => { c.process.scheduler = { policy: 'SCHED_FIFO', priority: 5 }; },
      /^set the scheduler to SCHED_FIFO \(nice 0, priority 5\): sched_setattr: EPERM \(the kernel refused: a real-time policy needs/],
  ];
  for (const [name, edit, re] of cases) {
    const skip = name.startsWith('SCHED_FIFO without') && !RT_GROUPS && 'no cgroup v1 real-time group scheduling';
    it(name, { skip }, () => { refused('bad', bundle('bad', ['true'], edit), re); });
  }

  it('several problems at once: every one named, schema, semantic and unsupported together', () => {
    const msg = refused('many', bundle('many', ['true'], (c) => {
      c.process.capabilities.bounding.push('CAP_A');
      c.process.rlimits = [{ type: 'RLIMIT_B', soft: 1, hard: 1 }];
      c.process.ioPriority = { class: 'C', priority: 0 };
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] }; // not supported
    }), /./);
    const lines = msg.split('\n');
    assert.equal(lines.length, 4, msg);
    for (const re of [/\/process\/ioPriority\/class/, /CAP_A/, /RLIMIT_B/, /\/linux\/seccomp\/architectures\/0/]) assert.ok(lines.some((l) => re.test(l)), `${re}: ${msg}`);
  });
});

describe('linux.intelRdt and linux.resources.rdma where the host lacks them', () => {
  const HAVE_RESCTRL = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl ');
  const HAVE_RDMA = fs.existsSync('/sys/fs/cgroup/rdma') || (fs.existsSync('/sys/fs/cgroup/cgroup.controllers') &&
    fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('rdma'));

  it('intelRdt without a resctrl filesystem: refused (the spec requires an error; runc 1.1.5 ignores a bare closID)', { skip: HAVE_RESCTRL && 'resctrl is mounted here' }, () => {
    refused('rdt', bundle('rdt', ['true'], (c) => { c.linux.intelRdt = { closID: 'tsrunc' }; }),
      /^config\.json: \/linux\/intelRdt: intelRdt is specified in config, but Intel RDT is not enabled/);
    refused('rdt', bundle('rdt', ['true'], (c) => { c.linux.intelRdt = { l3CacheSchema: 'L3:0=f' }; }),
      /^config\.json: \/linux\/intelRdt\/l3CacheSchema: intelRdt\.l3CacheSchema is specified in config, but Intel RDT\/CAT is not enabled\n/);
  });

  it('rdma limits without an rdma cgroup controller: runc\'s text, nothing left behind', { skip: HAVE_RDMA && 'this host has the rdma controller' }, () => {
    const dir = bundle('rdma', ['true'], (c) => { c.linux.resources = { rdma: { mlx5_0: { hcaHandles: 3 } } }; });
    const msg = refused('rdma', dir, /^cannot set rdma limit: container could not join or create cgroup$/);
    if (runc) {
      const id = newId('rdma-runc');
      const r = runc.call(['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      runc.call(['delete', '--force', id]);
      assert.equal(r.status, 1);
      assert.ok(errMsg(r).endsWith(msg), errMsg(r));
    }
  });
});
