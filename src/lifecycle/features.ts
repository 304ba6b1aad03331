// `tsrunc features`: the Features structure of runtime-spec features.md / features-linux.md.
//
// Nothing here is a hand-written claim about what tsrunc implements. Each answer comes from the
// code that decides what `create` accepts:
//   - the candidates are the tables that validation and the plan compiler use (src/plan/tables.ts,
//     src/spec/checks.ts: CAPABILITIES, MOUNT_FLAGS, PROPAGATION_FLAGS, NAMESPACE_TYPES, HOOK_NAMES);
//   - each candidate (and each optional feature: seccomp, AppArmor, SELinux, RDMA, ...) is then put
//     in a small config derived from `tsrunc spec`'s default and run through the same pipeline as a
//     bundle's config.json: the schema (specFromJson), the semantic checks (specProblems) and the
//     "not implemented yet" gate of the plan compiler (checkSupported). Only what passes is listed.
// So a feature shows up here exactly when its refusal is removed from checkSupported, and a probe
// config that is itself invalid is a bug (E_INTERNAL), never a silent "not supported".
// The result does not depend on the host (features.md: irrelevant to the host's kernel).
import { TsruncError } from '../errors';
import { checkSupported } from '../plan/compile';
import { CAPABILITIES, EXTENSION_OPTIONS, MOUNT_FLAGS, PROPAGATION_FLAGS, RECURSIVE_FLAGS } from '../plan/tables';
import { MPOL_FLAGS, MPOL_MODES } from '../plan/process';
import { SECCOMP_OPERATORS, SECCOMP_SPEC_ACTIONS, SECCOMP_SPEC_ARCHS, SECCOMP_SPEC_FLAGS } from '../plan/seccomp';
import type { CgroupMode } from '../cgroup/host';
import { HOOK_NAMES, NAMESPACE_TYPES, formatProblem, specProblems } from '../spec/checks';
import { SPEC_VERSION, defaultSpec } from '../spec/default';
import { specFromJson } from '../spec/load';
import type { Namespace, Spec } from '../spec/types';

/** The Features structure (runtime-spec 1.3.0), in the key order runc prints. */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: {
      enabled: boolean; actions?: string[]; operators?: string[]; archs?: string[]; knownFlags?: string[]; supportedFlags?: string[];
    };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
    netDevices: { enabled: boolean };
    memoryPolicy: { modes: string[]; flags: string[] };
  };
}

/** The oldest config.json version accepted: every 1.x is (checks.ts refuses other majors only). */
export const OCI_VERSION_MIN = '1.0.0';

/**
 * The cgroup layouts the cgroup manager drives (src/cgroup: `CgroupMode`; the Record type makes
 * the compiler ask for an entry when a mode is added) and the cgroup versions each one uses.
 */
const CGROUP_MODE_VERSIONS: Readonly<Record<CgroupMode, readonly ('v1' | 'v2')[]>> = {
  v1: ['v1'], // v1 controllers only
  hybrid: ['v1', 'v2'], // v1 controllers plus the cgroup2 mount (devices/freezer through v1)
  v2: ['v2'], // unified: cgroup2 only, eBPF device program
};

/**
 * The systemd cgroup driver (`--systemd-cgroup`): `create` refuses it (src/lifecycle/create.ts,
 * "the systemd cgroup manager is not supported by this version of tsrunc"). There is no user
 * (rootless) systemd driver either.
 */
const SYSTEMD_CGROUP_DRIVER = false;

export type Verdict = 'accepted' | 'unsupported';

/** The config every probe starts from: `tsrunc spec`'s, without a terminal (no console socket). */
function baseSpec(): Spec {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0, cgroupNamespace: false });
  s.process!.terminal = false;
  return s;
}

/**
 * What create would say to the base config changed by `edit`: accepted, or refused as not
 * implemented (E_UNSUPPORTED). Any other refusal means the probe config is wrong: E_INTERNAL.
 */
export function probe(what: string, edit: (s: Spec) => void): Verdict {
  const s = baseSpec();
  edit(s);
  let spec: Spec;
  try {
    spec = specFromJson(JSON.parse(JSON.stringify(s)));
  } catch (e) {
    throw new TsruncError('E_INTERNAL', `features: the probe config for ${what} is invalid: ${(e as Error).message}`, { cause: e });
  }
  const problems = specProblems(spec, { needProcess: true });
  if (problems.length > 0) {
    throw new TsruncError('E_INTERNAL',
      `features: the probe config for ${what} is invalid: ${problems.map(formatProblem).join('; ')}`);
  }
  try {
    checkSupported(spec);
    return 'accepted';
  } catch (e) {
    if (e instanceof TsruncError && e.code === 'E_UNSUPPORTED') return 'unsupported';
    throw e;
  }
}

const accepted = (what: string, edit: (s: Spec) => void) => probe(what, edit) === 'accepted';

/**
 * For an optional feature that has no table of values yet: accepted means a table must be added
 * here (and to the schema) before tsrunc can describe it; until then, refuse to guess.
 */
function needsTable(what: string): never {
  throw new TsruncError('E_INTERNAL',
    `features: ${what} is accepted by create but src/lifecycle/features.ts has no table to list its values`);
}

const IDMAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
/** Mount options of the idmapped-mount extension (config.md). */
const IDMAP_OPTIONS = ['idmap', 'ridmap'];

export function features(): Features {
  for (const v of [OCI_VERSION_MIN, SPEC_VERSION]) {
    if (!accepted(`ociVersion ${v}`, (s) => { s.ociVersion = v; })) {
      throw new TsruncError('E_INTERNAL', `features: ociVersion ${v} is not accepted`);
    }
  }

  const hooks = HOOK_NAMES.filter((h) => accepted(`hook ${h}`, (s) => {
    s.hooks = { [h]: [{ path: '/bin/true' }] };
  }));

  // Options tsrunc itself recognises (flags, propagation, recursive attributes, tmpcopyup) on a
  // tmpfs, and the idmap extensions on a bind mount with its maps; anything else is filesystem data
  // (features.md: not listed).
  const mountOptions = [
    ...[...Object.keys(MOUNT_FLAGS), ...Object.keys(PROPAGATION_FLAGS), ...Object.keys(RECURSIVE_FLAGS), ...EXTENSION_OPTIONS]
      .filter((o) => accepted(`mount option ${o}`, (s) => {
        s.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: [o] });
      })),
    ...IDMAP_OPTIONS.filter((o) => accepted(`mount option ${o}`, (s) => {
      s.mounts!.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['bind', o], uidMappings: IDMAP, gidMappings: IDMAP });
    })),
  ].sort();

  const namespaces = NAMESPACE_TYPES.filter((t) => accepted(`namespace ${t}`, (s) => {
    const l = s.linux!;
    if (!l.namespaces!.some((n) => n.type === t)) l.namespaces!.push({ type: t as Namespace['type'] });
    if (t === 'user') { l.uidMappings = IDMAP; l.gidMappings = IDMAP; }
  })).sort();

  const capabilities = CAPABILITIES.filter((c) => accepted(`capability ${c}`, (s) => {
    s.process!.capabilities = { bounding: [c], effective: [c], permitted: [c] };
  }));

  const modes = Object.values(CGROUP_MODE_VERSIONS).flat();
  const rdma = accepted('linux.resources.rdma', (s) => {
    s.linux!.resources = { ...s.linux!.resources, rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } };
  });

  const seccomp = accepted('linux.seccomp', (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }; });
  const seccompWith = (what: string, sc: Record<string, unknown>) =>
    accepted(`linux.seccomp ${what}`, (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', ...sc }; });
  const seccompInfo: Features['linux']['seccomp'] = !seccomp ? { enabled: false } : {
    enabled: true,
    actions: SECCOMP_SPEC_ACTIONS.filter((a) => seccompWith(a, { syscalls: [{ names: ['mkdir'], action: a }] })),
    operators: Object.keys(SECCOMP_OPERATORS).filter((op) =>
      seccompWith(op, { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0, op }] }] })),
    archs: SECCOMP_SPEC_ARCHS.filter((a) => seccompWith(a, { architectures: [a] })),
    knownFlags: [...SECCOMP_SPEC_FLAGS],
    supportedFlags: SECCOMP_SPEC_FLAGS.filter((f) => seccompWith(f, { flags: [f] })),
  };

  // Each mode with the nodes it needs (none for MPOL_DEFAULT/MPOL_LOCAL), each flag with MPOL_BIND.
  const mpolNodes = (m: string) => (m === 'MPOL_DEFAULT' || m === 'MPOL_LOCAL' ? {} : { nodes: '0' });
  const memoryPolicy = {
    modes: Object.keys(MPOL_MODES).filter((m) => accepted(`linux.memoryPolicy mode ${m}`, (s) => {
      s.linux!.memoryPolicy = { mode: m, ...mpolNodes(m) };
    })).sort(),
    flags: Object.keys(MPOL_FLAGS).filter((f) => accepted(`linux.memoryPolicy flag ${f}`, (s) => {
      s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: [f] };
    })).sort(),
  };

  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: SPEC_VERSION,
    hooks,
    mountOptions,
    linux: {
      namespaces,
      capabilities,
      cgroup: {
        v1: modes.includes('v1'),
        v2: modes.includes('v2'),
        systemd: SYSTEMD_CGROUP_DRIVER,
        systemdUser: SYSTEMD_CGROUP_DRIVER,
        rdma,
      },
      seccomp: seccompInfo,
      apparmor: { enabled: accepted('process.apparmorProfile', (s) => { s.process!.apparmorProfile = 'tsrunc-features-probe'; }) },
      selinux: {
        enabled: accepted('process.selinuxLabel', (s) => { s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'; }),
      },
      intelRdt: { enabled: accepted('linux.intelRdt', (s) => { s.linux!.intelRdt = { closID: 'tsrunc-features-probe' }; }) },
      mountExtensions: {
        idmap: {
          enabled: accepted('mounts[].uidMappings', (s) => {
            s.mounts!.push({
              destination: '/mnt', type: 'bind', source: '/tmp', options: ['bind', 'idmap'],
              uidMappings: IDMAP, gidMappings: IDMAP,
            });
          }),
        },
      },
      netDevices: { enabled: accepted('linux.netDevices', (s) => { s.linux!.netDevices = { eth1: {} }; }) },
      memoryPolicy,
    },
  };
}
