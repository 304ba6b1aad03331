// The cgroup v2 mapping table (pure v2 hosts), as runc's fs2 manager writes it, in its order:
//
//   spec field                               v2 file (in the container's unified directory)
//   pids.limit (>0; <0 = max; 0 unset)       pids.max
//   memory.swap (memory+swap total)          memory.swap.max = swap - limit (-1 = max; = limit → 0), runc's conversion
//   memory.limit (-1 = max)                  memory.max
//   memory.reservation                       memory.low
//   memory.checkBeforeUpdate (update)        refuse a limit below memory.current (runc's text)
//   memory.disableOOMKiller / swappiness /   no v2 file: ignored with a warning when they ask for
//     kernel / kernelTCP                     something (runc ignores them silently)
//   blockIO.weight                           io.bfq.weight when present, else io.weight = 1 + (w-10)*9999/990
//   blockIO.weightDevice                     io.bfq.weight `MAJ:MIN W` (else io.weight `MAJ:MIN <converted>`)
//   blockIO.throttle*                        io.max `MAJ:MIN rbps=|wbps=|riops=|wiops=N`
//   cpu.idle                                 cpu.idle
//   cpu.shares                               cpu.weight = 1 + (shares-2)*9999/262142
//   cpu.quota / period (-1 quota = max)      cpu.max `QUOTA|max [PERIOD]`
//   cpu.burst                                cpu.max.burst
//   cpu.cpus / mems                          cpuset.cpus / cpuset.mems
//   hugepageLimits                           hugetlb.<size>.max (+ hugetlb.<size>.rsvd.max when present)
//   rdma                                     rdma.max
//   unified                                  each key written raw, last (so it wins); runc's texts for bad keys
//
// Refused (E_CGROUP, naming the field): cpu.realtimeRuntime/realtimePeriod and network (classID,
// priorities) that ask for something: cgroup v2 has no such files.
import * as path from 'node:path';
import { TsruncError } from '../errors';
import {
  type ApplyOptions, type Resources, type ResourceIo, UINT64_MAX_DOUBLE, blkioToIoWeight, checkPageSize, errCode, num, put,
  readNum, sharesToWeight, swapToV2,
} from './resources';
import { rdmaLines } from './resources-v1';

const f = (dir: string, name: string) => path.join(dir, name);

/** -1 → max, 0 → nothing, else the number (runc's numToStr). */
function numToStr(v: number | undefined): string {
  if (!v) return '';
  return v === -1 ? 'max' : num(v);
}

function controllersOf(dir: string, io: ResourceIo): Set<string> {
  try {
    return new Set(io.read(f(dir, 'cgroup.controllers')).split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}

/** A write that names the controller when its files are missing (not enabled in the parent). */
function putCtl(io: ResourceIo, dir: string, file: string, value: string, controllers: Set<string>): void {
  const ctl = file.split('.')[0];
  if (!controllers.has(ctl) && !io.exists(f(dir, file))) {
    throw new TsruncError('E_CGROUP', `write ${JSON.stringify(value)} to \`${f(dir, file)}\`: the ${ctl} controller is not enabled for this cgroup (cgroup.subtree_control of its parent)`);
  }
  put(io, f(dir, file), value);
}

type V2Step = (dir: string, r: Resources, io: ResourceIo, ctl: Set<string>, o: ApplyOptions) => void;

const V2_TABLE: ReadonlyArray<[string, V2Step]> = [
  ['pids', (dir, r, io, ctl) => {
    const l = r.pids?.limit;
    if (!l) return;
    putCtl(io, dir, 'pids.max', l > 0 ? num(l) : 'max', ctl);
  }],
  ['memory', (dir, r, io, ctl, o) => {
    const m = r.memory ?? {};
    const limit = m.limit ?? 0;
    const swap = m.swap ?? 0;
    const reservation = m.reservation ?? 0;
    if (m.disableOOMKiller) io.warn('linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer');
    if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness < UINT64_MAX_DOUBLE) {
      io.warn('linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness');
    }
    if (m.kernel) io.warn('linux.resources.memory.kernel is ignored: kernel memory limits are deprecated by the kernel (as runc)');
    if (m.kernelTCP) io.warn('linux.resources.memory.kernelTCP is ignored: kernel memory limits are deprecated by the kernel (as runc)');
    if (!limit && !swap && !reservation) return;
    if (o.update && m.checkBeforeUpdate && (limit > 0 || swap > 0)) {
      const usage = readNum(io, f(dir, 'memory.current'));
      const want = swap > 0 ? swap : limit;
      if (usage > want) throw new TsruncError('E_CGROUP', `rejecting memory limit ${num(want)} below current usage ${usage}`);
    }
    const v2swap = swapToV2(swap, limit);
    let swapStr = numToStr(v2swap);
    if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0'; // swap = limit: no swap at all
    if (swapStr !== '') {
      const file = f(dir, 'memory.swap.max');
      if (io.exists(file)) put(io, file, swapStr);
      else if (swapStr !== 'max' && swapStr !== '0') {
        throw new TsruncError('E_CGROUP', `set swap limit ${swapStr}: \`${file}\` does not exist (swap accounting is disabled in this kernel)`);
      }
    }
    const mem = numToStr(limit);
    if (mem !== '') putCtl(io, dir, 'memory.max', mem, ctl);
    const low = numToStr(reservation);
    if (low !== '') putCtl(io, dir, 'memory.low', low, ctl);
  }],
  ['io', (dir, r, io, ctl) => {
    const b = r.blockIO ?? {};
    if (b.leafWeight) io.warn('linux.resources.blockIO.leafWeight is ignored: cgroup v2 has no leaf weights');
    const bfqFile = f(dir, 'io.bfq.weight');
    const bfq = (b.weight || b.weightDevice?.length) ? io.exists(bfqFile) : false;
    if (b.weight) {
      if (bfq) put(io, bfqFile, num(b.weight));
      else putCtl(io, dir, 'io.weight', num(blkioToIoWeight(b.weight)), ctl);
    }
    for (const wd of b.weightDevice ?? []) {
      if (wd.leafWeight) io.warn('linux.resources.blockIO.weightDevice[].leafWeight is ignored: cgroup v2 has no leaf weights');
      if (!wd.weight) continue;
      if (bfq) put(io, bfqFile, `${wd.major}:${wd.minor} ${wd.weight}`);
      else putCtl(io, dir, 'io.weight', `${wd.major}:${wd.minor} ${blkioToIoWeight(wd.weight)}`, ctl);
    }
    const lists = [
      ['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops'],
    ] as const;
    for (const [field, key] of lists) {
      for (const td of b[field] ?? []) putCtl(io, dir, 'io.max', `${td.major}:${td.minor} ${key}=${num(td.rate)}`, ctl);
    }
  }],
  ['cpu', (dir, r, io, ctl) => {
    const c = r.cpu ?? {};
    if (c.realtimeRuntime || c.realtimePeriod) {
      throw new TsruncError('E_CGROUP', 'linux.resources.cpu.realtimeRuntime/realtimePeriod: realtime cpu limits are not available on cgroup v2');
    }
    if (c.idle !== undefined && c.idle !== null) putCtl(io, dir, 'cpu.idle', num(c.idle), ctl);
    const weight = sharesToWeight(c.shares ?? 0);
    if (weight) putCtl(io, dir, 'cpu.weight', num(weight), ctl);
    const hasBurst = c.burst !== undefined && c.burst !== null;
    let burstDone = false;
    // cpu.max.burst must stay ≤ the quota: try it first (a smaller burst), else after cpu.max.
    if (hasBurst && (c.quota || c.period)) {
      try { io.write(f(dir, 'cpu.max.burst'), num(c.burst!)); burstDone = true; } catch { /* after cpu.max */ }
    }
    if (c.quota || c.period) {
      let s = c.quota && c.quota > 0 ? num(c.quota) : 'max';
      if (c.period) s += ` ${num(c.period)}`;
      putCtl(io, dir, 'cpu.max', s, ctl);
    }
    if (hasBurst && !burstDone) putCtl(io, dir, 'cpu.max.burst', num(c.burst!), ctl);
  }],
  ['cpuset', (dir, r, io, ctl) => {
    if (r.cpu?.cpus) putCtl(io, dir, 'cpuset.cpus', r.cpu.cpus, ctl);
    if (r.cpu?.mems) putCtl(io, dir, 'cpuset.mems', r.cpu.mems, ctl);
  }],
  ['hugetlb', (dir, r, io, ctl) => {
    let rsvd = true;
    for (const h of r.hugepageLimits ?? []) {
      checkPageSize(h.pageSize);
      const prefix = `hugetlb.${h.pageSize}`;
      putCtl(io, dir, `${prefix}.max`, num(h.limit), ctl);
      if (!rsvd) continue;
      const file = f(dir, `${prefix}.rsvd.max`);
      if (!io.exists(file)) { rsvd = false; continue; }
      put(io, file, num(h.limit));
    }
  }],
  ['rdma', (dir, r, io, ctl) => {
    for (const line of rdmaLines(r)) putCtl(io, dir, 'rdma.max', line, ctl);
  }],
  ['network', (_dir, r) => {
    const n = r.network ?? {};
    if (n.classID) throw new TsruncError('E_CGROUP', 'linux.resources.network.classID: net_cls does not exist on cgroup v2');
    if (n.priorities?.length) throw new TsruncError('E_CGROUP', 'linux.resources.network.priorities: net_prio does not exist on cgroup v2');
  }],
  ['unified', (dir, r, io, ctl) => {
    for (const [k, v] of Object.entries(r.unified ?? {})) {
      if (k.includes('/')) throw new TsruncError('E_CGROUP', `unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
      if (k === '' || k === '.' || k === '..') throw new TsruncError('E_CGROUP', `unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
      try {
        io.write(f(dir, k), v);
      } catch (e) {
        const code = errCode(e);
        if (code === 'ENOENT' || code === 'EPERM' || code === 'EACCES') {
          const dot = k.indexOf('.');
          if (dot <= 0 || dot === k.length - 1) {
            throw new TsruncError('E_CGROUP', `unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`, { cause: e });
          }
          const c = k.slice(0, dot);
          if (!ctl.has(c) && c !== 'cgroup') {
            throw new TsruncError('E_CGROUP', `unified resource ${JSON.stringify(k)} can't be set: controller ${JSON.stringify(c)} not available`, { cause: e });
          }
        }
        throw new TsruncError('E_CGROUP', `unable to set unified resource ${JSON.stringify(k)}: write ${JSON.stringify(v)} to \`${f(dir, k)}\`: ${code}`, { cause: e });
      }
    }
  }],
];

/** Apply r to the container's unified directory, in runc's order (unified keys last). */
export function applyV2(r: Resources, dir: string, io: ResourceIo, o: ApplyOptions = {}): void {
  const ctl = controllersOf(dir, io);
  for (const [, step] of V2_TABLE) step(dir, r, io, ctl, o);
}
