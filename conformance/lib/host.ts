// Host-side facts the checks compare against: capability numbers, namespaces of this process,
// mountinfo of the host, cgroup hierarchies.

import * as fs from 'node:fs';

/** capabilities(7) names by bit number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE = 40). */
export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Bit mask of a list of capability names; throws on an unknown name. */
export function capMask(names: string[] | undefined): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const i = CAPS.indexOf(n);
    if (i < 0) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(i);
  }
  return m;
}

/** Names of the bits in a mask (unknown bits as CAP_<n>). */
export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0n; i < 64n; i++) if (mask & (1n << i)) out.push(CAPS[Number(i)] ?? `CAP_${i}`);
  return out;
}

/** Parse a /proc/<pid>/status hex mask ("000001fffeffffff"). */
export function hexMask(s: unknown): bigint {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]+$/.test(s)) throw new Error(`not a hex mask: ${JSON.stringify(s)}`);
  return BigInt(`0x${s}`);
}

/** This process's capability bounding set (what any runtime started from here can grant at most). */
export function hostBoundingSet(): bigint {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(st);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/** readlink of /proc/<pid>/ns/* keyed by entry name ("net", "mnt", "pid", ...). */
export function namespacesOf(pid: number | 'self'): Record<string, string> {
  const dir = `/proc/${pid}/ns`;
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir)) {
    try {
      out[n] = fs.readlinkSync(`${dir}/${n}`);
    } catch {
      /* raced with exit or not permitted: leave it out */
    }
  }
  return out;
}

/** OCI namespace type → /proc/<pid>/ns entry name. */
export const NS_FILE: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

export interface HostMount {
  mountpoint: string;
  fstype: string;
  super: string[];
}

/** Mount points of cgroup (v1) and cgroup2 hierarchies in this process's mount namespace. */
export function cgroupHierarchies(): HostMount[] {
  const out: HostMount[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0) continue;
    const fstype = f[dash + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ mountpoint: f[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))), fstype, super: (f[dash + 3] ?? '').split(',') });
  }
  return out;
}
