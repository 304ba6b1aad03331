// The TypeScript side of tty_driver.py (a pty, an SCM_RIGHTS receiver, a datagram socket: what
// Node cannot do), shared by tty.test.ts, exec-tty.test.ts and containerd.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../conformance/lib/rootfs';

export const DRIVER = path.join(repoRoot(), 'test/integration/tty_driver.py');

/**
 * A shell prefix that waits until the process's terminal has a size. runc sets the pty's size
 * only after `start` returns (its signal handler's first resize), and ctr resizes the console it
 * gets from the shim after the task starts, so a process that asks at once sees 0x0 now and then
 * (busybox's stty then fails with a stale errno); a test must not compare that race. tsrunc sets
 * the size before the process runs (the tests without a wait check that). busybox's `stty size`
 * exits 0 even when it fails, so the loop waits for it to print something.
 */
export const WAIT_FOR_SIZE = 'until [ -n "$(stty size 2>/dev/null)" ]; do sleep 0.05; done; ';

/** A tty_driver.py child: its JSON lines, and a way to wait for one. */
export class Driver {
  readonly lines: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private exited = false;
  stderr = '';

  constructor(args: string[]) {
    this.child = spawn('python3', [DRIVER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        buf = buf.slice(i + 1);
        this.wake();
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.child.on('exit', () => { this.exited = true; this.wake(); });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first line with key `k` (waits up to ms). */
  async get(k: string, ms = 15000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = this.lines.find((x) => k in x);
      if (l) return l;
      if (this.exited || Date.now() > deadline) {
        throw new Error(`driver: no \`${k}\` line (exited: ${this.exited}); lines ${JSON.stringify(this.lines).slice(0, 3000)}; stderr ${this.stderr}`);
      }
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }

  /** Everything the pty showed so far (pty-run's chunks). */
  text(): string {
    return this.lines.filter((l) => 'chunk' in l).map((l) => l.chunk as string).join('');
  }

  async until(re: RegExp, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(this.text())) {
      if (this.exited || Date.now() > deadline) throw new Error(`driver: ${re} never showed; got ${JSON.stringify(this.text())}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
