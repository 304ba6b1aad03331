// The conformance suite against runc itself: runc 1.1.5 (Debian) is the reference the checks were
// written against, so every check must pass there. A failure here means a check is wrong (or the
// machine is unusual), not that tsrunc is.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../conformance/lib/rootfs';

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    const p = path.join(dir || '.', bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const root = repoRoot();
const runc = which('runc');
const runner = path.join(root, 'dist/conformance/run.js');
const probe = path.join(root, 'build/Release/tsrunc-probe');
const reaper = path.join(root, 'build/Release/tsrunc-reaper');
const skip =
  process.getuid?.() !== 0 ? 'needs root'
    : !runc ? 'runc is not installed (apt-get install runc)'
      : !fs.existsSync('/bin/busybox') ? 'busybox-static is not installed (/bin/busybox)'
        : false;

interface Line {
  group: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
}

test('the conformance suite passes against runc', { skip, timeout: 600_000 }, (t) => {
  assert.ok(fs.existsSync(probe), `the probe is not built (${probe}): flock /tmp/tsrunc-gyp.lock npx node-gyp build`);
  assert.ok(fs.existsSync(reaper), `the reaper is not built (${reaper}): flock /tmp/tsrunc-gyp.lock npx node-gyp build`);
  const r = spawnSync(reaper, [process.execPath, runner, '--runtime', runc!, '--json'], {
    encoding: 'utf8',
    timeout: 540_000,
    killSignal: 'SIGTERM', // the runner stops after the current check and deletes its containers
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TSRUNC_CONFORMANCE_REAPED: '1' },
  });
  assert.equal(r.error, undefined, `running the suite: ${r.error?.message}\n${r.stderr}`);
  const lines = r.stdout.trimEnd().split('\n');
  const summary = lines.pop() ?? '';
  const results = lines.map((l) => JSON.parse(l) as Line);
  const failed = results.filter((x) => x.status === 'failed');
  const skipped = results.filter((x) => x.status === 'skipped');
  for (const s of skipped) t.diagnostic(`skipped ${s.group}/${s.name}: ${s.reason}`);
  assert.deepEqual(
    failed.map((f) => `${f.group}/${f.name}: ${f.reason}`),
    [],
    `checks failed against ${runc}; stderr:\n${r.stderr}`,
  );
  const m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(summary);
  assert.ok(m, `the last line is not the summary: ${JSON.stringify(summary)}`);
  assert.equal(Number(m[1]) + Number(m[2]) + Number(m[3]), results.length, 'summary counts vs result lines');
  assert.equal(Number(m[1]), results.filter((x) => x.status === 'passed').length, 'passed count');
  assert.ok(Number(m[1]) >= 50, `only ${m[1]} checks passed`);
  assert.equal(r.status, 0, `exit status of the suite (stderr: ${r.stderr})`);
});
