#!/usr/bin/env node
// Last step of `npm run build`. Writes:
//   1. dist/build-info.json: {version, commit} for `tsrunc --version` (the CLI never runs git);
//   2. dist/tsrunc-hot.js: the modules the frequent commands load (main, state/start/kill/delete/
//      list and their static imports, the lifecycle entry and its static imports) in one script,
//      with a manifest of each file's size and mtime;
//   3. dist/tsrunc-hot.cache: a V8 code cache for that script, warmed by running those commands'
//      error paths in this process. V8 accepts a code cache for any source of the same length, so
//      the file starts with the hot script's build id (random per gen-bin run) and a cache from
//      another build is never used;
//   4. bin/tsrunc (git-ignored): an executable whose shebang is the absolute path of the node that
//      ran the build (process.execPath). It finds dist/ from its own realpath (so it works from any
//      cwd and through a symlink such as /usr/local/bin/tsrunc), and loads the hot script when every
//      file in its manifest is unchanged, else plain dist/src/cli/main.js.
//
// Why: each CommonJS module costs ~0.4-1 ms to resolve, read and compile on the project's VMs;
// one script plus a code cache cut `tsrunc state` from ~18 to ~9 ms of CPU above bare node
// (perf-anchors §4 measured the same effect: bundle + code cache 1.18x → 1.08x of `node empty.js`).
// Correctness of the hot script:
//   - each bundled module is registered in require.cache under its real filename before it runs,
//     so a module loaded later by Node's own require (the lazily loaded heavy ones) gets the same
//     instances (one TsruncError class, one state store module);
//   - any other require (builtins, node_modules, .node addons, files not in the bundle) goes to a
//     real require created for that module's path;
//   - if the text of any bundled file changed after this script was made (`tsc` again without
//     gen-bin), the manifest check fails and the plain files are used (a rewrite with the same
//     text, as every `tsc` run does, keeps the hot script). TSRUNC_NO_BUNDLE=1 forces the plain
//     files (real file names in stack traces).
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const { execFileSync } = require('child_process');

const repo = path.resolve(__dirname, '..');
const dist = path.join(repo, 'dist');
const HOT = 'tsrunc-hot.js';
const CACHE = 'tsrunc-hot.cache';

function git(args) {
  try {
    return execFileSync('git', ['-C', repo, ...args], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return '';
  }
}

function writeAtomic(file, data, mode) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode); // writeFileSync's mode is filtered by the umask
  fs.renameSync(tmp, file);
}

function fail(msg) {
  console.error(`gen-bin: ${msg}`);
  process.exit(1);
}

// ---- 1. build info ------------------------------------------------------------------------------

const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
let commit = git(['rev-parse', 'HEAD']) || 'unknown';
if (commit !== 'unknown' && git(['status', '--porcelain', '--untracked-files=no']) !== '') commit += '-dirty';
const mainJs = path.join(dist, 'src', 'cli', 'main.js');
if (!fs.existsSync(mainJs)) fail(`${mainJs} does not exist; run tsc first`);
writeAtomic(path.join(dist, 'build-info.json'), JSON.stringify({ version: pkg.version, commit }) + '\n', 0o644);

// ---- 2. the hot script --------------------------------------------------------------------------

const HOT_ENTRIES = [
  'src/cli/main.js',
  'src/cli/commands/state.js', 'src/cli/commands/start.js', 'src/cli/commands/kill.js',
  'src/cli/commands/delete.js', 'src/cli/commands/list.js',
  'src/lifecycle/index.js',
];

/**
 * The modules reachable through top-level requires only (tsc writes those at column 0:
 * `const x_1 = require("./x");`, `const fs = __importStar(require("fs"));`); requires inside
 * functions are the lazy ones and stay lazy (Node's require at run time).
 */
function hotModules() {
  const seen = new Set();
  const order = [];
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const abs = path.join(dist, rel);
    if (!fs.existsSync(abs)) return;
    order.push(rel);
    const src = fs.readFileSync(abs, 'utf8');
    const re = /^(?:(?:const|var|let) [\w$]+ = (?:__importStar\(|__importDefault\()?)?require\("(\.{1,2}\/[^"]+)"\)/gm;
    for (const m of src.matchAll(re)) {
      let p = path.resolve(path.dirname(abs), m[1]);
      if (!p.endsWith('.js')) p += '.js';
      if (p.startsWith(dist + path.sep) && fs.existsSync(p)) visit(path.relative(dist, p));
    }
  };
  HOT_ENTRIES.forEach(visit);
  return order;
}

/**
 * The manifest line holds, per module: path, size, mtime, and where its text sits in the script
 * (offset and length after the manifest line), so the loader can accept a file whose mtime
 * changed but whose text did not (a colleague's `tsc` run rewrites every file).
 */
function buildHot(rels, id) {
  const manifest = [];
  let out = '(function (__nodeRequire, __dist) {\nconst __defs = {\n';
  for (const rel of rels) {
    const abs = path.join(dist, rel);
    const st = fs.statSync(abs);
    const text = fs.readFileSync(abs, 'utf8');
    // The module text is wrapped exactly like Node's CommonJS wrapper.
    out += `${JSON.stringify(rel)}: function (exports, require, module, __filename, __dirname) {\n`;
    manifest.push([rel, st.size, st.mtimeMs, out.length, text.length]);
    out += text;
    out += '\n},\n';
  }
  out += `};
const Module = __nodeRequire('module');
const __path = __nodeRequire('path');
function __load(rel) {
  const abs = __path.join(__dist, rel);
  const cached = Module._cache[abs];
  if (cached) return cached.exports;
  const dir = __path.dirname(abs);
  const m = new Module(abs, null);
  m.filename = abs;
  m.paths = Module._nodeModulePaths(dir);
  Module._cache[abs] = m;
  const real = Module.createRequire(abs);
  const req = function require(id) {
    if (id.startsWith('./') || id.startsWith('../')) {
      let p = __path.resolve(dir, id);
      if (!p.endsWith('.js')) p += '.js';
      const r = __path.relative(__dist, p);
      if (Object.prototype.hasOwnProperty.call(__defs, r)) return __load(r);
    }
    return real(id);
  };
  req.resolve = real.resolve;
  req.cache = Module._cache;
  req.main = real.main;
  try {
    __defs[rel].call(m.exports, m.exports, req, m, abs, dir);
  } catch (e) {
    delete Module._cache[abs];
    throw e;
  }
  m.loaded = true;
  return m.exports;
}
return __load('src/cli/main.js');
})`;
  return `// ${JSON.stringify({ id, files: manifest })}\n${out}`;
}

const rels = hotModules();
const hotFile = path.join(dist, HOT);
const cacheFile = path.join(dist, CACHE);
const buildId = require('crypto').randomBytes(12).toString('hex');
const cacheHeader = Buffer.from(`tsrunc-hot ${buildId}\n`);
const hotSrc = buildHot(rels, buildId);
writeAtomic(hotFile, hotSrc, 0o644);
try { fs.rmSync(cacheFile, { force: true }); } catch { /* none */ }

// ---- 3. code cache, warmed in this process -------------------------------------------------------

async function warm() {
  const vm = require('vm');
  const script = new vm.Script(hotSrc, { filename: hotFile });
  const main = script.runInThisContext()(require, dist);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-gen-bin-'));
  const sink = { write() {}, isTTY: false };
  const io = { ...main.defaultIo(), stdout() {}, stderr: sink };
  try {
    const root = path.join(tmp, 'root');
    for (const argv of [
      ['--root', root, 'list'], ['--root', root, 'list', '--format', 'json'], ['--root', root, 'state', 'x'],
      ['--root', root, 'start', 'x'], ['--root', root, 'kill', 'x', 'KILL'], ['--root', root, 'delete', 'x'],
      ['--root', root, 'delete', '--force', 'x'], ['--root', root, '--log-format', 'json', 'state', 'x'],
    ]) {
      await main.main(argv, io);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  writeAtomic(cacheFile, Buffer.concat([cacheHeader, script.createCachedData()]), 0o644);
}

// ---- 4. bin/tsrunc ------------------------------------------------------------------------------

const node = process.execPath;
if (/\s/.test(node) || node.length > 120) fail(`cannot put ${JSON.stringify(node)} in a shebang line`);
const bin = `#!${node}
'use strict';
// Generated by scripts/gen-bin.js; do not edit. Loads dist/${HOT} (one script + V8 code cache)
// when all the files it was built from are unchanged, else dist/src/cli/main.js.
const fs = require('fs');
const path = require('path');
const dist = path.join(path.dirname(fs.realpathSync(__filename)), '..', 'dist');

function hot() {
  if (process.env.TSRUNC_NO_BUNDLE) return undefined;
  const file = path.join(dist, ${JSON.stringify(HOT)});
  let src;
  try { src = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  const base = src.indexOf('\\n') + 1;
  let manifest;
  try { manifest = JSON.parse(src.slice(3, base - 1)); } catch { return undefined; }
  // Fresh if every file is unchanged: same size and mtime, or same text (rewritten by tsc).
  for (const [rel, size, mtime, off, len] of manifest.files) {
    const f = path.join(dist, rel);
    let st;
    try { st = fs.statSync(f); } catch { return undefined; }
    if (st.size !== size) return undefined;
    if (st.mtimeMs !== mtime) {
      try { if (fs.readFileSync(f, 'utf8') !== src.substr(base + off, len)) return undefined; } catch { return undefined; }
    }
  }
  // The cache is only used if it was made from this very build of the script (V8 itself checks
  // little more than the source length).
  const cacheFile = path.join(dist, ${JSON.stringify(CACHE)});
  const header = Buffer.from('tsrunc-hot ' + manifest.id + '\\n');
  let cachedData;
  try {
    const c = fs.readFileSync(cacheFile);
    if (c.length > header.length && c.subarray(0, header.length).equals(header)) cachedData = c.subarray(header.length);
  } catch { cachedData = undefined; }
  const script = new (require('vm').Script)(src, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // First run after a node upgrade (or a lost cache): write a fresh one on the way out.
    process.on('exit', () => {
      try {
        const tmp = cacheFile + '.tmp-' + process.pid;
        fs.writeFileSync(tmp, Buffer.concat([header, script.createCachedData()]), { mode: 0o644 });
        fs.renameSync(tmp, cacheFile);
      } catch { /* read-only install: run without a cache */ }
    });
  }
  return script.runInThisContext()(require, dist);
}

(hot() || require(path.join(dist, 'src', 'cli', 'main.js'))).cli();
`;
fs.mkdirSync(path.join(repo, 'bin'), { recursive: true });
writeAtomic(path.join(repo, 'bin', 'tsrunc'), bin, 0o755);

warm().then(() => {
  console.log(`gen-bin: wrote bin/tsrunc (node ${node}, commit ${commit}), dist/${HOT} (${rels.length} modules) and dist/${CACHE}`);
}, (e) => fail(`warming the code cache: ${e && e.stack ? e.stack : e}`));
