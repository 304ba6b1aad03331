// Minimal root filesystems and bundles for containers under test, built from busybox-static.
// Reused by the project's integration tests: import { buildRootfs, makeBundle } from
// '../../conformance/lib/rootfs' (or the index in this directory).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, ConfigPatch, defaultConfig, OciConfig } from './config';

export const BUSYBOX = '/bin/busybox';

export interface RootfsOptions {
  /** Host path of the probe binary, copied to /probe (mode 0755). */
  probe?: string;
  /** Static busybox to copy in (default /bin/busybox). */
  busybox?: string;
}

let appletCache: { busybox: string; applets: string[] } | undefined;

/** Applet paths relative to / (e.g. "bin/sh", "usr/bin/awk"), from one `busybox --list-full`. */
export function busyboxApplets(busybox = BUSYBOX): string[] {
  if (appletCache?.busybox !== busybox) {
    const out = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' });
    const applets = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('/') && !l.startsWith('/') && !l.split('/').includes('..'));
    appletCache = { busybox, applets };
  }
  return appletCache.applets;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\ntty:x:5:\nnobody:x:65534:\n';

function symlinkForce(target: string, p: string): void {
  try {
    fs.symlinkSync(target, p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    fs.unlinkSync(p);
    fs.symlinkSync(target, p);
  }
}

/**
 * Build a minimal busybox rootfs in `dir` (created if missing; existing files are overwritten):
 * /bin/busybox plus every applet as a symlink to it under /bin, /sbin, /usr/bin, /usr/sbin (as
 * busybox places them), the directories proc sys dev tmp (1777) etc root (0700) run, /etc/passwd and
 * /etc/group with root, tty (5) and nobody (65534), and the probe at /probe when `opts.probe` is
 * given. Takes a few milliseconds; it runs busybox once per
 * process to list the applets and otherwise only makes files.
 */
export function buildRootfs(dir: string, opts: RootfsOptions = {}): void {
  const busybox = opts.busybox ?? BUSYBOX;
  const applets = busyboxApplets(busybox);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'root', 'run', 'tmp']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.chmodSync(path.join(dir, 'root'), 0o700);
  fs.copyFileSync(busybox, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const d of new Set(applets.map((a) => path.posix.dirname(a)))) {
    fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
  }
  for (const a of applets) {
    if (a !== 'bin/busybox') symlinkForce('/bin/busybox', `${dir}/${a}`);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), PASSWD, { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'etc/group'), GROUP, { mode: 0o644 });
  if (opts.probe) {
    fs.copyFileSync(opts.probe, path.join(dir, 'probe'));
    fs.chmodSync(path.join(dir, 'probe'), 0o755);
  }
}

export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  /** Absolute rootfs directory (<dir>/rootfs). */
  rootfs: string;
  /** The config written to <dir>/config.json. */
  config: OciConfig;
}

export interface BundleOptions extends RootfsOptions {
  /** process.args when the patch does not set them (default ["sh"]). */
  args?: string[];
}

/**
 * Make a bundle in `dir`: rootfs/ from buildRootfs and config.json from defaultConfig() with
 * `configPatch` applied. The patch is either a deep-partial config (objects merge, arrays and
 * scalars replace, null deletes a key) or a function that edits the config in place (or returns a
 * replacement).
 */
export function makeBundle(
  dir: string,
  configPatch?: ConfigPatch | ((c: OciConfig) => OciConfig | void),
  opts: BundleOptions = {},
): Bundle {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true, mode: 0o755 });
  const rootfs = path.join(abs, 'rootfs');
  buildRootfs(rootfs, opts);
  let config = defaultConfig(opts.args);
  if (typeof configPatch === 'function') config = configPatch(config) ?? config;
  else if (configPatch) applyPatch(config, configPatch);
  fs.writeFileSync(path.join(abs, 'config.json'), JSON.stringify(config, null, 2));
  return { dir: abs, rootfs, config };
}

/**
 * Where the probe binary normally is: <repo>/build/Release/tsrunc-probe, found by walking up from
 * this file to the package.json named "tsrunc" (works from conformance/lib and dist/conformance/lib).
 */
export function defaultProbePath(): string {
  return path.join(repoRoot(), 'build/Release/tsrunc-probe');
}

export function repoRoot(): string {
  let d = __dirname;
  for (;;) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'tsrunc') return d;
      } catch {
        /* not ours: keep walking */
      }
    }
    const up = path.dirname(d);
    if (up === d) throw new Error(`cannot find the tsrunc repository above ${__dirname}`);
    d = up;
  }
}
