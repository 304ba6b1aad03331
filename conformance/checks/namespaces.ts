// Namespaces: config-linux.md#namespaces.

import * as fs from 'node:fs';
import { defaultConfig } from '../lib/config';
import { assert, assertEq, CheckDef, fail, skip } from '../lib/harness';
import { namespacesOf, NS_FILE } from '../lib/host';
import { defaultAll } from './process';

function nsProblems(got: Record<string, string>, host: Record<string, string>, fresh: string[]): string[] {
  const p: string[] = [];
  for (const [type, file] of Object.entries(NS_FILE)) {
    if (!(file in host)) continue; // the kernel has no such namespace
    if (!(file in got)) {
      p.push(`${file}: not visible in the container`);
      continue;
    }
    if (fresh.includes(type) && got[file] === host[file]) p.push(`${type}: still the runtime's ${host[file]}, want a new one`);
    if (!fresh.includes(type) && got[file] !== host[file]) p.push(`${type}: ${got[file]}, want the runtime's ${host[file]} (not in linux.namespaces)`);
  }
  return p;
}

export const namespaceChecks: CheckDef[] = [
  {
    group: 'namespaces',
    name: 'a new namespace for each type listed, the runtime\'s for the others',
    spec: 'config-linux.md#namespaces ("If path is not specified, the runtime MUST create a new container namespace"; "If a namespace type is not specified ... the container MUST inherit the runtime namespace")',
    fn: (t) => {
      const fresh = defaultConfig().linux!.namespaces!.map((n) => n.type);
      const p = nsProblems(defaultAll(t).ns, namespacesOf('self'), fresh);
      if (p.length) fail(p.join('; '));
    },
  },
  {
    group: 'namespaces',
    name: 'cgroup namespace added, network namespace left out',
    spec: 'config-linux.md#namespaces',
    fn: (t) => {
      const host = namespacesOf('self');
      if (!('cgroup' in host)) skip('the kernel has no cgroup namespaces');
      const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
      const r = t.probe(['ns'], { linux: { namespaces } });
      const p = nsProblems(r.json, host, namespaces.map((n) => n.type));
      if (p.length) fail(p.join('; '));
    },
  },
  {
    group: 'namespaces',
    name: 'the container process is pid 1 of its new pid namespace',
    spec: 'config-linux.md#namespaces (pid)',
    fn: (t) => {
      assertEq(defaultAll(t).pid, { pid: 1, ppid: 0 }, 'getpid()/getppid()');
    },
  },
  {
    group: 'namespaces',
    name: 'a namespace path is joined',
    spec: 'config-linux.md#namespaces ("The runtime MUST place the container process in the namespace associated with that path")',
    fn: (t) => {
      const a = t.create({ process: { args: ['/bin/sleep', '1000'] } }, { tag: 'nsowner' });
      const s = t.state(a.id);
      const apid = s.pid as number;
      const ans = namespacesOf(apid);
      const joined = ['network', 'ipc', 'uts'];
      const r = t.probe<Record<string, string>>(['ns'], (c) => {
        delete c.hostname; // a shared UTS namespace is not ours to rename
        c.linux!.namespaces = c.linux!.namespaces!.map((n) => (joined.includes(n.type) ? { type: n.type, path: `/proc/${apid}/ns/${NS_FILE[n.type]}` } : n));
      });
      const problems: string[] = [];
      for (const type of joined) {
        const f = NS_FILE[type];
        if (r.json[f] !== ans[f]) problems.push(`${type}: ${r.json[f]}, want ${ans[f]} (joined from pid ${apid})`);
      }
      for (const type of ['pid', 'mount']) {
        const f = NS_FILE[type];
        if (r.json[f] === ans[f]) problems.push(`${type}: shares ${ans[f]} with the other container, want a new one`);
      }
      if (problems.length) fail(problems.join('; '));
      assert(fs.existsSync(`/proc/${apid}`), 'the first container died');
    },
  },
  {
    group: 'namespaces',
    name: 'a namespace path of another type is an error',
    spec: 'config-linux.md#namespaces ("The runtime MUST generate an error if path is not associated with a namespace of type type")',
    fn: (t) => {
      const a = t.create({ process: { args: ['/bin/sleep', '1000'] } }, { tag: 'nsowner' });
      const apid = t.state(a.id).pid as number;
      const b = t.bundle((c) => {
        delete c.hostname;
        c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${apid}/ns/ipc` } : n));
      });
      const id = t.id('wrongns');
      t.mustFail(t.tryCreate(id, b.dir), 'create with a uts namespace path that is an ipc namespace');
      t.mustFail(t.rt.stateRaw(id), 'state after the failed create (nothing may be left)');
      assertEq(t.state(a.id).status, 'created', 'status of the container whose namespace was named');
    },
  },
  {
    group: 'namespaces',
    name: 'duplicate namespace types are an error',
    spec: 'config-linux.md#namespaces ("If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error")',
    fn: (t) => {
      const b = t.bundle((c) => {
        c.linux!.namespaces!.push({ type: 'uts' });
      });
      const id = t.id('dupns');
      t.mustFail(t.tryCreate(id, b.dir), 'create with two uts namespaces');
      t.mustFail(t.rt.stateRaw(id), 'state after the failed create (nothing may be left)');
    },
  },
];
