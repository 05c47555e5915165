/** Short reasons for the file-system errors a user can meet and fix, by Node's `code`. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`...), or undefined for any other value. */
export function errnoCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Why a file-system call failed, in a few words for a message such as `--ca ca.pem: cannot read it (no such
 * file)`: a short phrase for the common codes (`overrides` replaces some, e.g. `{ ENOENT: 'no such file or
 * folder' }`), else the code itself, else the error's message.
 */
export function errnoMessage(error: unknown, overrides: Readonly<Record<string, string>> = {}): string {
  const code = errnoCode(error);
  if (code !== undefined) return overrides[code] ?? REASONS[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}
