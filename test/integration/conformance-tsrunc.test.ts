// The conformance suite against tsrunc itself (the same suite passes on runc: see
// conformance-runc.test.ts). Every check must pass except the features this version refuses on
// purpose with a clear error (joining namespaces by path and resource limits come with later
// issues): those must fail, and fail with that refusal. When one of them lands, this test says
// so and the entry is removed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../conformance/lib/rootfs';

const KNOWN_GAPS: Record<string, RegExp> = {};

interface Line { group: string; name: string; status: 'passed' | 'failed' | 'skipped'; reason?: string }

const root = repoRoot();
const tsrunc = path.join(root, 'bin/tsrunc');
const reaper = path.join(root, 'build/Release/tsrunc-reaper');
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !fs.existsSync('/bin/busybox') ? 'busybox-static is not installed (/bin/busybox)' : false;

test('the conformance suite passes against tsrunc (but for the known, refused gaps)', { skip, timeout: 600_000 }, (t) => {
  assert.ok(fs.existsSync(tsrunc), `bin/tsrunc is not built (${tsrunc}): npm run build`);
  const r = spawnSync(reaper, [process.execPath, path.join(root, 'dist/conformance/run.js'), '--runtime', tsrunc, '--json'], {
    encoding: 'utf8', timeout: 540_000, killSignal: 'SIGTERM', maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TSRUNC_CONFORMANCE_REAPED: '1' },
  });
  assert.equal(r.error, undefined, `running the suite: ${r.error?.message}\n${r.stderr}`);
  const lines = r.stdout.trimEnd().split('\n');
  lines.pop(); // summary
  const results = lines.map((l) => JSON.parse(l) as Line);
  assert.ok(results.length >= 50, `only ${results.length} checks ran`);
  for (const s of results.filter((x) => x.status === 'skipped')) t.diagnostic(`skipped ${s.group}/${s.name}: ${s.reason}`);
  const unexpected: string[] = [];
  for (const x of results) {
    const key = `${x.group}/${x.name}`;
    const gap = KNOWN_GAPS[key];
    if (gap) {
      if (x.status !== 'failed') unexpected.push(`${key}: now ${x.status} — remove it from KNOWN_GAPS`);
      else if (!gap.test(x.reason ?? '')) unexpected.push(`${key}: failed for another reason: ${x.reason}`);
    } else if (x.status === 'failed') {
      unexpected.push(`${key}: ${x.reason}`);
    }
  }
  for (const key of Object.keys(KNOWN_GAPS)) {
    if (!results.some((x) => `${x.group}/${x.name}` === key)) unexpected.push(`${key}: no such check any more`);
  }
  assert.deepEqual(unexpected, [], `stderr:\n${r.stderr}`);
});
