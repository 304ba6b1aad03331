// linux.netDevices (config-linux.md "Network Devices"): move a network device of the runtime's
// network namespace into the container's new one, optionally renamed, keeping its permanent
// global addresses, and set it up. `create` reads the device (index, addresses) before anything is
// made (netDeviceFacts), moves it after the clone and before releasing the init (addon/netdev.cc),
// and the init re-adds the addresses and sets it up (NETDEV, addon/init/netdev.cc). As the spec
// says, nothing moves it back: when the namespace goes, the kernel returns physical devices to the
// initial namespace and destroys virtual ones (veth, macvlan...).
import { TsruncError } from '../errors';
import type { Spec } from '../spec/types';
import type { Op } from './ops';

interface SpecProblem { pointer: string; message: string }

/** What `create` found on the host for one entry of linux.netDevices. */
export interface NetDeviceFacts {
  /** The device's name in the runtime's namespace (the entry's key). */
  hostName: string;
  /** Its name in the container (the entry's `name`, else the host name); may be a `%d` template. */
  name: string;
  index: number;
  addrs: { family: number; prefixlen: number; scope: number; flags: number; address: Buffer }[];
}

const ptr = (name: string) => `/linux/netDevices/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** An interface name the kernel takes (runc's devValidName, and IFNAMSIZ counts the NUL). */
function validName(n: string): boolean {
  return n.length > 0 && n.length < 16 && n !== '.' && n !== '..' && !/[/:\s]/.test(n);
}

/** Every problem of linux.netDevices that needs no host access (runc's texts where it has them). */
export function netDeviceProblems(spec: Spec): SpecProblem[] {
  const devs = spec.linux?.netDevices as Record<string, { name?: string }> | undefined;
  if (!devs || Object.keys(devs).length === 0) return [];
  const out: SpecProblem[] = [];
  // As runc: a network namespace of the container's own (new, or joined by path: the device then
  // moves into that one). Without one the container shares the runtime's and nothing could move.
  if (!spec.linux?.namespaces?.some((n) => n.type === 'network')) {
    out.push({ pointer: '/linux/netDevices', message: 'unable to move network devices without a NET namespace' });
  }
  const targets = new Map<string, string>();
  for (const [host, d] of Object.entries(devs)) {
    if (!validName(host)) out.push({ pointer: ptr(host), message: `invalid network device name ${JSON.stringify(host)}` });
    const target = d.name || host;
    if (d.name !== undefined && d.name !== '' && !validName(d.name)) {
      out.push({ pointer: `${ptr(host)}/name`, message: `invalid network device name ${JSON.stringify(d.name)}` });
    } else if (!target.includes('%d')) {
      if (target === 'lo') out.push({ pointer: ptr(host), message: 'a network device named "lo" already exists in the container namespace' });
      const other = targets.get(target);
      if (other !== undefined) out.push({ pointer: ptr(host), message: `${JSON.stringify(other)} is also moved in as ${JSON.stringify(target)}` });
      targets.set(target, host);
    }
  }
  return out;
}

/**
 * The devices of linux.netDevices as they are on this host, read through `info` (the addon's
 * netdevInfo): a device that is not there is refused before anything is made.
 */
export function netDeviceFacts(spec: Spec, info: (name: string) => Omit<NetDeviceFacts, 'hostName' | 'name'>): NetDeviceFacts[] {
  const devs = spec.linux?.netDevices as Record<string, { name?: string }> | undefined;
  return Object.entries(devs ?? {}).map(([host, d]) => {
    let f: Omit<NetDeviceFacts, 'hostName' | 'name'>;
    try {
      f = info(host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TsruncError('E_CONFIG_INVALID', code === 'ENODEV' || code === 'ENXIO'
        ? `config.json: ${ptr(host)}: no network device ${JSON.stringify(host)} in the runtime's network namespace`
        : `config.json: ${ptr(host)}: read network device ${JSON.stringify(host)}: ${(e as Error).message}`, { cause: e });
    }
    return { hostName: host, name: d.name || host, index: f.index, addrs: f.addrs };
  });
}

/** NETDEV ops: the addresses again, then up (inside the container's namespace). */
export function netDeviceOps(devs: NetDeviceFacts[]): Op[] {
  return devs.map((d) => ({
    op: 'NETDEV' as const,
    what: `configure network device \`${d.hostName}\` (moved in as \`${d.name}\`, ifindex ${d.index}): ${d.addrs.length} address(es), up`,
    ints: [d.index, d.addrs.length, ...d.addrs.flatMap((a) => [a.family, a.prefixlen, a.scope, a.flags])],
    strs: [d.name, ...d.addrs.map((a) => a.address.toString('hex'))],
  }));
}
