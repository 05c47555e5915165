import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { UsageError } from '../../../errors.js';
import type { Manifest } from '../../../protocol/manifest/manifest.js';
import { numberedFileName, safeFileName } from '../../../protocol/wire/safe-file-name.js';
import { errnoCode } from '../../../util/errno-message.js';
import { PARTIAL_DIR } from './partial-file.js';

/** What a receiver does with the files it saves (`receive --save-as`, `--latest`, `--keep`). */
export interface SavedFilesOptions {
  /** The folder files are saved in. */
  outDir: string;
  /**
   * Where each file goes, relative to `outDir`, with placeholders (SAVE_AS_FIELDS): `{name}` (the sender's name,
   * made safe, with the extension of its type), `{stem}`, `{ext}`, `{topic}` (its levels become folders), `{id}`,
   * `{sha8}`, `{date}` (YYYY-MM-DD), `{time}` (HHMMSS), `{yyyy}` `{mm}` `{dd}` `{HH}` `{MM}` `{SS}` (local time of the
   * save). A `/` makes folders. Default `{name}`. A name already taken gets `-1`, `-2`... before its extension.
   */
  saveAs?: string | undefined;
  /** Keep `<outDir>/<latest>` always a copy of the newest saved image, replaced atomically. */
  latest?: string | undefined;
  /** Delete all but the newest `keep` saved images in `outDir` (the `latest` file apart). */
  keep?: number | undefined;
}

/** The placeholders of `--save-as`. */
export const SAVE_AS_FIELDS = [
  'name',
  'stem',
  'ext',
  'topic',
  'id',
  'sha8',
  'date',
  'time',
  'yyyy',
  'mm',
  'dd',
  'HH',
  'MM',
  'SS',
] as const;
type SaveAsField = (typeof SAVE_AS_FIELDS)[number];

/** Most base names whose next free number is remembered (each a few dozen bytes). */
const REMEMBERED_NAMES = 4096;

/** Why `template` cannot be a `--save-as` template, or undefined. */
export function saveAsProblem(template: string): string | undefined {
  if (template.trim() === '') return 'it is empty';
  for (const m of template.matchAll(/\{([^}]*)\}/g))
    if (!(SAVE_AS_FIELDS as readonly string[]).includes(m[1] ?? ''))
      return `{${m[1]}} is not a placeholder (use ${SAVE_AS_FIELDS.map((f) => `{${f}}`).join(' ')})`;
  if (template.startsWith('/') || template.split('/').includes('..'))
    return 'it must stay inside --out (no leading / and no ..)';
  return undefined;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** One path segment made safe: no control or reserved characters, no leading dot, never empty or `..`. */
function safeSegment(segment: string): string {
  const cleaned = segment
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f<>:"|?*\\]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim();
  return cleaned === '' ? '_' : cleaned;
}

/**
 * Saves verified files under names that never run out: the `--save-as` template, then `-1`, `-2`... when a name is
 * taken, found in constant time (the next number of each name is remembered; a name met taken for the first time is
 * looked up once in its folder); keeps the `--latest` copy and deletes beyond `--keep`.
 */
export class SavedFiles {
  /** Next number to try per taken path (`<dir>\0<file name>`), least recently used first. */
  private readonly nextNumber = new Map<string, number>();
  /** Files saved, oldest first, for `keep` (found at start, then each save). */
  private saved: string[] = [];
  private readonly template: string;

  constructor(private readonly options: SavedFilesOptions) {
    this.template = options.saveAs ?? '{name}';
    const problem = saveAsProblem(this.template);
    if (problem) throw new UsageError(`invalid --save-as "${this.template}": ${problem}`);
    if (options.latest !== undefined && safeSegment(options.latest) !== options.latest)
      throw new UsageError(
        `invalid --latest "${options.latest}": give a plain file name, such as current.jpg`,
      );
    if (options.keep !== undefined && (!Number.isInteger(options.keep) || options.keep < 1))
      throw new UsageError(`invalid --keep ${options.keep}: give a whole number of images, 1 or more`);
  }

  /** Finds the images already in `outDir` (for `keep`), oldest first. */
  async start(): Promise<void> {
    if (this.options.keep === undefined) return;
    const found: { path: string; mtimeMs: number }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && path !== this.latestPath()) {
          const info = await stat(path).catch(() => undefined);
          if (info) found.push({ path, mtimeMs: info.mtimeMs });
        }
      }
    };
    await walk(this.options.outDir);
    this.saved = found.sort((a, b) => a.mtimeMs - b.mtimeMs).map((f) => f.path);
  }

  /** The relative path `manifest` from `topic` is saved under at wall-clock `nowMs`, before numbering. */
  pathFor(manifest: Manifest, topic: string, nowMs: number): string {
    const name = safeFileName(manifest.name, manifest.type, manifest.pixelFormat);
    const dot = name.lastIndexOf('.');
    const at = new Date(nowMs);
    const [yyyy, mm, dd, HH, MM, SS] = [
      pad(at.getFullYear(), 4),
      pad(at.getMonth() + 1),
      pad(at.getDate()),
      pad(at.getHours()),
      pad(at.getMinutes()),
      pad(at.getSeconds()),
    ];
    const values: Record<SaveAsField, string> = {
      name,
      stem: dot > 0 ? name.slice(0, dot) : name,
      ext: dot > 0 ? name.slice(dot) : '',
      topic,
      id: manifest.id,
      sha8: manifest.sha256.slice(0, 8),
      date: `${yyyy}-${mm}-${dd}`,
      time: `${HH}${MM}${SS}`,
      yyyy,
      mm,
      dd,
      HH,
      MM,
      SS,
    };
    const filled = this.template.replace(/\{([^}]*)\}/g, (_, field: SaveAsField) => values[field]);
    return filled
      .split('/')
      .filter((segment) => segment !== '')
      .map(safeSegment)
      .join(sep);
  }

  /**
   * Moves the verified file at `partialPath` to its place in `outDir` (never over an existing file: link, then
   * unlink), keeps the `latest` copy and deletes beyond `keep`. Returns the saved path.
   */
  async save(partialPath: string, manifest: Manifest, topic: string, nowMs: number): Promise<string> {
    const wanted = join(this.options.outDir, this.pathFor(manifest, topic, nowMs));
    await mkdir(dirname(wanted), { recursive: true });
    const path = await this.placeUnderFreeName(partialPath, wanted);
    await this.afterSave(path);
    return path;
  }

  private async placeUnderFreeName(from: string, wanted: string): Promise<string> {
    const dir = dirname(wanted);
    const fileName = wanted.slice(dir.length + 1);
    const key = `${dir}\0${fileName}`;
    let n = this.nextNumber.get(key) ?? 0;
    for (let misses = 0; ; misses++) {
      const target = n === 0 ? wanted : join(dir, numberedFileName(fileName, n));
      if (await moveIfFree(from, target)) {
        this.remember(key, n + 1);
        return target;
      }
      // Taken: the first time for this name, jump past the highest number already in the folder.
      n = misses === 0 && n === 0 ? (await highestNumber(dir, fileName)) + 1 : n + 1;
    }
  }

  private remember(key: string, next: number): void {
    this.nextNumber.delete(key);
    this.nextNumber.set(key, next);
    if (this.nextNumber.size > REMEMBERED_NAMES) {
      const oldest = this.nextNumber.keys().next();
      if (!oldest.done) this.nextNumber.delete(oldest.value);
    }
  }

  private latestPath(): string | undefined {
    return this.options.latest === undefined ? undefined : join(this.options.outDir, this.options.latest);
  }

  private async afterSave(path: string): Promise<void> {
    const latest = this.latestPath();
    if (latest) {
      // A viewer reading `latest` sees the old image or the new one, never part of one: the copy is made under a
      // hidden temporary name, then renamed over it.
      const temporary = join(
        this.options.outDir,
        `.${this.options.latest}.${randomBytes(4).toString('hex')}.tmp`,
      );
      await link(path, temporary).catch(() => copyFile(path, temporary));
      await rename(temporary, latest).catch(async (error: unknown) => {
        await unlink(temporary).catch(() => {});
        throw error;
      });
    }
    const { keep } = this.options;
    if (keep === undefined) return;
    this.saved.push(path);
    while (this.saved.length > keep) {
      const old = this.saved.shift();
      if (old === undefined) break;
      await unlink(old).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
      });
      await this.removeEmptyFolders(dirname(old));
    }
  }

  /** Removes `dir` and its empty parents up to (not including) `outDir`, as date folders empty out. */
  private async removeEmptyFolders(dir: string): Promise<void> {
    const { outDir } = this.options;
    for (let d = dir; relative(outDir, d) !== '' && !relative(outDir, d).startsWith('..'); d = dirname(d)) {
      if (d.endsWith(PARTIAL_DIR)) return;
      const removed = await rmdir(d).then(
        () => true,
        () => false,
      );
      if (!removed) return;
    }
  }
}

/** Links `from` to `target` if `target` is free, then removes `from`; false when `target` is taken. */
async function moveIfFree(from: string, target: string): Promise<boolean> {
  try {
    await link(from, target);
    await unlink(from);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    // File systems without hard links: check, then rename (a tiny race, documented in the README).
    const taken = await stat(target).then(
      () => true,
      () => false,
    );
    if (taken) return false;
    await rename(from, target);
    return true;
  }
}

/** The highest `N` of `stem-N.ext` files beside `fileName` in `dir` (0 when none): one look at the folder. */
async function highestNumber(dir: string, fileName: string): Promise<number> {
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const ext = dot > 0 ? fileName.slice(dot) : '';
  let highest = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(`${stem}-`) || !name.endsWith(ext)) continue;
    const digits = name.slice(stem.length + 1, name.length - ext.length);
    if (/^[1-9][0-9]{0,15}$/.test(digits)) highest = Math.max(highest, Number(digits));
  }
  return highest;
}
