// The cgroup manager the lifecycle uses: one object over a CgroupRecord (controller → directory),
// for pure v2 hosts ('' only), hybrid hosts (v1 controllers + '' unified) and v1 hosts.
// Synchronous, like the rest of the lifecycle. All filesystem access goes through CgroupFs, so unit
// tests can run against a temp directory that imitates cgroupfs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsruncError } from '../errors';
import type { BpfNative } from './bpf';
import type { DevRule } from './devices';
import type { CgroupMode } from './host';
import { type FreezerState, readFreezerState, v2Frozen } from './freezer';
import type { CgroupRecord } from './paths';
import type { Resources, ResourceIo } from './resources';
import { cgroupPathProblem } from '../state/store';

// Device rules (devices.ts, bpf.ts) and resource limits (resources*.ts) are required where they are
// applied: `delete`, `kill --all` and `state` use the manager without them, and they are the
// larger part of its code (scripts/gen-bin.js puts what the lean commands load in one script).

/** The filesystem operations the manager needs (errors: Node ErrnoException with `code`). */
export interface CgroupFs {
  mkdir(p: string): void; // one level; EEXIST when present
  rmdir(p: string): void;
  readFile(p: string): string;
  writeFile(p: string, data: string): void;
  exists(p: string): boolean;
  /** Names of the subdirectories (child cgroups) of p. */
  subdirs(p: string): string[];
}

export const nodeCgroupFs: CgroupFs = {
  mkdir: (p) => fs.mkdirSync(p, 0o755),
  rmdir: (p) => fs.rmdirSync(p),
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  // One write(2) per value; O_WRONLY alone (no O_CREAT/O_TRUNC): a missing control file is an
  // ENOENT, never a new file, and write-only files such as cgroup.kill open fine.
  writeFile: (p, data) => {
    const fd = fs.openSync(p, fs.constants.O_WRONLY);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  },
  exists: (p) => fs.existsSync(p),
  subdirs: (p) => fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name),
};

export interface CgroupDeps {
  fs?: CgroupFs;
  /** The addon's BPF functions; needed only to apply device rules on a pure v2 host. */
  native?: BpfNative;
  /** Signal a process (default process.kill). ESRCH is ignored by the manager. */
  kill?: (pid: number, signal: number) => void;
  /** Block for ms milliseconds (default Atomics.wait); used by retries and freezer polling. */
  sleep?: (ms: number) => void;
}

export type { FreezerState } from './freezer';

const SIGKILL = 9; // Linux's, on every architecture (and without loading node:os for `delete`)

function defaultSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errCode(e: unknown): string {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : String(e);
}

function cgErr(op: string, e: unknown): TsruncError {
  if (e instanceof TsruncError) return e;
  return new TsruncError('E_CGROUP', `${op}: ${errCode(e)}`, { cause: e });
}

/** Validate what state.json gave back. */
export function checkRecord(record: unknown): CgroupRecord {
  const paths = (record as CgroupRecord | null)?.paths;
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths) || Object.keys(paths).length === 0) {
    throw new TsruncError('E_STATE', 'cgroup record: `paths` must be a non-empty object');
  }
  for (const [k, v] of Object.entries(paths)) {
    if (typeof v !== 'string' || !path.isAbsolute(v) || path.normalize(v) !== v) {
      throw new TsruncError('E_STATE', `cgroup record: path of \`${k}\` must be a clean absolute path`);
    }
  }
  return { paths: { ...paths } };
}

export class CgroupManager {
  private readonly paths: Record<string, string>;
  private readonly fs: CgroupFs;
  private readonly native?: BpfNative;
  private readonly killFn: (pid: number, signal: number) => void;
  private readonly sleep: (ms: number) => void;

  constructor(record: CgroupRecord, deps: CgroupDeps = {}) {
    this.paths = checkRecord(record).paths;
    this.fs = deps.fs ?? nodeCgroupFs;
    this.native = deps.native;
    this.killFn = deps.kill ?? ((pid, sig) => process.kill(pid, sig));
    this.sleep = deps.sleep ?? defaultSleep;
  }

  /** 'v2' when only the unified path is recorded; 'hybrid' with v1 paths and ''; else 'v1'. */
  get mode(): CgroupMode {
    const keys = Object.keys(this.paths);
    if (keys.length === 1 && keys[0] === '') return 'v2';
    return '' in this.paths ? 'hybrid' : 'v1';
  }

  /** The cgroup2 directory (for CLONE_INTO_CGROUP), if any. */
  get unifiedPath(): string | undefined {
    return this.paths[''];
  }

  /** What to store in state.json. */
  toRecord(): CgroupRecord {
    return { paths: { ...this.paths } };
  }

  /** Each distinct directory once (co-mounted controllers share one), unified last. */
  private dirs(): string[] {
    const keys = Object.keys(this.paths).sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : 1));
    return [...new Set(keys.map((k) => this.paths[k]))];
  }

  private read(p: string): string {
    return this.fs.readFile(p).trim();
  }

  private write(p: string, value: string, op: string): void {
    try {
      this.fs.writeFile(p, value);
    } catch (e) {
      throw cgErr(`${op} \`${p}\``, e);
    }
  }

  // ---- create ----------------------------------------------------------------------------

  /** Create the directory in every hierarchy (existing ones are reused). v1 cpuset levels get
   *  cpuset.cpus/mems copied from their parent when empty; on a pure v2 host every controller
   *  available at each ancestor is enabled in its cgroup.subtree_control, as runc does. */
  create(): void {
    for (const [key, dir] of Object.entries(this.paths)) {
      if (key === 'cpuset') this.createCpuset(dir);
      else if (key === '' && this.mode === 'v2') this.createV2(dir);
      else this.mkdirP(dir);
    }
  }

  /** Missing ancestors of dir (dir included), outermost first. */
  private missing(dir: string): string[] {
    const out: string[] = [];
    for (let p = dir; !this.fs.exists(p); p = path.dirname(p)) {
      if (p === '/') break;
      out.unshift(p);
    }
    return out;
  }

  private mkdir(p: string): void {
    try {
      this.fs.mkdir(p);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw cgErr(`create cgroup \`${p}\``, e);
    }
  }

  private mkdirP(dir: string): void {
    for (const p of this.missing(dir)) this.mkdir(p);
  }

  /** A file's trimmed text, or undefined when it does not exist. */
  private readOpt(p: string): string | undefined {
    try {
      return this.read(p);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return undefined;
      throw cgErr(`read \`${p}\``, e);
    }
  }

  private readOr(p: string, dflt: string): string {
    return this.readOpt(p) ?? dflt;
  }

  private createCpuset(dir: string): void {
    // Levels to initialise: from the deepest ancestor whose cpus and mems are set, down to dir.
    const chain: string[] = [];
    let p = dir;
    for (;;) {
      if (this.fs.exists(p) && this.readOr(path.join(p, 'cpuset.cpus'), '') !== '' &&
          this.readOr(path.join(p, 'cpuset.mems'), '') !== '') break;
      chain.unshift(p);
      const parent = path.dirname(p);
      if (parent === p) throw new TsruncError('E_CGROUP', `create cgroup \`${dir}\`: no cpuset ancestor has cpuset.cpus and cpuset.mems set`);
      p = parent;
    }
    for (const level of chain) {
      this.mkdir(level);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const mine = path.join(level, file);
        if (this.readOr(mine, '') !== '') continue;
        const value = this.read(path.join(path.dirname(level), file));
        this.write(mine, value, `copy ${file} to`);
      }
    }
  }

  private createV2(dir: string): void {
    // Existing ancestors inside the cgroup2 mount (those with cgroup.controllers), outermost first.
    let start = path.dirname(dir);
    while (start !== '/' && !this.fs.exists(start)) start = path.dirname(start);
    const ancestors: string[] = [];
    for (let p = start; this.fs.exists(path.join(p, 'cgroup.controllers')); p = path.dirname(p)) {
      ancestors.unshift(p);
      if (p === '/') break;
    }
    const enable = (p: string) => {
      const avail = this.readOr(path.join(p, 'cgroup.controllers'), '').split(/\s+/).filter(Boolean);
      const on = new Set(this.readOr(path.join(p, 'cgroup.subtree_control'), '').split(/\s+/).filter(Boolean));
      const want = avail.filter((c) => !on.has(c));
      if (want.length === 0) return;
      const file = path.join(p, 'cgroup.subtree_control');
      try {
        this.fs.writeFile(file, want.map((c) => `+${c}`).join(' '));
      } catch {
        // One by one; a controller that cannot be enabled (rootless, threaded, busy) is left off,
        // and setting a limit on it fails later with a clear error.
        for (const c of want) {
          try { this.fs.writeFile(file, `+${c}`); } catch { /* see above */ }
        }
      }
    };
    for (const a of ancestors) enable(a);
    for (const p of this.missing(dir)) {
      this.mkdir(p);
      if (p !== dir) enable(p);
    }
  }

  // ---- processes ---------------------------------------------------------------------------

  /** Move pid into the cgroup in every hierarchy (cgroup.procs). */
  addPid(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new TsruncError('E_INTERNAL', `add pid \`${pid}\` to cgroup: invalid pid`);
    for (const dir of this.dirs()) this.write(path.join(dir, 'cgroup.procs'), String(pid), `add pid ${pid} to cgroup`);
  }

  /** The directory whose cgroup.procs lists the container's processes: unified on v2, else the
   *  devices hierarchy (as runc), else any v1 one. */
  private procsDir(): string {
    if (this.mode === 'v2') return this.paths[''];
    return this.paths.devices ?? this.paths.freezer ?? this.paths[Object.keys(this.paths).filter((k) => k !== '').sort()[0]];
  }

  /** Every pid in the cgroup and its descendants, ascending; [] when the cgroup does not exist. */
  pids(): number[] {
    const found = new Set<number>();
    const walk = (dir: string) => {
      let text: string;
      try {
        text = this.fs.readFile(path.join(dir, 'cgroup.procs'));
      } catch (e) {
        if (errCode(e) === 'ENOENT' || errCode(e) === 'ENODEV') return;
        throw cgErr(`read \`${path.join(dir, 'cgroup.procs')}\``, e);
      }
      for (const l of text.split('\n')) if (/^\d+$/.test(l.trim())) found.add(Number(l.trim()));
      let subs: string[];
      try {
        subs = this.fs.subdirs(dir);
      } catch (e) {
        if (errCode(e) === 'ENOENT') return;
        throw cgErr(`list \`${dir}\``, e);
      }
      for (const s of subs) walk(path.join(dir, s));
    };
    walk(this.procsDir());
    return [...found].sort((a, b) => a - b);
  }

  /** Signal every process in the cgroup. SIGKILL uses cgroup.kill when the unified cgroup has it
   *  (atomic, no fork race). Otherwise, like runc: freeze (when a freezer exists and the cgroup is
   *  not already frozen), signal each pid, thaw again. A paused (frozen) cgroup stays frozen for
   *  other signals and is thawed after SIGKILL so the processes can exit. Processes that are
   *  already gone are fine. */
  killAll(signal: number): void {
    const unified = this.paths[''];
    const before = this.hasFreezer() ? this.freezerState() : undefined;
    if (signal === SIGKILL && unified !== undefined && this.fs.exists(path.join(unified, 'cgroup.kill'))) {
      this.write(path.join(unified, 'cgroup.kill'), '1', 'kill cgroup');
      // Tasks frozen by the v1 freezer do not act on SIGKILL until thawed.
      if (before !== undefined && before !== 'thawed') this.setFrozen(false);
      return;
    }
    const froze = before === 'thawed';
    if (froze) this.setFrozen(true);
    try {
      for (const pid of this.pids()) {
        try {
          this.killFn(pid, signal);
        } catch (e) {
          if (errCode(e) !== 'ESRCH') throw cgErr(`signal pid ${pid} of cgroup \`${this.procsDir()}\``, e);
        }
      }
    } finally {
      // Thaw what we froze; after SIGKILL thaw even a paused cgroup, or nothing could exit.
      if (froze || (signal === SIGKILL && before !== undefined)) this.setFrozen(false);
    }
  }

  // ---- devices -----------------------------------------------------------------------------

  /** Apply device rules (in order, from deny-all; see devices.ts). v1: the devices controller
   *  (the minimal transition from the current devices.list, then a check of the result). Pure v2,
   *  or a hybrid host without a v1 devices hierarchy: an eBPF program on the unified cgroup. */
  setDevices(rules: readonly DevRule[]): void {
    const v1 = this.paths.devices;
    if (v1 !== undefined) {
      this.setDevicesV1(v1, rules);
      return;
    }
    const unified = this.paths[''];
    if (unified === undefined) {
      throw new TsruncError('E_CGROUP', 'set device rules: neither a v1 devices hierarchy nor cgroup2 is available');
    }
    const { compileDeviceProgram } = require('./bpf') as typeof import('./bpf');
    const insns = compileDeviceProgram(rules);
    if (this.native === undefined) {
      throw new TsruncError('E_INTERNAL', `set device rules on \`${unified}\`: the native addon was not provided`);
    }
    try {
      this.native.bpfAttachDeviceProgram(unified, insns);
    } catch (e) {
      // The addon's message names the syscall, the path and the errno (and the verifier log).
      const detail = e instanceof Error ? e.message : String(e);
      throw new TsruncError('E_CGROUP', `set device rules: ${detail}`, { cause: e });
    }
  }

  private setDevicesV1(dir: string, rules: readonly DevRule[]): void {
    const { deviceTransition, emulateDeviceRules, parseDevicesList, ruleToString, sameDeviceState } =
      require('./devices') as typeof import('./devices');
    const list = path.join(dir, 'devices.list');
    const target = emulateDeviceRules(rules);
    let current;
    try {
      current = parseDevicesList(this.fs.readFile(list));
    } catch (e) {
      throw cgErr(`read \`${list}\``, e);
    }
    for (const r of deviceTransition(current, target)) {
      const file = path.join(dir, r.allow ? 'devices.allow' : 'devices.deny');
      this.write(file, ruleToString(r), `write \`${ruleToString(r)}\` to`);
    }
    // Check, as runc does: an allow list must now match exactly; a deny list at least by mode.
    let after;
    try {
      after = parseDevicesList(this.fs.readFile(list));
    } catch (e) {
      throw cgErr(`read \`${list}\``, e);
    }
    const ok = target.defaultAllow ? after.defaultAllow : sameDeviceState(after, target);
    if (!ok) throw new TsruncError('E_CGROUP', `set device rules \`${list}\`: the result does not match the rules`);
  }

  // ---- resources ---------------------------------------------------------------------------

  /** Apply `linux.resources` (all but devices: see setDevices) through the mapping table of this
   *  host's manager: resources-v2.ts on a pure v2 host, resources-v1.ts (the v1 controllers) on
   *  hybrid and v1 hosts. Values that ask for nothing are not written. `update` honours
   *  memory.checkBeforeUpdate; `warn` receives what is ignored (e.g. kernel memory). */
  setResources(r: Resources, o: { update?: boolean; warn?: (msg: string) => void } = {}): void {
    const io: ResourceIo = {
      write: (p, v) => this.fs.writeFile(p, v),
      read: (p) => this.fs.readFile(p),
      exists: (p) => this.fs.exists(p),
      warn: o.warn ?? (() => {}),
    };
    const res = (require('./resources') as typeof import('./resources')).resourcesOf(r);
    if (this.mode === 'v2') {
      (require('./resources-v2') as typeof import('./resources-v2')).applyV2(res, this.paths[''], io, { update: o.update });
      return;
    }
    const v1: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.paths)) if (k !== '') v1[k] = v;
    (require('./resources-v1') as typeof import('./resources-v1')).applyV1(res, v1, io, { update: o.update });
  }

  // ---- freezer -----------------------------------------------------------------------------

  private hasFreezer(): boolean {
    if (this.paths.freezer !== undefined) return true;
    const u = this.paths[''];
    return u !== undefined && this.fs.exists(path.join(u, 'cgroup.freeze'));
  }

  /** v1 freezer.state, or v2 cgroup.freeze + cgroup.events. 'thawed' when the cgroup or the
   *  freezer does not exist. */
  freezerState(): FreezerState {
    return readFreezerState(this.paths, (p) => this.readOpt(p));
  }

  /** Freeze or thaw, waiting (up to ~2 s) until the kernel reports the new state. A freeze that
   *  does not complete is undone and reported. */
  setFrozen(frozen: boolean): void {
    const v1 = this.paths.freezer;
    const u = this.paths[''];
    if (v1 === undefined && (u === undefined || !this.fs.exists(path.join(u, 'cgroup.freeze')))) {
      throw new TsruncError('E_CGROUP', `${frozen ? 'freeze' : 'thaw'} cgroup: no freezer is available`);
    }
    const file = v1 !== undefined ? path.join(v1, 'freezer.state') : path.join(u!, 'cgroup.freeze');
    const value = v1 !== undefined ? (frozen ? 'FROZEN' : 'THAWED') : (frozen ? '1' : '0');
    const op = frozen ? 'freeze cgroup' : 'thaw cgroup';
    const done = () => (v1 !== undefined ? this.readOr(file, '') === value : v2Frozen(u!, (p) => this.readOpt(p)) === frozen);
    let delay = 1;
    for (let waited = 0; ; waited += delay, delay = Math.min(delay * 2, 50)) {
      // v1 may need the write repeated while new tasks join (runc rewrites it in its loop too).
      if (waited === 0 || v1 !== undefined) this.write(file, value, op);
      if (done()) return;
      if (waited >= 2000) break;
      this.sleep(delay);
    }
    if (frozen) {
      try { this.fs.writeFile(file, v1 !== undefined ? 'THAWED' : '0'); } catch { /* reported below */ }
    }
    throw new TsruncError('E_CGROUP', `${op} \`${file}\`: timed out waiting for the state to change`);
  }

  // ---- destroy -----------------------------------------------------------------------------

  /** Remove the cgroup (and any child cgroups the container made) in every hierarchy. Retries
   *  for a while on EBUSY, while killed processes finish exiting. Parents (e.g. /default) stay.
   *  Already removed is fine. Every hierarchy is attempted; the first failure is thrown. */
  destroy(): void {
    let first: TsruncError | undefined;
    for (const dir of this.dirs()) {
      let delay = 10;
      for (let attempt = 0; ; attempt++) {
        try {
          this.removeTree(dir);
          break;
        } catch (e) {
          const code = errCode(e);
          if ((code === 'EBUSY' || code === 'ENOTEMPTY') && attempt < 7) {
            this.sleep(delay);
            delay *= 2;
            continue;
          }
          first ??= cgErr(`remove cgroup \`${dir}\``, e);
          break;
        }
      }
    }
    if (first !== undefined) throw first;
  }

  private removeTree(dir: string): void {
    try {
      this.fs.rmdir(dir);
      return;
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw e;
    }
    let subs: string[];
    try {
      subs = this.fs.subdirs(dir);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      throw e;
    }
    for (const s of subs) this.removeTree(path.join(dir, s));
    try {
      this.fs.rmdir(dir);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
  }
}

/** Rebuild a manager from the record stored in state.json. */
export function fromRecord(record: unknown, deps: CgroupDeps = {}): CgroupManager {
  const rec = checkRecord(record);
  // What state.json gave back is confined to the cgroup mounts (a forged record must not make
  // delete --force signal what another directory's cgroup.procs lists); StateStore.read checks the
  // paths' shape first, naming the state file, and this the rest (their parents are on cgroupfs).
  for (const [k, v] of Object.entries(rec.paths)) {
    const bad = cgroupPathProblem(v);
    if (bad !== undefined) throw new TsruncError('E_STATE', `cgroup record: path ${JSON.stringify(v)} of \`${k === '' ? 'unified' : k}\` ${bad}`);
  }
  return new CgroupManager(rec, deps);
}
