// Unit: cgroup statistics (src/cgroup/stats.ts) read from temp dirs that imitate v1 and v2 cgroup
// files, and encoded exactly as runc 1.1.5's `events --stats` line; the ps output filter; Go
// durations for `events --interval`.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MAX_U64, emptyStats, encodeGo, hugePageSizes, parseBlkioFile, parseCpuList, parseIoStat, parseParamU64, parseU64,
  readOomCounters, readStats, statsEventJson, statsToGo, oomEventJson,
} from '../../src/cgroup/stats';
import { filterPsOutput, formatPidsJson } from '../../src/lifecycle/ps';
import { parseGoDuration } from '../../src/cli/args';
import { TsruncError } from '../../src/errors';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-stats-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const V1_LIMIT = '9223372036854771712';

function v1Files(): Record<string, string> {
  return {
    'cpuacct/c/cgroup.procs': '7\n',
    'cpuacct/c/cpuacct.usage': '58047011\n',
    'cpuacct/c/cpuacct.usage_percpu': '16564592 41482419 \n',
    'cpuacct/c/cpuacct.usage_all': 'cpu user system\n0 4000000 4000000\n1 12000000 24000000\n',
    'cpuacct/c/cpuacct.stat': 'user 2\nsystem 3\n',
    'cpu/c/cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 12345\n',
    'cpuset/c/cpuset.cpus': '0-2,5\n',
    'cpuset/c/cpuset.mems': '0\n',
    'cpuset/c/cpuset.cpu_exclusive': '0\n',
    'cpuset/c/cpuset.mem_hardwall': '0\n',
    'cpuset/c/cpuset.mem_exclusive': '0\n',
    'cpuset/c/cpuset.memory_migrate': '0\n',
    'cpuset/c/cpuset.memory_spread_page': '0\n',
    'cpuset/c/cpuset.memory_spread_slab': '0\n',
    'cpuset/c/cpuset.memory_pressure': '0\n',
    'cpuset/c/cpuset.sched_load_balance': '1\n',
    'cpuset/c/cpuset.sched_relax_domain_level': '-1\n',
    'memory/c/memory.stat': `cache 28672\nrss 53248\nhierarchical_memory_limit ${V1_LIMIT}\n`,
    'memory/c/memory.usage_in_bytes': '188416\n',
    'memory/c/memory.max_usage_in_bytes': '262144\n',
    'memory/c/memory.failcnt': '3\n',
    'memory/c/memory.limit_in_bytes': `${V1_LIMIT}\n`,
    'memory/c/memory.memsw.usage_in_bytes': '188416\n',
    'memory/c/memory.memsw.max_usage_in_bytes': '262144\n',
    'memory/c/memory.memsw.failcnt': '0\n',
    'memory/c/memory.memsw.limit_in_bytes': `${V1_LIMIT}\n`,
    // no kmem files: optional, reported as zeros
    'memory/c/memory.kmem.tcp.usage_in_bytes': '0\n',
    'memory/c/memory.kmem.tcp.max_usage_in_bytes': '0\n',
    'memory/c/memory.kmem.tcp.failcnt': '0\n',
    'memory/c/memory.kmem.tcp.limit_in_bytes': `${V1_LIMIT}\n`,
    'memory/c/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    'pids/c/cgroup.procs': '7\n',
    'pids/c/pids.current': '1\n',
    'pids/c/pids.max': 'max\n',
    'blkio/c/blkio.bfq.io_serviced_recursive': 'Total 0\n',
    'blkio/c/blkio.throttle.io_serviced_recursive': '8:0 Read 4\n8:0 Write 2\nTotal 6\n',
    'blkio/c/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n',
    'hugetlb/c/cgroup.procs': '7\n',
    'hugetlb/c/hugetlb.2MB.usage_in_bytes': '0\n',
    'hugetlb/c/hugetlb.2MB.max_usage_in_bytes': '2097152\n',
    'hugetlb/c/hugetlb.2MB.failcnt': '1\n',
  };
}

function v1Paths(root: string): Record<string, string> {
  const p: Record<string, string> = { '': path.join(root, 'unified/c') };
  for (const c of ['cpuacct', 'cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'devices']) p[c] = path.join(root, c, 'c');
  return p;
}

test('v1: every controller read as runc\'s fs manager does, encoded byte for byte as runc', () => {
  const root = tree(v1Files());
  try {
    const s = readStats(v1Paths(root), { hugePageSizes: ['2MB'] });
    assert.equal(s.cpu.usage.user, 20000000n); // 2 ticks at USER_HZ 100
    assert.equal(s.cpu.usage.kernel, 30000000n);
    assert.equal(s.memory.usage.limit, BigInt(V1_LIMIT));
    assert.equal(statsEventJson('c1', s),
      '{"type":"stats","id":"c1","data":{' +
      '"cpu":{"usage":{"total":58047011,"percpu":[16564592,41482419],"percpu_kernel":[4000000,24000000],"percpu_user":[4000000,12000000],"kernel":30000000,"user":20000000},' +
      '"throttling":{"periods":10,"throttledPeriods":2,"throttledTime":12345}},' +
      '"cpuset":{"cpus":[0,1,2,5],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1},' +
      `"memory":{"cache":28672,"usage":{"limit":${V1_LIMIT},"usage":188416,"max":262144,"failcnt":3},` +
      `"swap":{"limit":${V1_LIMIT},"usage":188416,"max":262144,"failcnt":0},"kernel":{"limit":0,"failcnt":0},` +
      `"kernelTCP":{"limit":${V1_LIMIT},"failcnt":0},"raw":{"cache":28672,"hierarchical_memory_limit":${V1_LIMIT},"rss":53248}},` +
      '"pids":{"current":1},' +
      '"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write"}],' +
      '"ioServicedRecursive":[{"major":8,"op":"Read","value":4},{"major":8,"op":"Write","value":2}]},' +
      '"hugetlb":{"2MB":{"max":2097152,"failcnt":1}},"intel_rdt":{},"network_interfaces":null}}');
    assert.deepEqual(readOomCounters(v1Paths(root)), { oomKill: 2n, underOom: false });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('v1: a container whose hierarchies are gone gives runc\'s empty shape; blkio groups fall through', () => {
  const root = tree({ 'x/.keep': '' });
  try {
    const s = readStats(v1Paths(root), { hugePageSizes: ['2MB'] });
    assert.equal(encodeGo(statsToGo(s)),
      '{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,' +
      '"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},' +
      '"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}');
    assert.equal(readOomCounters(v1Paths(root)), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  // A cfq kernel: the cfq group (its first file has entries) wins over the throttle files.
  const cfq = tree({
    'blkio/c/blkio.sectors_recursive': '8:0 16\n',
    'blkio/c/blkio.io_service_time_recursive': '8:0 Read 1\nTotal 1\n',
    'blkio/c/blkio.io_wait_time_recursive': '',
    'blkio/c/blkio.throttle.io_serviced_recursive': '8:0 Read 99\n',
  });
  try {
    const s = readStats({ blkio: path.join(cfq, 'blkio/c') }, { hugePageSizes: [] });
    // runc stops at the first empty file after the first: the rest of the group stays empty.
    assert.deepEqual(Object.keys(s.blkio), ['sectorsRecursive', 'ioServiceTimeRecursive']);
    assert.deepEqual(s.blkio.sectorsRecursive, [{ major: 8n, minor: 0n, op: '', value: 16n }]);
  } finally {
    fs.rmSync(cfq, { recursive: true, force: true });
  }
});

test('v2: cpu.stat in ns, memory with swap reported as mem+swap, pids, io.stat, hugetlb, oom_kill', () => {
  const root = tree({
    'c/cgroup.procs': '7\n8\n',
    'c/cgroup.events': 'populated 1\nfrozen 0\n',
    'c/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    'c/memory.stat': 'anon 4096\nfile 8192\n',
    'c/memory.current': '12288\n',
    'c/memory.max': '67108864\n',
    'c/memory.swap.current': '4096\n',
    'c/memory.swap.max': 'max\n',
    'c/memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n',
    'c/pids.current': '2\n',
    'c/pids.max': '20\n',
    'c/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'c/hugetlb.2MB.current': '0\n',
    'c/hugetlb.2MB.events': 'max 3\n',
  });
  try {
    const paths = { '': path.join(root, 'c') };
    const s = readStats(paths, { hugePageSizes: ['2MB', '1GB'] });
    assert.equal(encodeGo(statsToGo(s)),
      '{"cpu":{"usage":{"total":1500000,"kernel":500000,"user":1000000},"throttling":{"periods":4,"throttledPeriods":1,"throttledTime":20000}},' +
      '"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      `"memory":{"cache":8192,"usage":{"limit":67108864,"usage":12288,"failcnt":0},"swap":{"limit":${MAX_U64},"usage":16384,"failcnt":0},` +
      '"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":4096,"file":8192}},' +
      '"pids":{"current":2,"limit":20},' +
      '"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write","value":8192}],' +
      '"ioServicedRecursive":[{"major":8,"op":"Read","value":1},{"major":8,"op":"Write","value":2}]},' +
      '"hugetlb":{"2MB":{"failcnt":3}},"intel_rdt":{},"network_interfaces":null}');
    assert.deepEqual(readOomCounters(paths), { oomKill: 1n, underOom: false });
    // A swap limit is reported as mem+swap, wrapping like Go's uint64 when memory.max is "max".
    fs.writeFileSync(path.join(root, 'c/memory.swap.max'), '1000\n');
    assert.equal(readStats(paths, { hugePageSizes: [] }).memory.swap.limit, 67108864n + 1000n);
    fs.writeFileSync(path.join(root, 'c/memory.max'), 'max\n');
    assert.equal(readStats(paths, { hugePageSizes: [] }).memory.swap.limit, 999n);
    // Without the pids controller: a count of cgroup.procs, no limit.
    fs.rmSync(path.join(root, 'c/pids.current'));
    assert.deepEqual(readStats(paths, { hugePageSizes: [] }).pids, { current: 2n, limit: 0n });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('malformed files are an E_CGROUP error naming the file', () => {
  const root = tree({ 'memory/c/memory.stat': 'cache 1 2\n' });
  try {
    assert.throws(() => readStats({ memory: path.join(root, 'memory/c') }, { hugePageSizes: [] }), (e: unknown) =>
      e instanceof TsruncError && e.code === 'E_CGROUP' && e.message.includes('memory.stat') && e.message.includes('not in key value format'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('fscommon parsing rules: max, negative values, cpu lists, blkio lines, io.stat', () => {
  assert.equal(parseParamU64('max\n'), MAX_U64);
  assert.equal(parseU64('-1'), 0n);
  assert.equal(parseU64('18446744073709551615'), MAX_U64);
  assert.throws(() => parseU64('18446744073709551616'));
  assert.throws(() => parseU64('1.5'));
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.throws(() => parseCpuList(''), /empty file/);
  assert.throws(() => parseCpuList('1-2-3'), /extra dash/);
  assert.throws(() => parseCpuList('3-1'), /min > max/);
  assert.deepEqual(parseBlkioFile('8:16 Read 5\n8:16 5\nTotal 10\n'), [
    { major: 8n, minor: 16n, op: 'Read', value: 5n }, { major: 8n, minor: 16n, op: '', value: 5n },
  ]);
  assert.throws(() => parseBlkioFile('garbage\n'), /malformed/);
  assert.deepEqual(parseIoStat('253:0 rbytes=1 dbytes=4\nbad line\n'), { ioServiceBytesRecursive: [{ major: 253n, minor: 0n, op: 'Read', value: 1n }] });
});

test('hugepage sizes are named as runc names them', () => {
  const root = tree({ 'hugepages-2048kB/x': '', 'hugepages-1048576kB/x': '', 'hugepages-64kB/x': '', 'other/x': '' });
  try {
    assert.deepEqual(hugePageSizes(root).sort(), ['1GB', '2MB', '64KB']);
    assert.deepEqual(hugePageSizes(path.join(root, 'nope')), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('encoder: Go key order for maps, HTML-safe strings, 64-bit numbers exact; the oom event has no data', () => {
  assert.equal(encodeGo(new Map([['b', 1n], ['a', MAX_U64]])), `{"a":${MAX_U64},"b":1}`);
  assert.equal(encodeGo({ z: '<&>', a: [1n, 2n], n: null }), '{"z":"\\u003c\\u0026\\u003e","a":[1,2],"n":null}');
  assert.equal(oomEventJson('c1'), '{"type":"oom","id":"c1"}');
  assert.equal(statsEventJson('c1', emptyStats()).startsWith('{"type":"stats","id":"c1","data":{"cpu":'), true);
});

test('ps: json is Go\'s []int encoding (null when empty); table keeps the header and the container\'s rows', () => {
  assert.equal(formatPidsJson([]), 'null\n');
  assert.equal(formatPidsJson([5, 17]), '[5,17]\n');
  const out = 'UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 05:00 ?        00:00:01 /sbin/init\n' +
    'root       500     1  0 05:01 ?        00:00:00 sleep 1000\nroot       501   500  0 05:01 ?        00:00:00 sh -c x 500\n';
  assert.equal(filterPsOutput(out, [500]), 'UID        PID  PPID  C STIME TTY          TIME CMD\nroot       500     1  0 05:01 ?        00:00:00 sleep 1000\n');
  assert.equal(filterPsOutput('  PID CMD\n', []), '  PID CMD\n');
  assert.throws(() => filterPsOutput('CMD\nx\n', [1]), /couldn't find PID field in ps output/);
  assert.throws(() => filterPsOutput('PID CMD\nabc x\n', [1]), /unable to parse pid: strconv.Atoi: parsing "abc": invalid syntax/);
});

test('Go durations for --interval', () => {
  assert.equal(parseGoDuration('5s'), 5000);
  assert.equal(parseGoDuration('1m30.5s'), 90500);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('1h'), 3600000);
  assert.equal(parseGoDuration('1.5us'), 0.0015);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-1s'), -1000);
  for (const bad of ['5', '', 's', '1x', '1s2', '.s', '1.2.3s']) assert.equal(parseGoDuration(bad), undefined, bad);
});
