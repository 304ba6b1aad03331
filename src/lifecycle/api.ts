// The surface the CLI calls: one function per command (thin commands, fat library). Each function
// takes the global options plus its own, does the whole job, and throws TsruncError on failure.
// Output that is the command's result (state JSON, list table) is returned, not printed, so the
// CLI decides the formatting and tests can call these directly.

export interface GlobalOptions {
  /** State root, default /run/tsrunc. */
  root: string;
  debug: boolean;
  systemdCgroup: boolean;
  rootless: 'true' | 'false' | 'auto';
  /** Debug/phase log sink (writes through the CLI's logger: --log / --log-format). */
  log: (level: 'debug' | 'info' | 'warning' | 'error', msg: string) => void;
}

export interface CreateOptions {
  id: string;
  bundle: string; // as given (relative to cwd or absolute); default cwd
  pidFile?: string; // relative to cwd or absolute
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The OCI state, as `state` prints it (runc's field order). */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export interface KillOptions {
  id: string;
  signal: number; // already parsed by the CLI (src/cli/signals.ts)
  all: boolean;
}

export interface DeleteOptions {
  id: string;
  force: boolean;
}

export interface ExplainOptions {
  bundle: string;
  id?: string;
  noPivot: boolean;
}

export interface PsOptions {
  id: string;
  /** `table` or `json` (anything else: `invalid format option`, after the container is looked up). */
  format: string;
  /** Arguments for the host's `ps` (table format; default `-ef`). */
  psArgs: readonly string[];
}

export interface EventsOptions {
  id: string;
  /** Print one stats event and exit. */
  stats: boolean;
  /** Interval between stats events of the stream, in milliseconds (> 0). */
  intervalMs: number;
}
