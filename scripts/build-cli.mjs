// Bundles the CLI for a fast start (issue #12). `npm run build` runs this after tsc: it replaces tsc's dist/bin/
// with a bundle of src/bin/mqimg.ts, whose entry keeps the path package.json "bin" and the tests use,
// dist/bin/mqimg.js. README.md ("Start-up") says why; in short:
//
// - One module graph instead of some 300 files from node_modules: Node resolves and reads a few files, not hundreds.
// - Code splitting: what a command imports with `await import(...)` (mqtt, zod, the sessions, cli-progress) is a
//   chunk of its own (dist/bin/mqimg-*.js), read only when that command runs: `mqimg --help` loads commander and
//   the command definitions, nothing else.
// - CommonJS output: esbuild splits ES modules, and each chunk is then turned into CommonJS (dist/bin/package.json
//   says so), because Node starts its ES module loader for the first ES module it meets, ~7 ms that `mqimg --help`
//   would spend on nothing else. Dynamic imports become require() calls, except of ESM-only packages (aedes).
// - sharp (native), aedes and ws stay outside, loaded from node_modules when needed (`mqimg broker`, `demo`, ws://).
// - Two dependencies load modules at start that mqimg almost never uses, and are rewritten here to load them on
//   first use (LAZY_REQUIRES): mqtt.js loads every transport it knows (WebSocket with `ws`, SOCKS, TLS) at the first
//   connect, ~15 ms for an mqtt:// connection; commander loads node:child_process (~4 ms) for executable
//   subcommands, which mqimg has none of.
//
// The library (dist/index.js and its types) stays tsc's output: this changes only the executable.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build, transform } from 'esbuild';

const OUT = 'dist/bin';
/** External packages that are ES modules only: imported with a real `import()`, never require(). */
const ESM_ONLY = ['aedes'];
/** The entry file of the bundle, the one package.json "bin" names. */
const ENTRY = 'mqimg.js';

/**
 * Dependency files whose `require`s are made lazy, each with what is rewritten and how many times it must occur:
 * a different count means the dependency changed, and the build stops rather than guess.
 */
const LAZY_REQUIRES = [
  {
    file: /[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]index\.js$/,
    // protocols.ws = require('./ws').streamBuilder;  ->  protocols.ws = (c, o) => require('./ws').streamBuilder(c, o);
    pattern: /protocols\.(\w+) = require\('(\.\/\w+)'\)\.(\w+);/g,
    replace: "protocols.$1 = (client, opts) => require('$2').$3(client, opts);",
    count: 12,
  },
  {
    file: /[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/](tcp|tls)\.js$/,
    // socks is needed only with a SOCKS proxy (MQTTJS_SOCKS_PROXY).
    pattern: /const socks_1 = __importDefault\(require\("\.\/socks"\)\);/g,
    replace: 'const socks_1 = { get default() { return __importDefault(require("./socks")).default; } };',
    count: 1,
  },
  {
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    // Used only to run executable subcommands (`childProcess.spawn`).
    pattern: /const childProcess = require\('node:child_process'\);/g,
    replace: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
    count: 1,
  },
];

/** esbuild plugin: applies LAZY_REQUIRES. */
const lazyRequires = {
  name: 'lazy-requires',
  setup(build) {
    for (const { file, pattern, replace, count } of LAZY_REQUIRES) {
      build.onLoad({ filter: file }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const found = source.match(pattern)?.length ?? 0;
        if (found !== count)
          throw new Error(
            `${args.path}: expected ${count} matches of ${pattern}, found ${found}: the package changed; update LAZY_REQUIRES in scripts/build-cli.mjs`,
          );
        return { contents: source.replace(pattern, replace), loader: 'js' };
      });
    }
  },
};

await rm(OUT, { recursive: true, force: true });
// 1. ES modules, split at every dynamic import.
const { metafile } = await build({
  entryPoints: { mqimg: 'src/bin/mqimg.ts' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'mqimg-[name]-[hash]',
  external: ['sharp', 'aedes', 'ws'],
  plugins: [lazyRequires],
  metafile: true,
  define: {
    // A CommonJS module has no import.meta: every file defines this getter (below), from its own file name.
    'import.meta.url': '__mqimgModule.url',
    // `mqimg --version` without reading package.json at every start (src/bin/main.ts).
    MQIMG_VERSION: JSON.stringify(JSON.parse(await readFile('package.json', 'utf8')).version),
  },
  logLevel: 'warning',
});
// 2. Each file turned into CommonJS, in place. Source maps are left out: a stack trace names the bundle's own
// lines, which keep the source's names and comments (not minified).
const esmOnly = new RegExp(`\\bimport\\("(${ESM_ONLY.join('|')})"\\)`, 'g');
for (const file of (await readdir(OUT)).filter((f) => f.endsWith('.js'))) {
  const path = join(OUT, file);
  const esm = (await readFile(path, 'utf8')).replace(esmOnly, '__mqimgImportEsm("$1")');
  const { code } = await transform(esm, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    loader: 'js',
    // import() of a chunk, of Node's modules and of CommonJS packages becomes require(): no ES module loader.
    supported: { 'dynamic-import': false },
    // import() of an ESM_ONLY package goes through the entry file, which Node compiles itself: the other files may
    // be compiled by src/bin/code-cache.ts with vm.Script, where Node 20 has no working import() (the entry file
    // is loaded before that cache is installed).
    banner: [
      'const __mqimgModule = { get url() { return require("node:url").pathToFileURL(__filename).href; } };',
      file === ENTRY
        ? 'const __mqimgImportEsm = (globalThis.__mqimgImportEsm = (specifier) => import(specifier));'
        : 'const __mqimgImportEsm = (specifier) => globalThis.__mqimgImportEsm(specifier);',
    ].join('\n'),
    logLevel: 'warning',
  });
  if (/\bimport\(/.test(code.replaceAll('(specifier) => import(specifier)', '')))
    throw new Error(`${path}: an import() is left that is neither a chunk nor ESM_ONLY; add it to ESM_ONLY`);
  await writeFile(path, code);
}
await writeFile(join(OUT, 'package.json'), '{ "type": "commonjs" }\n');
// 3. Which packages each file carries, for test/e2e/startup.test.ts (what a command loads) and for the curious.
const packages = Object.fromEntries(
  Object.entries(metafile.outputs)
    .filter(([path]) => path.endsWith('.js'))
    .map(([path, { inputs }]) => [
      basename(path),
      [
        ...new Set(
          Object.keys(inputs).flatMap((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(i)?.[1] ?? []),
        ),
      ].sort(),
    ])
    .filter(([, names]) => names.length > 0),
);
await writeFile(join(OUT, 'bundle.json'), `${JSON.stringify({ packages }, null, 1)}\n`);
// 4. The man page (`man mqimg` once installed: package.json "man"), written by the CLI from the same command
// definitions as its --help (src/cli/help/man-page.ts), so that the two never disagree.
const { execFileSync } = await import('node:child_process');
const { mkdir } = await import('node:fs/promises');
await mkdir('dist/man', { recursive: true });
const manPage = execFileSync(process.execPath, [join(OUT, ENTRY), 'completion', 'man'], {
  encoding: 'utf8',
  env: { ...process.env, MQIMG_CODE_CACHE: '0' },
});
await writeFile('dist/man/mqimg.1', `${manPage}\n`);
