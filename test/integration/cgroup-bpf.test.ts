// The cgroup v2 device program on a real cgroup2 hierarchy. On this project's hybrid machines the
// unified hierarchy (/sys/fs/cgroup/unified) is a real cgroup2 mount: device programs attached
// there are enforced for its member processes even in hybrid mode. The test cgroup is made
// directly with mkdir (not CgroupManager.create, which on a pure v2 host would enable the root's
// controllers: on this host's root that would be a change to the machine), and removed again.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BpfNative, CgroupManager, readCgroupHost, deviceRulesForSpec, compileDeviceProgram } from '../../src/cgroup';
import { TsruncError } from '../../src/errors';
import { loadNative } from '../../src/sys/native';

const ADDON = path.resolve(__dirname, '../../../build/Release/tsrunc_native.node');
const host = readCgroupHost();
const skip = process.getuid?.() !== 0 ? 'needs root'
  : host.unified === undefined ? 'needs a cgroup2 mount'
    : !fs.existsSync(ADDON) ? `needs the addon (${ADDON}): flock /tmp/tsrunc-gyp.lock npx node-gyp build`
      : false;

function exited(child: cp.ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not exit')), 5000);
    child.once('exit', (code, sig) => { clearTimeout(timer); resolve(sig ?? code); });
  });
}

/** Run a shell in the cgroup (moved there before it touches any device) and return its output. */
async function probe(cg: CgroupManager, script: string): Promise<string> {
  const child = cp.spawn('sh', ['-c', `read x; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    cg.addPid(child.pid!);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  let out = '';
  child.stdout!.on('data', (b) => { out += b; });
  child.stdin!.end('go\n');
  assert.equal(await exited(child), 0);
  return out;
}

const TRY = 'for d in /dev/null /dev/zero /dev/full; do if ( : > $d ); then echo "$d ok"; else echo "$d denied"; fi; done';

test('v2 device program: load, attach, replace, and the kernel enforces it', { skip }, async (t) => {
  const native: Required<BpfNative> = loadNative();
  const dir = path.join(host.unified!, `tsrunc-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(dir);
  const stray: cp.ChildProcess[] = [];
  t.after(() => {
    for (const c of stray) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    try { fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0'); } catch { /* gone */ }
    for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
      try { fs.rmdirSync(dir); } catch { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); }
    }
  });
  const cg = new CgroupManager({ paths: { '': dir } }, { native });
  assert.equal(cg.mode, 'v2');
  assert.deepEqual(native.bpfQueryDevicePrograms(dir), []);

  // Deny-all + runc's defaults, with /dev/null redefined by linux.devices (so 1:3 is not allowed).
  const noNull = deviceRulesForSpec({ devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }], resources: { devices: [{ allow: false, access: 'rwm' }] } });
  cg.setDevices(noNull);
  const first = native.bpfQueryDevicePrograms(dir);
  assert.equal(first.length, 1);
  assert.equal(await probe(cg, TRY), '/dev/null denied\n/dev/zero ok\n/dev/full ok\n');

  // Replacing: still exactly one program, now with /dev/null allowed and /dev/full read-only.
  cg.setDevices(deviceRulesForSpec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }).map((r) =>
    (r.major === 1 && r.minor === 7 ? { ...r, access: 'r' } : r)));
  const second = native.bpfQueryDevicePrograms(dir);
  assert.equal(second.length, 1);
  assert.notEqual(second[0], first[0]);
  assert.equal(await probe(cg, `${TRY}; head -c1 /dev/full >&2 && echo "read full ok"`), '/dev/null ok\n/dev/zero ok\n/dev/full denied\nread full ok\n');

  // Allow-all still attaches a program (that allows everything).
  cg.setDevices(deviceRulesForSpec({ resources: { devices: [{ allow: true, access: 'rwm' }] } }));
  assert.equal(native.bpfQueryDevicePrograms(dir).length, 1);
  assert.equal(await probe(cg, TRY), '/dev/null ok\n/dev/zero ok\n/dev/full ok\n');

  // The v2 freezer and cgroup.kill on the same real cgroup.
  const sleeper = cp.spawn('sleep', ['30'], { stdio: 'ignore' });
  stray.push(sleeper);
  cg.addPid(sleeper.pid!);
  assert.deepEqual(cg.pids(), [sleeper.pid]);
  cg.setFrozen(true);
  assert.equal(cg.freezerState(), 'frozen');
  cg.killAll(os.constants.signals.SIGKILL); // cgroup.kill: kills even frozen tasks on v2
  assert.equal(await exited(sleeper), 'SIGKILL');
  cg.setFrozen(false);
  cg.destroy();
  assert.equal(fs.existsSync(dir), false);
});

test('v2 device program: kernel errors come back with code, errno, syscall and the verifier log', { skip }, () => {
  const native: Required<BpfNative> = loadNative();
  const missing = path.join(host.unified!, 'tsrunc-test-does-not-exist');
  const good = compileDeviceProgram([]);
  assert.throws(() => native.bpfAttachDeviceProgram(missing, good), (e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' && e.errno === 2 && e.syscall === 'open' && e.path === missing);
  // A program without an exit: the verifier refuses it and says why.
  assert.throws(() => native.bpfAttachDeviceProgram(host.unified!, good.subarray(0, 8)), (e: NodeJS.ErrnoException) =>
    e.code === 'EINVAL' && e.syscall === 'bpf(BPF_PROG_LOAD)' && /verifier log:\n[^]*exit/.test(e.message));
  assert.throws(() => native.bpfAttachDeviceProgram(host.unified!, Buffer.alloc(7)), TypeError);
  // Through the manager it is an E_CGROUP naming the operation.
  const cg = new CgroupManager({ paths: { '': missing } }, { native });
  assert.throws(() => cg.setDevices([]), (e: unknown) => e instanceof TsruncError && e.code === 'E_CGROUP' &&
    e.message === `set device rules: open \`${missing}\`: ENOENT`);
});
