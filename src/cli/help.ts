// Help text, laid out like runc's (urfave/cli v1 templates), generated from the command table.
// Loaded only for `help`, `-h/--help` and usage errors.
import type { FlagDef } from './args';
import { CommandDef, GLOBAL_FLAGS, PROG, allCommands } from './table';
import { versionText } from './version';

const DESCRIPTIONS: Partial<Record<string, string>> = {
  create: `Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

DESCRIPTION:
   The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem. The container is left waiting (status "created") until "${PROG} start".`,
  run: `Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

DESCRIPTION:
   The run command creates an instance of a container for a bundle and starts it.
Without --detach it waits for the container's process and exits with its exit
status (128+signal when it was killed).`,
  start: `Where "<container-id>" is your name for the instance of the container.

DESCRIPTION:
   The start command executes the user defined process in a created container.`,
  state: `Where "<container-id>" is your name for the instance of the container.

DESCRIPTION:
   The state command outputs current state information for the
instance of a container.`,
  kill: `Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process: a number, or a name
with or without SIG in any case (KILL, SIGKILL, usr1, RTMIN+3).

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # ${PROG} kill ubuntu01 KILL`,
  delete: `Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and ${PROG} list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the ${PROG} list of containers:

       # ${PROG} delete ubuntu01`,
  list: `Where the given root is specified via the global option "--root"
(default: "/run/${PROG}").`,
  spec: `The spec command creates the new specification file named "config.json" for
the bundle, with a default configuration (runc's, with hostname "${PROG}").
With --rootless the configuration is for a container started by an unprivileged
user: a user namespace mapping the current user to root, no network namespace,
and no cgroup settings.`,
  checkpoint: `Where "<container-id>" is the name for the instance of the container to be
checkpointed.

DESCRIPTION:
   Checkpoint and restore (with CRIU) are not supported by this version of ${PROG}:
"${PROG} checkpoint" accepts runc's options, changes nothing and exits with an
error. In runc, the checkpoint command saves the state of the container instance.`,
  restore: `Where "<container-id>" is the name for the instance of the container to be
restored.

DESCRIPTION:
   Checkpoint and restore (with CRIU) are not supported by this version of ${PROG}:
"${PROG} restore" accepts runc's options, changes nothing and exits with an
error. In runc, the restore command restores the saved state of a container
instance that was previously saved using the checkpoint command.`,
  pause: `Where "<container-id>" is the name for the instance of the container to be
paused.

DESCRIPTION:
   The pause command suspends all processes in the instance of the container.

Use ${PROG} list to identify instances of containers and their current status.`,
  resume: `Where "<container-id>" is the name for the instance of the container to be
resumed.

DESCRIPTION:
   The resume command resumes all processes in the instance of the container.

Use ${PROG} list to identify instances of containers and their current status.`,
  ps: `Where "<container-id>" is the name for the instance of the container and
"[ps options]" are passed to the host's ps (default: -ef); the header and the
lines of the container's processes are printed. With --format json, the host
pids of the container's processes are printed as a JSON array.`,
  events: `Where "<container-id>" is the name for the instance of the container.

DESCRIPTION:
   The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
  explain: `Validates the bundle's config.json as "create" would, and prints the ordered
list of setup operations tsrunc would execute, without creating anything.`,
};

function flagNames(f: FlagDef): string {
  const names = [f.name, ...(f.aliases ?? [])];
  return names.map((n) => (n.length === 1 ? '-' : '--') + n + (f.type === 'bool' ? '' : ' value')).join(', ');
}

function flagUsage(f: FlagDef): string {
  if (f.type === 'bool' || f.def === undefined || f.def === '') return f.usage;
  if (f.type === 'duration') return `${f.usage} (default: ${f.def})`;
  return `${f.usage} (default: ${typeof f.def === 'string' ? JSON.stringify(f.def) : f.def})`;
}

/** urfave's option list: tabwriter(minwidth 1, padding 2), three-space indent. */
function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => `   ${a.padEnd(w)}${b}\n`).join('');
}

export function appHelp(): string {
  const cmds = allCommands().sort((a, b) => a.name.localeCompare(b.name));
  const rows: [string, string][] = cmds.map((c) => [c.name, c.summary]);
  rows.push(['help, h', 'Shows a list of commands or help for one command']);
  return `NAME:
   ${PROG} - Open Container Initiative runtime (a runc-compatible runtime in TypeScript)

${PROG} is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format. It speaks runc's command line: the
same subcommands, flags, JSON output and exit codes.

Containers are configured using bundles. A bundle for a container is a directory
that includes a specification file named "config.json" and a root filesystem.

To start a new instance of a container:

    # ${PROG} run [ -b bundle ] <container-id>

USAGE:
   ${PROG} [global options] command [command options] [arguments...]

VERSION:
   ${versionText().replace(/^\S+ version /, '').trimEnd()}

COMMANDS:
${columns(rows)}
GLOBAL OPTIONS:
${columns(GLOBAL_FLAGS.map((f) => [flagNames(f), flagUsage(f)]))}`;
}

export function commandHelp(c: CommandDef): string {
  const flags = c.flags.filter((f) => f.name !== 'help');
  const usage = `${PROG} ${c.name}${flags.length ? ' [command options]' : ''} ${c.argsUsage}`.trimEnd();
  const desc = DESCRIPTIONS[c.name];
  let s = `NAME:\n   ${PROG} ${c.name} - ${c.summary}\n\nUSAGE:\n   ${usage}\n`;
  if (desc) s += `\n${desc}\n`;
  if (flags.length) s += `\nOPTIONS:\n${columns(flags.map((f) => [flagNames(f), flagUsage(f)]))}`;
  return s;
}
