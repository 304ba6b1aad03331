// Name tables shared by validation and the plan compiler: capabilities, rlimits, mount options.
import { MS } from './ops';

/** Linux capabilities by bit number (capability.h, up to CAP_CHECKPOINT_RESTORE = 40). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** RLIMIT_* resource numbers (asm-generic/resource.h, x86_64). */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/**
 * Mount options that set (or clear) MS_* flags (config.md's table, mount(8)); everything else
 * (but the tables below) is filesystem data. `defaults` sets nothing: mount(8)'s "use the default
 * options" (runc 1.1.5 passes it to the filesystem as data, where tmpfs refuses it: EINVAL).
 */
export const MOUNT_FLAGS: Readonly<Record<string, { set?: number; clear?: number }>> = {
  defaults: {},
  ro: { set: MS.RDONLY }, rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID }, suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV }, dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC }, exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS }, async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK }, nomand: { clear: MS.MANDLOCK },
  noatime: { set: MS.NOATIME }, atime: { clear: MS.NOATIME },
  nodiratime: { set: MS.NODIRATIME }, diratime: { clear: MS.NODIRATIME },
  relatime: { set: MS.RELATIME }, norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME }, nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME }, nolazytime: { clear: MS.LAZYTIME },
  iversion: { set: MS.I_VERSION }, noiversion: { clear: MS.I_VERSION },
  silent: { set: MS.SILENT }, loud: { clear: MS.SILENT },
  nosymfollow: { set: MS.NOSYMFOLLOW }, symfollow: { clear: MS.NOSYMFOLLOW },
  bind: { set: MS.BIND }, rbind: { set: MS.BIND | MS.REC },
};

export const PROPAGATION_FLAGS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** MOUNT_ATTR_* of mount_setattr(2) (linux/mount.h). */
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;

/**
 * The recursive options of config.md (runc's names): applied with mount_setattr(AT_RECURSIVE) to
 * the new mount and every mount below it. The `r*atime` options are modelled as the MS_* flags
 * they mirror and resolved at the end as mount(2) resolves them (see recursiveAttrs in compile.ts):
 * strictatime wins, then noatime, else relatime.
 */
export const RECURSIVE_FLAGS: Readonly<Record<string, { set?: number; clear?: number }>> = {
  rro: { set: MS.RDONLY }, rrw: { clear: MS.RDONLY },
  rnosuid: { set: MS.NOSUID }, rsuid: { clear: MS.NOSUID },
  rnodev: { set: MS.NODEV }, rdev: { clear: MS.NODEV },
  rnoexec: { set: MS.NOEXEC }, rexec: { clear: MS.NOEXEC },
  rnodiratime: { set: MS.NODIRATIME }, rdiratime: { clear: MS.NODIRATIME },
  rnoatime: { set: MS.NOATIME }, ratime: { clear: MS.NOATIME },
  rrelatime: { set: MS.RELATIME }, rnorelatime: { clear: MS.RELATIME },
  rstrictatime: { set: MS.STRICTATIME }, rnostrictatime: { clear: MS.STRICTATIME },
  rnosymfollow: { set: MS.NOSYMFOLLOW }, rsymfollow: { clear: MS.NOSYMFOLLOW },
};

/** Options that are neither flags nor data: `tmpcopyup` (config.md, MAY; Podman's --read-only). */
export const EXTENSION_OPTIONS: readonly string[] = ['tmpcopyup'];


/** Single-bit flags by name, for dumps: derived from the option tables above, plus `rec`. */
const FLAG_NAMES: [string, number][] = [
  ...Object.entries(MOUNT_FLAGS).flatMap(([n, f]) => (f.set && (f.set & (f.set - 1)) === 0 ? [[n, f.set] as [string, number]] : [])),
  ...Object.entries(PROPAGATION_FLAGS).filter(([, f]) => (f & MS.REC) === 0),
  ['rec', MS.REC],
];

export function flagNames(flags: number): string {
  const names = FLAG_NAMES.filter(([, f]) => flags & f).map(([n]) => n);
  return names.length ? names.join('|') : '0';
}
