// runc's command line beyond the spec's operations (what a drop-in replacement must also do):
// /work/shared/reference/runc-cli-contract.md §2 (run), §4 (--pid-file, --preserve-fds).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert, assertEq, CheckDef, fail } from '../lib/harness';
import { describe } from '../lib/runtime';

export const cliChecks: CheckDef[] = [
  {
    group: 'cli',
    name: 'run: the container\'s exit code is run\'s, its stdout is run\'s, and the state is removed',
    spec: 'runc CLI contract §2 (run returns the container\'s exit code; without --keep the state is removed)',
    fn: (t) => {
      const b = t.bundle({ process: { args: ['/probe', 'exit', '7'] } });
      const id = t.id('run');
      const r = t.rt.call(['run', '--bundle', b.dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      assert(!r.error && !r.timedOut, describe(r));
      assertEq(r.status, 7, `exit status of \`run\` (${describe(r)})`);
      t.mustFail(t.rt.stateRaw(id), 'state after run exited');

      const b2 = t.bundle({ hostname: 'run-stdout', process: { args: ['/probe', 'hostname'] } });
      const id2 = t.id('run');
      const r2 = t.rt.call(['run', '--bundle', b2.dir, id2], { stdio: ['ignore', 'pipe', 'pipe'] });
      assertEq(r2.status, 0, `exit status of \`run\` (${describe(r2)})`);
      let hn: unknown;
      try {
        hn = JSON.parse(r2.stdout).hostname;
      } catch {
        fail(`run's stdout is not the probe's output: ${JSON.stringify(r2.stdout.slice(0, 200))}`);
      }
      assertEq(hn, 'run-stdout', 'hostname printed through run\'s stdout');
    },
  },
  {
    group: 'cli',
    name: 'create --pid-file writes the container process\'s host pid',
    spec: 'runc CLI contract §4 (--pid-file: the host pid of the init, decimal)',
    fn: (t) => {
      const b = t.bundle({ process: { args: ['/bin/sleep', '1000'] } });
      const pidFile = path.join(b.dir, 'init.pid');
      const c = t.create(undefined, { bundle: b, extra: ['--pid-file', pidFile] });
      const text = fs.readFileSync(pidFile, 'utf8');
      assert(/^\d+\n?$/.test(text), `pid file contains ${JSON.stringify(text)}`);
      assertEq(Number(text), t.state(c.id).pid, 'pid file vs state pid');
    },
  },
  {
    group: 'cli',
    name: 'create --preserve-fds 1 passes fd 3 and nothing more',
    spec: 'runc CLI contract §4 (--preserve-fds N); runtime-linux.md#file-descriptors ("MAY pass additional file descriptors")',
    fn: (t) => {
      const b = t.bundle({ process: { args: ['/probe', 'fds'] } });
      const c = t.create(undefined, { bundle: b, extra: ['--preserve-fds', '1'] });
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      const out = fs.readFileSync(c.outFile, 'utf8');
      let fds: { fd: number; target: string }[];
      try {
        fds = JSON.parse(out);
      } catch {
        fail(`no probe output: ${JSON.stringify(out.slice(0, 200))}`);
      }
      assertEq(fds.map((f) => f.fd), [0, 1, 2, 3], `open fds (${JSON.stringify(fds)})`);
      assert(fds[3].target.endsWith('/canary'), `fd 3 is ${fds[3].target}, not the file the runtime got as fd 3`);
    },
  },
];
