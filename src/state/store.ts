// The state directory (design §4): <root>/<id>/ holds state.json (atomic tmp+rename writes) and,
// between create and start, exec.fifo. An exclusive mkdir of <root>/<id> is what makes ids unique:
// of two concurrent creates of one id, exactly one mkdir succeeds.
import fs = require('fs');
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';

/** What state.json holds: the OCI state fields plus what later commands need. */
export interface StateRecord {
  ociVersion: string;
  id: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat at create: detects pid reuse. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
  /** The cgroup manager's serialisable record (src/cgroup). */
  cgroup: unknown;
  /** Namespaces the container got (types). */
  namespaces: string[];
  /** linux.resources as applied (without devices), updated by `update`; absent when none. */
  resources?: import('../cgroup/resources').Resources;
  /** No mount namespace: what `delete` detaches on the host (src/lifecycle/hostmounts.ts). */
  hostMounts?: import('../lifecycle/hostmounts').HostMounts;
  /** What `exec` takes from the container's config at create time (capabilities, rlimits, seccomp). */
  execDefaults?: import('../plan/exec').ExecDefaults;
  /** The poststart and poststop hooks of config.json at create; absent when none. */
  hooks?: import('../lifecycle/hooks').RecordedHooks;
}

export const STATE_FILE = 'state.json';
export const FIFO_NAME = 'exec.fifo';

/** What one entry under --root is (see StateStore.entries). */
export type EntryKind =
  | 'container' // a real directory with a state.json
  | 'nostate' // a real directory without a readable state.json (being created, or a killed create)
  | 'notdir'; // a symlink or anything else that is not a directory: never followed

/** Filesystem types a recorded cgroup directory's parent may be on (statfs f_type). */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;
/** Recorded cgroup directories must be below this (where every cgroup hierarchy is mounted). */
export const CGROUP_MOUNT_ROOT = '/sys/fs/cgroup/';

/**
 * Why a cgroup directory read back from a state file cannot be used, or undefined when it can:
 * it must be absolute, normalised (no `.`/`..` segments), strictly below /sys/fs/cgroup/, and never
 * the root of a hierarchy (its parent, when it exists, is on cgroupfs). A forged state.json must not
 * make `delete --force` or `kill --all` signal what some other directory's `cgroup.procs` lists.
 * `statfs` is injectable for unit tests; it throws (ENOENT) when the parent does not exist.
 */
export function cgroupPathProblem(p: unknown, statfs: (p: string) => { type: number } = (x) => fs.statfsSync(x)): string | undefined {
  const shape = cgroupPathShapeProblem(p);
  if (shape !== undefined) return shape;
  let type: number;
  try {
    type = statfs(path.dirname(p as string)).type;
  } catch (e) {
    if (isErrnoLike(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined; // nothing there to act on
    return `statfs of its parent: ${causeText(e)}`;
  }
  if (type !== CGROUP_SUPER_MAGIC && type !== CGROUP2_SUPER_MAGIC) return 'must not be the root of a cgroup hierarchy';
  return undefined;
}

/**
 * The part of cgroupPathProblem that needs no system call: what StateStore.read checks of every
 * record (`state`, `start`, `kill` read a cgroup file at most). The cgroup manager, which signals
 * and removes cgroups, checks all of it (fromRecord): a statfs per hierarchy is ~0.05 ms each,
 * ~0.7 ms per read on a v1 host.
 */
export function cgroupPathShapeProblem(p: unknown): string | undefined {
  if (typeof p !== 'string' || !path.isAbsolute(p) || path.posix.normalize(p) !== p || p.endsWith('/')) {
    return 'must be a clean absolute path';
  }
  if (!p.startsWith(CGROUP_MOUNT_ROOT) || p.length === CGROUP_MOUNT_ROOT.length) return `must be below ${CGROUP_MOUNT_ROOT}`;
  return undefined;
}

/**
 * Why `v` is not a state record tsrunc wrote, or undefined. Another runtime given the same --root
 * (Docker passes one root to every runtime it knows: runc writes `<root>/<id>/state.json` too, in a
 * different shape) must give a clear error, never a crash further on.
 */
function recordProblem(v: unknown, id: string): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const r = v as Record<string, unknown>;
  for (const k of ['ociVersion', 'pidStartTime', 'bundle', 'rootfs', 'created', 'owner'] as const) {
    if (typeof r[k] !== 'string') return `\`${k}\` is not a string`;
  }
  if (r.id !== id) return '`id` does not match the directory name';
  if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid < 1) return '`pid` is not a positive integer';
  if (!/^\d+$/.test(r.pidStartTime as string)) return '`pidStartTime` is not a number';
  if (!Array.isArray(r.namespaces) || !r.namespaces.every((x) => typeof x === 'string')) return '`namespaces` is not a list of strings';
  if (r.annotations !== undefined) {
    const a = r.annotations;
    if (typeof a !== 'object' || a === null || Array.isArray(a) || !Object.values(a).every((x) => typeof x === 'string')) {
      return '`annotations` is not a map of strings';
    }
  }
  if (r.resources !== undefined && (typeof r.resources !== 'object' || r.resources === null || Array.isArray(r.resources))) {
    return '`resources` is not an object';
  }
  if (r.hooks !== undefined) {
    const h = r.hooks as Record<string, unknown> | null;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) return '`hooks` is not an object';
    const strings = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((y) => typeof y === 'string'));
    for (const [k, list] of Object.entries(h)) {
      if ((k !== 'poststart' && k !== 'poststop') || !Array.isArray(list)) return `\`hooks.${k}\` is not a list of hooks`;
      for (const e of list as Record<string, unknown>[]) {
        if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || !e.path.startsWith('/') || !strings(e.args) || !strings(e.env) ||
            (e.timeout !== undefined && (typeof e.timeout !== 'number' || !Number.isInteger(e.timeout) || e.timeout < 1))) {
          return `\`hooks.${k}\` is not a list of hooks`;
        }
      }
    }
  }
  const paths = (r.cgroup as { paths?: unknown } | null | undefined)?.paths;
  if (typeof r.cgroup !== 'object' || r.cgroup === null || typeof paths !== 'object' || paths === null || Array.isArray(paths) ||
      !Object.values(paths).every((x) => typeof x === 'string')) {
    return '`cgroup.paths` is not a map of strings';
  }
  return undefined;
}

const O_NOFOLLOW_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.root, id, FIFO_NAME);
  }

  stateFile(id: string): string {
    return path.join(this.root, id, STATE_FILE);
  }

  /** Exclusive creation of <root>/<id> (0711, as runc); the root is created as needed (0700). */
  createDir(id: string): void {
    mkdirP(this.root, 0o700);
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'EEXIST') {
        throw new TsruncError('E_EXISTS', 'container with given ID already exists');
      }
      throw new TsruncError('E_STATE', `create state directory \`${this.dir(id)}\`: ${causeText(e)}`, { cause: e });
    }
  }

  /** Whether <root>/<id> is a real directory (never a symlink) holding a state.json file. */
  exists(id: string): boolean {
    try {
      if (!fs.lstatSync(this.dir(id)).isDirectory()) return false;
      return fs.lstatSync(this.stateFile(id)).isFile();
    } catch {
      return false;
    }
  }

  /** Write state.json atomically: a unique temp file in the same directory, then rename. */
  write(rec: StateRecord): void {
    const dir = this.dir(rec.id);
    const tmp = path.join(dir, `.state-${process.pid}-${Date.now()}`);
    try {
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(rec));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, path.join(dir, STATE_FILE));
    } catch (e) {
      unlinkIfExists(tmp);
      throw new TsruncError('E_STATE', `write state file \`${path.join(dir, STATE_FILE)}\`: ${causeText(e)}`, { cause: e });
    }
  }

  /**
   * The text of <root>/<id>/state.json, read without following a symlink at <root>/<id> or at
   * state.json: the directory is opened O_DIRECTORY|O_NOFOLLOW and the file through that fd
   * (/proc/self/fd/N/state.json, O_NOFOLLOW|O_NONBLOCK), so a swap after a check cannot redirect
   * the read either; a FIFO planted as state.json cannot block.
   */
  private readText(id: string): string {
    const file = this.stateFile(id);
    let dfd: number;
    try {
      dfd = fs.openSync(this.dir(id), O_NOFOLLOW_DIR);
    } catch (e) {
      if (isErrnoLike(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR' && !isLink(this.dir(id)))) {
        throw new TsruncError('E_NOT_EXIST', 'container does not exist');
      }
      if (isErrnoLike(e) && (e.code === 'ELOOP' || e.code === 'ENOTDIR')) {
        throw new TsruncError('E_STATE', `state directory \`${this.dir(id)}\` is a symlink: refusing to follow it`, { cause: e });
      }
      throw new TsruncError('E_STATE', `read state file \`${file}\`: ${causeText(e)}`, { cause: e });
    }
    try {
      let fd: number;
      try {
        fd = fs.openSync(`/proc/self/fd/${dfd}/${STATE_FILE}`, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      } catch (e) {
        if (isErrnoLike(e) && e.code === 'ENOENT') throw new TsruncError('E_NOT_EXIST', 'container does not exist');
        if (isErrnoLike(e) && e.code === 'ELOOP') {
          throw new TsruncError('E_STATE', `state file \`${file}\` is a symlink: refusing to follow it`, { cause: e });
        }
        throw new TsruncError('E_STATE', `read state file \`${file}\`: ${causeText(e)}`, { cause: e });
      }
      try {
        if (!fs.fstatSync(fd).isFile()) throw new TsruncError('E_STATE', `state file \`${file}\` is not a regular file`);
        return fs.readFileSync(fd, 'utf8');
      } catch (e) {
        if (e instanceof TsruncError) throw e;
        throw new TsruncError('E_STATE', `read state file \`${file}\`: ${causeText(e)}`, { cause: e });
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.closeSync(dfd);
    }
  }

  /**
   * state.json of <id>, checked: E_NOT_EXIST when there is none; E_STATE when the directory or the
   * file is a symlink, when it is not JSON, when another runtime wrote it (`container \`x\`: state.json
   * was not written by tsrunc`), or when a recorded cgroup directory is outside the cgroup mounts.
   */
  read(id: string): StateRecord {
    const file = this.stateFile(id);
    const text = this.readText(id);
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      // The position only: never the content (the file could be anything).
      throw new TsruncError('E_STATE', `parse state file \`${file}\`: invalid JSON`, { cause: e });
    }
    const why = recordProblem(v, id);
    if (why !== undefined) {
      throw new TsruncError('E_STATE', `container \`${id}\`: state.json was not written by tsrunc (${why})`);
    }
    const rec = v as StateRecord;
    for (const [k, p] of Object.entries((rec.cgroup as { paths: Record<string, string> }).paths)) {
      const bad = cgroupPathShapeProblem(p);
      if (bad !== undefined) {
        throw new TsruncError('E_STATE',
          `state file \`${file}\`: cgroup path ${JSON.stringify(p)} of \`${k === '' ? 'unified' : k}\` ${bad}`);
      }
    }
    return rec;
  }

  remove(id: string): void {
    removeTree(this.dir(id));
  }

  /**
   * Every entry under the root with a container-like name, sorted, with what it is (see EntryKind).
   * Plain files are not listed; a missing root means no entries.
   */
  entries(): Array<{ id: string; kind: EntryKind }> {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(this.root, { withFileTypes: true });
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'ENOENT') return [];
      throw new TsruncError('E_STATE', `read state root \`${this.root}\`: ${causeText(e)}`, { cause: e });
    }
    const out: Array<{ id: string; kind: EntryKind }> = [];
    for (const d of ents) {
      if (d.name.startsWith('.')) continue;
      if (d.isDirectory()) out.push({ id: d.name, kind: this.exists(d.name) ? 'container' : 'nostate' });
      else if (d.isSymbolicLink()) out.push({ id: d.name, kind: 'notdir' });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Ids with a state.json in a real directory, sorted. A missing root means no containers. */
  list(): string[] {
    return this.entries().filter((e) => e.kind === 'container').map((e) => e.id);
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * `mkdir -p` that reports the real reason: Node's recursive mkdir says ENOENT for a missing parent
 * on a read-only file system, where this says EROFS (naming the directory it could not create).
 */
export function mkdirP(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      if (fs.statSync(p).isDirectory()) break;
      throw new TsruncError('E_STATE', `create state directory \`${dir}\`: \`${p}\` is not a directory`);
    } catch (e) {
      if (e instanceof TsruncError) throw e;
      if (!(isErrnoLike(e) && e.code === 'ENOENT') || p === '/') {
        throw new TsruncError('E_STATE', `create state directory \`${p}\`: ${causeText(e)}`, { cause: e });
      }
      missing.unshift(p);
    }
  }
  for (const p of missing) {
    try {
      fs.mkdirSync(p, { mode });
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'EEXIST') continue; // a concurrent create made it
      throw new TsruncError('E_STATE', `create state directory \`${p}\`: ${causeText(e)}`, { cause: e });
    }
  }
}

// fs.rmSync is not used: it loads Node's rimraf module at every call (~1.5 ms on the project's VMs),
// for a state directory of a few files.

/** unlink(2), where a missing file is not an error. */
export function unlinkIfExists(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch (e) {
    if (!(isErrnoLike(e) && e.code === 'ENOENT')) throw e;
  }
}

/** `rm -rf p`: symlinks are removed, never followed; a missing p is not an error. */
export function removeTree(p: string): void {
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(p, { withFileTypes: true });
  } catch (e) {
    if (isErrnoLike(e) && e.code === 'ENOENT') return;
    if (isErrnoLike(e) && e.code === 'ENOTDIR') { unlinkIfExists(p); return; }
    throw e;
  }
  for (const d of ents) {
    const c = path.join(p, d.name);
    if (d.isDirectory()) removeTree(c);
    else unlinkIfExists(c);
  }
  try {
    fs.rmdirSync(p);
  } catch (e) {
    if (!(isErrnoLike(e) && e.code === 'ENOENT')) throw e;
  }
}

/** Random hex for temporary names that nobody can predict (and so plant a symlink at). */
function randomSuffix(): string {
  // getrandom(2)'s source through /dev/urandom: node:crypto costs ~11 ms to load here, and
  // containerd passes --pid-file to every create.
  const b = Buffer.alloc(8);
  const fd = fs.openSync('/dev/urandom', 'r'); // libuv opens with O_CLOEXEC
  try {
    if (fs.readSync(fd, b, 0, 8, null) !== 8) throw new Error('short read from /dev/urandom');
  } finally {
    fs.closeSync(fd);
  }
  return b.toString('hex');
}

/**
 * Write a pid file as runc does: decimal, no newline. The temporary file is created next to the
 * target with O_CREAT|O_EXCL|O_NOFOLLOW and a random name (a symlink planted there is never
 * followed: EEXIST, then another name), fsynced, then renamed over the target (rename replaces a
 * symlink at the target itself, it never writes through it).
 */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  let tmp = '';
  try {
    let fd = -1;
    for (let attempt = 0; fd < 0; attempt++) {
      tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${randomSuffix()}`);
      try {
        fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      } catch (e) {
        if (!(isErrnoLike(e) && e.code === 'EEXIST') || attempt >= 16) { tmp = ''; throw e; }
      }
    }
    try {
      fs.writeSync(fd, String(pid));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, abs);
  } catch (e) {
    if (tmp !== '') unlinkIfExists(tmp);
    throw new TsruncError('E_STATE', `write pid file \`${abs}\`: ${causeText(e)}`, { cause: e });
  }
}
