// linux.netDevices in real containers. Never the host's interfaces: each case makes a network
// namespace of its own (`ip netns add`) with a veth pair in it, and runs tsrunc inside that
// namespace (nsenter --net, which changes nothing else), so "the runtime's namespace" is that
// private one. Checked from inside the container with busybox `ip`: the device is there under its
// new name, up, with its permanent global addresses (a link-scope one is not kept, as the spec
// says); and after the container is gone the veth is gone too (virtual devices die with the
// namespace; nothing moves them back). runc 1.1.5 has no netDevices: no differential.
//
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/netdev.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import type { CallResult } from '../../conformance/lib/runtime';
import { TSRUNC, Tsrunc, cleanup, errMsg, leftovers, snapshot, tmpDir } from './support';

const P = `prc-nd-${process.pid}`;
const NETNS = `prc-nd-${process.pid}`;
const HAVE_IP = spawnSync('ip', ['-V']).status === 0;

let tmp = '';
let rootfs = '';
let t: Tsrunc;
const ids = new Set<string>();
let seq = 0;

function sh(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 20000 });
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}
const inNs = (args: string[]) => sh(['ip', 'netns', 'exec', NETNS, ...args]);

before(() => {
  if (!HAVE_IP) return;
  tmp = tmpDir('tsrunc-it-netdev');
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  t = new Tsrunc(path.join(tmp, 'root'), tmp, 15000);
  assert.equal(sh(['ip', 'netns', 'add', NETNS]).status, 0);
});

after(() => {
  if (!HAVE_IP) return;
  cleanup(t, ids, tmp ? [tmp] : []);
  sh(['ip', 'netns', 'del', NETNS]);
});

function veth(a: string, b: string): void {
  const r = inNs(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  assert.equal(r.status, 0, r.err);
}

function bundle(script: string, edit: (c: Record<string, any>) => void): string {
  const dir = path.join(tmp, `b-${++seq}`);
  fs.mkdirSync(dir);
  const c = defaultConfig(['sh', '-c', script]) as unknown as Record<string, any>;
  c.root = { path: rootfs, readonly: true };
  edit(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

/** `tsrunc run` inside the private network namespace. */
function run(dir: string): { id: string; status: number | null; out: string; err: string } {
  const id = `${P}-${++seq}`;
  ids.add(id);
  const r = sh(['nsenter', `--net=/run/netns/${NETNS}`, TSRUNC, '--root', t.root, 'run', '--bundle', dir, id]);
  return { id, ...r };
}

describe('linux.netDevices', { skip: !HAVE_IP && 'no ip(8)' }, () => {
  it('moved in renamed, up, with its permanent global addresses; gone with the container', () => {
    veth('prcv0', 'prcv1');
    assert.equal(inNs(['ip', 'addr', 'add', '10.77.0.7/24', 'dev', 'prcv0']).status, 0);
    assert.equal(inNs(['ip', '-6', 'addr', 'add', 'fd77::7/64', 'dev', 'prcv0', 'nodad']).status, 0);
    assert.equal(inNs(['ip', 'addr', 'add', '169.254.7.7/32', 'dev', 'prcv0', 'scope', 'link']).status, 0);
    const r = run(bundle('ip -o addr show dev ceth0; ip -o link show dev ceth0; ls /sys/class/net', (c) => {
      c.linux.netDevices = { prcv0: { name: 'ceth0' } };
    }));
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /ceth0\s+inet 10\.77\.0\.7\/24 scope global ceth0/);
    assert.match(r.out, /ceth0\s+inet6 fd77::7\/64 scope global/);
    assert.doesNotMatch(r.out, /169\.254\.7\.7/);
    assert.match(r.out, /ceth0@\S+: <[^>]*\bUP\b[^>]*>/);
    assert.deepEqual(r.out.trim().split('\n').slice(-2), ['ceth0', 'lo']);
    // The container (and its namespace) is gone: the veth pair with it.
    const links = inNs(['ip', '-o', 'link']).out;
    assert.doesNotMatch(links, /prcv[01]|ceth0/);
  });

  it('keeps its name without `name`; a %d template lets the kernel pick one', () => {
    veth('prcv2', 'prcv3');
    veth('prcv4', 'prcv5');
    const r = run(bundle('ls /sys/class/net', (c) => { c.linux.netDevices = { prcv2: {}, prcv4: { name: 'cn%d' } }; }));
    assert.equal(r.status, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n').sort(), ['cn0', 'lo', 'prcv2']);
  });

  it('refused, naming the field, leaving nothing behind: no such device, no network namespace, bad names', () => {
    veth('prcv6', 'prcv7');
    const cases: [(c: Record<string, any>) => void, RegExp][] = [
      [(c) => { c.linux.netDevices = { prcnope: {} }; }, /\/linux\/netDevices\/prcnope: no network device "prcnope" in the runtime's network namespace/],
      [(c) => {
        c.linux.netDevices = { prcv6: {} };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      }, /\/linux\/netDevices: unable to move network devices without a NET namespace/],
      [(c) => { c.linux.netDevices = { prcv6: { name: 'lo' } }; }, /a network device named "lo" already exists in the container namespace/],
      [(c) => { c.linux.netDevices = { prcv6: { name: 'bad name' } }; }, /\/linux\/netDevices\/prcv6\/name: invalid network device name "bad name"/],
    ];
    for (const [edit, re] of cases) {
      const dir = bundle('true', edit);
      const w = snapshot(t.root, [dir]);
      const r = run(dir);
      assert.equal(r.status, 1, r.err);
      assert.match(errMsg({ stderr: r.err } as CallResult), re);
      assert.deepEqual(leftovers(t.root, w, [r.id], [dir]), []);
      // Refused before anything moved.
      assert.match(inNs(['ip', '-o', 'link']).out, /prcv6/);
    }
  });
});
