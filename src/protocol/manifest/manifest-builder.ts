import { chunkCount } from '../wire/chunking.js';
import { PROTOCOL_VERSION } from '../wire/constants.js';
import type { Manifest } from './manifest.js';

/** What the manifest says about a file: what `prepareImage` returns, without needing its type. */
export interface ManifestSource {
  bytes: Uint8Array;
  name: string;
  mediaType: string;
  width: number;
  height: number;
  pixelFormat?: Manifest['pixelFormat'] | undefined;
  stride?: number | undefined;
}

/**
 * The manifest of `file` as transfer `id`, sent in chunks of `chunkBytes`; `sha256` is the file's, in lowercase
 * hex; `createdMs` is wall-clock time in milliseconds since the Unix epoch. Control characters in the name become
 * `_`. Pure: the id, nonce and hashes are the caller's (transfer-id.ts, chunk-hashes.ts).
 */
export function composeManifest(
  file: ManifestSource,
  fields: {
    id: string;
    nonce: string;
    sha256: string;
    /** Base64 of the page hashes (chunk-hashes.ts). */
    pages: string;
    chunkBytes: number;
    createdMs: number;
    supersede?: boolean;
  },
): Manifest {
  const manifest: Manifest = {
    mqimg: PROTOCOL_VERSION,
    id: fields.id,
    nonce: fields.nonce,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
    name: file.name.replace(/[\u0000-\u001f\u007f]/g, '_'),
    type: file.mediaType,
    size: file.bytes.length,
    chunkBytes: fields.chunkBytes,
    chunks: chunkCount(file.bytes.length, fields.chunkBytes),
    sha256: fields.sha256,
    pages: fields.pages,
    width: file.width,
    height: file.height,
    createdMs: fields.createdMs,
  };
  if (file.pixelFormat !== undefined) manifest.pixelFormat = file.pixelFormat;
  if (file.stride !== undefined) manifest.stride = file.stride;
  if (fields.supersede) manifest.supersede = true;
  return manifest;
}
