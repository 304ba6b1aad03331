// linux.rootfsPropagation (config-linux.md): the container's root mount gets the asked
// propagation, for every value, and nothing propagates back to the host. runc 1.1.5 fails outright
// for unbindable/runbindable (its bind of the rootfs hits EINVAL) and ignores shared; tsrunc
// applies the value to the new `/` after pivot_root, once every mount is in place.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from '../../conformance/lib/rootfs';
import { Tsrunc, cleanup, show, tmpDir } from './support';

let tmp = '';
let ts: Tsrunc;
const ids: string[] = [];

before(() => {
  tmp = tmpDir('tsrunc-prop');
  ts = new Tsrunc(path.join(tmp, 'root'), tmp);
});
after(() => cleanup(ts, ids, [tmp]));

// The optional fields of the container's `/` line in its mountinfo.
const ROOT_LINE = 'awk \'$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i; print "end" }\' /proc/self/mountinfo';

const expected: Record<string, RegExp> = {
  shared: /^shared:\d+ end$/, rshared: /^shared:\d+ end$/,
  private: /^end$/, rprivate: /^end$/,
  slave: /^(master:\d+ )?end$/, rslave: /^(master:\d+ )?end$/,
  unbindable: /^unbindable end$/, runbindable: /^unbindable end$/,
};

test('rootfsPropagation: every value is applied to the container\'s root, no host mount is added', () => {
  const hostBefore = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
  for (const [value, want] of Object.entries(expected)) {
    const id = `prop-${value}`;
    ids.push(id);
    const b = makeBundle(path.join(tmp, `b-${value}`), { linux: { rootfsPropagation: value } }, { args: ['sh', '-c', ROOT_LINE] });
    const r = ts.call(['run', '-b', b.dir, id]);
    assert.equal(r.status, 0, `${value}: ${show(r)}`);
    assert.match(r.stdout.trim(), want, `${value}: the root mount's optional fields`);
  }
  assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length, hostBefore, 'mounts appeared on the host');
});
