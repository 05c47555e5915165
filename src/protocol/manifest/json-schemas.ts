import * as z from 'zod';
import { sealedManifestSchema } from '../security/encryption.js';
import { statusSchema } from '../status/status.js';
import { manifestSchema } from './manifest.js';

/**
 * JSON Schemas (draft 2020-12) of the wire messages, generated from the zod schemas that validate them, so that
 * PROTOCOL.md quotes the same contract the code enforces (test/protocol/protocol-doc.test.ts compares them). The
 * manifest's rules that relate fields are not expressible in JSON Schema (zod refinements, which the generator
 * leaves out): `chunks` = ceil(size / chunkBytes), at most 128 hash pages of floor(chunkBytes / 16) chunk hashes,
 * the decoded length of `pages` (16 bytes per hash page), and `stride` with `pixelFormat`; PROTOCOL.md states them.
 * String lengths (`name`'s maxLength) count Unicode code points, in JSON Schema as in zod.
 */
export function wireJsonSchemas(): { manifest: unknown; sealedManifest: unknown; status: unknown } {
  return {
    manifest: z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }),
    sealedManifest: z.toJSONSchema(sealedManifestSchema, { io: 'input', unrepresentable: 'any' }),
    status: z.toJSONSchema(statusSchema, { io: 'input' }),
  };
}
