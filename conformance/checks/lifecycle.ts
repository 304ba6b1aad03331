// Lifecycle and operations: runtime-spec runtime.md (State, Lifecycle, Operations).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert, assertEq, CheckDef, fail, T } from '../lib/harness';
import { sleepMs } from '../lib/runtime';

const SLEEP = ['/bin/sleep', '1000'];
const sleeper = { process: { args: SLEEP } };

function procAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 3 (after the ")" of comm) is the state; Z = zombie, X = dead
    const st = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return st !== 'Z' && st !== 'X';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s, i, a) => s !== '' || i < a.length - 1);
  } catch {
    return [];
  }
}

function pidOf(t: T, id: string): number {
  const s = t.state(id);
  if (typeof s.pid !== 'number' || !Number.isInteger(s.pid) || s.pid <= 0) {
    fail(`state of ${id} (${String(s.status)}): pid is ${JSON.stringify(s.pid)}, want an integer > 0`);
  }
  return s.pid;
}

/** Names of every entry under `dir` (recursively) whose name contains `needle`. */
function findNamed(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.name.includes(needle)) hits.push(p);
      if (e.isDirectory() && depth < 6) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return hits;
}

export const lifecycleChecks: CheckDef[] = [
  {
    group: 'lifecycle',
    name: 'create, start, kill, delete',
    spec: 'runtime.md#lifecycle, #create, #start, #kill, #delete, #state',
    fn: (t) => {
      const c = t.create(sleeper);
      const s1 = t.state(c.id);
      assertEq(s1.status, 'created', 'status after create');
      assertEq(s1.id, c.id, 'state id');
      assertEq(s1.bundle, c.bundle.dir, 'state bundle');
      const pid = pidOf(t, c.id);
      assert(procAlive(pid), `state pid ${pid} after create is not a live process on the host`);
      t.must(t.rt.start(c.id), 'start');
      const s2 = t.waitStatus(c.id, 'running', 5000);
      assertEq(s2.pid, pid, 'pid after start (the container process is the one create made)');
      assert(procAlive(pid), `pid ${pid} is not alive after start`);
      t.must(t.rt.kill(c.id, 'KILL'), 'kill KILL');
      t.waitStatus(c.id, 'stopped', 5000);
      assert(!procAlive(pid), `pid ${pid} is still alive after the container stopped`);
      t.must(t.rt.delete(c.id), 'delete of the stopped container');
      t.mustFail(t.rt.stateRaw(c.id), 'state after delete');
    },
  },
  {
    group: 'lifecycle',
    name: 'state JSON has the required fields with the right types',
    spec: 'runtime.md#state, schema/state-schema.json',
    fn: (t) => {
      const annotations = { 'org.opencontainers.conformance.key': 'value', 'org.example/x': 'y z' };
      const c = t.create({ ...sleeper, annotations });
      const check = (s: Record<string, unknown>, status: string): void => {
        assert(typeof s.ociVersion === 'string' && s.ociVersion.length > 0, `ociVersion: ${JSON.stringify(s.ociVersion)} is not a non-empty string`);
        assertEq(s.id, c.id, 'id');
        assertEq(s.status, status, 'status');
        if (status !== 'stopped' || s.pid !== undefined) {
          assert(typeof s.pid === 'number' && Number.isInteger(s.pid) && s.pid >= 0, `pid: ${JSON.stringify(s.pid)} is not an integer >= 0`);
        }
        if (status !== 'stopped') assert((s.pid as number) > 0, `pid must be > 0 when ${status}, got ${String(s.pid)}`);
        assert(typeof s.bundle === 'string' && path.isAbsolute(s.bundle), `bundle: ${JSON.stringify(s.bundle)} is not an absolute path`);
        assertEq(s.bundle, c.bundle.dir, 'bundle');
        assert(typeof s.annotations === 'object' && s.annotations !== null && !Array.isArray(s.annotations), `annotations: ${JSON.stringify(s.annotations)} is not a map (the config has annotations)`);
        for (const [k, v] of Object.entries(annotations)) {
          assertEq((s.annotations as Record<string, unknown>)[k], v, `annotations[${JSON.stringify(k)}]`);
        }
      };
      check(t.state(c.id), 'created');
      t.must(t.rt.start(c.id), 'start');
      check(t.waitStatus(c.id, 'running', 5000), 'running');
      t.must(t.rt.kill(c.id, 'KILL'), 'kill');
      check(t.waitStatus(c.id, 'stopped', 5000), 'stopped');
    },
  },
  {
    group: 'lifecycle',
    name: 'create does not run process.args; start does',
    spec: 'runtime.md#lifecycle step 2, #create ("process.args MUST NOT be applied until start")',
    fn: (t) => {
      const c = t.create({ process: { args: ['/probe', 'hostname'] } });
      const pid = pidOf(t, c.id);
      sleepMs(200); // give a wrongly-started program time to print
      assertEq(fs.readFileSync(c.outFile, 'utf8'), '', 'container stdout before start');
      const cl = cmdline(pid);
      assert(!(cl[0] === '/probe' && cl[1] === 'hostname'), `the container process already runs process.args before start: ${JSON.stringify(cl)}`);
      assertEq(t.state(c.id).status, 'created', 'status 200 ms after create');
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      const out = fs.readFileSync(c.outFile, 'utf8');
      assert(/"hostname"/.test(out), `the program did not run after start; stdout ${JSON.stringify(out)}`);
    },
  },
  {
    group: 'lifecycle',
    name: 'changes to config.json after create do not affect the container',
    spec: 'runtime.md#lifecycle step 2, #create',
    fn: (t) => {
      const c = t.create({ hostname: 'before', process: { args: ['/probe', 'hostname'] } });
      const cfgPath = path.join(c.bundle.dir, 'config.json');
      const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
      cfg.hostname = 'after';
      cfg.process.args = ['/probe', 'exit', '9'];
      fs.writeFileSync(cfgPath, JSON.stringify(cfg));
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      const out = fs.readFileSync(c.outFile, 'utf8');
      let hn: unknown;
      try {
        hn = JSON.parse(out).hostname;
      } catch {
        fail(`the program given at create did not run (stdout ${JSON.stringify(out)})`);
      }
      assertEq(hn, 'before', 'hostname seen by the container');
    },
  },
  {
    group: 'lifecycle',
    name: 'create with an id that exists fails and leaves the first container alone',
    spec: 'runtime.md#create ("If the ID provided is not unique ... MUST generate an error")',
    fn: (t) => {
      const c = t.create(sleeper);
      const pid = pidOf(t, c.id);
      const b2 = t.bundle(sleeper);
      t.mustFail(t.tryCreate(c.id, b2.dir), 'second create with the same id');
      const s = t.state(c.id);
      assertEq(s.status, 'created', 'status of the first container');
      assertEq(s.pid, pid, 'pid of the first container');
      assertEq(s.bundle, c.bundle.dir, 'bundle of the first container');
      assert(procAlive(pid), 'the first container process died');
    },
  },
  {
    group: 'lifecycle',
    name: 'start of a running container fails and has no effect',
    spec: 'runtime.md#start ("Attempting to start a container that is not created MUST have no effect ... and MUST generate an error")',
    fn: (t) => {
      const c = t.create(sleeper);
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'running', 5000);
      const pid = pidOf(t, c.id);
      t.mustFail(t.rt.start(c.id), 'second start');
      const s = t.state(c.id);
      assertEq(s.status, 'running', 'status after the failed start');
      assertEq(s.pid, pid, 'pid after the failed start');
    },
  },
  {
    group: 'lifecycle',
    name: 'start of a stopped container fails',
    spec: 'runtime.md#start',
    fn: (t) => {
      const c = t.create({ process: { args: ['/probe', 'exit', '0'] } });
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      t.mustFail(t.rt.start(c.id), 'start of the stopped container');
      assertEq(t.state(c.id).status, 'stopped', 'status after the failed start');
    },
  },
  {
    group: 'lifecycle',
    name: 'delete of a running container fails and has no effect',
    spec: 'runtime.md#delete ("Attempting to delete a container that is not stopped MUST have no effect ... and MUST generate an error")',
    fn: (t) => {
      const c = t.create(sleeper);
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'running', 5000);
      const pid = pidOf(t, c.id);
      t.mustFail(t.rt.delete(c.id), 'delete of the running container');
      const s = t.state(c.id);
      assertEq(s.status, 'running', 'status after the failed delete');
      assertEq(s.pid, pid, 'pid after the failed delete');
      assert(procAlive(pid), 'the container process died');
    },
  },
  {
    group: 'lifecycle',
    name: 'kill of a created container stops it',
    spec: 'runtime.md#kill (created or running)',
    fn: (t) => {
      const c = t.create(sleeper);
      t.must(t.rt.kill(c.id, 'KILL'), 'kill KILL of the created container');
      t.waitStatus(c.id, 'stopped', 5000);
      t.must(t.rt.delete(c.id), 'delete');
    },
  },
  {
    group: 'lifecycle',
    name: 'kill of a stopped container fails',
    spec: 'runtime.md#kill ("Attempting to send a signal to a container that is neither created nor running MUST ... generate an error")',
    fn: (t) => {
      const c = t.create({ process: { args: ['/probe', 'exit', '0'] } });
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      t.mustFail(t.rt.kill(c.id, 'KILL'), 'kill of the stopped container');
      assertEq(t.state(c.id).status, 'stopped', 'status after the failed kill');
    },
  },
  {
    group: 'lifecycle',
    name: 'kill delivers the given signal to the container process',
    spec: 'runtime.md#kill ("MUST send the specified signal to the container process")',
    fn: (t) => {
      const c = t.create({ process: { args: ['/probe', 'wait-signal'] } });
      t.must(t.rt.start(c.id), 'start');
      t.waitOutput(c, '"ready"');
      // containerd sends signals as numbers (`kill <id> 15`); 10 is SIGUSR1 on every Linux arch
      // the suite runs on (x86, arm).
      t.must(t.rt.kill(c.id, '10'), 'kill 10');
      t.waitStatus(c.id, 'stopped');
      const out = fs.readFileSync(c.outFile, 'utf8');
      assert(/"name":"SIGUSR1"/.test(out), `the container did not receive SIGUSR1: ${JSON.stringify(out)}`);
    },
  },
  {
    group: 'lifecycle',
    name: 'operations on an unknown id fail',
    spec: 'runtime.md#query-state ("query a container that does not exist MUST generate an error"), #start, #kill, #delete',
    fn: (t) => {
      const id = t.id('missing');
      t.mustFail(t.rt.stateRaw(id), 'state of an unknown id');
      t.mustFail(t.rt.start(id), 'start of an unknown id');
      t.mustFail(t.rt.kill(id, 'KILL'), 'kill of an unknown id');
      t.mustFail(t.rt.delete(id), 'delete of an unknown id');
    },
  },
  {
    group: 'lifecycle',
    name: 'delete removes the container and its state',
    spec: 'runtime.md#delete ("MUST delete the resources that were created during the create step"; "its ID MAY be used by a subsequent container")',
    fn: (t) => {
      const c = t.create({ process: { args: ['/probe', 'exit', '0'] } });
      t.must(t.rt.start(c.id), 'start');
      t.waitStatus(c.id, 'stopped');
      t.must(t.rt.delete(c.id), 'delete');
      t.mustFail(t.rt.stateRaw(c.id), 'state after delete');
      const left = findNamed(t.rt.root, c.id);
      assert(left.length === 0, `files left under --root after delete: ${left.join(', ')}`);
      // the id can be used again
      t.must(t.tryCreate(c.id, c.bundle.dir), 'create again with the deleted id');
      assertEq(t.state(c.id).status, 'created', 'status of the re-created container');
    },
  },
  {
    group: 'lifecycle',
    name: 'a relative bundle path is reported as absolute',
    spec: 'runtime.md#state ("bundle ... is the absolute path to the container\'s bundle directory")',
    fn: (t) => {
      const b = t.bundle(sleeper);
      const c = t.create(undefined, { bundle: b, cwd: path.dirname(b.dir), bundleArg: path.basename(b.dir) });
      assertEq(t.state(c.id).bundle, b.dir, 'bundle');
    },
  },
];
