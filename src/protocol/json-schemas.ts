import { z } from 'zod';
import { sealedManifestSchema } from './encryption.js';
import { manifestSchema } from './manifest.js';
import { statusSchema } from './status.js';

/**
 * JSON Schemas (draft 2020-12) of the wire messages, generated from the zod schemas that validate them, so that
 * PROTOCOL.md quotes the same contract the code enforces (a test compares them). The manifest's rule that
 * `chunks` equals ceil(size / chunkBytes) is not expressible in JSON Schema; PROTOCOL.md states it.
 */
export function wireJsonSchemas(): { manifest: unknown; sealedManifest: unknown; status: unknown } {
  return {
    manifest: z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }),
    sealedManifest: z.toJSONSchema(sealedManifestSchema, { io: 'input', unrepresentable: 'any' }),
    status: z.toJSONSchema(statusSchema, { io: 'input' }),
  };
}
