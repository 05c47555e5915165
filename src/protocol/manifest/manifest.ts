import * as z from 'zod';
import { NONCE_PATTERN } from '../security/receipt.js';
import { signatureSchema } from '../security/signature.js';
import { fromBase64, fromUtf8, utf8 } from '../wire/bytes.js';
import { chunkCount } from '../wire/chunking.js';
import {
  MAX_CHUNK_BYTES,
  MAX_IMAGE_BYTES,
  MAX_NAME_LENGTH,
  MIN_CHUNK_BYTES,
  PIXEL_FORMATS,
  PROTOCOL_VERSION,
  TRANSFER_ID_PATTERN,
} from '../wire/constants.js';
import { HASH_BYTES, MAX_HASH_PAGES, maxChunksFor, pageCount } from './chunk-hashes.js';

export { TRANSFER_ID_PATTERN };

/**
 * The manifest: one JSON object, published before the chunks, that says what is coming and how to check it.
 * Unknown fields are allowed and ignored (they are how later minor versions add pixel formats, signatures,
 * encryption); a different major `mqimg` version is refused.
 */
export const manifestSchema = z
  .looseObject({
    /** Protocol major version; always 3 for this version. */
    mqimg: z.literal(PROTOCOL_VERSION),
    /** Transfer id, 16 lowercase hex digits, random and new for every send; also the topic level after `mqimg`. */
    id: z.string().regex(TRANSFER_ID_PATTERN),
    /** 16 random bytes as 32 hex digits, new for every send: the key of the proof of receipt (receipt.ts). */
    nonce: z.string().regex(NONCE_PATTERN),
    /** Suggested file name (UTF-8). Receivers must sanitise it before using it as a path. */
    name: z.string().min(1).max(MAX_NAME_LENGTH),
    /** Media type of the bytes, e.g. `image/jpeg`. */
    type: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/),
    /** Size of the file in bytes. */
    size: z.number().int().min(1).max(MAX_IMAGE_BYTES),
    /** Payload bytes of every chunk but the last. */
    chunkBytes: z.number().int().min(MIN_CHUNK_BYTES).max(MAX_CHUNK_BYTES),
    /** Number of chunks: ceil(size / chunkBytes). */
    chunks: z.number().int().min(1),
    /** SHA-256 of the whole file, 64 lowercase hex digits. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /**
     * The 16-byte hash of every hash page, concatenated, in standard base64: the commitment to every chunk
     * (chunk-hashes.ts). Its decoded length is 16 * pageCount(chunks, chunkBytes).
     */
    pages: z
      .string()
      .regex(/^[A-Za-z0-9+/]*={0,2}$/)
      .max(4 * Math.ceil((MAX_HASH_PAGES * HASH_BYTES) / 3)),
    /** Image width in pixels, as stored in the file. */
    width: z.number().int().min(1).max(1_000_000),
    /** Image height in pixels, as stored in the file. */
    height: z.number().int().min(1).max(1_000_000),
    /** When the sender prepared the transfer, in milliseconds since the Unix epoch. */
    createdMs: z.number().int().min(0),
    /** For raw pixels (`type` application/octet-stream): their layout, e.g. `rgb565le`. Absent for image files. */
    pixelFormat: z.enum(PIXEL_FORMATS).optional(),
    /** For raw pixels: bytes per row, rows padded to whole bytes. */
    stride: z.number().int().min(1).optional(),
    /** Latest wins: receivers drop unfinished older transfers (smaller `createdMs`) on the same topic. */
    supersede: z.boolean().optional(),
    /**
     * Named receivers (`mqimg send --recipient`): the sender's ephemeral X25519 public key for this send, 32 bytes in
     * standard base64 (44 characters). A receiver with an identity derives its status key from it (PROTOCOL.md 12.1).
     */
    epk: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/)
      .optional(),
    /** Ed25519 signature by the sender (`mqimg send --sign`); see PROTOCOL.md, signed transfers. */
    sig: signatureSchema.optional(),
  })
  .refine((m) => m.chunks === chunkCount(m.size, m.chunkBytes), {
    message: 'chunks must equal ceil(size / chunkBytes)',
    path: ['chunks'],
  })
  .refine((m) => m.chunks <= maxChunksFor(m.chunkBytes), {
    message: `too many chunks for the chunk size: at most ${MAX_HASH_PAGES} hash pages of chunkBytes / 16 hashes`,
    path: ['chunks'],
  })
  .refine((m) => fromBase64(m.pages)?.length === HASH_BYTES * pageCount(m.chunks, m.chunkBytes), {
    message: 'pages must hold 16 bytes for each hash page: 16 * ceil(chunks / floor(chunkBytes / 16))',
    path: ['pages'],
  })
  .refine((m) => m.pixelFormat === undefined || (m.stride !== undefined && m.size === m.stride * m.height), {
    message: 'raw pixels need a stride, and size must equal stride * height',
    path: ['stride'],
  });

/** A validated manifest (unknown extra fields are kept but typed as unknown). */
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * Why a manifest payload was refused: `not_json`, `unsupported_version`, `invalid_manifest`; with encryption
 * (`wire-manifest.ts`) also `encrypted`, `not_encrypted` and `wrong_key`.
 */
export type ManifestProblem = {
  code: 'not_json' | 'unsupported_version' | 'invalid_manifest' | 'encrypted' | 'not_encrypted' | 'wrong_key';
  message: string;
};

/** Parses a payload as JSON. Never throws. */
export function parseJson(
  payload: Uint8Array,
): { ok: true; value: unknown } | { ok: false; problem: ManifestProblem } {
  try {
    return { ok: true, value: JSON.parse(fromUtf8(payload)) };
  } catch {
    return { ok: false, problem: { code: 'not_json', message: 'manifest is not valid JSON' } };
  }
}

/** Parses and validates a plain (not encrypted) manifest payload (UTF-8 JSON). Never throws. */
export function parseManifest(
  payload: Uint8Array,
): { ok: true; manifest: Manifest } | { ok: false; problem: ManifestProblem } {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const value = json.value;
  if (typeof value === 'object' && value !== null && 'enc' in value) {
    // Another version's sealed manifest says so, rather than asking for a secret that would not help.
    const version = validateManifest(value);
    if (!version.ok && version.problem.code === 'unsupported_version') return version;
    return {
      ok: false,
      problem: {
        code: 'encrypted',
        message: 'the transfer is encrypted: run the receiver with --encrypt and the shared secret file',
      },
    };
  }
  return validateManifest(value);
}

/** Validates a parsed manifest object against the version and the schema. Never throws. */
export function validateManifest(
  value: unknown,
): { ok: true; manifest: Manifest } | { ok: false; problem: ManifestProblem } {
  if (typeof value === 'object' && value !== null && 'mqimg' in value && value.mqimg !== PROTOCOL_VERSION) {
    return {
      ok: false,
      problem: {
        code: 'unsupported_version',
        message: `manifest is protocol version ${JSON.stringify(value.mqimg)}; this receiver speaks version ${PROTOCOL_VERSION}`,
      },
    };
  }
  const result = manifestSchema.safeParse(value);
  if (!result.success) return { ok: false, problem: schemaProblem(result.error) };
  return { ok: true, manifest: result.data };
}

/** An `invalid_manifest` problem listing every schema issue. */
export function schemaProblem(error: z.ZodError): ManifestProblem {
  const issues = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return { code: 'invalid_manifest', message: `manifest fails the schema: ${issues}` };
}

/** Serialises a manifest to the exact bytes published (compact UTF-8 JSON). */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return utf8(JSON.stringify(manifest));
}
