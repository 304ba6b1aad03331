#!/usr/bin/env node
// Last step of `npm run build`. Writes:
//   1. dist/build-info.json: {version, commit} for `tsrunc --version` (the CLI never runs git);
//   2. dist/tsrunc-{state,list,start,kill,delete,create,full}.js: the modules of each lean command,
//      of create/run/exec, and all of them, each in one script (each module still run lazily on
//      first require), with a manifest of each file's size and mtime;
//   3. dist/tsrunc-*.cache: a V8 code cache for each script, warmed by running the commands' error
//      paths and `explain` (config validation and the plan compiler) in this process; the first
//      successful call of each command of the script rewrites it once with what the call compiled.
//      V8 accepts a code cache for any source of the same length, so
//      the file starts with the script's build id (random per gen-bin run) and a cache from
//      another build is never used;
//   4. bin/tsrunc (git-ignored): an executable whose shebang is the absolute path of the node that
//      ran the build (process.execPath). It finds dist/ from its own realpath (so it works from any
//      cwd and through a symlink such as /usr/local/bin/tsrunc), and loads the command's script when
//      every file in its manifest is unchanged, else plain dist/src/cli/main.js.
//
// Why: each CommonJS module costs ~0.4-1 ms to resolve, read and compile on the project's VMs;
// one script plus a code cache cut `tsrunc state` from ~18 to ~9 ms of CPU above bare node
// (perf-anchors §4 measured the same effect: bundle + code cache 1.18x → 1.08x of `node empty.js`).
// Correctness of the scripts:
//   - no module of ours is ever loaded by Node's own require, so none has two instances (one
//     TsruncError class, one state store module): a script's loader serves them from its table, or
//     reads the file of one it lacks into that table;
//   - any other require (builtins, node_modules, the .node addon) goes to one real require;
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
const MAIN = 'src/cli/main.js';

/**
 * One script per lean command, one for create/run/exec and one with everything, each with its own
 * code cache; bin/tsrunc picks one by the command. Reading a script and deserializing its cache
 * cost about 1 ms per 30 KB on the project's VMs (a page fault costs ~15 us there, and every start
 * touches fresh pages), so each holds what its commands run, not more:
 *   - tsrunc-<cmd> for each of LEAN, the frequent commands (containerd calls them for every
 *     container): the command's closure only (state does not carry the addon loader or the cgroup
 *     manager, kill does not carry the list formatter);
 *   - create: create, run and exec, i.e. the config validator, the plan compiler and the cgroup
 *     code, most of what these would otherwise compile at every call;
 *   - full: every module, for the other commands.
 * A module a script lacks is still loaded (from its file, into the same module table).
 */
const CREATE = ['create', 'run', 'exec'];
/** The modules each lean command requires lazily (the static imports of these come along). */
const LEAN_ENTRIES = {
  state: ['src/lifecycle/state.js'],
  list: ['src/lifecycle/state.js'],
  start: ['src/lifecycle/start.js', 'src/sys/native.js'],
  // kill --all and the thaw after a SIGKILL of a paused container use the cgroup manager.
  kill: ['src/lifecycle/kill.js', 'src/sys/native.js', 'src/cgroup/manager.js'],
  delete: ['src/lifecycle/delete.js', 'src/sys/native.js', 'src/cgroup/manager.js'],
};
const LEAN = Object.keys(LEAN_ENTRIES);
const CREATE_ENTRIES = [
  ...CREATE.map((c) => `src/cli/commands/${c}.js`),
  'src/lifecycle/index.js', 'src/lifecycle/create.js', 'src/lifecycle/run.js', 'src/lifecycle/exec.js',
  'src/lifecycle/start.js', 'src/lifecycle/delete.js', 'src/lifecycle/hostmounts.js', 'src/lifecycle/notify.js',
  'src/lifecycle/console.js', 'src/lifecycle/fds.js', 'src/sys/native.js', 'src/spec/load.js', 'src/spec/checks.js',
  'src/spec/validate.js', 'schemas/config-validator.js', 'src/plan/compile.js', 'src/plan/process.js',
  'src/plan/netdev.js', 'src/plan/encode.js', 'src/plan/messages.js', 'src/plan/seccomp.js', 'src/plan/exec.js',
  'src/cgroup/index.js', 'src/cgroup/manager.js', 'src/cgroup/devices.js', 'src/cgroup/bpf.js',
  'src/cgroup/resources.js', 'src/cgroup/resources-v1.js', 'src/cgroup/resources-v2.js',
];

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

// ---- 2. the scripts -----------------------------------------------------------------------------

/**
 * Every module of the runtime: dist/src/** and the standalone schema validators (dist/schemas).
 * src/cli/main.js comes first: the loader's quick freshness check looks at it alone (bin/tsrunc).
 */
function allModules() {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dist, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = path.posix.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && e.name.endsWith('.js')) out.push(r);
    }
  };
  walk('src');
  for (const f of fs.readdirSync(path.join(dist, 'schemas')).sort()) if (f.endsWith('-validator.js')) out.push(`schemas/${f}`);
  return [MAIN, ...out.filter((r) => r !== MAIN)];
}

/**
 * The modules reachable from `entries` through top-level requires (tsc writes those at column 0:
 * `const x_1 = require("./x");`, `const fs = __importStar(require("fs"));`); requires inside
 * functions are the lazy ones: those the commands need are listed in LEAN_ENTRIES/CREATE_ENTRIES.
 */
function closure(entries) {
  const seen = new Set();
  const order = [];
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const abs = path.join(dist, rel);
    if (!fs.existsSync(abs)) fail(`${rel}: no such module (LEAN_ENTRIES/CREATE_ENTRIES are out of date)`);
    order.push(rel);
    const src = fs.readFileSync(abs, 'utf8');
    const re = /^(?:(?:const|var|let) [\w$]+ = (?:__importStar\(|__importDefault\()?)?require\("(\.{1,2}\/[^"]+)"\)/gm;
    for (const m of src.matchAll(re)) {
      let p = path.resolve(path.dirname(abs), m[1]);
      if (!p.endsWith('.js')) p += '.js';
      if (p.startsWith(dist + path.sep) && fs.existsSync(p)) visit(path.relative(dist, p));
    }
  };
  [MAIN, ...entries].forEach(visit);
  return order;
}

/**
 * A module's relative requires (lazy ones too), resolved now as Node would (the file, with .js,
 * a directory's index.js) to the dist modules they name: the script's require then looks them up
 * instead of running path.resolve for each (~50 per lean command).
 */
function relativeDeps(rel, text) {
  const deps = {};
  for (const m of text.matchAll(/\brequire\("(\.{1,2}\/[^"]*)"\)/g)) {
    const abs = path.resolve(path.dirname(path.join(dist, rel)), m[1]);
    for (const c of [abs, abs + '.js', path.join(abs, 'index.js')]) {
      if (c.startsWith(dist + path.sep) && c.endsWith('.js') && fs.statSync(c, { throwIfNoEntry: false })?.isFile()) {
        deps[m[1]] = path.relative(dist, c);
        break;
      }
    }
  }
  return deps;
}

/**
 * The manifest line holds, per module: path, size, mtime, and where its text sits in the script
 * (offset and length after the manifest line), so the loader can accept a file whose mtime
 * changed but whose text did not (a colleague's `tsc` run rewrites every file).
 *
 * The module system is deliberately smaller than Node's: a module is a plain {exports} object in
 * this script's own table, and one real require (bin/tsrunc's) serves
 * builtins, node_modules and files outside dist (the .node addon). Node's Module objects,
 * createRequire and node_modules path lists per module cost ~0.1 ms each, i.e. several ms for a
 * command that touches 40 modules. A relative or absolute id that names a module of ours (with or
 * without `.js`, or a directory's index.js) is served from the table; one that is not in this
 * script (a lean command's script holds only what that command uses) is read from disk and compiled
 * into the same table, so no module of ours ever has two instances (one TsruncError class, one
 * state store). `require.main` is undefined: main.js's `require.main === module` is false and
 * bin/tsrunc calls cli() itself.
 */
function buildScript(rels, id) {
  const manifest = [];
  const deps = {};
  let out = '(function (__nodeRequire, __dist) {\n"use strict";\nconst __defs = {\n';
  for (const rel of rels) {
    const abs = path.join(dist, rel);
    const st = fs.statSync(abs);
    const text = fs.readFileSync(abs, 'utf8');
    deps[rel] = relativeDeps(rel, text);
    // The module text is wrapped exactly like Node's CommonJS wrapper.
    out += `${JSON.stringify(rel)}: function (exports, require, module, __filename, __dirname) {\n`;
    manifest.push([rel, st.size, st.mtimeMs, out.length, text.length]);
    out += text;
    out += '\n},\n';
  }
  out += `};
const __deps = ${JSON.stringify(deps)};
const __fs = __nodeRequire('fs');
const __path = __nodeRequire('path');
const __mods = Object.create(null);
const __prefix = __dist + '/';
// Builtins, node_modules (resolved from bin/, as from dist/: both are in the repo) and absolute
// paths outside dist (the addon): bin/tsrunc's own require. A require made for a dist path
// (module.createRequire) would load node:module and the ESM loader it pulls in (~1 ms).
const __realRequire = __nodeRequire;
// What bin/tsrunc's require returned, by id: Node's require of a builtin copies every export of it
// into its ESM facade at each call (setExport ~100 times for fs), and each of our modules
// requires fs or path again.
const __byId = Object.create(null);
/** A module of ours that this script does not hold: compiled from its file, as Node would. */
function __fromDisk(rel) {
  let text;
  try {
    const st = __fs.statSync(__prefix + rel, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) return false;
    text = __fs.readFileSync(__prefix + rel, 'utf8');
  } catch {
    return false;
  }
  __defs[rel] = __nodeRequire('vm').compileFunction(text, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: __prefix + rel });
  return true;
}
function __require(dir, id) {
  const c = id.charCodeAt(0);
  if (c === 46 /* . */ || c === 47 /* / */) {
    const abs = c === 47 ? id : __path.resolve(dir, id);
    if (abs.startsWith(__prefix)) {
      const rel = abs.slice(__prefix.length);
      // Node's order for a file id: as given, with .js, then as a directory's index.js; the
      // script's own table first (a failed stat costs a thrown error).
      const candidates = rel.endsWith('.js') ? [rel] : [rel + '.js', rel + '/index.js'];
      for (const r of candidates) if (__defs[r] !== undefined) return __load(r);
      for (const r of candidates) if (__fromDisk(r)) return __load(r);
    }
    return __realRequire(abs);
  }
  return __byId[id] ?? (__byId[id] = __realRequire(id));
}
function __load(rel) {
  const hit = __mods[rel];
  if (hit !== undefined) return hit.exports;
  const abs = __prefix + rel;
  const dir = abs.slice(0, abs.lastIndexOf('/'));
  const m = { id: abs, filename: abs, exports: {}, loaded: false };
  __mods[rel] = m;
  const deps = __deps[rel];
  const req = function require(id) {
    const r = deps === undefined ? undefined : deps[id];
    if (r !== undefined && (__defs[r] !== undefined || __fromDisk(r))) return __load(r);
    return __require(dir, id);
  };
  try {
    __defs[rel].call(m.exports, m.exports, req, m, abs, dir);
  } catch (e) {
    delete __mods[rel];
    throw e;
  }
  m.loaded = true;
  return m.exports;
}
return __load(${JSON.stringify(MAIN)});
})`;
  const nonAscii = /[^\x00-\x7f]/.exec(out);
  if (nonAscii) {
    // Not an error, but a cost at every call: V8 then holds the whole script as a two-byte string.
    const where = manifest.filter((f) => f[3] <= nonAscii.index).pop();
    console.warn(`gen-bin: warning: ${JSON.stringify(nonAscii[0])} in dist/${where ? where[0] : '(loader)'}: write non-ASCII characters as \\u escapes`);
  }
  return `// ${JSON.stringify({ id, files: manifest })}\n${out}`;
}

// ---- 3. code caches, warmed in this process ------------------------------------------------------

/**
 * V8's code cache holds the functions compiled when it is made: run, in this process, the paths
 * that need no root and touch nothing outside a temp dir, so that their functions are in it (the
 * rest compile lazily on first call, as without a cache). A lean command's error paths for its
 * script; `explain` for the create script (config.json validation and the plan compiler, most
 * of what create and run do in JavaScript), after `spec` made its config.json; all of it for the
 * full one. A function cached but not run costs its share of the deserialization.
 */
function warmRuns(tmp) {
  const root = path.join(tmp, 'root');
  const bundle = path.join(tmp, 'bundle');
  const lean = {
    list: [['--root', root, 'list'], ['--root', root, 'list', '--format', 'json']],
    state: [['--root', root, 'state', 'x'], ['--root', root, '--log-format', 'json', 'state', 'x']],
    start: [['--root', root, 'start', 'x']],
    kill: [['--root', root, 'kill', 'x', 'KILL']],
    delete: [['--root', root, 'delete', 'x'], ['--root', root, 'delete', '--force', 'x']],
  };
  const create = [
    ['--root', root, 'explain', '--bundle', bundle, 'x'],
    ['--root', root, 'exec', 'x', 'true'],
    ['--root', root, 'create', '--bundle', path.join(tmp, 'none'), 'x'],
  ];
  return { ...lean, create, full: [...Object.values(lean).flat(), ...create, ['--root', root, 'explain', '--bundle', bundle, '--format', 'json', 'x']] };
}

async function warm(src, file, which) {
  const vm = require('vm');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-gen-bin-'));
  try {
    const sink = { write() {}, isTTY: false };
    const bundle = path.join(tmp, 'bundle');
    fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
    // The bundle's config.json, made by `spec` from the plain files (not part of any cache).
    const plain = require(path.join(dist, MAIN));
    await plain.main(['spec', '--bundle', bundle], { ...plain.defaultIo(), stdout() {}, stderr: sink });
    const script = new vm.Script(src, { filename: file });
    const main = script.runInThisContext()(require, dist);
    const io = { ...main.defaultIo(), stdout() {}, stderr: sink };
    for (const argv of warmRuns(tmp)[which]) await main.main(argv, io);
    return script.createCachedData();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const SCRIPTS = [
  ...LEAN.map((c) => ({ name: `tsrunc-${c}`, commands: [c], rels: closure([`src/cli/commands/${c}.js`, 'src/lifecycle/index.js', ...LEAN_ENTRIES[c]]), warm: c })),
  { name: 'tsrunc-create', commands: CREATE, rels: closure(CREATE_ENTRIES), warm: 'create' },
  { name: 'tsrunc-full', commands: [], rels: allModules(), warm: 'full' },
];

// ---- 4. bin/tsrunc ------------------------------------------------------------------------------

const node = process.execPath;
if (/\s/.test(node) || node.length > 120) fail(`cannot put ${JSON.stringify(node)} in a shebang line`);
const { GLOBAL_FLAGS } = require(path.join(dist, 'src', 'cli', 'table.js'));
const valueFlags = GLOBAL_FLAGS.filter((f) => f.type === 'string').flatMap((f) => [f.name, ...(f.aliases ?? [])]);
const bin = `#!${node}
'use strict';
// Generated by scripts/gen-bin.js; do not edit. Loads the command's script, dist/tsrunc-<lean
// command>.js, tsrunc-create.js or tsrunc-full.js (one script + V8 code cache each), when all the
// files it was built from are unchanged, else dist/src/cli/main.js.
const fs = require('fs');
const path = require('path');
// Node resolved this file's symlinks already (the main module's __filename is its real path), so
// a symlink such as /usr/local/bin/tsrunc finds the checkout's dist/.
const dist = path.join(__dirname, '..', 'dist');

/** The command's name: the first argument that is neither a global flag nor a global flag's value. */
function commandName(argv) {
  const withValue = ${JSON.stringify(valueFlags)};
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv[i + 1];
    if (a[0] !== '-') return a;
    const name = a.replace(/^--?/, '');
    if (!name.includes('=') && withValue.includes(name)) i++;
  }
  return undefined;
}

function writable(dir) {
  try { fs.accessSync(dir, fs.constants.W_OK); return true; } catch { return false; }
}

function hot(name, command) {
  if (process.env.TSRUNC_NO_BUNDLE) return undefined;
  const file = path.join(dist, name + '.js');
  let src;
  // As UTF-8: Node reads that straight into a string in C++ (the path that read this file), where
  // any other encoding or a Buffer takes the JavaScript path (~0.8 ms more at the first call here).
  try { src = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  const base = src.indexOf('\\n') + 1;
  let manifest;
  try { manifest = JSON.parse(src.slice(3, base - 1)); } catch { return undefined; }
  // Fresh if every file is unchanged: same size and mtime, or same text (rewritten by tsc). tsc
  // (a whole, non-incremental run, as this project's build does) rewrites every file it emits, so
  // the first file's size and mtime unchanged mean that tsc has not run since the script was made:
  // one stat instead of one per module.
  const files = manifest.files;
  let st0;
  try { st0 = fs.statSync(path.join(dist, files[0][0])); } catch { return undefined; }
  if (st0.size !== files[0][1] || st0.mtimeMs !== files[0][2]) {
    for (const [rel, size, mtime, off, len] of files) {
      const f = path.join(dist, rel);
      let st;
      try { st = fs.statSync(f); } catch { return undefined; }
      if (st.size !== size) return undefined;
      if (st.mtimeMs !== mtime) {
        try { if (fs.readFileSync(f, 'utf8') !== src.substr(base + off, len)) return undefined; } catch { return undefined; }
      }
    }
  }
  // Code caches: the build's, <name>.cache (what gen-bin's warm-up ran), and one per command of
  // the script, <name>.<command>.cache, written at the exit of the command's first successful call
  // made without a cache: it holds just what that command compiles, less to read and deserialize
  // at every later call than a cache of all the script's commands. A cache is only used if it was
  // made from this very build of the script (V8 itself checks little more than the source length):
  // its first line is \`tsrunc-hot <build id>\`.
  const readCache = (f) => {
    try {
      const c = fs.readFileSync(f);
      const nl = c.indexOf(10);
      if (nl > 0 && nl + 1 < c.length && c.subarray(0, nl).toString('latin1') === 'tsrunc-hot ' + manifest.id) return c.subarray(nl + 1);
    } catch { /* none */ }
    return undefined;
  };
  const shared = path.join(dist, name + '.cache');
  const own = command === undefined ? undefined : path.join(dist, name + '.' + command + '.cache');
  let from = own;
  let cachedData = own === undefined ? undefined : readCache(own);
  let learn = false;
  if (cachedData === undefined) {
    learn = own !== undefined && writable(dist);
    from = learn ? own : shared;
    if (!learn) cachedData = readCache(shared);
  }
  const script = new (require('vm').Script)(src, { filename: file, cachedData });
  // Written at exit: the command's own cache after a successful call, or a cache V8 rejected (node
  // upgraded) or that was lost.
  if (learn || cachedData === undefined || script.cachedDataRejected) {
    process.on('exit', (code) => {
      if (learn && code !== 0) return;
      try {
        const tmp = from + '.tmp-' + process.pid;
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from('tsrunc-hot ' + manifest.id + '\\n'), script.createCachedData()]), { mode: 0o644 });
        fs.renameSync(tmp, from);
      } catch { /* read-only install: run without a cache */ }
    });
  }
  return script.runInThisContext()(require, dist);
}

const scripts = ${JSON.stringify(Object.fromEntries(SCRIPTS.flatMap((sc) => sc.commands.map((c) => [c, sc.name]))))};
const command = commandName(process.argv);
const own = Object.prototype.hasOwnProperty.call(scripts, command);
(hot(own ? scripts[command] : 'tsrunc-full', own ? command : undefined) || require(path.join(dist, 'src', 'cli', 'main.js'))).cli();
`;

async function build() {
  for (const f of fs.readdirSync(dist)) {
    // Every script and cache of an earlier build (also of scripts this build no longer makes).
    if (/^tsrunc-[\w-]+\.(js|cache)$/.test(f) || /^tsrunc-[\w-]+\.[\w-]+\.cache$/.test(f)) fs.rmSync(path.join(dist, f), { force: true });
  }
  for (const sc of SCRIPTS) {
    const file = path.join(dist, `${sc.name}.js`);
    const buildId = require('crypto').randomBytes(12).toString('hex');
    const src = buildScript(sc.rels, buildId);
    writeAtomic(file, src, 0o644);
    const data = await warm(src, file, sc.warm);
    writeAtomic(path.join(dist, `${sc.name}.cache`), Buffer.concat([Buffer.from(`tsrunc-hot ${buildId}\n`), data]), 0o644);
  }
  fs.mkdirSync(path.join(repo, 'bin'), { recursive: true });
  writeAtomic(path.join(repo, 'bin', 'tsrunc'), bin, 0o755);
}

build().then(() => {
  console.log(`gen-bin: wrote bin/tsrunc (node ${node}, commit ${commit}), ${SCRIPTS.map((sc) => `dist/${sc.name}.js (${sc.rels.length} modules) + .cache`).join(', ')}`);
}, (e) => fail(`building the scripts: ${e && e.stack ? e.stack : e}`));
