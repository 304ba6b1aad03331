// The config.json that `tsrunc spec` writes: runc 1.1.5's libcontainer/specconv Example() (and
// ToRootless() for --rootless), field for field and in the same key order, except
//   - hostname "tsrunc" instead of "runc";
//   - ociVersion is the spec version tsrunc implements (1.3.0), as runc writes its own (1.0.2-dev).
// Like runc, a cgroup namespace is added only on a pure cgroup v2 host (the caller decides:
// runc checks IsCgroup2UnifiedMode()).
import type { Mount, Namespace, Spec } from './types';

export const SPEC_VERSION = '1.3.0';

export interface DefaultSpecOptions {
  rootless: boolean;
  /** Host ids mapped to 0 in the rootless spec (runc: os.Geteuid()/os.Getegid()). */
  uid: number;
  gid: number;
  /** Add `{"type":"cgroup"}` (runc does on a cgroup v2 unified host). Default false. */
  cgroupNamespace?: boolean;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function baseMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/** runc specconv.ToRootless: /sys becomes an rbind, uid=/gid= options go, no resources. */
function rootlessMounts(mounts: Mount[]): Mount[] {
  return mounts.map((m) => {
    if (m.destination === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
}

export function defaultSpec(o: DefaultSpecOptions): Spec {
  let namespaces: Namespace[] = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (o.cgroupNamespace) namespaces.push({ type: 'cgroup' });
  const masked = [
    '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
    '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
  ];
  const readonly = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  let mounts = baseMounts();
  let linux: NonNullable<Spec['linux']>;
  if (o.rootless) {
    namespaces = namespaces.filter((n) => n.type !== 'network' && n.type !== 'user');
    namespaces.push({ type: 'user' });
    mounts = rootlessMounts(mounts);
    // Key order is the Go struct's: uidMappings, gidMappings, ..., namespaces, ..., maskedPaths, readonlyPaths.
    linux = {
      uidMappings: [{ containerID: 0, hostID: o.uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: o.gid, size: 1 }],
      namespaces,
      maskedPaths: masked,
      readonlyPaths: readonly,
    };
  } else {
    linux = {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: masked,
      readonlyPaths: readonly,
    };
  }
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrunc',
    mounts,
    linux,
  };
}
