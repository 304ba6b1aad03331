// Device access rules: OCI `linux.resources.devices` → normalised rules, runc's default allowed
// devices, and an emulator of the cgroup v1 devices controller (the kernel's semantics) that both
// back ends use: v1 writes the transition from the current devices.list to the target; v2 compiles
// the target's exception list into an eBPF program (bpf.ts). One emulator keeps v1 and v2 in
// agreement, as runc does.
//
// The v1 kernel model: a default (allow all / deny all) plus a list of exceptions keyed by
// (type, major, minor) with an access set. A rule of type `a` resets everything (allow → default
// allow, deny → default deny, exceptions cleared). Any other rule either adds access to the
// exception with the same key (when its verdict is the opposite of the default) or removes access
// from it. Access is granted in default-deny mode when ONE exception covers every requested bit;
// in default-allow mode it is refused when ANY exception overlaps a requested bit.
import type { DeviceRule, Linux } from '../spec/types';
import { TsruncError } from '../errors';

export const WILDCARD = -1;

export type DevType = 'a' | 'c' | 'b';

/** A normalised rule. major/minor WILDCARD (-1) means `*`; access is a non-empty ordered subset
 *  of "rwm" in that order (fromOciRules normalises what the config says). */
export interface DevRule {
  type: DevType;
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

/** `c 1:3 rwm`: the devices.allow/devices.deny/devices.list syntax. */
export function ruleToString(r: DevRule): string {
  const n = (x: number) => (x === WILDCARD ? '*' : String(x));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

function normaliseAccess(access: string): string {
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

/** The JSON pointer of a field of rule `i`, for config errors (`config.json: <pointer>: ...`). */
const field = (i: number, name: string) => `config.json: /linux/resources/devices/${i}/${name}`;

function checkNumber(v: number, what: string, i: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TsruncError('E_CONFIG_INVALID', `${field(i, what)}: must be an integer from 0 to 4294967295, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * An OCI `access` string → the normalised access ("rwm" order, no repeats), or the reason it is
 * refused. runc (1.1.5 and later, checked on this host) reads the string as a SET: any order, any
 * repeats, and every character other than r, w, m silently ignored (runc's own tests use "rwa",
 * which means "rw"); only an empty string is refused (`device access at N field cannot be empty`).
 * A string with none of r, w, m (`"x"`, `"RWM"`) becomes an empty set in runc, which is a silent
 * no-op for a deny rule and fails on v1 with `resulting devices cgroup doesn't precisely match
 * target` for an allow rule; tsrunc refuses it up front (the schema's pattern `[rwm]` does too).
 */
export function parseAccess(access: string | undefined): { access: string } | { error: string } {
  if (access === undefined || access === '') return { error: 'cannot be empty' };
  const norm = normaliseAccess(access);
  if (norm === '') return { error: `must contain at least one of r, w, m, got ${JSON.stringify(access)}` };
  return { access: norm };
}

/** OCI rules → DevRules. Unset type is `a`, unset/null major or minor is the wildcard; access is
 *  read as runc reads it (parseAccess). Bad fields are E_CONFIG_INVALID errors naming the field
 *  (`config.json: /linux/resources/devices/0/access: cannot be empty`). */
export function fromOciRules(rules: readonly DeviceRule[] | undefined): DevRule[] {
  return (rules ?? []).map((d, i) => {
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (type !== 'a' && type !== 'c' && type !== 'b') {
      throw new TsruncError('E_CONFIG_INVALID', `${field(i, 'type')}: must be one of "a", "c", "b", got ${JSON.stringify(type)}`);
    }
    const acc = parseAccess(d.access);
    if ('error' in acc) throw new TsruncError('E_CONFIG_INVALID', `${field(i, 'access')}: ${acc.error}`);
    return {
      type,
      major: d.major === undefined || d.major === null ? WILDCARD : checkNumber(d.major, 'major', i),
      minor: d.minor === undefined || d.minor === null ? WILDCARD : checkNumber(d.minor, 'minor', i),
      access: acc.access,
      allow: d.allow === true,
    };
  });
}

/**
 * The rules runc (1.1.x and current, checked against the sources and runc 1.1.5 on this host)
 * appends AFTER the config's rules, so a config cannot deny them. `path` entries are dropped when
 * `linux.devices` lists a device with the same path (the config's device "takes priority", which
 * in practice means its node is created but NOT allowed unless the config allows it too).
 * /dev/console (5:1) is not in the list; 10:200 (tun) was dropped in runc 1.2.0-rc1 and restored.
 */
export const DEFAULT_ALLOWED_DEVICES: ReadonlyArray<{ path?: string; rule: DevRule }> = [
  { rule: { type: 'c', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true } },
  { rule: { type: 'b', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true } },
  { path: '/dev/null', rule: { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true } },
  { path: '/dev/random', rule: { type: 'c', major: 1, minor: 8, access: 'rwm', allow: true } },
  { path: '/dev/full', rule: { type: 'c', major: 1, minor: 7, access: 'rwm', allow: true } },
  { path: '/dev/tty', rule: { type: 'c', major: 5, minor: 0, access: 'rwm', allow: true } },
  { path: '/dev/zero', rule: { type: 'c', major: 1, minor: 5, access: 'rwm', allow: true } },
  { path: '/dev/urandom', rule: { type: 'c', major: 1, minor: 9, access: 'rwm', allow: true } },
  { rule: { type: 'c', major: 136, minor: WILDCARD, access: 'rwm', allow: true } }, // /dev/pts/*
  { rule: { type: 'c', major: 5, minor: 2, access: 'rwm', allow: true } }, // /dev/ptmx
  { rule: { type: 'c', major: 10, minor: 200, access: 'rwm', allow: true } }, // /dev/net/tun
];

/** The full rule list for a container, as runc builds it: the config's rules in order, then the
 *  default allowed devices (minus those whose path `linux.devices` redefines). The emulator
 *  starts from deny-all, so a list without a leading deny-all is still an allow list. */
export function deviceRulesForSpec(linux: Linux | undefined): DevRule[] {
  const own = fromOciRules(linux?.resources?.devices);
  const redefined = new Set((linux?.devices ?? []).map((d) => d.path));
  const defaults = DEFAULT_ALLOWED_DEVICES
    .filter((d) => d.path === undefined || !redefined.has(d.path))
    .map((d) => ({ ...d.rule }));
  return [...own, ...defaults];
}

/** Emulated state of a devices cgroup. Exceptions are keyed `type major minor`. */
export interface DeviceState {
  defaultAllow: boolean;
  exceptions: Map<string, DevRule>;
}

const keyOf = (r: { type: string; major: number; minor: number }) => `${r.type} ${r.major} ${r.minor}`;

function union(a: string, b: string): string { return normaliseAccess(a + b); }
function minus(a: string, b: string): string { return [...a].filter((c) => !b.includes(c)).join(''); }
function overlap(a: string, b: string): string { return [...a].filter((c) => b.includes(c)).join(''); }

/** A deny-all state (what runc's target starts from). */
export function denyAllState(): DeviceState {
  return { defaultAllow: false, exceptions: new Map() };
}

function cloneState(s: DeviceState): DeviceState {
  return { defaultAllow: s.defaultAllow, exceptions: new Map([...s.exceptions].map(([k, v]) => [k, { ...v }])) };
}

/** Apply one rule to the state in place (the kernel's devcgroup_update_access, plus runc's
 *  refusal to "punch a hole" in a wildcard exception, which v1 would silently ignore). */
function applyRule(s: DeviceState, r: DevRule): void {
  if (r.type === 'a') {
    s.defaultAllow = r.allow;
    s.exceptions.clear();
    return;
  }
  const key = keyOf(r);
  const addsException = r.allow !== s.defaultAllow;
  if (addsException) {
    const prev = s.exceptions.get(key);
    s.exceptions.set(key, {
      type: r.type, major: r.major, minor: r.minor,
      access: union(prev?.access ?? '', r.access), allow: !s.defaultAllow,
    });
    return;
  }
  // Removing access from an exception: a partially matching wildcard exception would keep
  // granting (or denying) it, which v1 cannot express; refuse rather than mislead.
  for (const [maj, min] of [[WILDCARD, r.minor], [r.major, WILDCARD], [WILDCARD, WILDCARD]]) {
    if (maj === r.major && min === r.minor) continue;
    const w = s.exceptions.get(keyOf({ type: r.type, major: maj, minor: min }));
    if (w !== undefined && overlap(w.access, r.access) !== '') {
      throw new TsruncError('E_CGROUP',
        `device rule \`${ruleToString(r)}\` (${r.allow ? 'allow' : 'deny'}) is not supported by the devices cgroup: it cannot punch a hole in the wildcard rule \`${ruleToString(w)}\``);
    }
  }
  const prev = s.exceptions.get(key);
  if (prev === undefined) return;
  const left = minus(prev.access, r.access);
  if (left === '') s.exceptions.delete(key);
  else prev.access = left;
}

/** Run `rules` in order over `start` (default: deny-all, as runc builds its target). */
export function emulateDeviceRules(rules: readonly DevRule[], start: DeviceState = denyAllState()): DeviceState {
  const s = cloneState(start);
  for (const r of rules) applyRule(s, r);
  return s;
}

/** The exceptions sorted like runc (major, minor, type; wildcards first), so the kernel list, the
 *  BPF program and runc's output come out in the same order. */
export function stateExceptions(s: DeviceState): DevRule[] {
  return [...s.exceptions.values()].sort((a, b) =>
    a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Parse devices.list (an allow list; `a *:* rwm` means default-allow, and the deny exceptions of
 *  a default-allow cgroup are not visible). */
export function parseDevicesList(text: string): DeviceState {
  const s = denyAllState();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]+)$/.exec(t);
    if (m === null) throw new TsruncError('E_CGROUP', `parse devices.list line \`${t}\`: unexpected format`);
    const num = (x: string) => (x === '*' ? WILDCARD : Number(x));
    applyRule(s, { type: m[1] as DevType, major: num(m[2]), minor: num(m[3]), access: normaliseAccess(m[4]), allow: true });
  }
  return s;
}

/** The writes that take a v1 devices cgroup from `from` to `to` with the least disruption, as
 *  runc computes them: a wildcard reset first when the default differs (or when `from` is
 *  default-allow, whose deny exceptions devices.list cannot show), then the dropped and the gained
 *  access of each exception. Each rule's `allow` says which file to write (allow/deny). */
export function deviceTransition(from: DeviceState, to: DeviceState): DevRule[] {
  const out: DevRule[] = [];
  let old = from.exceptions;
  if (from.defaultAllow || from.defaultAllow !== to.defaultAllow) {
    out.push({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: to.defaultAllow });
    old = new Map();
  }
  for (const r of stateExceptions({ defaultAllow: from.defaultAllow, exceptions: old })) {
    const dropped = minus(r.access, to.exceptions.get(keyOf(r))?.access ?? '');
    if (dropped !== '') out.push({ ...r, access: dropped, allow: to.defaultAllow });
  }
  for (const r of stateExceptions(to)) {
    const gained = minus(r.access, old.get(keyOf(r))?.access ?? '');
    if (gained !== '') out.push({ ...r, access: gained, allow: !to.defaultAllow });
  }
  return out;
}

/** Whether two states grant the same access (exception order and access letter order ignored). */
export function sameDeviceState(a: DeviceState, b: DeviceState): boolean {
  if (a.defaultAllow !== b.defaultAllow || a.exceptions.size !== b.exceptions.size) return false;
  for (const [k, v] of a.exceptions) if (b.exceptions.get(k)?.access !== v.access) return false;
  return true;
}

/** Evaluate an access request against a state the way the kernel does (for tests and `explain`).
 *  `access` is the requested subset of "rwm". */
export function deviceAccessAllowed(s: DeviceState, type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  const matches = (r: DevRule) => r.type === type &&
    (r.major === WILDCARD || r.major === major) && (r.minor === WILDCARD || r.minor === minor);
  if (s.defaultAllow) {
    for (const r of s.exceptions.values()) if (matches(r) && overlap(r.access, access) !== '') return false;
    return true;
  }
  for (const r of s.exceptions.values()) if (matches(r) && minus(access, r.access) === '') return true;
  return false;
}
