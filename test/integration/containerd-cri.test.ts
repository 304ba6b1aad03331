// Ecosystem: containerd 1.6's CRI plugin (what the kubelet talks to) with tsrunc as the runc
// shim's binary: `BinaryName` and `Root` under the runtime's options in config.toml, as the README
// shows for a Kubernetes RuntimeClass handler. The test speaks the CRI gRPC API itself (no
// crictl in this distribution): a pod sandbox, a container in it that shares the sandbox's pid
// and ipc namespaces (joined by path: /proc/<sandbox pid>/ns/...), ExecSync into it, stop,
// remove. The pod uses the host's network namespace (no CNI set-up: nothing on the network is
// touched). containerd runs with private root/state dirs and sockets under a temp dir; the CRI
// streaming server (used only by Exec/Attach streams, not by ExecSync) listens on a random
// loopback port, which containerd 1.6 cannot turn off. The last case stops containerd and checks
// that nothing of the suite is left (support.ts suiteLeftovers).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRootfs } from '../../conformance/lib/rootfs';
import { TSRUNC, cgroupDirsNamed, cleanupSuite, pollUntil, stopDaemon, suiteLeftovers, tmpDir, type SuiteScope } from './support';
import { decode, encode, mapField, unary, type Msg } from './grpc';

const K8S_NS = 'k8s.io';
const PARENT = 'tsrunc-cri-test';
const IMAGE = 'tsrunc.test/busybox:1';
const haveContainerd = spawnSync('sh', ['-c', 'command -v containerd && command -v ctr && command -v containerd-shim-runc-v2']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let dir = '';
const sandboxes: string[] = [];
let daemon: ChildProcess | undefined;
const sock = () => path.join(dir, 'ctd.sock');
const tsroot = () => path.join(dir, 'tsroot');

function log(): string {
  try {
    return fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/** What the suite owns: the pod's and its containers' cgroups are under /<PARENT>. */
function scope(): SuiteScope {
  return { dir, roots: [path.join(tsroot(), K8S_NS)], cgroupParents: [PARENT] };
}

/** A CRI RuntimeService call (runtime.v1). */
async function cri(method: string, req: Msg): Promise<Map<number, Array<bigint | Buffer>>> {
  try {
    return decode(await unary(sock(), `/runtime.v1.RuntimeService/${method}`, encode(req)));
  } catch (e) {
    throw new Error(`${method}: ${(e as Error).message}\n--- containerd.log\n${log()}`);
  }
}

const str = (m: Map<number, Array<bigint | Buffer>>, n: number) => (m.get(n)?.[0] as Buffer | undefined)?.toString('utf8') ?? '';

/**
 * An OCI image layout tarball of `rootfs` (one uncompressed layer), named `name`, with `cmd` as its
 * default command: what `ctr images import` takes.
 */
function ociArchive(rootfs: string, name: string, cmd: string[], out: string): void {
  const layout = `${out}.d`;
  const blobs = path.join(layout, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const digest = crypto.createHash('sha256').update(data).digest('hex');
    fs.writeFileSync(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const tar = spawnSync('tar', ['-C', rootfs, '--owner=0', '--group=0', '-c', '.'], { maxBuffer: 1 << 28 });
  assert.equal(tar.status, 0);
  const layer = blob(tar.stdout);
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: cmd, Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  })));
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
    }],
  }));
  assert.equal(spawnSync('tar', ['-C', layout, '-cf', out, '.']).status, 0);
  fs.rmSync(layout, { recursive: true });
}

// NamespaceMode of the CRI API.
const POD = 0;
const NODE = 2;

function sandboxConfig(name: string): Msg {
  return [
    [1, [[1, name], [2, `uid-${name}`], [3, 'tsrunc-test'], [4, 0]]],
    // No hostname: the pod is in the host's UTS namespace (the kubelet sets none for host-network pods).
    [8, [
      [1, `/${PARENT}`],
      // security_context.namespace_options: network NODE (no CNI), pid and ipc per pod.
      [2, [[1, [[1, NODE], [2, POD], [3, POD]]]]],
    ]],
  ];
}

describe('containerd CRI (runtime handler with BinaryName = tsrunc)', { skip }, () => {
  before(() => {
    assert.ok(haveContainerd, 'containerd is not installed (npm run setup installs it)');
    dir = tmpDir('tsrunc-cri');
    fs.writeFileSync(path.join(dir, 'config.toml'), [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]', `  address = "${sock()}"`,
      '[ttrpc]', `  address = "${dir}/ttrpc.sock"`,
      '[debug]', `  address = "${dir}/debug.sock"`,
      '[metrics]', '  address = ""',
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${IMAGE}"`,
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      // The sandbox's oom_score_adj (-998) is below ours, which needs CAP_SYS_RESOURCE, missing
      // from this machine's bounding set (for runc as for tsrunc): clamp it, as rootless set-ups do.
      '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    conf_dir = "${dir}/cni"`,
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    default_runtime_name = "tsrunc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrunc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsrunc.options]',
      `        BinaryName = "${TSRUNC}"`,
      `        Root = "${tsroot()}"`,
      '',
    ].join('\n'));
    const out = fs.openSync(path.join(dir, 'containerd.log'), 'w');
    daemon = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const ctr = (args: string[]) => spawnSync('ctr', ['--address', sock(), '-n', K8S_NS, ...args], { encoding: 'utf8', timeout: 120000 });
    assert.ok(pollUntil(() => fs.existsSync(sock()) && ctr(['version']).status === 0, 30000), `containerd did not come up:\n${log()}`);
    const rootfs = path.join(dir, 'rootfs');
    buildRootfs(rootfs);
    const archive = path.join(dir, 'image.tar');
    ociArchive(rootfs, IMAGE, ['/bin/sleep', '1000000'], archive);
    const imp = ctr(['images', 'import', archive]);
    assert.equal(imp.status, 0, `ctr images import: ${imp.stderr}`);
    assert.match(ctr(['images', 'ls', '-q']).stdout, /tsrunc\.test\/busybox:1/);
  });

  after(async () => {
    // A failed case may leave its pod running: remove it through CRI while containerd is up.
    for (const id of daemon && daemon.exitCode === null && daemon.signalCode === null ? sandboxes : []) {
      try {
        await cri('StopPodSandbox', [[1, id]]);
        await cri('RemovePodSandbox', [[1, id]]);
      } catch { /* reported by the case */ }
    }
    if (daemon) await stopDaemon(daemon);
    if (dir) cleanupSuite(scope());
  });

  it('a pod sandbox and a container sharing its pid namespace: exec, stop, remove, nothing left', async () => {
    const pod = sandboxConfig('tsrunc-pod');
    const sandbox = str(await cri('RunPodSandbox', [[1, pod], [2, 'tsrunc']]), 1);
    assert.match(sandbox, /^[0-9a-f]{64}$/);
    sandboxes.push(sandbox);
    const created = await cri('CreateContainer', [
      [1, sandbox],
      [2, [
        [1, [[1, 'app'], [2, 0]]],
        [2, [[1, IMAGE]]],
        [3, '/bin/sh'], [4, '-c'], [4, 'trap "exit 0" TERM; while :; do sleep 0.1; done'],
        ...mapField(9, { app: 'tsrunc' }),
        // linux.security_context.namespace_options: the pod's pid and ipc namespaces.
        [15, [[2, [[3, [[1, NODE], [2, POD], [3, POD]]]]]]],
      ]],
      [3, pod],
    ]);
    const ctrId = str(created, 1);
    assert.match(ctrId, /^[0-9a-f]{64}$/);
    await cri('StartContainer', [[1, ctrId]]);
    // The container sees the sandbox's process (same pid namespace): sleep 1000000 is pid 1.
    const ex = await cri('ExecSync', [[1, ctrId], [2, 'sh'], [2, '-c'], [2, 'cat /proc/1/cmdline | tr "\\0" " "; echo; exit 7'], [3, 30]]);
    assert.equal(Number(ex.get(3)?.[0] ?? 0n), 7, `stderr: ${str(ex, 2)}`);
    assert.match(str(ex, 1), /sleep 1000000/);
    // tsrunc knows both, under the Root given in config.toml (one dir per containerd namespace).
    const list = spawnSync(TSRUNC, ['--root', path.join(tsroot(), K8S_NS), 'list', '-q'], { encoding: 'utf8' });
    assert.deepEqual(list.stdout.split('\n').filter(Boolean).sort(), [ctrId, sandbox].sort());
    await cri('StopContainer', [[1, ctrId], [2, 10]]);
    await cri('RemoveContainer', [[1, ctrId]]);
    await cri('StopPodSandbox', [[1, sandbox]]);
    await cri('RemovePodSandbox', [[1, sandbox]]);
    const after = spawnSync(TSRUNC, ['--root', path.join(tsroot(), K8S_NS), 'list', '-q'], { encoding: 'utf8' });
    assert.equal(after.stdout.trim(), '');
    assert.deepEqual(cgroupDirsNamed(ctrId).concat(cgroupDirsNamed(sandbox)), []);
  });

  it('after containerd stops: no state dirs, container cgroups, mounts or processes left', async () => {
    const how = await stopDaemon(daemon!);
    assert.match(how, /^exited/, `containerd did not stop on SIGTERM: ${how}\n${log()}`);
    let left = suiteLeftovers(scope());
    pollUntil(() => (left = suiteLeftovers(scope())).length === 0, 5000);
    assert.deepEqual(left, []);
  });
});
