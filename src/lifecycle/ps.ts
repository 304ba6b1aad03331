// `ps`: the processes of the container's cgroup (and its child cgroups). As runc 1.1.5:
//   json  → the host pids as a JSON array, `null` when there are none (Go's nil slice);
//   table → the host's `ps` run with the given arguments (default `-ef`), its header line and the
//           lines whose PID column is one of the container's pids.
// Errors: `container does not exist`; `invalid format option`; `couldn't find PID field in ps
// output`; a failing `ps` → `exit status N: <its output>`.
import { TsruncError } from '../errors';
import { loadContainer } from './container';
import type { GlobalOptions, PsOptions } from './api';

/** The container's pids, ascending ([] when its cgroup is empty or gone). */
export function containerPids(g: GlobalOptions, id: string): number[] {
  return loadContainer(g, id).cgroup().pids();
}

/** Go's json.Encoder output of a []int: `[1,2]\n`, or `null\n` for none. */
export function formatPidsJson(pids: readonly number[]): string {
  return (pids.length === 0 ? 'null' : JSON.stringify(pids)) + '\n';
}

/** Keep ps's header and the rows whose PID column is in pids (runc's filter). */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const pidIndex = lines[0]!.split(/\s+/).filter(Boolean).indexOf('PID');
  if (pidIndex < 0) throw new TsruncError('E_USAGE', "couldn't find PID field in ps output");
  const want = new Set(pids);
  let out = lines[0] + '\n';
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.split(/\s+/).filter(Boolean)[pidIndex];
    if (field === undefined || !/^[+-]?\d+$/.test(field)) {
      throw new TsruncError('E_USAGE', `unable to parse pid: strconv.Atoi: parsing ${JSON.stringify(field ?? '')}: invalid syntax`);
    }
    if (want.has(Number(field))) out += line + '\n';
  }
  return out;
}

/** `ps`: what to print on stdout. */
export function ps(g: GlobalOptions, o: PsOptions): string {
  const pids = containerPids(g, o.id);
  if (o.format === 'json') return formatPidsJson(pids);
  if (o.format !== 'table') throw new TsruncError('E_USAGE', 'invalid format option');
  const args = o.psArgs.length === 0 ? ['-ef'] : [...o.psArgs];
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('ps', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TsruncError('E_SYSCALL', 'exec: "ps": executable file not found in $PATH');
    throw new TsruncError('E_SYSCALL', `exec: "ps": ${r.error.message}`, { cause: r.error });
  }
  // Combined output, as Go's CombinedOutput (stdout first: they are separate pipes here).
  const output = (r.stdout ?? '') + (r.stderr ?? '');
  if (r.status !== 0) {
    const how = r.signal ? `signal: ${signalText(r.signal)}` : `exit status ${r.status}`;
    throw new TsruncError('E_SYSCALL', `${how}: ${output}`);
  }
  return filterPsOutput(output, pids);
}

function signalText(sig: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGSEGV: 'segmentation fault', SIGINT: 'interrupt', SIGABRT: 'aborted' };
  return names[sig] ?? sig;
}
