// The command-line grammar: global flags and one entry per command, with runc 1.1.5's names,
// aliases, value types, defaults and argument counts. This table is the single source for the
// parser (args.ts) and the help text (help.ts); it is on the hot path, so it holds data only.
import type { ArgCount, FlagDef } from './args';

export const PROG = 'tsrunc';
export const DEFAULT_ROOT = '/run/tsrunc';

const HELP: FlagDef = { name: 'help', aliases: ['h'], type: 'bool', usage: 'show help' };

export const GLOBAL_FLAGS: readonly FlagDef[] = [
  { name: 'debug', type: 'bool', usage: 'enable debug logging' },
  { name: 'log', type: 'string', usage: "set the log file to write tsrunc logs to (default is '/dev/stderr')" },
  { name: 'log-format', type: 'string', def: 'text', usage: "set the log format ('text' (default), or 'json')" },
  { name: 'root', type: 'string', def: DEFAULT_ROOT, usage: 'root directory for storage of container state (this should be located in tmpfs)' },
  { name: 'criu', type: 'string', def: 'criu', usage: 'path to the criu binary used for checkpoint and restore (accepted for compatibility; unused)' },
  { name: 'systemd-cgroup', type: 'bool', usage: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"' },
  { name: 'rootless', type: 'string', def: 'auto', usage: "ignore cgroup permission errors ('true', 'false', or 'auto')" },
  HELP,
  { name: 'version', aliases: ['v'], type: 'bool', usage: 'print the version' },
];

export type CommandName = 'create' | 'run' | 'start' | 'state' | 'kill' | 'delete' | 'list' | 'spec' | 'explain'
  | 'checkpoint' | 'restore' | 'pause' | 'resume' | 'ps' | 'events' | 'features' | 'update' | 'exec';

export interface CommandDef {
  name: CommandName;
  summary: string;
  argsUsage: string;
  args: ArgCount;
  flags: readonly FlagDef[];
  /** Flags end at the first positional (urfave's SkipArgReorder; `ps <id> [ps options]`). */
  skipArgReorder?: boolean;
}

const BUNDLE = (): FlagDef => ({ name: 'bundle', aliases: ['b'], type: 'string', usage: 'path to the root of the bundle directory, defaults to the current directory' });
const CREATE_FLAGS = (): readonly FlagDef[] => [
  BUNDLE(),
  { name: 'console-socket', type: 'string', usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'pid-file', type: 'string', usage: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'bool', usage: 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk' },
  { name: 'no-new-keyring', type: 'bool', usage: 'do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key' },
  { name: 'preserve-fds', type: 'int', def: 0, usage: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' },
];

// checkpoint and restore (CRIU) are not implemented: the commands exist so that `-h` answers like
// runc's and a run fails with a clear E_UNSUPPORTED error rather than `No help topic`. They take
// runc 1.1.5's options (all ignored), so a caller's full command line reaches that error instead
// of a flag error.
const UNUSED = ' (accepted for compatibility; unused)';
const CRIU_COMMON = (): readonly FlagDef[] => [
  { name: 'work-path', type: 'string', usage: 'path for saving work files and logs' + UNUSED },
];
const CRIU_OPTIONS = (): readonly FlagDef[] => [
  { name: 'tcp-established', type: 'bool', usage: 'allow open tcp connections' + UNUSED },
  { name: 'ext-unix-sk', type: 'bool', usage: 'allow external unix sockets' + UNUSED },
  { name: 'shell-job', type: 'bool', usage: 'allow shell jobs' + UNUSED },
];
const FILE_LOCKS = (): FlagDef => ({ name: 'file-locks', type: 'bool', usage: 'handle file locks, for safety' + UNUSED });
const LAZY_PAGES = (): FlagDef => ({ name: 'lazy-pages', type: 'bool', usage: 'use userfaultfd to lazily restore memory pages' + UNUSED });
const MANAGE_CGROUPS = (): FlagDef => ({ name: 'manage-cgroups-mode', type: 'string', usage: "cgroups mode: 'soft' (default), 'full' and 'strict'" + UNUSED });
const EMPTY_NS = (): FlagDef => ({ name: 'empty-ns', type: 'string', usage: "create a namespace, but don't restore its properties" + UNUSED });
const AUTO_DEDUP = (): FlagDef => ({ name: 'auto-dedup', type: 'bool', usage: 'enable auto deduplication of memory images' + UNUSED });

/**
 * One function per command: only the command being run builds its definition (and only its code
 * is compiled into the V8 code cache of the lean commands; the whole table is ~18 KB of cache).
 */
const DEFS: Readonly<Record<CommandName, () => CommandDef>> = {
  checkpoint: () => ({
    name: 'checkpoint', summary: 'checkpoint a running container (not supported by this version of tsrunc)',
    argsUsage: '<container-id>', args: { exact: 1 },
    flags: [
      { name: 'image-path', type: 'string', usage: 'path for saving criu image files' + UNUSED },
      ...CRIU_COMMON(),
      { name: 'parent-path', type: 'string', usage: 'path for previous criu image files in pre-dump' + UNUSED },
      { name: 'leave-running', type: 'bool', usage: 'leave the process running after checkpointing' + UNUSED },
      ...CRIU_OPTIONS(), LAZY_PAGES(),
      { name: 'status-fd', type: 'int', def: -1, usage: 'criu writes \\0 to this FD once lazy-pages is ready' + UNUSED },
      { name: 'page-server', type: 'string', usage: 'ADDRESS:PORT of the page server' + UNUSED },
      FILE_LOCKS(),
      { name: 'pre-dump', type: 'bool', usage: "dump container's memory information only, leave the container running after this" + UNUSED },
      MANAGE_CGROUPS(), EMPTY_NS(), AUTO_DEDUP(), HELP,
    ],
  }),
  create: () => ({
    name: 'create', summary: 'create a container', argsUsage: '<container-id>', args: { exact: 1 },
    flags: [...CREATE_FLAGS(), HELP],
  }),
  delete: () => ({
    name: 'delete', summary: 'delete any resources held by the container often used with detached container',
    argsUsage: '<container-id>', args: { exact: 1 },
    flags: [{ name: 'force', aliases: ['f'], type: 'bool', usage: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }, HELP],
  }),
  events: () => ({
    name: 'events', summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    argsUsage: '<container-id>', args: { exact: 1 },
    flags: [
      { name: 'interval', type: 'duration', def: '5s', usage: 'set the stats collection interval' },
      { name: 'stats', type: 'bool', usage: "display the container's stats then exit" },
      HELP,
    ],
  }),
  exec: () => ({
    name: 'exec', summary: 'execute new process inside the container',
    argsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # tsrunc exec <container-id> ps`,
    // Flags end at the container id: what follows is the command and its own flags (runc's
    // SkipArgReorder), `exec c1 ls -l`.
    args: { min: 1 }, skipArgReorder: true,
    flags: [
      CREATE_FLAGS()[1],
      { name: 'cwd', type: 'string', usage: 'current working directory in the container' },
      { name: 'env', aliases: ['e'], type: 'list', usage: 'set environment variables' },
      { name: 'tty', aliases: ['t'], type: 'bool', usage: 'allocate a pseudo-TTY' },
      { name: 'user', aliases: ['u'], type: 'string', usage: 'UID (format: <uid>[:<gid>])' },
      { name: 'additional-gids', aliases: ['g'], type: 'list', usage: 'additional gids' },
      { name: 'process', aliases: ['p'], type: 'string', usage: 'path to the process.json' },
      { name: 'detach', aliases: ['d'], type: 'bool', usage: "detach from the container's process" },
      CREATE_FLAGS()[2],
      { name: 'process-label', type: 'string', usage: 'set the asm process label for the process commonly used with selinux' },
      { name: 'apparmor', type: 'string', usage: 'set the apparmor profile for the process' },
      { name: 'no-new-privs', type: 'bool', usage: 'set the no new privileges value for the process' },
      { name: 'cap', aliases: ['c'], type: 'list', usage: 'add a capability to the bounding set for the process' },
      CREATE_FLAGS()[5],
      { name: 'cgroup', type: 'list', usage: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
      { name: 'ignore-paused', type: 'bool', usage: 'allow exec in a paused container' },
      HELP,
    ],
  }),
  explain: () => ({
    name: 'explain', summary: 'validate a bundle and show the setup plan tsrunc would execute (tsrunc only)',
    argsUsage: '[container-id]', args: { max: 1 },
    flags: [
      BUNDLE(),
      { name: 'format', type: 'string', def: 'text', usage: 'select one of: text or json' },
      { name: 'no-pivot', type: 'bool', usage: 'plan as if --no-pivot were given to create' },
      HELP,
    ],
  }),
  features: () => ({
    name: 'features', summary: 'show the enabled features', argsUsage: '', args: { exact: 0 }, flags: [HELP],
  }),
  kill: () => ({
    name: 'kill', summary: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    argsUsage: '<container-id> [signal]', args: { min: 1, max: 2 },
    flags: [{ name: 'all', aliases: ['a'], type: 'bool', usage: 'send the specified signal to all processes inside the container' }, HELP],
  }),
  list: () => ({
    name: 'list', summary: 'lists containers started by tsrunc with the given root', argsUsage: '', args: { exact: 0 },
    flags: [
      { name: 'format', aliases: ['f'], type: 'string', def: 'table', usage: 'select one of: table or json' },
      { name: 'quiet', aliases: ['q'], type: 'bool', usage: 'display only container IDs' },
      HELP,
    ],
  }),
  pause: () => ({
    name: 'pause', summary: 'pause suspends all processes inside the container', argsUsage: '<container-id>',
    args: { exact: 1 }, flags: [HELP],
  }),
  ps: () => ({
    name: 'ps', summary: 'ps displays the processes running inside a container', argsUsage: '<container-id> [ps options]',
    args: { min: 1 }, skipArgReorder: true,
    flags: [{ name: 'format', aliases: ['f'], type: 'string', def: 'table', usage: 'select one of: table or json' }, HELP],
  }),
  restore: () => ({
    name: 'restore', summary: 'restore a container from a previous checkpoint (not supported by this version of tsrunc)',
    argsUsage: '<container-id>', args: { exact: 1 },
    flags: [
      { ...CREATE_FLAGS()[1], usage: CREATE_FLAGS()[1].usage + UNUSED },
      { name: 'image-path', type: 'string', usage: 'path to criu image files for restoring' + UNUSED },
      ...CRIU_COMMON(), ...CRIU_OPTIONS(), FILE_LOCKS(), MANAGE_CGROUPS(),
      { ...BUNDLE(), usage: 'path to the root of the bundle directory' + UNUSED },
      { name: 'detach', aliases: ['d'], type: 'bool', usage: "detach from the container's process" + UNUSED },
      { ...CREATE_FLAGS()[2], usage: CREATE_FLAGS()[2].usage + UNUSED },
      { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' + UNUSED },
      { ...CREATE_FLAGS()[3], usage: CREATE_FLAGS()[3].usage + UNUSED },
      EMPTY_NS(), AUTO_DEDUP(), LAZY_PAGES(),
      { name: 'lsm-profile', type: 'string', usage: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.' + UNUSED },
      { name: 'lsm-mount-context', type: 'string', usage: 'Specify an LSM mount context to be used during restore.' + UNUSED },
      HELP,
    ],
  }),
  resume: () => ({
    name: 'resume', summary: 'resumes all processes that have been previously paused', argsUsage: '<container-id>',
    args: { exact: 1 }, flags: [HELP],
  }),
  run: () => ({
    name: 'run', summary: 'create and run a container', argsUsage: '<container-id>', args: { exact: 1 },
    flags: [
      BUNDLE(), CREATE_FLAGS()[1],
      { name: 'detach', aliases: ['d'], type: 'bool', usage: "detach from the container's process" },
      { name: 'keep', type: 'bool', usage: 'do not delete the container after it exits' },
      CREATE_FLAGS()[2],
      { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes (accepted for compatibility, ignored)' },
      CREATE_FLAGS()[3], CREATE_FLAGS()[4], CREATE_FLAGS()[5], HELP,
    ],
  }),
  spec: () => ({
    name: 'spec', summary: 'create a new specification file', argsUsage: '', args: { exact: 0 },
    flags: [
      { name: 'bundle', aliases: ['b'], type: 'string', usage: 'path to the root of the bundle directory' },
      { name: 'rootless', type: 'bool', usage: 'generate a configuration for a rootless container' },
      HELP,
    ],
  }),
  start: () => ({
    name: 'start', summary: 'executes the user defined process in a created container', argsUsage: '<container-id>',
    args: { exact: 1 }, flags: [HELP],
  }),
  update: () => ({
    name: 'update', summary: 'update container resource constraints', argsUsage: '<container-id>', args: { exact: 1 },
    flags: [
      { name: 'resources', aliases: ['r'], type: 'string', usage: "path to the file containing the resources to update or '-' to read from the standard input (OCI LinuxResources JSON; all other options are then ignored)" },
      { name: 'blkio-weight', type: 'int', def: 0, usage: 'Specifies per cgroup weight, range is from 10 to 1000' },
      { name: 'cpu-period', type: 'string', usage: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-quota', type: 'string', usage: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpu-burst', type: 'string', usage: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
      { name: 'cpu-share', aliases: ['cpu-shares'], type: 'string', usage: 'CPU shares (relative weight vs. other containers)' },
      { name: 'cpu-rt-period', type: 'string', usage: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-rt-runtime', type: 'string', usage: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpu-idle', type: 'string', usage: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
      { name: 'cpuset-cpus', type: 'string', usage: 'CPU(s) to use' },
      { name: 'cpuset-mems', type: 'string', usage: 'Memory node(s) to use' },
      { name: 'kernel-memory', type: 'string', usage: '(obsoleted; do not use)' },
      { name: 'kernel-memory-tcp', type: 'string', usage: '(obsoleted; do not use)' },
      { name: 'memory', type: 'string', usage: 'Memory limit (in bytes; suffixes k, m, g, t, p)' },
      { name: 'memory-reservation', type: 'string', usage: 'Memory reservation or soft_limit (in bytes)' },
      { name: 'memory-swap', type: 'string', usage: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
      { name: 'pids-limit', type: 'int', def: 0, usage: 'Maximum number of pids allowed in the container' },
      { name: 'l3-cache-schema', type: 'string', usage: 'The string of Intel RDT/CAT L3 cache schema' },
      { name: 'mem-bw-schema', type: 'string', usage: 'The string of Intel RDT/MBA memory bandwidth schema' },
      HELP,
    ],
  }),
  state: () => ({
    name: 'state', summary: 'output the state of a container', argsUsage: '<container-id>', args: { exact: 1 },
    flags: [HELP],
  }),
};

const built = new Map<string, CommandDef>();

/** The definition of command `name` (built on first use), or undefined for an unknown name. */
export function findCommand(name: string): CommandDef | undefined {
  let def = built.get(name);
  if (def === undefined && Object.prototype.hasOwnProperty.call(DEFS, name)) {
    def = DEFS[name as CommandName]();
    built.set(name, def);
  }
  return def;
}

/** A command's definition by its (known) name. */
export function command(name: CommandName): CommandDef {
  return findCommand(name) as CommandDef;
}

/** Every command's definition (for the help text). */
export function allCommands(): CommandDef[] {
  return (Object.keys(DEFS) as CommandName[]).map(command);
}
