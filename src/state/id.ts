// Container id rules (runc 1.1.5 libcontainer/factory_linux.go validateID):
//   - the id matches ^[\w+-\.]+$ in Go regexp syntax, i.e. [0-9A-Za-z_] plus the range `+`..`.`,
//     which is `+ , - .` (so `a,b`, `a+b`, `a..b`, `UPPER_ok-1.2` are valid);
//   - "/" + id must equal the cleaned path of "/" + id, which rejects exactly `.` and `..`;
//   - the empty id has its own message (runc: errEmptyID in utils_linux.go).
// tsrunc also bounds the length (runc does not; it fails later with ENAMETOOLONG).
// The ids become directory names under --root, so this check is what keeps `delete -f ..` from
// touching the parent of the root: the state store must call it for every id it turns into a path.
import { TsruncError } from '../errors';

/** Longest id accepted. */
export const MAX_ID_LENGTH = 1024;

const ID_RE = /^[0-9A-Za-z_+,\-.]+$/;

export function validateId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new TsruncError('E_ID_INVALID', 'container id cannot be empty');
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new TsruncError('E_ID_INVALID',
      `invalid container ID format: id is ${id.length} characters long, the limit is ${MAX_ID_LENGTH}`);
  }
  if (!ID_RE.test(id) || id === '.' || id === '..') {
    throw new TsruncError('E_ID_INVALID', 'invalid container ID format');
  }
}

/** Boolean form, for callers that only filter (e.g. skipping stray entries under --root). */
export function isValidId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH && ID_RE.test(id) &&
    id !== '.' && id !== '..';
}
