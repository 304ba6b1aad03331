// The v1 mapping table (hybrid and v1 hosts), as runc's fs manager writes it:
//
//   spec field                               v1 file (in the controller's directory)
//   memory.limit                             memory.limit_in_bytes (EBUSY → runc's "unable to set memory limit ...")
//   memory.swap (memory+swap total)          memory.memsw.limit_in_bytes (ordered against the limit as runc does)
//   memory.reservation                       memory.soft_limit_in_bytes
//   memory.disableOOMKiller true             memory.oom_control = 1
//   memory.swappiness 0-100                  memory.swappiness
//   memory.kernel / kernelTCP                ignored with a warning (runc 1.1+: deprecated by the kernel)
//   cpu.shares                               cpu.shares (read back: runc's min/max texts)
//   cpu.quota / period / burst / idle        cpu.cfs_quota_us / cpu.cfs_period_us / cpu.cfs_burst_us / cpu.idle
//   cpu.realtimeRuntime / realtimePeriod     cpu.rt_runtime_us / cpu.rt_period_us
//   cpu.cpus / mems                          cpuset.cpus / cpuset.mems
//   pids.limit (>0; <0 = max; 0 unset)       pids.max
//   blockIO.weight / leafWeight              blkio.bfq.weight (else blkio.weight) / blkio.leaf_weight
//   blockIO.weightDevice                     blkio.bfq.weight_device (else blkio.weight_device), blkio.leaf_weight_device
//   blockIO.throttle{Read,Write}{Bps,IOPS}   blkio.throttle.{read,write}_{bps,iops}_device
//   hugepageLimits                           hugetlb.<size>.limit_in_bytes (+ .rsvd.limit_in_bytes when present)
//   network.classID / priorities             net_cls.classid / net_prio.ifpriomap
//   rdma                                     rdma.max
//   unified                                  refused: runc's "invalid configuration: cannot use unified on cgroup v1"
//
// A field that asks for something whose controller is not mounted fails with runc's text
// `cannot set <controller> limit: container could not join or create cgroup`.
import * as path from 'node:path';
import { TsruncError } from '../errors';
import {
  type ApplyOptions, type Resources, type ResourceIo, UINT64_MAX_DOUBLE, checkPageSize, errCode, num, put, readNum,
} from './resources';

interface V1Entry {
  controller: string;
  /** Whether r asks this controller for anything. */
  wanted(r: Resources): boolean;
  set(dir: string, r: Resources, io: ResourceIo, o: ApplyOptions): void;
}

const f = (dir: string, name: string) => path.join(dir, name);

function memoryWanted(r: Resources): boolean {
  const m = r.memory ?? {};
  return !!(m.limit || m.swap || m.reservation || m.disableOOMKiller ||
    (m.swappiness !== undefined && m.swappiness !== null && m.swappiness < UINT64_MAX_DOUBLE));
}

function setMemoryLimit(dir: string, io: ResourceIo, val: number): void {
  if (val === 0) return;
  const file = f(dir, 'memory.limit_in_bytes');
  try {
    io.write(file, num(val));
  } catch (e) {
    if (errCode(e) !== 'EBUSY') throw new TsruncError('E_CGROUP', `write ${JSON.stringify(num(val))} to \`${file}\`: ${errCode(e)}`, { cause: e });
    // The kernel refuses a limit below the current usage: runc's text.
    let usage = 0;
    let peak = 0;
    try { usage = readNum(io, f(dir, 'memory.usage_in_bytes')); peak = readNum(io, f(dir, 'memory.max_usage_in_bytes')); } catch { /* best effort */ }
    throw new TsruncError('E_CGROUP', `unable to set memory limit to ${num(val)} (current usage: ${usage}, peak usage: ${peak})`, { cause: e });
  }
}

function setSwap(dir: string, io: ResourceIo, val: number): void {
  if (val === 0) return;
  const file = f(dir, 'memory.memsw.limit_in_bytes');
  if (!io.exists(file)) {
    throw new TsruncError('E_CGROUP', `set memory+swap limit ${num(val)}: \`${file}\` does not exist (swap accounting is disabled in this kernel)`);
  }
  put(io, file, num(val));
}

const V1_TABLE: readonly V1Entry[] = [
  {
    controller: 'memory',
    wanted: memoryWanted,
    set(dir, r, io) {
      const m = r.memory ?? {};
      const limit = m.limit ?? 0;
      let swap = m.swap ?? 0;
      // -1 memory with swap unset: swap unlimited too (only if swap accounting exists), as runc.
      if (limit === -1 && swap === 0 && io.exists(f(dir, 'memory.memsw.limit_in_bytes'))) swap = -1;
      // Order the two writes so that the kernel's limit ≤ memsw rule holds at every step.
      let swapFirst = false;
      if (limit !== 0 && swap !== 0) {
        const cur = readNum(io, f(dir, 'memory.limit_in_bytes'));
        swapFirst = swap === -1 || cur < swap;
      }
      if (swapFirst) {
        setSwap(dir, io, swap);
        setMemoryLimit(dir, io, limit);
      } else {
        setMemoryLimit(dir, io, limit);
        setSwap(dir, io, swap);
      }
      if (m.reservation) put(io, f(dir, 'memory.soft_limit_in_bytes'), num(m.reservation));
      if (m.disableOOMKiller) put(io, f(dir, 'memory.oom_control'), '1');
      const sw = m.swappiness;
      if (sw !== undefined && sw !== null && sw < UINT64_MAX_DOUBLE) {
        if (sw > 100) throw new TsruncError('E_CGROUP', `invalid value:${num(sw)}. valid memory swappiness range is 0-100`);
        put(io, f(dir, 'memory.swappiness'), num(sw));
      }
    },
  },
  {
    controller: 'cpu',
    wanted: (r) => {
      const c = r.cpu ?? {};
      return !!(c.shares || c.quota || c.period || c.realtimeRuntime || c.realtimePeriod ||
        c.burst !== undefined && c.burst !== null || c.idle !== undefined && c.idle !== null);
    },
    set(dir, r, io) {
      const c = r.cpu ?? {};
      if (c.shares) {
        const file = f(dir, 'cpu.shares');
        put(io, file, num(c.shares));
        const got = readNum(io, file);
        if (c.shares > got) throw new TsruncError('E_CGROUP', `the maximum allowed cpu-shares is ${got}`);
        if (c.shares < got) throw new TsruncError('E_CGROUP', `the minimum allowed cpu-shares is ${got}`);
      }
      // A period below the current one can be refused (EINVAL: old quota / new period over the
      // parent's) until the quota is written: retry it after the quota, as runc does.
      const pair = (periodFile: string, period: number | undefined, quotaFile: string, quota: number | undefined, between?: () => void) => {
        let retry = false;
        if (period) {
          try {
            io.write(f(dir, periodFile), num(period));
          } catch (e) {
            if (errCode(e) !== 'EINVAL' || !quota) {
              throw new TsruncError('E_CGROUP', `write ${JSON.stringify(num(period))} to \`${f(dir, periodFile)}\`: ${errCode(e)}`, { cause: e });
            }
            retry = true;
          }
        }
        between?.();
        if (quota) {
          put(io, f(dir, quotaFile), num(quota));
          if (retry) put(io, f(dir, periodFile), num(period!));
        }
      };
      // cfs_burst_us must stay ≤ the quota: a smaller burst goes first, a larger one after.
      const burst = c.burst ?? undefined;
      let burstDone = false;
      const writeBurst = (must: boolean) => {
        if (burst === undefined || burst === null || burstDone) return;
        try {
          io.write(f(dir, 'cpu.cfs_burst_us'), num(burst));
          burstDone = true;
        } catch (e) {
          if (must || errCode(e) !== 'EINVAL') {
            throw new TsruncError('E_CGROUP', `write ${JSON.stringify(num(burst))} to \`${f(dir, 'cpu.cfs_burst_us')}\`: ${errCode(e)}`, { cause: e });
          }
        }
      };
      pair('cpu.cfs_period_us', c.period, 'cpu.cfs_quota_us', c.quota, () => writeBurst(false));
      writeBurst(true);
      if (c.idle !== undefined && c.idle !== null) put(io, f(dir, 'cpu.idle'), num(c.idle));
      pair('cpu.rt_period_us', c.realtimePeriod, 'cpu.rt_runtime_us', c.realtimeRuntime);
    },
  },
  {
    controller: 'cpuset',
    wanted: (r) => !!(r.cpu?.cpus || r.cpu?.mems),
    set(dir, r, io) {
      if (r.cpu?.cpus) put(io, f(dir, 'cpuset.cpus'), r.cpu.cpus);
      if (r.cpu?.mems) put(io, f(dir, 'cpuset.mems'), r.cpu.mems);
    },
  },
  {
    controller: 'pids',
    wanted: (r) => !!r.pids?.limit,
    set(dir, r, io) {
      const l = r.pids!.limit!;
      put(io, f(dir, 'pids.max'), l > 0 ? num(l) : 'max');
    },
  },
  {
    controller: 'blkio',
    wanted: (r) => {
      const b = r.blockIO ?? {};
      return !!(b.weight || b.leafWeight || b.weightDevice?.length || b.throttleReadBpsDevice?.length ||
        b.throttleWriteBpsDevice?.length || b.throttleReadIOPSDevice?.length || b.throttleWriteIOPSDevice?.length);
    },
    set(dir, r, io) {
      const b = r.blockIO ?? {};
      const bfq = io.exists(f(dir, 'blkio.bfq.weight'));
      const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
      const weightDeviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
      if (b.weight) put(io, f(dir, weightFile), num(b.weight));
      if (b.leafWeight) put(io, f(dir, 'blkio.leaf_weight'), num(b.leafWeight));
      for (const wd of b.weightDevice ?? []) {
        if (wd.weight) put(io, f(dir, weightDeviceFile), `${wd.major}:${wd.minor} ${wd.weight}`);
        if (wd.leafWeight) put(io, f(dir, 'blkio.leaf_weight_device'), `${wd.major}:${wd.minor} ${wd.leafWeight}`);
      }
      const lists = [
        ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
        ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
        ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
        ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
      ] as const;
      for (const [field, file] of lists) {
        for (const td of b[field] ?? []) put(io, f(dir, file), `${td.major}:${td.minor} ${num(td.rate)}`);
      }
    },
  },
  {
    controller: 'hugetlb',
    wanted: (r) => !!r.hugepageLimits?.length,
    set(dir, r, io) {
      let rsvd = true;
      for (const h of r.hugepageLimits ?? []) {
        checkPageSize(h.pageSize);
        const prefix = `hugetlb.${h.pageSize}`;
        put(io, f(dir, `${prefix}.limit_in_bytes`), num(h.limit));
        if (!rsvd) continue;
        const file = f(dir, `${prefix}.rsvd.limit_in_bytes`);
        if (!io.exists(file)) { rsvd = false; continue; }
        put(io, file, num(h.limit));
      }
    },
  },
  {
    controller: 'net_cls',
    wanted: (r) => !!r.network?.classID,
    set(dir, r, io) {
      put(io, f(dir, 'net_cls.classid'), num(r.network!.classID!));
    },
  },
  {
    controller: 'net_prio',
    wanted: (r) => !!r.network?.priorities?.length,
    set(dir, r, io) {
      for (const p of r.network!.priorities!) put(io, f(dir, 'net_prio.ifpriomap'), `${p.name} ${num(p.priority)}`);
    },
  },
  {
    controller: 'rdma',
    wanted: (r) => Object.keys(r.rdma ?? {}).length > 0,
    set(dir, r, io) {
      for (const line of rdmaLines(r)) put(io, f(dir, 'rdma.max'), line);
    },
  },
];

/** rdma.max lines (the same on v1 and v2): `<device> hca_handle=N hca_object=N`. */
export function rdmaLines(r: Resources): string[] {
  return Object.entries(r.rdma ?? {}).map(([dev, e]) => {
    let s = dev;
    if (e.hcaHandles !== undefined && e.hcaHandles !== null) s += ` hca_handle=${num(e.hcaHandles)}`;
    if (e.hcaObjects !== undefined && e.hcaObjects !== null) s += ` hca_object=${num(e.hcaObjects)}`;
    return s;
  });
}

/** Apply r to the v1 directories in `paths` (controller → directory), in runc's order. */
export function applyV1(r: Resources, paths: Record<string, string>, io: ResourceIo, o: ApplyOptions = {}): void {
  if (r.unified && Object.keys(r.unified).length > 0) {
    throw new TsruncError('E_CGROUP', 'invalid configuration: cannot use unified on cgroup v1');
  }
  const m = r.memory ?? {};
  if (m.kernel) io.warn('linux.resources.memory.kernel is ignored: kernel memory limits are deprecated by the kernel (as runc)');
  if (m.kernelTCP) io.warn('linux.resources.memory.kernelTCP is ignored: kernel memory limits are deprecated by the kernel (as runc)');
  for (const e of V1_TABLE) {
    if (!e.wanted(r)) continue;
    const dir = paths[e.controller];
    if (dir === undefined) {
      throw new TsruncError('E_CGROUP', `cannot set ${e.controller} limit: container could not join or create cgroup`);
    }
    e.set(dir, r, io, o);
  }
}
