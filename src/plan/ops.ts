// Plan ops: what tsrunc-init does inside the new namespaces, in order. The codes and field order
// must match addon/init/plan.h (the table there documents every op).

export const OP = {
  ROOT_PROPAGATE: 1,
  BIND_ROOTFS: 2,
  MOUNT: 3,
  MKNOD: 4,
  SYMLINK: 5,
  OPEN_FIFO: 6,
  PIVOT_ROOT: 7,
  REMOUNT: 8,
  MASK: 9,
  READONLY: 10,
  HOSTNAME: 11,
  DOMAINNAME: 12,
  SYSCTL: 13,
  OOM_SCORE_ADJ: 14,
  UNSHARE: 15,
  CHDIR: 16,
  RLIMIT: 17,
  RESOLVE_EXEC: 18,
  USER: 19,
  CAPS: 20,
  NO_NEW_PRIVS: 21,
  WAIT_START: 22,
  EXEC: 23,
  SESSION_KEYRING: 24,
  PROC_HANDLE: 25,
  LOOKUP_HOME: 26,
  MKDIR: 27,
  SECCOMP: 28,
  // 60-69: process attributes (src/plan/process.ts, addon/init/process.cc)
  APPARMOR: 60,
  SCHEDULER: 61,
  IOPRIO: 62,
  PERSONALITY: 63,
  MEMORY_POLICY: 64,
  NETDEV: 65,
  // 30-39: namespaces and user ids
  TIMENS: 30,
  JOIN_TIMENS: 31,
  RECV_FIFO: 32,
  MOUNT_IDMAP: 33,
  BIND_DEVICE: 34,
  MOUNT_ATTRS: 50,
  TMPCOPYUP: 51,
  PTY: 40,
  FORK: 90,
  JOIN: 91,
  EXEC_READY: 92,
  HOOK_SYNC: 70,
  HOOK: 71,
  SECCOMP_LISTENER: 80,
  // Reserved ranges for work in flight (one per area, so parallel branches never collide):
  // 30-39 namespaces and user ids, 40-49 terminal and fds, 50-59 mounts and devices,
  // 60-69 process attributes, 70-79 hooks, 80-89 seccomp notify, 90-99 exec.
} as const;

export type OpName = keyof typeof OP;

export interface Op {
  op: OpName;
  /** Integers (encoded as i64). bigint for 64-bit masks. */
  ints: (number | bigint)[];
  strs: string[];
  /** The operation and its object, for plan dumps and error messages: "mount `proc` on `/proc`". */
  what: string;
}

/** Where each namespace comes from. */
export interface NamespacePlan {
  type: string;
  /**
   * How it is made: in the clone3 flags, unshared by the init, or joined (linux.namespaces[].path:
   * by the clone child; a time namespace by the init, JOIN_TIMENS).
   */
  how: 'clone' | 'unshare' | 'join';
  path?: string;
}

/** A namespace to join: `create` opens `path`, checks its type, and the clone child setns()es it. */
export interface NamespaceJoin {
  type: string;
  path: string;
  /** The JSON path of the field, for errors: `/linux/namespaces/2/path`. */
  field: string;
  /** CLONE_NEW* of the type. */
  nstype: number;
}

export interface IdMap { containerID: number; hostID: number; size: number }

/** An idmapped bind mount, made by `create` (a detached tree) and attached by MOUNT_IDMAP. */
export interface IdmapPlan {
  /** Clone the whole tree (rbind), not just the top mount. */
  tree: boolean;
  /** Idmap every mount of the tree (ridmap), not just the top one. */
  recursive: boolean;
  uidMappings: IdMap[];
  gidMappings: IdMap[];
}

/** An fd `create` sends over the sync socket after SYNC_GO, in the order the ops receive them. */
export type SendFd = { kind: 'fifo'; path: string } | ({ kind: 'idmap'; path: string } & IdmapPlan);

export interface Plan {
  /** CLONE_NEW* flags passed to clone3. */
  cloneFlags: number;
  namespaces: NamespacePlan[];
  /** Host-side steps done by `create` itself, for the dump (cgroup, state, fifo). */
  host: string[];
  ops: Op[];
  /** A new user namespace: the maps `create` writes before the clone child may exec. */
  idMappings?: { uid: IdMap[]; gid: IdMap[] };
  sendFds?: SendFd[];
  /** No mount namespace: the container mounts in the caller's, `delete` must detach them. */
  hostMounts?: boolean;
  /** Namespaces to join, in the order they are joined (absent or empty: none). */
  joins?: NamespaceJoin[];
  /** linux.seccomp uses SCMP_ACT_NOTIFY: where `create` sends the listener fd (SECCOMP_LISTENER). */
  seccompListener?: { path: string; metadata?: string };
}

export const CLONE = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;
