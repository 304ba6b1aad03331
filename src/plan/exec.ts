// The exec plan compiler: PURE (process, the container's defaults, options) -> Plan for the
// tsrunc-init that `tsrunc exec` starts. The same ops as create's process steps (compile.ts, steps
// 9-11), preceded by the join:
//   0. oom_score_adj (process.oomScoreAdj), through the host's /proc, before joining
//   1. JOIN: setns into every namespace of the container at once, through a pidfd of its init;
//      `/` is the container's from here on, before any path of the container is looked at
//   2. FORK when the container has its own pid namespace (it applies to children only)
//   3. the container's session keyring (unless it was created with --no-new-keyring), cwd
//      (resolved inside the root, as create's CHDIR), the terminal (process.terminal: PTY, still
//      with every capability), rlimits, executable lookup, HOME
//   4. seccomp (without noNewPrivileges), bounding set, user, capabilities, no_new_privs
//   5. EXEC_READY, then (with noNewPrivileges) seccomp, then exec
// What the process does not set comes from the container, as runc's newInitConfig does: its
// capabilities and rlimits when the process has none, and always its seccomp filter.
import { TsruncError } from '../errors';
import type { Capabilities, LinuxSeccomp, Process, Rlimit } from '../spec/types';
import { capMask, rlimitValue } from './compile';
import { CLONE, type Op, type Plan } from './ops';
import { RLIMITS } from './tables';
import { actionName, checkSeccompSupported, seccompPlan } from './seccomp';

/** What `create` keeps in state.json for `exec` (the container's config at create time). */
export interface ExecDefaults {
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  seccomp?: unknown;
  noNewKeyring?: boolean;
}

export interface ExecCompileOptions {
  id: string;
  /** The pidfd of the container's init, as tsrunc-init will have it. */
  pidfd: number;
  /** CLONE_NEW* flags of the namespaces of the container that differ from ours. */
  nsFlags: number;
  /** fds 3..3+keepFds-1 are passed to the process (--preserve-fds). */
  keepFds: number;
}

function q(s: string): string {
  return `\`${s}\``;
}

export function compileExec(proc: Process, defaults: ExecDefaults, o: ExecCompileOptions): Plan {
  const ops: Op[] = [];
  const add = (op: Op['op'], what: string, ints: (number | bigint)[] = [], strs: string[] = []) =>
    ops.push({ op, what, ints, strs });
  const names = Object.entries({ user: CLONE.NEWUSER, mount: CLONE.NEWNS, pid: CLONE.NEWPID, network: CLONE.NEWNET, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS, cgroup: CLONE.NEWCGROUP, time: CLONE.NEWTIME })
    .filter(([, f]) => o.nsFlags & f).map(([n]) => n);

  // 0. oom_score_adj while /proc is still the host's (after JOIN it would be the container's,
  //    whose mounts the image and the config control); the fork below inherits it.
  if (proc.oomScoreAdj !== undefined) add('OOM_SCORE_ADJ', `set oom_score_adj to ${proc.oomScoreAdj}`, [proc.oomScoreAdj]);
  // 1-2.
  add('JOIN', `join the container's namespaces (${names.join(', ') || 'none differ from ours'}) through a pidfd of its init`, [o.pidfd, o.nsFlags]);
  if (o.nsFlags & CLONE.NEWPID) add('FORK', 'fork: the pid namespace applies to children only', [0]);

  // 3.
  if (!defaults.noNewKeyring) add('SESSION_KEYRING', `join the session keyring ${q(`_ses.${o.id}`)}`, [], [`_ses.${o.id}`]);
  add('CHDIR', `change to process.cwd ${q(proc.cwd)}`, [], [proc.cwd]);
  // process.terminal: a pty of the container's own devpts (resolved in the joined root), no
  // /dev/console (the container's is its init's); still as root with every capability (opening
  // ptmx, chowning the slave), so before seccomp, USER and CAPS, and before rlimits (a small
  // RLIMIT_NOFILE must not keep the pty from opening). The master goes to `tsrunc exec`.
  if (proc.terminal) {
    const size = proc.consoleSize && proc.consoleSize.height > 0 && proc.consoleSize.width > 0 ? proc.consoleSize : undefined;
    add('PTY', `make the terminal: a pty of \`/dev/pts\`${size ? `, ${size.width}x${size.height}` : ''}; send its master to tsrunc`,
      [0, size?.height ?? 0, size?.width ?? 0, proc.user?.uid ?? 0]);
  }
  const rlimits = proc.rlimits?.length ? proc.rlimits : defaults.rlimits ?? [];
  for (const r of rlimits) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new TsruncError('E_CONFIG_INVALID', `process: unknown rlimit \`${r.type}\``);
    add('RLIMIT', `set ${r.type} to ${r.soft}/${r.hard}`, [res, rlimitValue(r.soft), rlimitValue(r.hard)], [r.type]);
  }
  const args = proc.args ?? [];
  if (args.length === 0) throw new TsruncError('E_CONFIG_INVALID', 'args must not be empty');
  const env = proc.env ?? [];
  const pathEntry = [...env].reverse().find((e) => e.startsWith('PATH='));
  add('RESOLVE_EXEC', `find the executable ${q(args[0]!)}`, [pathEntry ? 1 : 0], [args[0]!, pathEntry ? pathEntry.slice(5) : '']);
  const user = proc.user ?? { uid: 0, gid: 0 };
  if (!env.some((e) => e.startsWith('HOME='))) add('LOOKUP_HOME', `find HOME for uid ${user.uid} in the image's \`/etc/passwd\``, [user.uid]);

  // 4.
  let seccomp: ReturnType<typeof seccompPlan> | undefined;
  if (defaults.seccomp) {
    checkSeccompSupported(defaults.seccomp as LinuxSeccomp);
    seccomp = seccompPlan(defaults.seccomp as LinuxSeccomp);
  }
  const seccompOp = (late: boolean) => {
    if (!seccomp) return;
    const f = seccomp.filter;
    add('SECCOMP', `install the container's seccomp filter (default ${actionName(f.defaultAction)}, ${f.rules.length} rules${late ? ', right before exec' : ''})`,
      [seccomp.flags, late ? 1 : 0], [JSON.stringify(f)]);
  };
  const nnp = proc.noNewPrivileges === true;
  if (!nnp) seccompOp(false);
  const caps = proc.capabilities ?? defaults.capabilities ?? {};
  const bounding = capMask(caps.bounding);
  add('CAPS', 'drop capabilities outside the bounding set', [0, bounding, 0n, 0n, 0n, 0n]);
  add('USER', `set user to ${user.uid}:${user.gid}${user.additionalGids?.length ? ` groups ${user.additionalGids.join(',')}` : ''}`,
    [user.uid, user.gid, user.umask ?? 0o022, ...(user.additionalGids ?? [])]);
  add('CAPS', 'set capabilities', [1, bounding, capMask(caps.effective), capMask(caps.permitted), capMask(caps.inheritable), capMask(caps.ambient)]);
  if (nnp) add('NO_NEW_PRIVS', 'set no_new_privs');

  // 5.
  add('EXEC_READY', 'clear the parent-death signal; the sync socket closes with the exec');
  if (nnp) seccompOp(true);
  add('EXEC', `exec ${q(args[0]!)}`, [o.keepFds, args.length], [...args, ...env]);

  const host = [
    'check the container status and build the process (process.json, or config.json and the flags)',
    'open a pidfd of the container init (start time checked) and compare its namespaces with ours',
    'clone3 (into the container cgroup on cgroup v2); exec tsrunc-init from a sealed memfd',
    'on cgroup v1: place it in the container cgroups, then release it (SYNC_GO)',
    ...(proc.terminal ? ['the pty master it sends: to --console-socket (-d), or proxied to our stdio'] : []),
    'wait until its program runs (EOF on the sync socket); then wait for its exit or, with -d, return',
  ];
  return { cloneFlags: 0, namespaces: [], host, ops };
}
