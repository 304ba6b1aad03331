// CVE-2019-5736: a container must never be able to write to a host binary through
// /proc/<pid>/exe of a runtime process (design §3).
//
// The attack: the container's entrypoint (or /bin/sh, replaced by the attacker) is a script
// starting with `#!/proc/self/exe`. When the runtime execs it, the kernel runs the *runtime's own
// binary* as the interpreter, inside the container; a second process of the attacker, in the same
// pid namespace, opens /proc/<that pid>/exe for writing and overwrites the runtime binary on the
// host. tsrunc's defence: the container init is tsrunc-init executed from a sealed memfd copy (so
// /proc/self/exe is that copy, never node or a file on the host), and it is not dumpable while it
// holds host resources.
//
// tsrunc cannot join an existing pid namespace, so the attacker runs in a container that shares
// the host's pid namespace: it sees every process, including the victim's init (whose host pid is
// what /proc/1 names inside the victim) during setup, while it waits in `created`, and after the
// `#!/proc/self/exe` re-exec, as well as the `tsrunc` (node) processes themselves. That vantage
// point is strictly stronger than a shared pid namespace between two containers.
//
// The attacker does what the published exploits do: it opens /proc/<pid>/exe read-only when it
// can (their O_PATH fd), keeps that fd, and keeps reopening it for writing through
// /proc/self/fd/N until the process is gone (a running binary gives ETXTBSY; once nothing
// executes it any more the reopen succeeds); it also tries a direct open for writing. Opens for
// writing are O_WRONLY|O_CREAT|O_APPEND (`>>`), never truncating, and it writes nothing except one
// byte into a memfd (which is no host file): if the defence failed, the test fails without
// destroying the host's binaries. The sha256 of node, tsrunc-init and the busybox the rootfs was
// built from is compared before and after anyway.

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BUSYBOX, Bundle, makeBundle, repoRoot } from '../../conformance/lib/rootfs';
import { OciConfig } from '../../conformance/lib/config';
import { RuntimeCli, describe as describeCall, sleepMs } from '../../conformance/lib/runtime';

const REPO = repoRoot();
const TSRUNC = path.join(REPO, 'bin/tsrunc');
const INIT = path.join(REPO, 'build/Release/tsrunc-init');
const MEMFD_EXE = '/memfd:tsrunc-init (deleted)';

const CTR_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

// The payload (busybox sh). For at most $1 seconds, or until /stop exists (the test creates it
// through the rootfs when it is done with the victim), every round visits every /proc/<pid>/exe
// it can see, plus /proc/self/exe and /proc/1/exe by name. One line per event:
//   DENIED|pid|exe|reason               direct open for writing refused (busybox's strerror text)
//   OPENED|pid|exe|direct               direct open for writing worked
//   GRABBED|pid|exe|dev:ino             read-only fd obtained (needs ptrace read access)
//   OPENED|pid|exe|dev:ino|write:W      reopen for writing through the fd worked; W is `WROTE` or
//                                       the error of a one-byte append, tried on memfds only
//   KEPT|pid|exe|dev:ino|reason         the process went away and the reopen still failed
const ATTACK_SH = `end=$(( $(date +%s) + $1 ))
me=$$
watch() {
  exec 8<"$2" 2>/dev/null || exit 0
  t=$(readlink /proc/self/fd/8); id=$(stat -L -c %d:%i /proc/self/fd/8)
  echo "GRABBED|$1|$t|$id"
  while :; do
    if (exec 9>>/proc/self/fd/8) 2>/dev/null; then
      w=skipped
      case "$t" in /memfd:*)
        if (printf x >>/proc/self/fd/8) 2>/dev/null; then w=WROTE; else w=$( (printf x >>/proc/self/fd/8) 2>&1 ); w=\${w##*: }; fi ;;
      esac
      echo "OPENED|$1|$t|$id|write:$w"; exit 0
    fi
    [ -e "/proc/$1" ] && [ ! -e /stop ] && [ "$(date +%s)" -lt "$end" ] || break
    sleep 0.1
  done
  e=$( (exec 9>>/proc/self/fd/8) 2>&1 ); echo "KEPT|$1|$t|$id|\${e##*: }"
}
grabbed=" $me "
while [ ! -e /stop ] && [ "$(date +%s)" -lt "$end" ]; do
  echo "ROUND|$(cat /proc/uptime)"
  for p in /proc/self/exe /proc/1/exe /proc/[0-9]*/exe; do
    pid=\${p#/proc/}; pid=\${pid%/exe}
    if [ -r "$p" ]; then t=$(readlink "$p" 2>/dev/null) || t='?'; else t='?'; fi
    e=$( { (exec 9>>"$p") && echo OK; } 2>&1 )
    case "$e" in
      OK) echo "OPENED|$pid|$t|direct" ;;
      *) echo "DENIED|$pid|$t|\${e##*: }" ;;
    esac
    [ "$t" = '?' ] || [ "$pid" = self ] && continue
    case "$grabbed" in *" $pid "*) continue ;; esac
    grabbed="$grabbed$pid "; watch "$pid" "$p" &
  done
done
wait
echo "DONE"
`;

let tmp = '';
let rt: RuntimeCli;
let hashesBefore: Record<string, string> = {};

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function hostBinaries(): Record<string, string> {
  return {
    node: fs.realpathSync(process.execPath),
    'tsrunc-init': INIT,
    busybox: fs.realpathSync(BUSYBOX),
  };
}

function hashAll(): Record<string, string> {
  return Object.fromEntries(Object.entries(hostBinaries()).map(([k, p]) => [`${k} (${p})`, sha256(p)]));
}

function createdPid(id: string): number {
  const st = rt.state(id);
  if (st instanceof Error) throw st;
  assert.equal(st.status, 'created', `state of ${id}`);
  assert.ok(typeof st.pid === 'number' && st.pid > 0, `state of ${id}: ${JSON.stringify(st)}`);
  return st.pid;
}

function victimBundle(name: string, args: string[]): Bundle {
  const b = makeBundle(path.join(tmp, name), undefined, { args });
  fs.writeFileSync(path.join(b.rootfs, 'entry'), '#!/proc/self/exe\n', { mode: 0o755 });
  return b;
}

/**
 * What a root process *without CAP_SYS_PTRACE* (but with every capability the container has) may
 * do to `pid`: open /proc/<pid>/mem and readlink /proc/<pid>/exe. Both need ptrace read access,
 * which a non-dumpable process grants only to CAP_SYS_PTRACE holders.
 */
function unprivilegedAccess(pid: number): Record<string, string> {
  const script = `const fs = require('fs'); const p = process.argv[1]; const r = {};
try { fs.closeSync(fs.openSync('/proc/' + p + '/mem', 'r')); r.mem = 'ok'; } catch (e) { r.mem = e.code; }
try { fs.readlinkSync('/proc/' + p + '/exe'); r.exe = 'ok'; } catch (e) { r.exe = e.code; }
process.stdout.write(JSON.stringify(r));`;
  const res = spawnSync('setpriv', ['--bounding-set', '-sys_ptrace', '--inh-caps', '-all', '--', process.execPath, '-e', script, String(pid)], {
    encoding: 'utf8', timeout: 10000,
  });
  if (res.status !== 0) assert.fail(`setpriv reader failed: ${res.error?.message ?? ''} ${res.stderr}`);
  return JSON.parse(res.stdout) as Record<string, string>;
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-ex-'));
  rt = new RuntimeCli(TSRUNC, path.join(tmp, 'root'));
  hashesBefore = hashAll();
});

after(() => {
  for (const id of ['ex-memfd', 'ex-shebang', 'ex-attacker', 'ex-victim']) rt?.delete(id, true);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('exe-attack (CVE-2019-5736)', () => {
  it('the init waiting in `created` runs from a sealed memfd copy, unwritable and not dumpable', (t) => {
    const b = makeBundle(path.join(tmp, 'memfd'), undefined, { args: ['/bin/sleep', '30'] });
    const id = 'ex-memfd';
    // Not pipes: the container keeps its stdio, and spawnSync would wait for the pipes' EOF.
    const efd = fs.openSync(path.join(tmp, 'memfd.err'), 'w');
    const c = rt.create(id, b.dir, { stdio: ['ignore', 'ignore', efd] });
    fs.closeSync(efd);
    assert.equal(c.status, 0, `${describeCall(c)}: ${fs.readFileSync(path.join(tmp, 'memfd.err'), 'utf8')}`);
    try {
      const pid = createdPid(id);
      const exe = `/proc/${pid}/exe`;
      assert.equal(fs.readlinkSync(exe), MEMFD_EXE, `${exe} of the waiting init`);
      // A faithful copy of tsrunc-init (and nothing else) is what runs.
      assert.equal(crypto.createHash('sha256').update(fs.readFileSync(exe)).digest('hex'), sha256(INIT), `content of ${exe}`);

      // Even the host's root cannot open it for writing. Never O_TRUNC: if this were ever a host
      // file, the open must not destroy it.
      const codes: Record<string, string> = {};
      for (const [name, flags] of [['O_WRONLY', fs.constants.O_WRONLY], ['O_RDWR', fs.constants.O_RDWR], ['O_WRONLY|O_APPEND', fs.constants.O_WRONLY | fs.constants.O_APPEND]] as const) {
        try {
          fs.closeSync(fs.openSync(exe, flags));
          codes[name] = 'OPENED';
        } catch (e) {
          codes[name] = String((e as NodeJS.ErrnoException).code);
        }
      }
      t.diagnostic(`open(${exe}) as host root: ${JSON.stringify(codes)}`);
      for (const [name, code] of Object.entries(codes)) {
        // ETXTBSY: the file is being executed; EPERM: the F_SEAL_WRITE seal (a sealed memfd that is
        // not running); EACCES would be a permission check. Anything else, or success, is wrong.
        assert.ok(['ETXTBSY', 'EPERM', 'EACCES'].includes(code), `open(${exe}, ${name}) from the host: ${code}`);
      }

      // Keep a read-only fd, as an exploit would (its O_PATH fd): used after start, when the memfd
      // is no longer executed, to check the write seal itself.
      const rfd = fs.openSync(exe, 'r');

      // Not dumpable: a root reader with the container's capabilities but without CAP_SYS_PTRACE
      // is refused /proc/<pid>/mem and /proc/<pid>/exe ...
      const waiting = unprivilegedAccess(pid);
      t.diagnostic(`reader without CAP_SYS_PTRACE on the waiting init: ${JSON.stringify(waiting)}`);
      assert.deepEqual(waiting, { mem: 'EACCES', exe: 'EACCES' }, `the waiting init (pid ${pid}) is accessible to a process without CAP_SYS_PTRACE: it is dumpable`);

      // ... while the very same reader gets both from the started container process (busybox
      // sleep, dumpable again after its execve): the check tells the two apart.
      const s = rt.start(id);
      assert.equal(s.status, 0, describeCall(s));
      const deadline = Date.now() + 5000;
      while (fs.readlinkSync(exe) === MEMFD_EXE && Date.now() < deadline) sleepMs(10);
      assert.notEqual(fs.readlinkSync(exe), MEMFD_EXE, 'the container process never replaced the init image');
      const running = unprivilegedAccess(pid);
      assert.deepEqual(running, { mem: 'ok', exe: 'ok' }, `control: the same reader cannot access the started container process (pid ${pid}), so the check above proves nothing`);

      // Nothing executes the memfd any more: reopening it for writing may work, writing must not
      // (F_SEAL_WRITE gives EPERM). It is a memfd, never a host file, so trying is harmless.
      let reopen = 'ok';
      let write = 'not tried';
      try {
        const wfd = fs.openSync(`/proc/self/fd/${rfd}`, fs.constants.O_WRONLY | fs.constants.O_APPEND);
        try {
          fs.writeSync(wfd, 'x');
          write = 'WROTE';
        } catch (e) {
          write = String((e as NodeJS.ErrnoException).code);
        } finally {
          fs.closeSync(wfd);
        }
      } catch (e) {
        reopen = String((e as NodeJS.ErrnoException).code);
      } finally {
        fs.closeSync(rfd);
      }
      t.diagnostic(`after start, through a kept fd: reopen for writing ${reopen}, write ${write}`);
      assert.notEqual(write, 'WROTE', 'the memfd tsrunc-init ran from is writable: it is not sealed');
      if (reopen === 'ok') assert.equal(write, 'EPERM', 'writing into the sealed memfd');
    } finally {
      rt.delete(id, true);
    }
  });

  it('a `#!/proc/self/exe` entrypoint re-executes only the sealed copy', () => {
    const b = victimBundle('shebang', ['/entry']);
    const res = spawnSync(TSRUNC, ['--root', rt.root, 'run', '--bundle', b.dir, 'ex-shebang'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15000, killSignal: 'SIGKILL',
    });
    rt.delete('ex-shebang', true);
    // The interpreter the kernel ran is tsrunc-init (from the memfd): it refuses to run without its
    // sync and plan fds. Had it been node, node would have tried to run /entry as a script.
    assert.match(res.stderr, /tsrunc-init: internal program of tsrunc/, `stderr of the container: ${JSON.stringify(res.stderr)}`);
    assert.notEqual(res.status, 0);
  });

  it('an attacker sharing the pid namespace cannot open any runtime binary for writing', (t) => {
    // The attacker: busybox sh, root, containerd's default capabilities (no CAP_SYS_PTRACE), in
    // the host's pid namespace.
    const attacker = makeBundle(path.join(tmp, 'attacker'), (c: OciConfig) => {
      c.process!.args = ['/bin/sh', '/attack.sh', '60'];
      c.process!.capabilities = { bounding: [...CTR_CAPS], effective: [...CTR_CAPS], permitted: [...CTR_CAPS] };
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
      c.root!.readonly = false;
    });
    fs.writeFileSync(path.join(attacker.rootfs, 'attack.sh'), ATTACK_SH, { mode: 0o755 });
    // The victim: entrypoint `/entry` (`#!/proc/self/exe`). With one extra argument the re-executed
    // tsrunc-init has argc 3 and blocks reading fd 0, a FIFO it holds open itself: the re-executed
    // runtime stays alive in the victim for the attacker to find (until delete --force).
    const victim = victimBundle('victim', ['/entry', 'x']);
    const fifo = path.join(tmp, 'victim-stdin');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');

    const report = path.join(tmp, 'attack.out');
    const ofd = fs.openSync(report, 'w');
    const efd = fs.openSync(path.join(tmp, 'attack.err'), 'w');
    const lines = () => fs.readFileSync(report, 'utf8').split('\n').filter(Boolean);
    /**
     * Wait for a report line about `pid` after line `from`: until it comes, `ms` pass, or the
     * attacker has gone through one whole round (two round starts) without finding it.
     */
    const waitFor = (pid: number, from: number, ms: number): string | undefined => {
      const deadline = Date.now() + ms;
      for (;;) {
        const l = lines().slice(from);
        const hit = l.find((x) => x.split('|')[1] === String(pid));
        if (hit || Date.now() > deadline || l.filter((x) => x.startsWith('ROUND|')).length >= 2) return hit;
        sleepMs(50);
      }
    };
    let victimPid = 0;
    const seen: Record<string, string | undefined> = {};
    try {
      let r = rt.create('ex-attacker', attacker.dir, { stdio: ['ignore', ofd, efd] });
      assert.equal(r.status, 0, describeCall(r));
      r = rt.start('ex-attacker');
      assert.equal(r.status, 0, describeCall(r));

      // Victim created while the attacker loops: its init waits in `created`, in full view.
      const sfd = fs.openSync(fifo, fs.constants.O_RDWR);
      try {
        r = rt.create('ex-victim', victim.dir, { stdio: [sfd, 'ignore', 'ignore'] });
      } finally {
        fs.closeSync(sfd);
      }
      assert.equal(r.status, 0, describeCall(r));
      victimPid = createdPid('ex-victim');
      seen['waiting init'] = waitFor(victimPid, lines().length, 20000);
      assert.ok(seen['waiting init'], `the attacker went through a whole round without trying the victim's waiting init (pid ${victimPid}): ${lines().length} lines so far`);

      // Start: the init execs /entry, the kernel re-executes /proc/self/exe inside the victim.
      const mark = lines().length;
      r = rt.start('ex-victim');
      assert.equal(r.status, 0, describeCall(r));
      // The waiting init is the memfd too: tell the two apart by the command line the kernel
      // builds for the interpreter (`/proc/self/exe /entry x`).
      let cmdline = '';
      let reexec = '';
      const deadline = Date.now() + 5000;
      while (!cmdline.includes('/entry') && Date.now() < deadline) {
        try {
          cmdline = fs.readFileSync(`/proc/${victimPid}/cmdline`, 'utf8').split('\0').join(' ');
          reexec = fs.readlinkSync(`/proc/${victimPid}/exe`);
        } catch { break; }
        if (!cmdline.includes('/entry')) sleepMs(10);
      }
      assert.match(cmdline, /^\/proc\/self\/exe \/entry x/, `command line of the victim's pid 1 after start`);
      assert.equal(reexec, MEMFD_EXE, `what the victim's pid 1 runs after start (the #!/proc/self/exe interpreter)`);
      seen['re-executed init'] = waitFor(victimPid, mark, 20000);
      let still = '';
      try { still = fs.readFileSync(`/proc/${victimPid}/cmdline`, 'utf8'); } catch { /* gone */ }
      // (If the re-executed copy has exited by itself, there was nothing left to attack.)
      assert.ok(seen['re-executed init'] || !still.includes('/entry'), `the attacker went through a whole round without trying the re-executed init (pid ${victimPid})`);
    } finally {
      rt.delete('ex-victim', true);
      fs.writeFileSync(path.join(attacker.rootfs, 'stop'), '');
      const st = rt.waitStatus('ex-attacker', ['stopped'], 20000);
      rt.delete('ex-attacker', true);
      fs.closeSync(ofd);
      fs.closeSync(efd);
      if (!(st instanceof Error) && st.status !== 'stopped') assert.fail(`the attacker did not finish: ${JSON.stringify(st)}`);
    }

    const all = lines();
    const field = (l: string, i: number) => l.split('|')[i];
    const attempts = all.filter((l) => l.startsWith('DENIED|') || /^OPENED\|[^|]*\|[^|]*\|direct$/.test(l));
    const rounds = all.filter((l) => l.startsWith('ROUND|')).map((l) => Number(field(l, 1)!.split(' ')[0]));
    t.diagnostic(`rounds: ${rounds.length}, ${rounds.slice(1).map((x, i) => (x - rounds[i]!).toFixed(2)).join(' ')} s each`);
    t.diagnostic(`direct attempts: ${attempts.length}; on the victim (pid ${victimPid}): ${JSON.stringify(seen)}`);
    const reasons = new Map<string, number>();
    for (const l of attempts) reasons.set(`${field(l, 2)} → ${field(l, 3)}`, (reasons.get(`${field(l, 2)} → ${field(l, 3)}`) ?? 0) + 1);
    t.diagnostic(`direct attempts by target: ${JSON.stringify([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 15))}`);
    const grabbed = all.filter((l) => l.startsWith('GRABBED|') || l.startsWith('KEPT|') || /^OPENED\|.*\|write:/.test(l));
    // Processes with no more capabilities than the attacker that are dumpable: its own, and any
    // other container's on this machine. Their binaries are theirs; only runtime binaries matter.
    t.diagnostic(`read-only fds the attacker got (never the runtime's): ${JSON.stringify(grabbed.slice(0, 20))}`);

    assert.equal(all[all.length - 1], 'DONE', `the attacker's loop did not finish: ${fs.readFileSync(path.join(tmp, 'attack.err'), 'utf8').slice(0, 500)}`);
    assert.ok(attempts.some((l) => field(l, 1) === 'self'), 'the attacker never tried /proc/self/exe');
    const direct = attempts.filter((l) => l.startsWith('OPENED|'));
    assert.deepEqual(direct, [], 'the attacker opened these /proc/<pid>/exe for writing directly');
    const onVictim = all.filter((l) => field(l, 1) === String(victimPid) && !l.startsWith('DENIED|'));
    assert.deepEqual(onVictim, [], `the attacker got hold of the victim's init (pid ${victimPid}, the runtime inside the container)`);
    const hostIds = new Map<string, string>();
    for (const p of [...Object.values(hostBinaries()), path.join(REPO, 'build/Release/tsrunc-reaper'), '/usr/sbin/runc']) {
      try { const st = fs.statSync(p); hostIds.set(`${st.dev}:${st.ino}`, p); } catch { /* not installed */ }
    }
    const bad = all.filter((l) => /^OPENED\|.*\|write:/.test(l) && (hostIds.has(field(l, 3)!) || l.endsWith('|write:WROTE')));
    assert.deepEqual(bad, [], `the attacker reopened a runtime/host binary for writing (${JSON.stringify([...hostIds])}) or wrote into a memfd`);
  });

  it('node, tsrunc-init and busybox on the host are byte-identical afterwards', () => {
    assert.deepEqual(hashAll(), hashesBefore);
  });
});
