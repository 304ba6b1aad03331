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
}

export const STATE_FILE = 'state.json';
export const FIFO_NAME = 'exec.fifo';

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.root, id, FIFO_NAME);
  }

  /** Exclusive creation of <root>/<id> (0711, as runc). */
  createDir(id: string): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'EEXIST') {
        throw new TsruncError('E_EXISTS', 'container with given ID already exists');
      }
      throw new TsruncError('E_STATE', `create state directory \`${this.dir(id)}\`: ${causeText(e)}`, { cause: e });
    }
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), STATE_FILE));
  }

  /** Write state.json atomically: a unique temp file in the same directory, then rename. */
  write(rec: StateRecord): void {
    const dir = this.dir(rec.id);
    const tmp = path.join(dir, `.state-${process.pid}-${Date.now()}`);
    try {
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(rec));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, path.join(dir, STATE_FILE));
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new TsruncError('E_STATE', `write state file \`${path.join(dir, STATE_FILE)}\`: ${causeText(e)}`, { cause: e });
    }
  }

  read(id: string): StateRecord {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if (isErrnoLike(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
        throw new TsruncError('E_NOT_EXIST', 'container does not exist');
      }
      throw new TsruncError('E_STATE', `read state file \`${path.join(this.dir(id), STATE_FILE)}\`: ${causeText(e)}`, { cause: e });
    }
    try {
      return JSON.parse(text) as StateRecord;
    } catch (e) {
      throw new TsruncError('E_STATE', `parse state file \`${path.join(this.dir(id), STATE_FILE)}\`: ${causeText(e)}`, { cause: e });
    }
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Ids with a state.json, sorted. A missing root means no containers. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'ENOENT') return [];
      throw new TsruncError('E_STATE', `read state root \`${this.root}\`: ${causeText(e)}`, { cause: e });
    }
    return names.filter((n) => fs.existsSync(path.join(this.root, n, STATE_FILE))).sort();
  }
}

/** Write a pid file as runc does: decimal, no newline, via a temp file and rename. */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}`);
  try {
    fs.writeFileSync(tmp, String(pid), { mode: 0o644, flag: 'w' });
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new TsruncError('E_STATE', `write pid file \`${abs}\`: ${causeText(e)}`, { cause: e });
  }
}
