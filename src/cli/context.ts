// What a command module gets. Everything with side effects outside the lifecycle library
// (stdout, stderr, cwd, host probes) comes through CliIo so tests can inject it.
import type { FlagValues } from './args';
import type { LogSink, Logger } from './log';
import type { GlobalOptions } from '../lifecycle/api';
import type * as LifecycleModule from '../lifecycle/index';

export type LifecycleApi = Pick<typeof LifecycleModule,
  'create' | 'start' | 'state' | 'list' | 'kill' | 'del' | 'run' | 'explain'
  | 'pause' | 'resume' | 'ps' | 'events' | 'eventsStats' | 'update' | 'exec'>;

export interface CliIo {
  stdout(s: string): void;
  /** stdout's reader is gone (EPIPE): streams stop (runc dies of SIGPIPE there). */
  stdoutClosed?(): boolean;
  stderr: LogSink;
  cwd(): string;
  /** The lifecycle library, loaded on first use. */
  lifecycle(): LifecycleApi;
  /** runc's IsRunningSystemd(): /run/systemd/system is a directory. */
  systemdRunning(): boolean;
  /** /sys/fs/cgroup is a cgroup2 mount (runc's spec then adds a cgroup namespace). */
  cgroup2Unified(): boolean;
  /** All of stdin (`update --resources -`); default: read fd 0. */
  readStdin?(): string;
  euid(): number;
  egid(): number;
  now?(): Date;
}

export interface CommandContext {
  g: GlobalOptions;
  /** --rootless exactly as given (create/run reject values other than true/false/auto). */
  rootlessRaw: string;
  flags: FlagValues;
  args: string[];
  io: CliIo;
  logger: Logger;
}

export interface CommandModule {
  /** Does the command; returns the exit code (non-zero only for `run`'s container status). */
  run(ctx: CommandContext): number | Promise<number>;
}
