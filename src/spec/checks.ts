// Semantic checks of a schema-valid config.json: the rules a JSON schema cannot state or cannot state
// with a useful message (absolute paths, known names, duplicates, id-mapping ranges, the rootfs on
// disk). Every problem is collected and reported at once, one per line, in the schema's format
// `config.json: <pointer>: <message>`; where runc has a well-known text it is kept inside the message.
//
// Scope: values that are invalid per runtime-spec 1.3.0 or the kernel. Valid values tsrunc does not
// implement yet are NOT rejected here (that is decided where the feature would be implemented).
//
// Layout: specProblems() and rootfsProblem() are pure; checkSpec() adds the one side effect (stat of
// the rootfs) and throws.

// Named imports: `import * as` compiles to __importStar, which copies every export of the module
// at load time (measurably slower for fs).
import { realpathSync, statSync } from 'fs';
import { resolve as resolvePath } from 'path';
import { TsruncError } from '../errors';
import type { IdMapping, LinuxBlockIO, LinuxCPU, LinuxRdmaEntry, LinuxSeccomp, Spec } from './types';
import { MAX_PROBLEMS, jsonPointer, limitProblems } from './validate';
import { CAPABILITIES, RLIMITS } from '../plan/tables';
import { processAttrProblems } from '../plan/process';
import { netDeviceProblems } from '../plan/netdev';

export interface CheckOptions {
  /** True for operations that will run the process (create, run): `process` must be present. */
  needProcess: boolean;
}

export interface SpecProblem {
  /** JSON pointer into config.json (`/` for the root). */
  pointer: string;
  message: string;
}

/** Capability names, index = capability number; rlimit names (one table: src/plan/tables.ts). */
export const CAPABILITY_NAMES: readonly string[] = CAPABILITIES;
export const RLIMIT_NAMES: readonly string[] = Object.keys(RLIMITS);

export const NAMESPACE_TYPES: readonly string[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

export const DEVICE_TYPES: readonly string[] = ['c', 'b', 'u', 'p'];

/**
 * The spec lists shared/slave/private/unbindable; runc also accepts the recursive r* forms and
 * callers send them (containerd's CRI uses rslave/rshared), so both are valid here.
 */
export const ROOTFS_PROPAGATIONS: readonly string[] = [
  'shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable',
];

export const HOOK_NAMES: readonly string[] = [
  'prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop',
];

/** Clocks a time namespace can offset (time_namespaces(7)). */
export const TIME_OFFSET_CLOCKS: readonly string[] = ['monotonic', 'boottime'];

/** NGROUPS_MAX: the most supplementary groups setgroups(2) takes. */
export const MAX_ADDITIONAL_GIDS = 65536;

/**
 * Upper bound on each list that becomes setup work (mounts, linux.maskedPaths, linux.readonlyPaths,
 * linux.devices, process.rlimits, process.env, process.args), and on mounts + maskedPaths +
 * readonlyPaths + devices together: each of those is at least one operation of the init's plan,
 * whose decoder refuses more than 100 000. Larger configs are refused up front, naming the field.
 */
export const MAX_LIST_ENTRIES = 65536;

/** The kernel's range for cpu.shares (0 means unset): runc's texts. */
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262144;

/** The kernel's limit on lines in uid_map/gid_map (since 4.15). */
export const MAX_ID_MAPPINGS = 340;

// SemVer 2.0.0 (semver.org), as config.md requires for ociVersion.
const SEMVER = new RegExp(
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)' +
  '(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?' +
  '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$');

const UINT64_MAX = 18446744073709551615; // a double: exactly 2^64
const MAX_ID = 4294967295; // (uid_t)-1 is "no id"; a mapped range must end below it

type Seg = string | number;

/** A value quoted for a message; long values are cut (a message stays one short line). */
function q(s: string): string {
  s = String(s);
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 97)}...` : s);
}

function oneOf(allowed: readonly string[]): string {
  return allowed.map(q).join(', ');
}

/** `message` formatted like a schema error line. */
export function formatProblem(p: SpecProblem): string {
  return `config.json: ${p.pointer}: ${p.message}`;
}

/** Node's errno name -> the C library's lower-case text ("no such file or directory"). */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.errno === 'number') {
    // node:util on an error only (~1.4 ms to load at every create otherwise).
    const entry = (require('util') as typeof import('util')).getSystemErrorMap().get(err.errno);
    if (entry) return entry[1];
  }
  if (typeof err?.code === 'string') return err.code;
  return String((e as Error)?.message ?? e);
}

/** Absolute path of the container's rootfs: root.path, relative to the bundle unless absolute. */
export function resolveRootfs(spec: Spec, bundleDir: string): string {
  const p = spec.root?.path;
  if (typeof p !== 'string' || p === '') {
    throw new TsruncError('E_CONFIG_INVALID', formatProblem(rootMissing(spec)));
  }
  return resolvePath(bundleDir, p);
}

function rootMissing(spec: Spec): SpecProblem {
  return spec.root === undefined
    ? { pointer: '/root', message: 'root property must not be empty' }
    : { pointer: '/root/path', message: 'must not be empty' };
}

/** What stat(2) said about the rootfs; produced by statRootfs(), or by a test. */
export type RootfsStat =
  | { kind: 'directory' } | { kind: 'symlinked' } | { kind: 'other' } | { kind: 'error'; text: string };

export function statRootfs(abs: string): RootfsStat {
  try {
    if (!statSync(abs).isDirectory()) return { kind: 'other' };
    // As runc: the rootfs path must be canonical (no symlink anywhere in it), so that what is
    // validated, recorded in state.json and mounted is one and the same directory.
    return realpathSync(abs) === abs ? { kind: 'directory' } : { kind: 'symlinked' };
  } catch (e) {
    return { kind: 'error', text: errnoText(e) };
  }
}

/** The problem with the rootfs at `abs`, if any (runc's texts: `invalid rootfs: stat <p>: <errno>`). */
export function rootfsProblem(abs: string, st: RootfsStat): SpecProblem | undefined {
  if (st.kind === 'directory') return undefined;
  const message = st.kind === 'error' ? `invalid rootfs: stat ${abs}: ${st.text}`
    : st.kind === 'symlinked' ? 'invalid rootfs: not an absolute path, or a symlink'
      : `invalid rootfs: ${abs}: not a directory`;
  return { pointer: '/root/path', message };
}

/** Every problem of the spec that needs no file system access. */
export function specProblems(spec: Spec, opts: CheckOptions): SpecProblem[] {
  const out: SpecProblem[] = [];
  const add = (at: Seg[], message: string) => out.push({ pointer: jsonPointer(at), message });
  const absolute = (at: Seg[], v: string | undefined) => {
    if (typeof v === 'string' && !v.startsWith('/')) add(at, `must be an absolute path, got ${q(v)}`);
  };

  // ociVersion: SemVer, and a major version this runtime speaks (majors are not compatible).
  const m = SEMVER.exec(spec.ociVersion);
  if (!m) add(['ociVersion'], `must be a SemVer 2.0.0 version, got ${q(spec.ociVersion)}`);
  else if (m[1] !== '1') add(['ociVersion'], `major version must be 1, got ${q(spec.ociVersion)}`);

  if (spec.root === undefined || spec.root.path === '') {
    const r = rootMissing(spec);
    out.push(r);
  }

  listLimitProblems(spec, add);

  spec.mounts?.forEach((mnt, i) => {
    // A relative destination is deprecated but allowed (config.md): see specWarnings.
    if ((mnt.uidMappings === undefined) !== (mnt.gidMappings === undefined)) {
      add(['mounts', i], 'uidMappings and gidMappings must be given together');
    }
    mappingProblems(mnt.uidMappings, ['mounts', i, 'uidMappings'], 'uid', add);
    mappingProblems(mnt.gidMappings, ['mounts', i, 'gidMappings'], 'gid', add);
  });

  processProblems(spec, opts, add, absolute);

  // Only the hooks the spec defines: other members of `hooks` are unknown fields, hence ignored.
  for (const name of HOOK_NAMES) {
    spec.hooks?.[name]?.forEach((h, i) => absolute(['hooks', name, i, 'path'], h.path));
  }

  for (const key of Object.keys(spec.annotations ?? {})) {
    if (key === '') add(['annotations', ''], 'annotation keys must not be empty');
  }

  linuxProblems(spec, add, absolute);
  out.push(...processAttrProblems(spec), ...netDeviceProblems(spec));
  return out;
}

type Add = (at: Seg[], message: string) => void;

/** Bounds on list sizes (see MAX_LIST_ENTRIES, MAX_ADDITIONAL_GIDS). */
function listLimitProblems(spec: Spec, add: Add): void {
  const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  const gids = len(spec.process?.user?.additionalGids);
  if (gids > MAX_ADDITIONAL_GIDS) {
    add(['process', 'user', 'additionalGids'], `at most ${MAX_ADDITIONAL_GIDS} additional gids are allowed (NGROUPS_MAX), got ${gids}`);
  }
  const lists: Array<[Seg[], number]> = [
    [['mounts'], len(spec.mounts)],
    [['linux', 'maskedPaths'], len(spec.linux?.maskedPaths)],
    [['linux', 'readonlyPaths'], len(spec.linux?.readonlyPaths)],
    [['linux', 'devices'], len(spec.linux?.devices)],
    [['process', 'rlimits'], len(spec.process?.rlimits)],
    [['process', 'env'], len(spec.process?.env)],
    [['process', 'args'], len(spec.process?.args)],
  ];
  for (const [at, n] of lists) {
    if (n > MAX_LIST_ENTRIES) add(at, `at most ${MAX_LIST_ENTRIES} entries are allowed, got ${n}`);
  }
  const setup = lists.slice(0, 4);
  const total = setup.reduce((sum, [, n]) => sum + n, 0);
  if (total > MAX_LIST_ENTRIES && setup.every(([, n]) => n <= MAX_LIST_ENTRIES)) {
    add([], `/mounts, /linux/maskedPaths, /linux/readonlyPaths and /linux/devices together must have at most ${MAX_LIST_ENTRIES} entries, got ${total}`);
  }
}
type Absolute = (at: Seg[], v: string | undefined) => void;

function processProblems(spec: Spec, opts: CheckOptions, add: Add, absolute: Absolute): void {
  const p = spec.process;
  if (p === undefined) {
    if (opts.needProcess) add(['process'], 'process property must not be empty');
    return;
  }
  // Non-Windows needs at least one argument (config.md); runc's text.
  if (p.args === undefined || p.args.length === 0) add(['process', 'args'], 'args must not be empty');
  p.args?.forEach((a, i) => {
    if (a.includes('\0')) add(['process', 'args', i], 'must not contain a NUL byte');
  });
  absolute(['process', 'cwd'], p.cwd);
  p.env?.forEach((e, i) => {
    // runc's texts; execve cannot pass an entry that is not NAME=VALUE.
    const eq = e.indexOf('=');
    if (eq < 0) add(['process', 'env', i], `invalid environment variable: ${q(e)}`);
    else if (eq === 0) add(['process', 'env', i], `environment variable name can't be empty: ${q(e)}`);
    if (e.includes('\0')) add(['process', 'env', i], 'must not contain a NUL byte');
  });

  // Unknown capability names are refused (the spec asks only for a warning and runc 1.1.5 ignores
  // them; a name the kernel does not know is a typo or a newer capability that could not be
  // granted: running without it silently is what this runtime never does).
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    p.capabilities?.[set]?.forEach((c, i) => {
      if (!CAPABILITY_NAMES.includes(c)) add(['process', 'capabilities', set, i], `unknown capability ${q(c)}`);
    });
  }

  const seen = new Map<string, number>();
  p.rlimits?.forEach((r, i) => {
    if (!RLIMIT_NAMES.includes(r.type)) {
      add(['process', 'rlimits', i, 'type'], `unknown rlimit ${q(r.type)}`);
    } else if (seen.has(r.type)) {
      // config.md: duplicated types MUST be an error.
      add(['process', 'rlimits', i, 'type'],
        `duplicate rlimit ${q(r.type)} (also at ${jsonPointer(['process', 'rlimits', seen.get(r.type)!])})`);
    } else {
      seen.set(r.type, i);
    }
    if (r.soft > r.hard) add(['process', 'rlimits', i], `soft limit ${r.soft} is greater than hard limit ${r.hard}`);
  });
}

/** Range sanity for one uid or gid mapping list, as the kernel enforces it when the map is written. */
function mappingProblems(maps: IdMapping[] | undefined, at: Seg[], kind: 'uid' | 'gid', add: Add): void {
  if (maps === undefined) return;
  if (maps.length > MAX_ID_MAPPINGS) {
    add(at, `at most ${MAX_ID_MAPPINGS} ${kind} mappings are allowed, got ${maps.length}`);
    return; // the pairwise overlap check below is quadratic: not for a list this long
  }
  const ranges: Array<{ i: number; inside: [number, number]; outside: [number, number] }> = [];
  maps.forEach((mp, i) => {
    if (mp.size < 1) {
      add([...at, i, 'size'], 'must be at least 1');
      return;
    }
    let ok = true;
    for (const [field, start] of [['containerID', mp.containerID], ['hostID', mp.hostID]] as const) {
      if (start + mp.size > MAX_ID) {
        add([...at, i], `${field} ${start} + size ${mp.size} goes past the largest ${kind} ${MAX_ID - 1}`);
        ok = false;
      }
    }
    if (ok) {
      ranges.push({
        i,
        inside: [mp.containerID, mp.containerID + mp.size - 1],
        outside: [mp.hostID, mp.hostID + mp.size - 1],
      });
    }
  });
  // The kernel rejects overlapping extents on either side (EINVAL from writing the map).
  for (let a = 0; a < ranges.length; a++) {
    for (let b = a + 1; b < ranges.length; b++) {
      const ra = ranges[a]!;
      const rb = ranges[b]!;
      for (const side of ['inside', 'outside'] as const) {
        const [s1, e1] = ra[side];
        const [s2, e2] = rb[side];
        if (s1 <= e2 && s2 <= e1) {
          const what = side === 'inside' ? 'container' : 'host';
          add([...at, rb.i], `${what} ${kind}s ${s2}-${e2} overlap ${jsonPointer([...at, ra.i])} (${s1}-${e1})`);
        }
      }
    }
  }
}

function linuxProblems(spec: Spec, add: Add, absolute: Absolute): void {
  const linux = spec.linux;
  if (linux === undefined) return;

  const nsSeen = new Map<string, number>();
  linux.namespaces?.forEach((ns, i) => {
    const t: string = ns.type;
    if (!NAMESPACE_TYPES.includes(t)) {
      add(['linux', 'namespaces', i, 'type'], `must be one of ${oneOf(NAMESPACE_TYPES)}, got ${q(t)}`);
    } else if (nsSeen.has(t)) {
      // config-linux.md: duplicated types MUST be an error.
      add(['linux', 'namespaces', i, 'type'],
        `duplicate namespace ${q(t)} (also at ${jsonPointer(['linux', 'namespaces', nsSeen.get(t)!])})`);
    } else {
      nsSeen.set(t, i);
    }
    absolute(['linux', 'namespaces', i, 'path'], ns.path);
  });

  mappingProblems(linux.uidMappings, ['linux', 'uidMappings'], 'uid', add);
  mappingProblems(linux.gidMappings, ['linux', 'gidMappings'], 'gid', add);
  // A new user namespace without maps leaves every id unmapped (runc refuses it with these words).
  const userNs = linux.namespaces?.find((ns) => ns.type === 'user');
  if (userNs !== undefined && (userNs.path === undefined || userNs.path === '')) {
    if (!linux.uidMappings?.length) add(['linux', 'uidMappings'], 'user namespaces enabled, but no uid mappings found');
    // The init becomes root of the namespace before it execs (runc's words when it cannot).
    else if (!linux.uidMappings.some((mp) => mp.containerID === 0)) add(['linux', 'uidMappings'], 'user namespaces enabled, but no user mapping found (container uid 0 must be mapped)');
    if (!linux.gidMappings?.length) add(['linux', 'gidMappings'], 'user namespaces enabled, but no gid mappings found');
    else if (!linux.gidMappings.some((mp) => mp.containerID === 0)) add(['linux', 'gidMappings'], 'user namespaces enabled, but no group mapping found (container gid 0 must be mapped)');
  } else if (userNs === undefined) {
    // Maps without a user namespace would be silently unused (runc 1.1.5 ignores them; later runc
    // refuses them with these words).
    for (const k of ['uidMappings', 'gidMappings'] as const) {
      if (linux[k]?.length) add(['linux', k], "user namespace mappings specified, but user namespace isn't enabled in the config");
    }
  }
  for (const clock of Object.keys(linux.timeOffsets ?? {})) {
    if (!TIME_OFFSET_CLOCKS.includes(clock)) {
      add(['linux', 'timeOffsets', clock], `clock must be one of ${oneOf(TIME_OFFSET_CLOCKS)}, got ${q(clock)}`);
    }
  }

  // Offsets are written into a new time namespace before anything enters it; a joined one (path)
  // has its own already.
  const timeNs = linux.namespaces?.find((ns) => ns.type === 'time');
  if (linux.timeOffsets !== undefined && (timeNs === undefined || (timeNs.path ?? '') !== '')) {
    add(['linux', 'timeOffsets'], timeNs ? 'time offsets cannot be set on a time namespace joined by path' : "time namespace offsets specified, but time namespace isn't enabled in the config");
  }

  linux.devices?.forEach((d, i) => {
    if (!DEVICE_TYPES.includes(d.type)) {
      add(['linux', 'devices', i, 'type'], `must be one of ${oneOf(DEVICE_TYPES)}, got ${q(d.type)}`);
    } else if (d.type !== 'p') {
      // config-linux.md: major and minor are REQUIRED unless the type is p.
      if (d.major === undefined) add(['linux', 'devices', i], `major is required for device type ${q(d.type)}`);
      if (d.minor === undefined) add(['linux', 'devices', i], `minor is required for device type ${q(d.type)}`);
    }
    absolute(['linux', 'devices', i, 'path'], d.path);
  });

  const res = linux.resources;
  if (res) {
    const swappiness = (res.memory as { swappiness?: number } | undefined)?.swappiness;
    // 0-100 (config-linux.md). uint64(-1) means "not set" to runc (older Docker versions sent it);
    // as a double it is 2^64, so anything that large is that value.
    if (swappiness !== undefined && swappiness > 100 && swappiness < UINT64_MAX) {
      add(['linux', 'resources', 'memory', 'swappiness'], `must be between 0 and 100, got ${swappiness}`);
    }
    const cpu = res.cpu as LinuxCPU | undefined;
    // 0 means unset (runc); otherwise the kernel's range, with runc's texts.
    const shares = cpu?.shares;
    if (typeof shares === 'number' && shares !== 0) {
      if (shares > MAX_CPU_SHARES) add(['linux', 'resources', 'cpu', 'shares'], `the maximum allowed cpu-shares is ${MAX_CPU_SHARES}`);
      else if (shares < MIN_CPU_SHARES) add(['linux', 'resources', 'cpu', 'shares'], `the minimum allowed cpu-shares is ${MIN_CPU_SHARES}`);
    }
    if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
      add(['linux', 'resources', 'cpu', 'burst'], `must not be larger than quota (${cpu.burst} > ${cpu.quota})`);
    }
    (res.blockIO as LinuxBlockIO | undefined)?.weightDevice?.forEach((w, i) => {
      if (w.weight === undefined && w.leafWeight === undefined) {
        add(['linux', 'resources', 'blockIO', 'weightDevice', i], 'must have weight or leafWeight');
      }
    });
    for (const [dev, e] of Object.entries((res.rdma ?? {}) as Record<string, LinuxRdmaEntry>)) {
      if (e.hcaHandles === undefined && e.hcaObjects === undefined) {
        add(['linux', 'resources', 'rdma', dev], 'must have hcaHandles or hcaObjects');
      }
    }
  }

  if (linux.rootfsPropagation !== undefined && !ROOTFS_PROPAGATIONS.includes(linux.rootfsPropagation)) {
    add(['linux', 'rootfsPropagation'],
      `must be one of ${oneOf(ROOTFS_PROPAGATIONS)}, got ${q(linux.rootfsPropagation)}`);
  }

  for (const key of Object.keys(linux.sysctl ?? {})) {
    if (key.trim() === '') add(['linux', 'sysctl', key], 'sysctl keys must not be empty');
  }

  linux.maskedPaths?.forEach((p, i) => absolute(['linux', 'maskedPaths', i], p));
  linux.readonlyPaths?.forEach((p, i) => absolute(['linux', 'readonlyPaths', i], p));

  const sc = linux.seccomp as LinuxSeccomp | undefined;
  if (sc?.listenerMetadata !== undefined && sc.listenerPath === undefined) {
    add(['linux', 'seccomp', 'listenerMetadata'], 'must not be set without listenerPath');
  }
}

/**
 * What the spec lets a runtime accept but asks it to log (runtime.md "Warnings"): relative mount
 * destinations (deprecated; interpreted relative to `/`) and seccomp errnos that go unused.
 * Pure; the caller logs them. At most 20, then one that says how many more there were.
 */
export function specWarnings(spec: Spec): SpecProblem[] {
  const out: SpecProblem[] = [];
  spec.mounts?.forEach((mnt, i) => {
    if (typeof mnt.destination === 'string' && !mnt.destination.startsWith('/')) {
      out.push({
        pointer: jsonPointer(['mounts', i, 'destination']),
        message: `relative destination ${q(mnt.destination)} is deprecated: interpreted as ${q('/' + mnt.destination)}`,
      });
    }
  });
  // seccomp: an errno only goes with SCMP_ACT_ERRNO and SCMP_ACT_TRACE (runc ignores it elsewhere too).
  const sc = spec.linux?.seccomp as LinuxSeccomp | undefined | null;
  const withErrno = (a: string) => a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE';
  if (sc && sc.defaultErrnoRet !== undefined && !withErrno(sc.defaultAction)) {
    out.push({ pointer: '/linux/seccomp/defaultErrnoRet', message: `only used with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${sc.defaultAction}: ignored` });
  }
  sc?.syscalls?.forEach((s, i) => {
    if (s.errnoRet !== undefined && !withErrno(s.action)) {
      out.push({ pointer: jsonPointer(['linux', 'seccomp', 'syscalls', i, 'errnoRet']), message: `only used with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${s.action}: ignored` });
    }
  });
  if (out.length > MAX_PROBLEMS) {
    const more = out.length - MAX_PROBLEMS;
    return [...out.slice(0, MAX_PROBLEMS), { pointer: '/', message: `and ${more} more warnings` }];
  }
  return out;
}

/**
 * Semantic checks of a schema-valid spec, including that the rootfs is an existing directory.
 * Throws one TsruncError (E_CONFIG_INVALID) listing every problem, one `config.json: ...` line each.
 */
export function checkSpec(spec: Spec, bundleDir: string, opts: CheckOptions): void {
  const problems = checkProblems(spec, bundleDir, opts);
  if (problems.length > 0) {
    throw new TsruncError('E_CONFIG_INVALID', limitProblems(problems.map(formatProblem)));
  }
}

/** checkSpec's problems, without throwing. */
export function checkProblems(spec: Spec, bundleDir: string, opts: CheckOptions): SpecProblem[] {
  const problems = specProblems(spec, opts);
  if (typeof spec.root?.path === 'string' && spec.root.path !== '') {
    const abs = resolveRootfs(spec, bundleDir);
    const p = rootfsProblem(abs, statRootfs(abs));
    // Report it next to the other root problems: right after the ociVersion lines.
    if (p) problems.splice(problems.filter((x) => x.pointer === '/ociVersion').length, 0, p);
  }
  return problems;
}
