// Integration: a container setup that never finishes is bounded (TSRUNC_SETUP_TIMEOUT), and what
// it leaves can be removed by `delete --force`. The hang is real: the container's cgroup sits under
// a parent cgroup frozen with the v1 freezer (this project's hybrid hosts), so the init freezes
// as soon as it is placed there, before it runs a single setup step; nor does it die of SIGKILL
// until the parent is thawed. Run under the subreaper (npm test).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, defaultConfig } from '../../conformance/lib/config';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { Tsrunc, cgroupDirsNamed, cleanup, errMsg, leftovers, show, snapshot, tmpDir } from './support';

const FREEZER = '/sys/fs/cgroup/freezer';
const ID = `it-to-${process.pid}`;
const PARENT = `tsrunc-it-frozen-${process.pid}`;

let tmp = '';
let t: Tsrunc;

before(() => {
  tmp = tmpDir('tsrunc-it-timeout');
  buildRootfs(path.join(tmp, 'rootfs'));
  t = new Tsrunc(path.join(tmp, 'root'), tmp);
});

after(() => {
  try { fs.writeFileSync(path.join(FREEZER, PARENT, 'freezer.state'), 'THAWED'); } catch { /* none */ }
  cleanup(t, [ID], tmp ? [tmp] : []);
  for (const d of cgroupDirsNamed(PARENT)) try { fs.rmdirSync(d); } catch { /* busy or gone */ }
});

describe('setup timeout', { skip: fs.existsSync(path.join(FREEZER, 'cgroup.procs')) ? false : 'no cgroup v1 freezer on this host' }, () => {
  it('a setup stuck in a frozen cgroup fails after TSRUNC_SETUP_TIMEOUT; delete --force then removes everything', () => {
    fs.mkdirSync(path.join(FREEZER, PARENT));
    fs.writeFileSync(path.join(FREEZER, PARENT, 'freezer.state'), 'FROZEN');
    const bundle = path.join(tmp, 'bundle');
    fs.mkdirSync(bundle);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(applyPatch(defaultConfig(['true']), {
      root: { path: path.join(tmp, 'rootfs') },
      linux: { cgroupsPath: `/${PARENT}/${ID}` },
    })));
    const before = snapshot(t.root, [ID]);
    process.env.TSRUNC_SETUP_TIMEOUT = '1';
    const t0 = Date.now();
    let r;
    try {
      r = t.call(['create', '--bundle', bundle, ID]);
    } finally {
      delete process.env.TSRUNC_SETUP_TIMEOUT;
    }
    assert.notEqual(r.status, 0, show(r));
    assert.ok(Date.now() - t0 < 15000, `create took ${Date.now() - t0} ms`);
    assert.match(errMsg(r), /container setup did not finish within 1 s \(TSRUNC_SETUP_TIMEOUT\)/);
    assert.match(errMsg(r), new RegExp(`tsrunc delete --force ${ID}`));
    // The frozen init is still there: its directory is kept for delete --force.
    assert.ok(fs.existsSync(path.join(t.root, ID)), 'the state directory is kept while the init cannot die');
    fs.writeFileSync(path.join(FREEZER, PARENT, 'freezer.state'), 'THAWED');
    const d = t.call(['delete', '--force', ID]);
    assert.equal(d.status, 0, show(d));
    assert.deepEqual(leftovers(t.root, before, [ID], [ID]), []);
    assert.ok(!fs.existsSync(path.join(t.root, ID)));
    // The id can be used again.
    const c = t.call(['create', '--bundle', bundle, ID]);
    assert.equal(c.status, 0, show(c));
    assert.equal(t.call(['delete', '--force', ID]).status, 0);
  });
});
