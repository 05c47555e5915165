import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import vm from 'node:vm';

/** What this file needs of Node's CommonJS loader, which its types do not declare. */
interface LoaderModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

/**
 * Keeps V8's compiled code for the CLI bundle's own files across runs, for Node versions without
 * `module.enableCompileCache` (Node 20; from 22.1 Node does this itself and this is not installed). Without it,
 * every start compiles ~1.2 MB of JavaScript again: mqtt.js alone is ~760 KB. Each file of `binDir` is compiled
 * with the cached data kept for it, if any, in `<cache>/v8-<node version>-<arch>/<file>-<size>-<mtime>`, where
 * `<cache>` is `$XDG_CACHE_HOME/mqimg` or `~/.cache/mqimg`; a file compiled without usable data has its data
 * written at exit (after this run compiled what it used), atomically, so concurrent runs never see half a file.
 * The directory must belong to this user and be closed to others (cached code is code), else nothing is used.
 * `MQIMG_CODE_CACHE=0` turns it off. Never throws: any failure just compiles as usual.
 */
export function installCodeCache(binDir: string): void {
  if (process.env.MQIMG_CODE_CACHE === '0') return;
  const dir = cacheDir();
  if (!dir) return;
  const loader = Module.prototype as unknown as LoaderModule;
  const compile = loader._compile;
  const toWrite: Array<{ path: string; script: vm.Script }> = [];
  loader._compile = function (this: LoaderModule, content: string, filename: string) {
    if (dirname(filename) !== binDir) return compile.call(this, content, filename);
    let path: string;
    try {
      const info = statSync(filename);
      path = join(dir, `${basename(filename)}-${info.size}-${Math.trunc(info.mtimeMs)}`);
    } catch {
      return compile.call(this, content, filename);
    }
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(path);
    } catch {
      cachedData = undefined;
    }
    // No import() in these files: the build routes it through the entry file (scripts/build-cli.mjs), because
    // vm.Script on Node 20 has no working one.
    const script = new vm.Script(Module.wrap(content), { filename, ...(cachedData ? { cachedData } : {}) });
    if (!cachedData || script.cachedDataRejected) toWrite.push({ path, script });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(
      this.exports,
      this.exports,
      Module.createRequire(filename),
      this,
      filename,
      dirname(filename),
    );
  };
  process.once('exit', () => {
    for (const { path, script } of toWrite) {
      try {
        const temporary = `${path}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        renameSync(temporary, path);
      } catch {
        // a cache that cannot be written is only a slower next start
      }
    }
  });
}

/** This user's cache directory for this Node, made if needed; undefined if it is not safely this user's own. */
function cacheDir(): string | undefined {
  try {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    const dir = join(base, 'mqimg', `v8-${process.version}-${process.arch}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    const uid = process.getuid?.();
    if (uid !== undefined && (info.uid !== uid || (info.mode & 0o077) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}
