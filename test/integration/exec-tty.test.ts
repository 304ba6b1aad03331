// `tsrunc exec` with a terminal (issue 8: "Same for `exec -t` without `-d`"), in real busybox
// containers, against runc 1.1.5 where it helps:
// - `exec -t -d --console-socket S` (and `-p` with `terminal: true`): a receiver that accepts only
//   after exec has returned gets exactly one message with a non-empty payload and one fd, the pty
//   master of the container's devpts; the process's stdio is the slave (`tty` prints /dev/pts/N),
//   owned by its user, with consoleSize; the pid file names it;
// - `exec -t` attached, driven through a real pty: raw mode, size, resize, input, ^C, SIGTERM
//   forwarded, exit status, the terminal restored; and with stdio that is not a terminal;
// - runc's usage errors for -t/-d/--console-socket that do not fit, a bad socket path, a failure
//   after the pty was made (255, nothing left in the container), an image whose /dev/pts/ptmx is
//   not a devpts ptmx.
// Run under the subreaper: build/Release/tsrunc-reaper node --test dist/test/integration/exec-tty.test.js
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OciConfig } from '../../conformance/lib/config';
import { makeBundle } from '../../conformance/lib/rootfs';
import { RuntimeCli } from '../../conformance/lib/runtime';
import { TSRUNC, Tsrunc, assertFails, cleanup, errMsg, isAlive, pollUntil, show, tmpDir } from './support';
import { Driver, WAIT_FOR_SIZE } from './tty-driver';

let tmp = '';
let root = '';
let t: Tsrunc;
let runc: RuntimeCli;
const ids: string[] = [];
const runcIds: string[] = [];
const A = `xt-a-${process.pid}`; // busybox, sleep 1000, the default /dev (devpts at /dev/pts)
const R = `xt-r-${process.pid}`; // the same under runc, for the differential checks
let seq = 0;

function bundle(tag: string, args: string[], edit: (c: OciConfig) => void = () => {}): string {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  makeBundle(dir, (c) => { c.process!.args = args; c.process!.terminal = false; edit(c); });
  return dir;
}

/** Processes of container `id` (host pids), from its cgroup through `tsrunc ps`. */
function pids(id: string): number[] {
  const r = t.call(['ps', '-f', 'json', id]);
  assert.equal(r.status, 0, show(r));
  return JSON.parse(r.stdout) as number[];
}

function processFile(p: Record<string, unknown>): string {
  const f = path.join(tmp, `process-${++seq}.json`);
  fs.writeFileSync(f, JSON.stringify({ user: { uid: 0, gid: 0 }, cwd: '/', env: ['PATH=/bin:/usr/bin', 'TERM=xterm'], ...p }));
  return f;
}

before(() => {
  tmp = tmpDir('tsrunc-xt');
  root = path.join(tmp, 'root');
  t = new Tsrunc(root, tmp);
  runc = new RuntimeCli('runc', path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
  ids.push(A);
  const r = t.call(['run', '-d', '-b', bundle('a', ['sleep', '1000']), A]);
  assert.equal(r.status, 0, show(r));
  runcIds.push(R);
  const rr = runc.call(['run', '-d', '-b', bundle('r', ['sleep', '1000']), R]);
  assert.equal(rr.status, 0, rr.stderr);
});

after(() => {
  for (const id of runcIds) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

describe('exec -t -d --console-socket', () => {
  it('sends exactly one fd, the master of the container\'s devpts; the process\'s stdio is the slave, owned by its user', async () => {
    const sock = path.join(tmp, `c-${++seq}.sock`);
    const pidFile = path.join(tmp, `pid-${seq}`);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const before = pids(A);
      // The receiver accepts only after exec has returned: exec must not wait for it.
      const r = await t.callAsync(['exec', '-t', '-d', '--console-socket', sock, '--pid-file', pidFile, '-u', '1000:1000', A,
        'sh', '-c', 'tty; ls -ln $(tty); for f in 0 1 2; do readlink /proc/self/fd/$f; done; read line; echo "in:$line"']);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout + r.stderr, '', 'exec -d prints nothing');
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      assert.ok(isAlive(pid), 'the pid file names the running process');
      assert.deepEqual(pids(A).sort(), [...before, pid].sort(), 'it is in the container\'s cgroup');
      // Its stdio is the slave; tsrunc holds nothing of it any more.
      const links = [0, 1, 2].map((f) => fs.readlinkSync(`/proc/${pid}/fd/${f}`));
      assert.match(links[0]!, /^\/dev\/pts\/\d+$/);
      assert.deepEqual(links, [links[0], links[0], links[0]]);
      assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`).map((f) => fs.readlinkSync(`/proc/${pid}/fd/${f}`)).filter((l) => l.startsWith('socket:')), [], 'no socket (the sync socket closed at exec)');
      d.send('go');
      const got = await d.get('payload');
      assert.equal(got.nfds, 1, `exactly one fd: ${JSON.stringify(got)}`);
      assert.equal(got.oobn, got.oobn_want, `exactly one SCM_RIGHTS of one fd (go-runc's check): ${JSON.stringify(got)}`);
      assert.equal(got.ctrunc, false);
      assert.ok((got.payload as string).length > 0, 'a non-empty payload');
      assert.equal(got.isatty, true, 'the fd is a terminal');
      assert.equal(got.link, '/dev/pts/ptmx', 'the master of a devpts instance (not the host\'s /dev/ptmx)');
      d.send(JSON.stringify('typed\r'));
      const output = (await d.get('output')).output as string;
      const lines = output.split(/\r?\n/);
      const tty = lines.find((l) => /^\/dev\/pts\/\d+$/.test(l));
      assert.ok(tty, `tty inside prints /dev/pts/N: ${JSON.stringify(output)}`);
      assert.equal(tty, links[0], 'the same slave, seen from the host and from inside');
      assert.match(output, new RegExp(`^crw--w----\\s+1 1000\\s+\\d+\\s+136,\\s+${tty!.slice(9)} .*${tty}\\r?$`, 'm'), `the slave is owned by the process's uid: ${JSON.stringify(output)}`);
      assert.equal(lines.filter((l) => l === tty).length, 4, `stdio is the slave: ${JSON.stringify(output)}`);
      assert.ok(lines.includes('in:typed'), `input through the master reaches the process: ${JSON.stringify(output)}`);
      assert.ok(pollUntil(() => !isAlive(pid), 5000), 'the process ended with its input');
    } finally {
      d.kill();
    }
  });

  it('-p process.json with terminal: true and consoleSize, the same way', async () => {
    const sock = path.join(tmp, `c-${++seq}.sock`);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const f = processFile({ terminal: true, consoleSize: { height: 33, width: 101 }, args: ['sh', '-c', 'tty; stty size'] });
      const r = await t.callAsync(['exec', '-p', f, '-d', '--console-socket', sock, A]);
      assert.equal(r.status, 0, show(r));
      d.send('go');
      assert.equal((await d.get('payload')).nfds, 1);
      const output = (await d.get('output')).output as string;
      assert.match(output, /^\/dev\/pts\/\d+\r?$/m, JSON.stringify(output));
      assert.match(output, /^33 101\r?$/m, `consoleSize applied: ${JSON.stringify(output)}`);
    } finally {
      d.kill();
    }
  });

  it('runc does the same with this receiver (control)', async () => {
    const sock = path.join(tmp, `c-${++seq}.sock`);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const r = runc.call(['exec', '-t', '-d', '--console-socket', sock, R, 'tty']);
      assert.equal(r.status, 0, r.stderr);
      d.send('go');
      const got = await d.get('payload');
      assert.deepEqual([got.nfds, got.oobn === got.oobn_want, got.isatty, got.link], [1, true, true, '/dev/pts/ptmx']);
      assert.match((await d.get('output')).output as string, /^\/dev\/pts\/\d+\r?$/m);
    } finally {
      d.kill();
    }
  });
});

describe('exec -t attached, through a real pty', () => {
  const onPty = (args: string[], rows = 24, cols = 80) =>
    new Driver(['pty-run', String(rows), String(cols), '--', TSRUNC, '--root', root, 'exec', ...args]);

  it('proxies the terminal: raw mode, size, resize, input, exit status; the terminal is restored', async () => {
    const d = onPty(['-t', A, 'sh', '-c', 'tty; stty size; echo ready; read a; stty size; echo "got:$a"; exit 7']);
    try {
      await d.until(/ready/);
      d.send('resize 30 100');
      await new Promise((r) => setTimeout(r, 500));
      d.send(`write ${JSON.stringify('hello\r')}`);
      const end = await d.get('exit', 20000);
      const out = (await d.get('output')).output as string;
      assert.equal(end.exit, 7, `exit status is the process's: ${JSON.stringify(out)} ${d.stderr}`);
      assert.match(out, /^\/dev\/pts\/\d+\r\n/);
      assert.match(out, /^24 80\r\n/m, 'the pty starts with our terminal\'s size');
      assert.match(out, /^30 100\r\n/m, 'SIGWINCH resizes the pty');
      assert.match(out, /got:hello\r\n/);
      // Raw mode: our terminal does not echo; the process's own terminal echoes once.
      assert.equal(out.split('hello').length - 1, 2, `typed text echoed once (plus got:hello): ${JSON.stringify(out)}`);
      assert.deepEqual([end.echo, end.icanon], [true, true], 'the terminal is back in its original mode');
    } finally {
      d.kill();
    }
  });

  it('shows the same bytes as runc exec -t on the same pty (differential)', async () => {
    const cmd = ['sh', '-c', `${WAIT_FOR_SIZE}tty | cut -c1-9; stty size; echo "a  b"; exit 3`];
    const outputs: string[] = [];
    for (const rt of ['runc', 'tsrunc'] as const) {
      const argv = rt === 'runc' ? ['runc', '--root', path.join(tmp, 'runc-root'), 'exec', '-t', R, ...cmd] : [TSRUNC, '--root', root, 'exec', '-t', A, ...cmd];
      const d = new Driver(['pty-run', '25', '90', '--', ...argv]);
      try {
        const end = await d.get('exit', 20000);
        assert.equal(end.exit, 3, `${rt}: ${d.text()} ${d.stderr}`);
        outputs.push((await d.get('output')).output as string);
      } finally {
        d.kill();
      }
    }
    assert.equal(outputs[1], outputs[0], 'tsrunc shows what runc shows');
    assert.equal(outputs[1], '/dev/pts/\r\n25 90\r\na  b\r\n');
  });

  it('^C reaches the process through its terminal; SIGTERM to tsrunc is forwarded; a signal death is 128+N', async () => {
    const d = onPty(['-t', A, 'sh', '-c', 'trap "echo got-int; exit 6" INT; echo ready; while :; do sleep 0.1; done']);
    try {
      await d.until(/ready/);
      d.send(`write ${JSON.stringify('\u0003')}`);
      const end = await d.get('exit', 20000);
      assert.equal(end.exit, 6, d.text());
      assert.match(d.text(), /got-int/);
    } finally {
      d.kill();
    }
    const d2 = onPty(['-t', A, 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done']);
    try {
      await d2.get('pid');
      await d2.until(/ready/);
      d2.send('signal 15');
      const end = await d2.get('exit', 20000);
      assert.equal(end.exit, 5, d2.text());
      assert.match(d2.text(), /got-term/);
    } finally {
      d2.kill();
    }
    const d3 = onPty(['-t', A, 'sh', '-c', 'kill -9 $$']);
    try {
      assert.equal((await d3.get('exit', 20000)).exit, 137, d3.text());
    } finally {
      d3.kill();
    }
  });

  it('works with stdio that is not a terminal (a file and a pipe), with -p terminal: true too', () => {
    const r = t.call(['exec', '-t', A, 'sh', '-c', 'tty; echo a; echo b; exit 2']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\na\nb\n$/, `plain lines (ONLCR cleared, as run -t): ${show(r)}`);
    const input = path.join(tmp, `input-${++seq}`);
    fs.writeFileSync(input, 'line one\n');
    const fd = fs.openSync(input, 'r');
    try {
      const p = t.call(['exec', '-p', processFile({ terminal: true, args: ['sh', '-c', 'read x; echo "x=$x"; tty'] }), A], { stdin: fd });
      assert.equal(p.status, 0, show(p));
      // The pty echoes the input line, then the process's own lines.
      assert.match(p.stdout, /^line one\nx=line one\n\/dev\/pts\/\d+\n$/, `stdin reaches the process through the pty: ${show(p)}`);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('exec -t into a user namespace', () => {
  it('the pty comes from the container\'s devpts, owned by the process\'s uid inside the namespace', () => {
    const id = `xt-userns-${process.pid}`;
    ids.push(id);
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const b = bundle('userns', ['sleep', '1000'], (c) => {
      c.linux!.namespaces!.push({ type: 'user' });
      c.linux!.uidMappings = map;
      c.linux!.gidMappings = map;
      c.root!.readonly = false;
    });
    assert.equal(spawnSync('chown', ['-R', '-h', '100000:100000', path.join(b, 'rootfs')]).status, 0);
    fs.chmodSync(tmp, 0o755); // the mapped root must reach the rootfs (mkdtemp makes it 0700)
    const r = t.call(['run', '-d', '-b', b, id]);
    assert.equal(r.status, 0, show(r));
    const e = t.call(['exec', '-t', '-u', '1000', id, 'sh', '-c', 'tty; ls -ln $(tty); exit 9']);
    assert.equal(e.status, 9, show(e));
    assert.match(e.stdout, /^\/dev\/pts\/\d+\ncrw--w----\s+1 1000\s+\d+\s+136,/, show(e));
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });
});

describe('exec terminal errors, as runc', () => {
  const sockFor = () => {
    // A listening socket nobody accepts on, for the cases where the socket itself is fine.
    const s = path.join(tmp, `nobody-${++seq}.sock`);
    const l = spawnSync('python3', ['-c', `import socket;s=socket.socket(socket.AF_UNIX);s.bind(${JSON.stringify(s)});s.listen(5)`]);
    assert.equal(l.status, 0, String(l.stderr));
    return s;
  };
  const cases: { name: string; args: (sock: string) => string[]; want: string | RegExp; runc?: boolean }[] = [
    { name: '-t -d without --console-socket', args: () => ['-t', '-d'], want: 'cannot allocate tty if runc will detach without setting console socket' },
    { name: '-p terminal: true, -d without --console-socket', args: () => ['-d', '-p', processFile({ terminal: true, args: ['true'] })], want: 'cannot allocate tty if runc will detach without setting console socket' },
    { name: '--console-socket without -t', args: (s) => ['-d', '--console-socket', s], want: 'cannot use console socket if runc will not detach or allocate tty' },
    { name: '-t --console-socket without -d', args: (s) => ['-t', '--console-socket', s], want: 'cannot use console socket if runc will not detach or allocate tty' },
    { name: '-p terminal: false with --console-socket', args: (s) => ['-d', '--console-socket', s, '-p', processFile({ terminal: false, args: ['true'] })], want: 'cannot use console socket if runc will not detach or allocate tty' },
    { name: 'a --console-socket that does not exist', args: (s) => ['-t', '-d', '--console-socket', `${s}-missing`], want: /^dial unix \S+-missing: connect: no such file or directory$/ },
  ];
  for (const c of cases) {
    it(`${c.name}: runc's text, rc 255, nothing started`, () => {
      const s = sockFor();
      const before = pids(A);
      assertFails(t.call(['exec', ...c.args(s), A, 'sleep', '1000']), (msg) => {
        const body = msg.replace(/^exec failed: /, '');
        assert.equal(`exec failed: ${body}`, msg);
        if (typeof c.want === 'string') assert.equal(body, c.want, msg);
        else assert.match(body, c.want, msg);
      }, 255);
      assert.deepEqual(pids(A), before, 'no process left in the container');
      const rr = runc.call(['exec', ...c.args(s), R, 'sleep', '1000']);
      assert.equal(rr.status, 255, rr.stderr);
      const rmsg = errMsg(rr).replace(/^exec failed: /, '');
      if (typeof c.want === 'string') assert.equal(rmsg, c.want, `runc: ${rr.stderr}`);
      else assert.match(rmsg, c.want, `runc: ${rr.stderr}`);
      fs.rmSync(s, { force: true });
    });
  }

  it('a failure after the pty was made (no such executable): 255, the pty gone, nothing left', async () => {
    const before = pids(A);
    const r = t.call(['exec', '-t', A, 'nosuch']);
    assertFails(r, 'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 255);
    const sock = path.join(tmp, `c-${++seq}.sock`);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      assertFails(await t.callAsync(['exec', '-t', '-d', '--console-socket', sock, A, 'nosuch']),
        'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 255);
      d.send('go');
      // The master was sent before the failure (as runc's); the slave's only holder is gone, so
      // the receiver reads EOF/EIO at once.
      assert.equal((await d.get('payload')).nfds, 1);
      assert.equal((await d.get('output')).output, '');
    } finally {
      d.kill();
    }
    assert.deepEqual(pids(A), before);
  });

  it('a container whose /dev/pts/ptmx is not a devpts ptmx: refused, not opened', () => {
    const id = `xt-fake-${process.pid}`;
    ids.push(id);
    const b = bundle('fakeptmx', ['sleep', '1000'], (c) => {
      c.mounts = c.mounts!.filter((m) => !m.destination.startsWith('/dev'));
    });
    fs.mkdirSync(path.join(b, 'rootfs/dev/pts'), { recursive: true });
    fs.writeFileSync(path.join(b, 'rootfs/dev/pts/ptmx'), '');
    const r = t.call(['run', '-d', '-b', b, id]);
    assert.equal(r.status, 0, show(r));
    const before = pids(id);
    assertFails(t.call(['exec', '-t', id, 'true']), /^exec failed: .*\/dev\/pts\/ptmx is not the ptmx device of a devpts filesystem/, 255);
    // A symlink to the host's ptmx path is resolved inside the root, never followed out of it.
    fs.rmSync(path.join(b, 'rootfs/dev/pts/ptmx'));
    fs.symlinkSync('/dev/ptmx', path.join(b, 'rootfs/dev/pts/ptmx'));
    assertFails(t.call(['exec', '-t', id, 'true']), /^exec failed: .*\/dev\/pts\/ptmx/, 255);
    assert.deepEqual(pids(id), before);
    assert.equal(t.call(['delete', '--force', id]).status, 0);
  });
});
