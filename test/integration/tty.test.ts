// Terminals, fd passing and sd_notify (issue 8, "Terminals" and "fds and notify"), through the real
// CLI with busybox containers, and against runc 1.1.5 where the behaviour is runc's:
// - `--console-socket`: a receiver that accepts only after `create` has returned (as containerd's
//   shim does) gets exactly one message with a non-empty payload and exactly one fd, the pty master
//   of the container's own devpts; the container's stdio is the slave, its controlling terminal,
//   bound on /dev/console, with process.consoleSize;
// - runc's errors for a terminal without a socket and a socket without a terminal, a bad socket
//   path; nothing left behind;
// - an image that plants a symlink at /dev/console or a fake /dev/pts/ptmx is refused;
// - `run` with a terminal in the foreground, driven through a real pty (raw mode, resize, ^C,
//   signals, exit status);
// - --preserve-fds / LISTEN_FDS beyond the fds tsrunc was given: a clear error, no Node fd leaks;
// - NOTIFY_SOCKET: READY=1 and MAINPID relayed by `run -d`, `start` and `run`.
// Host-side helpers (a pty, an SCM_RIGHTS receiver, a datagram socket) are in tty_driver.py.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OciConfig } from '../../conformance/lib/config';
import { defaultProbePath, makeBundle } from '../../conformance/lib/rootfs';
import { RuntimeCli } from '../../conformance/lib/runtime';
import { TSRUNC, Tsrunc, assertFails, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';
import { Driver, WAIT_FOR_SIZE } from './tty-driver';

const P = `tty-${process.pid}`;
const ids: string[] = [];
let seq = 0;
const newId = (tag: string) => { const id = `${P}-${tag}-${++seq}`; ids.push(id); return id; };

let tmp = '';
let root = '';
let t: Tsrunc;
let runc: RuntimeCli;

before(() => {
  tmp = tmpDir('tsrunc-it-tty');
  root = path.join(tmp, 'root');
  t = new Tsrunc(root, tmp);
  runc = new RuntimeCli('runc', path.join(tmp, 'runc-root'), { timeoutMs: 20000 });
});

after(() => {
  for (const id of ids) runc.call(['delete', '--force', id]);
  cleanup(t, ids, tmp ? [tmp] : []);
});

function bundle(tag: string, args: string[], edit?: (c: OciConfig) => void, probe = false): string {
  const dir = path.join(tmp, `b-${tag}-${++seq}`);
  makeBundle(dir, (c) => {
    c.process!.args = args;
    edit?.(c);
  }, probe ? { probe: defaultProbePath() } : {});
  return dir;
}

const terminal = (c: OciConfig) => { c.process!.terminal = true; };

describe('--console-socket', () => {
  it('create sends exactly one fd, the pty master of the container\'s devpts, without waiting for accept', async () => {
    const id = newId('sock');
    const sock = path.join(tmp, `c-${seq}.sock`);
    const b = bundle('sock', ['sh', '-c', 'tty; stty size; ls -ln /dev/console; for f in 0 1 2; do readlink /proc/self/fd/$f; done; ls /proc/self/fd; read line; echo "in:$line"'], (c) => {
      terminal(c);
      c.process!.consoleSize = { height: 33, width: 101 };
    });
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      // The receiver accepts only after create has returned: create must not wait for it.
      const r = await t.callAsync(['create', '--bundle', b, '--console-socket', sock, id]);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout + r.stderr, '', 'create prints nothing');
      // The waiting init never held the console socket (tsrunc connected it) and no longer holds
      // create's stdio: its 0-2 are the slave, and it has no socket at all (the sync socket is
      // closed at COMMIT).
      const pid = (t.state(id) as { pid: number }).pid;
      const links = fs.readdirSync(`/proc/${pid}/fd`).map((f) => [Number(f), fs.readlinkSync(`/proc/${pid}/fd/${f}`)] as const);
      assert.deepEqual(links.filter(([f]) => f <= 2).map(([, l]) => l), ['/dev/pts/0', '/dev/pts/0', '/dev/pts/0'], JSON.stringify(links));
      assert.deepEqual(links.filter(([, l]) => l.startsWith('socket:')), [], JSON.stringify(links));
      d.send('go');
      const got = await d.get('payload');
      assert.equal(got.nfds, 1, `exactly one fd: ${JSON.stringify(got)}`);
      assert.equal(got.oobn, got.oobn_want, `exactly one SCM_RIGHTS of one fd (go-runc's check): ${JSON.stringify(got)}`);
      assert.equal(got.ctrunc, false);
      assert.ok((got.payload as string).length > 0, 'a non-empty payload');
      assert.equal(got.isatty, true, 'the fd is a terminal');
      assert.equal(got.link, '/dev/pts/ptmx', 'the master of a devpts instance (not the host\'s /dev/ptmx)');
      const s = t.call(['start', id]);
      assert.equal(s.status, 0, show(s));
      d.send(JSON.stringify('typed\r'));
      const output = (await d.get('output')).output as string;
      const lines = output.split(/\r?\n/);
      assert.ok(lines.includes('/dev/pts/0'), `tty inside prints /dev/pts/N: ${JSON.stringify(output)}`);
      assert.ok(lines.includes('33 101'), `consoleSize applied: ${JSON.stringify(output)}`);
      assert.match(output, /^crw--w----\s+1 0\s+5\s+136,\s+0 .* \/dev\/console$/m, 'the slave is bound on /dev/console');
      assert.equal(lines.filter((l) => l === '/dev/pts/0').length, 4, `stdio is the slave: ${JSON.stringify(output)}`);
      assert.ok(lines.includes('in:typed'), `input through the master reaches the container: ${JSON.stringify(output)}`);
      assert.match(output, /^0\s+1\s+2\s+3$/m, `only stdio is open (3 is ls's own): ${JSON.stringify(output)}`);
    } finally {
      d.kill();
    }
  });

  it('runc does the same with this receiver (control)', async () => {
    const id = newId('sockr');
    const sock = path.join(tmp, `c-${seq}.sock`);
    const b = bundle('sockr', ['tty'], terminal);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const r = runc.call(['create', '--bundle', b, '--console-socket', sock, id]);
      assert.equal(r.status, 0, `${r.stderr}`);
      d.send('go');
      const got = await d.get('payload');
      assert.deepEqual([got.nfds, got.oobn === got.oobn_want, got.isatty, got.link], [1, true, true, '/dev/pts/ptmx']);
      assert.equal(runc.call(['start', id]).status, 0);
      assert.match((await d.get('output')).output as string, /^\/dev\/pts\/0\r?$/m);
    } finally {
      d.kill();
      runc.call(['delete', '--force', id]);
    }
  });

  it('run -d with a terminal hands the master over the same way', async () => {
    const id = newId('rund');
    const sock = path.join(tmp, `c-${seq}.sock`);
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const r = await t.callAsync(['run', '-d', '--bundle', bundle('rund', ['tty'], terminal), '--console-socket', sock, id]);
      assert.equal(r.status, 0, show(r));
      d.send('go');
      assert.equal((await d.get('payload')).nfds, 1);
      assert.match((await d.get('output')).output as string, /^\/dev\/pts\/0\r?$/m);
    } finally {
      d.kill();
    }
  });
});

describe('terminal errors, as runc', () => {
  const cases: { name: string; args: (b: { tty: string; plain: string; sock: string }) => string[]; want: string | RegExp; bundle: 'tty' | 'plain' }[] = [
    { name: 'create, terminal: true without --console-socket', bundle: 'tty', args: (x) => ['create', '--bundle', x.tty], want: 'cannot allocate tty if runc will detach without setting console socket' },
    { name: 'run -d, terminal: true without --console-socket', bundle: 'tty', args: (x) => ['run', '-d', '--bundle', x.tty], want: 'cannot allocate tty if runc will detach without setting console socket' },
    { name: 'create, --console-socket with terminal: false', bundle: 'plain', args: (x) => ['create', '--bundle', x.plain, '--console-socket', x.sock], want: 'cannot use console socket if runc will not detach or allocate tty' },
    { name: 'run (foreground), --console-socket with terminal: true', bundle: 'tty', args: (x) => ['run', '--bundle', x.tty, '--console-socket', x.sock], want: 'cannot use console socket if runc will not detach or allocate tty' },
    { name: 'create, --console-socket that does not exist', bundle: 'tty', args: (x) => ['create', '--bundle', x.tty, '--console-socket', `${x.sock}-missing`], want: /^dial unix \S+-missing: connect: no such file or directory$/ },
    { name: 'create, --console-socket that is a regular file', bundle: 'tty', args: (x) => ['create', '--bundle', x.tty, '--console-socket', x.tty + '/config.json'], want: /^dial unix \S+config\.json: connect: connection refused$/ },
  ];
  for (const c of cases) {
    it(`${c.name}: runc's text, nothing left behind`, () => {
      const x = { tty: bundle('etty', ['true'], terminal), plain: bundle('eplain', ['true']), sock: path.join(tmp, 'nobody.sock') };
      // A listening socket nobody accepts on, for the cases where the socket itself is fine.
      const l = spawnSync('python3', ['-c', `import socket;s=socket.socket(socket.AF_UNIX);s.bind(${JSON.stringify(x.sock)})`]);
      assert.equal(l.status, 0, String(l.stderr));
      const idT = newId('err');
      const idR = newId('errr');
      const before = snapshot(root, [idT]);
      const r = t.call([...c.args(x), idT]);
      const verb = c.args(x)[0];
      assertFails(r, (msg) => {
        const body = msg.replace(new RegExp(`^tsrunc ${verb} failed: `), '');
        if (typeof c.want === 'string') assert.equal(body, c.want, msg);
        else assert.match(body, c.want, msg);
      });
      assert.deepEqual(leftovers(root, before, [idT], [idT]), []);
      // runc says the same (the path differs only by the id).
      const rr = runc.call([...c.args(x), idR]);
      assert.notEqual(rr.status, 0);
      const rmsg = errMsg(rr).replace(new RegExp(`^runc ${verb} failed: `), '');
      if (typeof c.want === 'string') assert.equal(rmsg, c.want, `runc: ${rr.stderr}`);
      else assert.match(rmsg, c.want, `runc: ${rr.stderr}`);
      fs.rmSync(x.sock, { force: true });
    });
  }
});

describe('terminal: hostile images', () => {
  // Without a /dev tmpfs the image's own /dev is used, so what it plants there is what create meets.
  const noDevMount = (c: OciConfig) => {
    terminal(c);
    c.mounts = c.mounts!.filter((m) => m.destination !== '/dev' && m.destination !== '/dev/shm' && m.destination !== '/dev/mqueue');
  };

  it('a symlink planted at /dev/console is refused, not followed', async () => {
    const id = newId('conlink');
    const sock = path.join(tmp, `c-${seq}.sock`);
    const b = bundle('conlink', ['true'], noDevMount);
    const victim = path.join(tmp, `victim-${seq}`);
    fs.writeFileSync(victim, 'host file\n');
    fs.mkdirSync(path.join(b, 'rootfs/dev'), { recursive: true });
    fs.symlinkSync(victim, path.join(b, 'rootfs/dev/console'));
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const before = snapshot(root, [id, victim]);
      const r = await t.callAsync(['create', '--bundle', b, '--console-socket', sock, id]);
      assertFails(r, /\/dev\/console is a symlink/);
      assert.deepEqual(leftovers(root, before, [id], [id, victim]), []);
      assert.equal(fs.readFileSync(victim, 'utf8'), 'host file\n');
    } finally {
      d.kill();
    }
  });

  it('a /dev/pts/ptmx that is not a devpts ptmx is refused', async () => {
    const id = newId('fakeptmx');
    const sock = path.join(tmp, `c-${seq}.sock`);
    const b = bundle('fakeptmx', ['true'], (c) => {
      noDevMount(c);
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev/pts');
    });
    fs.mkdirSync(path.join(b, 'rootfs/dev/pts'), { recursive: true });
    fs.writeFileSync(path.join(b, 'rootfs/dev/pts/ptmx'), '');
    const d = new Driver(['console-recv', sock]);
    try {
      await d.get('listening');
      const before = snapshot(root, [id]);
      const r = await t.callAsync(['create', '--bundle', b, '--console-socket', sock, id]);
      assertFails(r, /\/dev\/pts\/ptmx is not the ptmx device of a devpts filesystem/);
      assert.deepEqual(leftovers(root, before, [id], [id]), []);
    } finally {
      d.kill();
    }
  });
});

describe('run with a terminal, in the foreground, through a real pty', () => {
  const runOnPty = (id: string, b: string, rows = 24, cols = 80) =>
    new Driver(['pty-run', String(rows), String(cols), '--', TSRUNC, '--root', root, 'run', '--bundle', b, id]);

  it('proxies the terminal: raw mode, size, resize, input, exit status; the terminal is restored', async () => {
    const id = newId('fg');
    const b = bundle('fg', ['sh', '-c', 'tty; stty size; echo ready; read a; stty size; echo "got:$a"; exit 7'], terminal);
    const d = runOnPty(id, b);
    try {
      await d.until(/ready/);
      d.send('resize 30 100');
      await new Promise((r) => setTimeout(r, 500));
      d.send(`write ${JSON.stringify('hello\r')}`);
      const end = await d.get('exit', 20000);
      const out = ((await d.get('output')).output as string);
      assert.equal(end.exit, 7, `exit status is the container's: ${JSON.stringify(out)}`);
      assert.match(out, /\/dev\/pts\/0\r\n/);
      assert.match(out, /24 80\r\n/, 'the pty starts with our terminal\'s size');
      assert.match(out, /30 100\r\n/, 'SIGWINCH resizes the pty');
      assert.match(out, /got:hello\r\n/);
      // Raw mode: our terminal does not echo; the container's own terminal echoes once.
      assert.equal(out.split('hello').length - 1, 2, `typed text echoed once (plus got:hello): ${JSON.stringify(out)}`);
      assert.deepEqual([end.echo, end.icanon], [true, true], 'the terminal is back in its original mode');
      assert.deepEqual(t.call(['state', id]).status, 1, 'run removed the container');
    } finally {
      d.kill();
    }
  });

  it('shows the same bytes as runc on the same pty (differential)', async () => {
    const args = ['sh', '-c', `${WAIT_FOR_SIZE}tty; stty size; ls -ln /dev/console | cut -c1-10; echo "a  b"; exit 3`];
    const outputs: string[] = [];
    for (const rt of ['runc', 'tsrunc'] as const) {
      const id = newId(`fgdiff${rt}`);
      const b = bundle(`fgdiff${rt}`, args, terminal);
      const argv = rt === 'runc' ? ['runc', '--root', path.join(tmp, 'runc-root'), 'run', '--bundle', b, id] : [TSRUNC, '--root', root, 'run', '--bundle', b, id];
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
    assert.equal(outputs[1], '/dev/pts/0\r\n25 90\r\ncrw--w----\r\na  b\r\n');
  });

  it('^C reaches the container through its terminal; SIGTERM to tsrunc is forwarded', async () => {
    const id = newId('fgint');
    const b = bundle('fgint', ['sh', '-c', 'trap "echo got-int; exit 6" INT; echo ready; while :; do sleep 0.1; done'], terminal);
    const d = runOnPty(id, b);
    try {
      await d.until(/ready/);
      d.send(`write ${JSON.stringify('\u0003')}`);
      const end = await d.get('exit', 20000);
      assert.equal(end.exit, 6, d.text());
      assert.match(d.text(), /got-int/);
    } finally {
      d.kill();
    }
    const id2 = newId('fgterm');
    const b2 = bundle('fgterm', ['sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done'], terminal);
    const d2 = runOnPty(id2, b2);
    try {
      const pid = (await d2.get('pid')).pid as number;
      await d2.until(/ready/);
      d2.send('signal 15');
      const end = await d2.get('exit', 20000);
      assert.equal(end.exit, 5, `${pid}: ${d2.text()}`);
      assert.match(d2.text(), /got-term/);
    } finally {
      d2.kill();
    }
  });

  it('works with stdio that is not a terminal (a file), unlike runc', () => {
    const id = newId('fgfile');
    const b = bundle('fgfile', ['sh', '-c', 'tty; echo a; echo b'], terminal);
    const r = t.call(['run', '--bundle', b, id]);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '/dev/pts/0\na\nb\n', 'plain lines (ONLCR cleared, as runc)');
  });
});

describe('--preserve-fds and LISTEN_FDS against the fds tsrunc was given', () => {
  const probeFds = () => bundle('pfds', ['/probe', 'fds'], undefined, true);
  const file = (name: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, name);
    return { p, fd: fs.openSync(p, 'r') };
  };

  it('passes exactly the fds it was given', () => {
    const id = newId('pok');
    const a = file(`pa-${seq}`);
    const b = file(`pb-${seq}`);
    try {
      const r = t.call(['run', '--preserve-fds', '2', '--bundle', probeFds(), id], { fds: [a.fd, b.fd] });
      assert.equal(r.status, 0, show(r));
      const fds = (JSON.parse(r.stdout) as { fd: number; target: string }[]).filter((f) => f.fd > 2);
      assert.deepEqual(fds.map((f) => `${f.fd} ${f.target}`), [`3 ${a.p}`, `4 ${b.p}`]);
    } finally {
      fs.closeSync(a.fd);
      fs.closeSync(b.fd);
    }
  });

  const refusals: { name: string; n: number; given: number; gap?: boolean; listen?: number; want: RegExp }[] = [
    { name: '--preserve-fds 3 with 2 fds given', n: 3, given: 2, want: /^--preserve-fds 3: fd 5 was not passed to tsrunc \(it was given fds 3 to 4\)$/ },
    { name: '--preserve-fds 1 with none given', n: 1, given: 0, want: /^--preserve-fds 1: fd 3 was not passed to tsrunc \(it was given no fd above 2\)$/ },
    { name: '--preserve-fds 3 with fds 3 and 5 given (a gap)', n: 3, given: 2, gap: true, want: /^--preserve-fds 3: fd 4 was not passed to tsrunc \(it was given fd 3 only\)$/ },
    { name: 'LISTEN_FDS=3 with 2 fds given', n: 0, given: 2, listen: 3, want: /^LISTEN_FDS=3: fd 5 was not passed to tsrunc/ },
    { name: '--preserve-fds 1 after LISTEN_FDS=2 with 2 fds given', n: 1, given: 2, listen: 2, want: /^--preserve-fds 1: fd 5 was not passed to tsrunc \(it was given fds 3 to 4; LISTEN_FDS takes fds 3 to 4\)$/ },
  ];
  for (const c of refusals) {
    it(`${c.name}: refused, nothing of tsrunc's own reaches the container`, () => {
      const id = newId('pbad');
      const files = Array.from({ length: c.given }, (_, i) => file(`pf-${seq}-${i}`));
      const fds: (number | 'ignore')[] = files.map((f) => f.fd);
      if (c.gap) fds.splice(1, 0, 'ignore');
      const before = snapshot(root, [id]);
      try {
        const args = ['run', ...(c.n ? ['--preserve-fds', String(c.n)] : []), '--bundle', probeFds(), id];
        let r;
        if (c.listen) {
          // LISTEN_PID must be the runtime's own pid: the shell's, which `exec` keeps.
          const argv = ['--root', root, ...args].map((a) => `'${a}'`).join(' ');
          const res = spawnSync('sh', ['-c', `LISTEN_FDS=${c.listen} LISTEN_PID=$$ exec ${TSRUNC} ${argv}`], {
            stdio: ['ignore', 'pipe', 'pipe', ...fds], encoding: 'utf8', timeout: 20000,
          });
          r = { argv: [TSRUNC, ...args], status: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr, timedOut: false };
        } else {
          r = t.call(args, { fds: fds as number[] });
        }
        assertFails(r, (msg) => assert.match(msg.replace(/^tsrunc run failed: /, ''), c.want, msg));
        assert.deepEqual(leftovers(root, before, [id], [id]), []);
      } finally {
        for (const f of files) fs.closeSync(f.fd);
      }
    });
  }
});

describe('NOTIFY_SOCKET', () => {
  const env = (sock: string) => ({ ...process.env, NOTIFY_SOCKET: sock });
  const notifyBundle = () => bundle('notify', ['sh', '-c',
    'echo "$NOTIFY_SOCKET"; /probe stat /run/notify; /probe notify STATUS=starting; sleep 0.3; /probe notify READY=1; sleep 1'], undefined, true);

  /** tsrunc or runc with NOTIFY_SOCKET in its environment, stdout/stderr captured. */
  function callEnv(bin: string, rootDir: string, args: string[], sock: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const c = spawn(bin, ['--root', rootDir, ...args], { env: env(sock), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      c.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
  }

  for (const rt of ['tsrunc', 'runc'] as const) {
    it(`create + start: start relays READY=1 and MAINPID=<the init's pid> (${rt}${rt === 'runc' ? ', control' : ''})`, async () => {
      const id = newId(`ncs${rt}`);
      const sock = path.join(tmp, `n-${seq}.sock`);
      const bin = rt === 'tsrunc' ? TSRUNC : 'runc';
      const rootDir = rt === 'tsrunc' ? root : path.join(tmp, 'runc-root');
      const d = new Driver(['dgram-recv', sock, '4']);
      try {
        await d.get('bound');
        const out = path.join(tmp, `nout-${seq}`);
        const b = notifyBundle();
        const fd = fs.openSync(out, 'w');
        const c = spawnSync(bin, ['--root', rootDir, 'create', '--bundle', b, id], { env: env(sock), stdio: ['ignore', fd, fd] });
        fs.closeSync(fd);
        assert.equal(c.status, 0, fs.readFileSync(out, 'utf8'));
        const pid = (JSON.parse(spawnSync(bin, ['--root', rootDir, 'state', id], { encoding: 'utf8' }).stdout) as { pid: number }).pid;
        const t0 = Date.now();
        const s = await callEnv(bin, rootDir, ['start', id], sock);
        assert.equal(s.status, 0, s.stderr);
        assert.ok(Date.now() - t0 >= 250, 'start waits for READY');
        await d.get('end', 10000);
        const dgrams = d.lines.filter((l) => 'dgram' in l).map((l) => l.dgram);
        assert.deepEqual(dgrams, ['READY=1\n', `MAINPID=${pid}\n`]);
        const seen = fs.readFileSync(out, 'utf8').split('\n');
        assert.equal(seen[0], '/run/notify/notify.sock');
        const st = (JSON.parse(seen[1]!) as Record<string, { type: string; mountFlags: string[] }>)['/run/notify']!;
        assert.equal(st.type, 'dir');
        assert.ok(['ro', 'nosuid', 'nodev', 'noexec'].every((f) => st.mountFlags.includes(f)), JSON.stringify(st));
      } finally {
        d.kill();
        spawnSync(bin, ['--root', rootDir, 'delete', '--force', id]);
      }
    });
  }

  it('run -d returns once READY is relayed; run in the foreground relays with its own pid', async () => {
    const id = newId('nrund');
    const sock = path.join(tmp, `n-${seq}.sock`);
    const d = new Driver(['dgram-recv', sock, '3']);
    try {
      await d.get('bound');
      const t0 = Date.now();
      const r = await callEnv(TSRUNC, root, ['run', '-d', '--bundle', notifyBundle(), id], sock);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(Date.now() - t0 >= 250, 'run -d waits for READY');
      const pid = (t.state(id) as { pid: number }).pid;
      await d.get('end', 10000);
      assert.deepEqual(d.lines.filter((l) => 'dgram' in l).map((l) => l.dgram), ['READY=1\n', `MAINPID=${pid}\n`]);
    } finally {
      d.kill();
    }
    const id2 = newId('nrun');
    const sock2 = path.join(tmp, `n-${seq}.sock`);
    const d2 = new Driver(['dgram-recv', sock2, '3']);
    try {
      await d2.get('bound');
      const c = spawn(TSRUNC, ['--root', root, 'run', '--bundle', notifyBundle(), id2], { env: env(sock2), stdio: ['ignore', 'ignore', 'pipe'] });
      const code = await new Promise<number | null>((r) => c.on('exit', r));
      assert.equal(code, 0);
      await d2.get('end', 10000);
      assert.deepEqual(d2.lines.filter((l) => 'dgram' in l).map((l) => l.dgram), ['READY=1\n', `MAINPID=${c.pid}\n`]);
    } finally {
      d2.kill();
    }
  });

  it('start with NOTIFY_SOCKET of a container created without it: runc\'s error', async () => {
    const id = newId('nstart');
    const b = bundle('nstart', ['true']);
    assert.equal(t.call(['create', '--bundle', b, id]).status, 0);
    const s = await callEnv(TSRUNC, root, ['start', id], path.join(tmp, 'unused.sock'));
    assert.equal(s.status, 1);
    assert.match(s.stderr, /listen unixgram \S+\/notify\/notify\.sock: bind: no such file or directory/);
    assert.equal(t.status(id), 'created', 'the container was not started');
  });
});
