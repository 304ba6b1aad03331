// Device rules: OCI conversion, runc's defaults, the v1 emulator and transitions. The expected
// devices.list texts were measured with runc 1.1.5 on this project's hybrid host (same configs).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  type DevRule, WILDCARD, fromOciRules, deviceRulesForSpec, emulateDeviceRules, parseDevicesList,
  deviceTransition, deviceAccessAllowed, ruleToString, stateExceptions, denyAllState,
} from '../../src/cgroup';
import { parseAccess } from '../../src/cgroup/devices';
import { TsruncError } from '../../src/errors';
import type { DeviceRule } from '../../src/spec/types';

const FRESH = parseDevicesList('a *:* rwm\n'); // a new v1 cgroup under an unrestricted parent

/** The devices.list a fresh cgroup ends up with (transition applied by a tiny kernel model). */
function listAfter(rules: DevRule[]): string[] {
  let s = FRESH;
  for (const w of deviceTransition(FRESH, emulateDeviceRules(rules))) s = emulateDeviceRules([w], s);
  if (s.defaultAllow) return ['a *:* rwm'];
  return stateExceptions(s).map(ruleToString);
}

const RUNC_DEFAULTS = ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
  'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm'];

test('fromOciRules: defaults and wildcards (type a, null/absent major/minor)', () => {
  const rules = fromOciRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: null, access: 'wr' },
    { allow: true, type: 'b', minor: 0, access: 'mmr' },
  ]);
  assert.deepEqual(rules, [
    { type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: false },
    { type: 'c', major: 1, minor: WILDCARD, access: 'rw', allow: true },
    { type: 'b', major: WILDCARD, minor: 0, access: 'rm', allow: true },
  ]);
  assert.deepEqual(rules.map(ruleToString), ['a *:* rwm', 'c 1:* rw', 'b *:0 rm']);
});

test('fromOciRules: invalid rules are E_CONFIG_INVALID errors naming the field', () => {
  const bad: Array<[DeviceRule, string]> = [
    [{ allow: true, type: 'c', major: 1, minor: 3 }, 'config.json: /linux/resources/devices/0/access: cannot be empty'],
    [{ allow: true, type: 'c', access: '' }, 'config.json: /linux/resources/devices/0/access: cannot be empty'],
    [{ allow: true, type: 'c', access: 'x' }, 'config.json: /linux/resources/devices/0/access: must contain at least one of r, w, m, got "x"'],
    [{ allow: true, type: 'c', access: 'RWM' }, 'config.json: /linux/resources/devices/0/access: must contain at least one of r, w, m, got "RWM"'],
    [{ allow: false, access: 'a' }, 'config.json: /linux/resources/devices/0/access: must contain at least one of r, w, m, got "a"'],
    [{ allow: true, type: 'u', access: 'r' }, 'config.json: /linux/resources/devices/0/type: must be one of "a", "c", "b", got "u"'],
    [{ allow: true, type: 'c', major: -2, access: 'r' }, 'config.json: /linux/resources/devices/0/major: must be an integer from 0 to 4294967295, got -2'],
    [{ allow: true, type: 'c', minor: 1.5, access: 'r' }, 'config.json: /linux/resources/devices/0/minor: must be an integer from 0 to 4294967295, got 1.5'],
  ];
  for (const [rule, msg] of bad) {
    assert.throws(() => fromOciRules([rule]), (e: unknown) => e instanceof TsruncError && e.code === 'E_CONFIG_INVALID' && e.message === msg);
  }
  // the index is the rule's own
  assert.throws(() => fromOciRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'rwm' }, { allow: true, type: 'b', access: '' }]),
    (e: unknown) => e instanceof TsruncError && e.message === 'config.json: /linux/resources/devices/2/access: cannot be empty');
});

test('access strings are read as runc reads them: a set of r, w, m; order, repeats and other characters ignored', () => {
  // Measured with runc 1.1.5 on the hybrid host (devices.list after `runc create`): "rwa" → rw,
  // "rrw" → rw, "mr" → rm, "rwx" → rw; "" refused (`device access at N field cannot be empty`).
  const cases: Array<[string, string]> = [
    ['rwm', 'rwm'], ['rwa', 'rw'], ['rrw', 'rw'], ['mr', 'rm'], ['wr', 'rw'], ['mmr', 'rm'], ['rwx', 'rw'],
    ['r w m', 'rwm'], ['m', 'm'], ['Rw', 'w'],
  ];
  for (const [given, want] of cases) {
    assert.deepEqual(parseAccess(given), { access: want }, given);
    assert.equal(fromOciRules([{ allow: true, type: 'c', major: 4, minor: 5, access: given }])[0].access, want, given);
  }
  assert.deepEqual(parseAccess(''), { error: 'cannot be empty' });
  assert.deepEqual(parseAccess(undefined), { error: 'cannot be empty' });
  assert.deepEqual(parseAccess('xyz'), { error: 'must contain at least one of r, w, m, got "xyz"' });
});

test('devices.list for runc\'s odd access strings matches runc 1.1.5 on this host', () => {
  const deny = { allow: false, access: 'rwm' };
  const at = (access: string) => listAfter(deviceRulesForSpec({ resources: { devices: [deny, { allow: true, type: 'c', major: 4, minor: 5, access }] } }));
  const withRule = (r: string) => [...RUNC_DEFAULTS.slice(0, 7), r, ...RUNC_DEFAULTS.slice(7)];
  assert.deepEqual(at('rwa'), withRule('c 4:5 rw'));
  assert.deepEqual(at('rrw'), withRule('c 4:5 rw'));
  assert.deepEqual(at('mr'), withRule('c 4:5 rm'));
  assert.deepEqual(at('rwm'), withRule('c 4:5 rwm'));
  // "rwa" on /dev/null merges with the default rwm (runc: `c 1:3 rwm`)
  assert.deepEqual(listAfter(deviceRulesForSpec({ resources: { devices: [deny, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwa' }] } })), RUNC_DEFAULTS);
  // the transition writes normalised strings
  const writes = deviceTransition(FRESH, emulateDeviceRules(fromOciRules([deny, { allow: true, type: 'c', major: 4, minor: 5, access: 'wra' }])));
  assert.deepEqual(writes.map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleToString(r)}`), ['deny a *:* rwm', 'allow c 4:5 rw']);
});

test('deviceRulesForSpec: config rules first, then runc\'s defaults (not deniable)', () => {
  const r = deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }] } });
  assert.equal(r.length, 12);
  assert.equal(ruleToString(r[0]), 'a *:* rwm');
  assert.deepEqual(r.slice(1).map(ruleToString), ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm',
    'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm']);
  assert.deepEqual(deviceRulesForSpec(undefined).map(ruleToString), r.slice(1).map(ruleToString));
  // a config cannot deny a default: the default comes later and wins
  const deny = deviceRulesForSpec({ resources: { devices: [{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }] } });
  assert.equal(deviceAccessAllowed(emulateDeviceRules(deny), 'c', 1, 3, 'rw'), true);
});

test('deviceRulesForSpec: a linux.devices entry with a default\'s path drops that default (runc)', () => {
  const r = deviceRulesForSpec({ devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }] });
  assert.equal(r.some((x) => x.major === 1 && x.minor === 3), false);
  assert.equal(r.length, 10);
  // runc 1.1.5 here: the container cannot even open /dev/null afterwards
  assert.equal(deviceAccessAllowed(emulateDeviceRules(r), 'c', 1, 3, 'rw'), false);
});

test('devices.list after create matches runc 1.1.5 (deny-all config + allows)', () => {
  const rules = deviceRulesForSpec({ resources: { devices: [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: true, type: 'b', major: 7, access: 'rw' },
  ] } });
  assert.deepEqual(listAfter(rules), ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm',
    'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'b 7:* rw', 'c 10:200 rwm', 'c 136:* rwm']);
});

test('devices.list: a config without deny-all is still an allow list (runc denies all first)', () => {
  assert.deepEqual(listAfter(deviceRulesForSpec({ resources: { devices: [] } })), RUNC_DEFAULTS);
  const one = listAfter(deviceRulesForSpec({ resources: { devices: [{ allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }] } }));
  assert.deepEqual(one, [...RUNC_DEFAULTS.slice(0, 7), 'c 4:1 rw', ...RUNC_DEFAULTS.slice(7)]);
});

test('devices.list: allow-all configs (privileged) stay allow-all; later denies of defaults vanish', () => {
  assert.deepEqual(listAfter(deviceRulesForSpec({ resources: { devices: [{ allow: true, access: 'rwm' }] } })), ['a *:* rwm']);
  const s = emulateDeviceRules(deviceRulesForSpec({ resources: { devices: [
    { allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: false, type: 'b', major: 8, minor: 0, access: 'w' },
  ] } }));
  assert.equal(s.defaultAllow, true);
  assert.deepEqual(stateExceptions(s).map(ruleToString), ['b 8:0 w']); // 1:3 re-allowed by the defaults
  assert.equal(deviceAccessAllowed(s, 'b', 8, 0, 'r'), true);
  assert.equal(deviceAccessAllowed(s, 'b', 8, 0, 'rw'), false); // v1: any overlap denies
});

test('emulator refuses to punch a hole in a wildcard rule (runc\'s error, v1 would ignore it)', () => {
  const rules = fromOciRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
  ]);
  assert.throws(() => emulateDeviceRules(rules), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === 'device rule `c 1:3 w` (deny) is not supported by the devices cgroup: it cannot punch a hole in the wildcard rule `c *:* rwm`');
});

test('emulator: v1 semantics for merging, partial removal and a-resets', () => {
  const s = emulateDeviceRules(fromOciRules([
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
    { allow: true, type: 'c', major: 4, minor: 1, access: 'rwm' },
    { allow: false, type: 'c', major: 4, minor: 1, access: 'w' },
    { allow: false, type: 'c', major: 9, minor: 9, access: 'r' }, // nothing to remove: no-op
  ]));
  assert.equal(s.defaultAllow, false);
  assert.deepEqual(stateExceptions(s).map(ruleToString), ['c 1:3 rw', 'c 4:1 rm']);
  assert.equal(deviceAccessAllowed(s, 'c', 1, 3, 'rw'), true);
  assert.equal(deviceAccessAllowed(s, 'c', 1, 3, 'rwm'), false); // needs one rule covering all bits
  assert.equal(deviceAccessAllowed(s, 'c', 4, 1, 'w'), false);
  assert.equal(deviceAccessAllowed(s, 'b', 1, 3, 'r'), false);
  const reset = emulateDeviceRules(fromOciRules([{ allow: false, access: 'r' }]), s); // any `a` rule resets
  assert.deepEqual(reset, denyAllState());
});

test('deviceTransition: minimal writes between two allow lists; wildcard reset from allow-all', () => {
  const from = parseDevicesList('c 1:3 rwm\nc 1:5 rw\nc 4:1 r\n');
  const to = parseDevicesList('c 1:3 rwm\nc 1:5 r\nc 5:0 rwm\n');
  assert.deepEqual(deviceTransition(from, to).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleToString(r)}`),
    ['deny c 1:5 w', 'deny c 4:1 r', 'allow c 5:0 rwm']);
  assert.deepEqual(deviceTransition(FRESH, to).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleToString(r)}`),
    ['deny a *:* rwm', 'allow c 1:3 rwm', 'allow c 1:5 r', 'allow c 5:0 rwm']);
  assert.deepEqual(deviceTransition(to, FRESH).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleToString(r)}`),
    ['allow a *:* rwm']);
  assert.deepEqual(deviceTransition(to, to), []);
});

test('parseDevicesList: rejects unknown lines', () => {
  assert.throws(() => parseDevicesList('x 1:2 r\n'), (e: unknown) => e instanceof TsruncError && /unexpected format/.test(e.message));
});
