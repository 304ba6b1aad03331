// The OCI conformance suite runner.
//
//   node dist/conformance/run.js --runtime PATH [--root DIR] [--filter SUBSTR]... [--json] [--probe PATH]
//   npm run conformance -- --runtime PATH
//
// It drives the runtime through runc's command line (create/start/state/kill/delete/run with a
// global --root), runs the probe (build/Release/tsrunc-probe) inside containers built from
// busybox-static, and prints one line per check. The final line is exactly
// `N passed, N failed, N skipped`; the exit status is 1 if anything failed (2 on bad usage).
// Every container it creates is deleted with `delete --force` after its check, whatever happened.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allChecks } from './checks';
import { CheckDef, mountsUnder, Outcome, runCheck, SuiteContext } from './lib/harness';
import { defaultProbePath, repoRoot } from './lib/rootfs';
import { RuntimeCli } from './lib/runtime';

interface Options {
  runtime: string;
  root?: string;
  filters: string[];
  json: boolean;
  probe?: string;
  list: boolean;
}

const USAGE = `usage: run.js --runtime PATH [--root DIR] [--filter SUBSTR]... [--json] [--probe PATH] [--list]
  --runtime PATH   the runtime binary (runc's command line), required
  --root DIR       passed as the runtime's --root (default: a fresh temporary directory)
  --filter SUBSTR  run only checks whose "group/name" contains SUBSTR (case-insensitive; repeatable)
  --json           one JSON object per check, then the summary line
  --probe PATH     the static probe binary (default: build/Release/tsrunc-probe)
  --list           list the checks and exit`;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`run.js: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runtime: '', filters: [], json: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (): string => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--runtime':
        o.runtime = value();
        break;
      case '--root':
        o.root = value();
        break;
      case '--filter':
        o.filters.push(value().toLowerCase());
        break;
      case '--probe':
        o.probe = value();
        break;
      case '--json':
        o.json = true;
        break;
      case '--list':
        o.list = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        usage(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (!o.runtime && !o.list) usage('--runtime is required');
  return o;
}

/** PATH lookup for a bare name; an explicit path is made absolute. */
function resolveBinary(bin: string): string {
  if (bin.includes('/')) return path.resolve(bin);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return path.resolve(p);
    } catch {
      /* next */
    }
  }
  return bin;
}

/**
 * Containers left by `create` are re-parented to the nearest child subreaper; on these machines
 * PID 1 reaps lazily, so without one a stopped container can look `running` for a while. If our
 * parent is not tsrunc-reaper, re-run this process under it (when it has been built).
 */
function ensureSubreaper(): void {
  if (process.env.TSRUNC_CONFORMANCE_REAPED === '1') return;
  let parentComm = '';
  try {
    parentComm = fs.readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim();
  } catch {
    /* unknown parent */
  }
  if (parentComm === 'tsrunc-reaper') return;
  let reaper: string | undefined;
  try {
    reaper = path.join(repoRoot(), 'build/Release/tsrunc-reaper');
    fs.accessSync(reaper, fs.constants.X_OK);
  } catch {
    process.stderr.write('run.js: warning: not running under a child subreaper (build/Release/tsrunc-reaper not found); stopped containers may be reaped late\n');
    return;
  }
  // The child gets terminal signals itself (same process group) or from the reaper; this process
  // only waits for it, so it must not die first.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  const r = spawnSync(reaper, [process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TSRUNC_CONFORMANCE_REAPED: '1' },
  });
  process.exit(r.status ?? 1);
}

function label(c: CheckDef): string {
  return `${c.group}/${c.name}`;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const checks = allChecks.filter((c) => opts.filters.length === 0 || opts.filters.some((f) => label(c).toLowerCase().includes(f)));
  if (checks.length === 0) usage(`no check matches ${opts.filters.map((f) => JSON.stringify(f)).join(' or ')} (see --list)`);
  if (opts.list) {
    for (const c of checks) process.stdout.write(`${label(c)}  [${c.spec}]\n`);
    return 0;
  }
  ensureSubreaper();

  const runtime = resolveBinary(opts.runtime);
  if (!fs.existsSync(runtime)) usage(`runtime ${JSON.stringify(opts.runtime)} not found`);
  const probe = path.resolve(opts.probe ?? defaultProbePath());
  if (!fs.existsSync(probe)) {
    usage(`probe ${probe} not found: build it with \`flock /tmp/tsrunc-gyp.lock npx node-gyp build\` or \`gcc -O2 -static -Wall -Wextra -o build/Release/tsrunc-probe conformance/probe/probe.c\``);
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conformance-'));
  const ownRoot = opts.root === undefined;
  const root = opts.root ? path.resolve(opts.root) : fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conformance-root-'));
  // A variable the runtime sees but the container must not (process.env is the whole environment).
  const env: NodeJS.ProcessEnv = { ...process.env, TSRUNC_CONFORMANCE_HOST_ONLY: 'leaked-from-the-runtime-environment' };
  delete env.TSRUNC_CONFORMANCE_REAPED;
  const ctx: SuiteContext = {
    rt: new RuntimeCli(runtime, root, { env }),
    taintedRt: new RuntimeCli(runtime, root, { env, wrapper: [probe, 'taint'] }),
    probe,
    workDir,
    shared: new Map(),
    runTag: `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`,
    counter: { n: 0 },
  };

  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const out = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  if (!opts.json) {
    const v = ctx.rt.call(['--version']);
    const ver = v.status === 0 ? v.stdout.split('\n')[0] : '(--version failed)';
    out(`runtime ${runtime}: ${ver}; root ${root}`);
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let group = '';
  for (const c of checks) {
    let o: Outcome;
    const t0 = Date.now();
    if (interrupted) o = { status: 'skipped', reason: 'interrupted' };
    else o = runCheck(ctx, c);
    const ms = Date.now() - t0;
    if (o.status === 'passed') passed++;
    else if (o.status === 'failed') failed++;
    else skipped++;
    if (opts.json) {
      out(JSON.stringify({ group: c.group, name: c.name, spec: c.spec, status: o.status, ...(o.status !== 'passed' ? { reason: o.reason } : {}), ms }));
    } else {
      if (c.group !== group) out(c.group);
      group = c.group;
      const tag = o.status === 'passed' ? 'ok  ' : o.status === 'failed' ? 'FAIL' : 'skip';
      out(`  ${tag}  ${c.name}${o.status !== 'passed' ? `: ${o.reason}` : ''}${ms > 3000 ? ` (${ms} ms)` : ''}`);
    }
    // yield so that SIGINT/SIGTERM handlers can run between checks
    await new Promise((r) => setImmediate(r));
  }

  const leaked = mountsUnder(workDir);
  if (leaked.length) {
    process.stderr.write(`run.js: mounts leaked into the host mount namespace, ${workDir} left in place: ${leaked.join(', ')}\n`);
    failed++;
  } else {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  if (ownRoot) {
    // Every container was deleted; anything left is the runtime's litter (reported, then removed).
    const left = fs.existsSync(root) ? fs.readdirSync(root) : [];
    if (left.length) process.stderr.write(`run.js: warning: the runtime left ${left.join(', ')} in its root ${root}\n`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  out(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 || interrupted ? 1 : 0;
}

main().then(
  (rc) => {
    process.exitCode = rc;
  },
  (e) => {
    process.stderr.write(`run.js: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.stdout.write('0 passed, 1 failed, 0 skipped\n');
    process.exitCode = 1;
  },
);
