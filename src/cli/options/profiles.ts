import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { FITS, OUTPUT_FORMATS } from '../../image/output-formats.js';
import { nearestName } from '../../util/nearest-name.js';

/** A named set of `mqimg send` options for one kind of display. Explicit options on the command line win. */
export const profileSchema = z.strictObject({
  description: z.string().optional(),
  format: z.enum(OUTPUT_FORMATS).optional(),
  resize: z
    .string()
    .regex(/^\d{1,5}x\d{1,5}$/)
    .optional(),
  fit: z.enum(FITS).optional(),
  background: z.string().optional(),
  quality: z.number().int().min(1).max(100).optional(),
  progressive: z.boolean().optional(),
  byteOrder: z.enum(['le', 'be']).optional(),
  chunkSize: z
    .number()
    .int()
    .min(64)
    .max(512 * 1024)
    .optional(),
});
/** A validated profile (`profileSchema`). */
export type Profile = z.infer<typeof profileSchema>;

/** Profiles that ship with mqimg. README.md lists them. */
export const BUILT_IN_PROFILES: Record<string, Profile> = {
  'ili9341-rgb565': {
    description: '320x240 ILI9341 TFT (ESP32, LVGL): raw RGB565 little-endian, cropped to fill, 4 KiB chunks',
    resize: '320x240',
    fit: 'cover',
    format: 'rgb565',
    byteOrder: 'le',
    chunkSize: 4096,
  },
  'ili9341-jpeg': {
    description: '320x240 TFT decoding JPEG with TJpgDec: baseline JPEG, quality 80, 4 KiB chunks',
    resize: '320x240',
    fit: 'cover',
    format: 'jpeg',
    quality: 80,
    progressive: false,
    chunkSize: 4096,
  },
  'epaper-296x128': {
    description:
      '2.9" e-paper tag, 296x128 black and white: 1 bit per pixel, dithered, letterboxed on white, 1 KiB chunks',
    resize: '296x128',
    fit: 'contain',
    background: 'white',
    format: 'mono1',
    chunkSize: 1024,
  },
  'tablet-1024x600': {
    description: '1024x600 wall tablet: JPEG quality 85, cropped to fill',
    resize: '1024x600',
    fit: 'cover',
    format: 'jpeg',
    quality: 85,
  },
};

/** Where user profiles are read from: `$MQIMG_PROFILES`, else `~/.config/mqimg/profiles.json` if it exists. */
export function userProfilesPath(): string | undefined {
  if (process.env.MQIMG_PROFILES) return process.env.MQIMG_PROFILES;
  const path = join(homedir(), '.config', 'mqimg', 'profiles.json');
  return existsSync(path) ? path : undefined;
}

/** Looks a profile up among the user's (which win) and the built-in ones; throws a UsageError naming the choices. */
export function findProfile(name: string, path = userProfilesPath()): Profile {
  const user = path ? readUserProfiles(path) : {};
  const profile = user[name] ?? BUILT_IN_PROFILES[name];
  if (!profile) {
    const names = [...new Set([...Object.keys(BUILT_IN_PROFILES), ...Object.keys(user)])].sort().join(', ');
    const read = path
      ? `from ${path} and built in`
      : 'built in; yours go in ~/.config/mqimg/profiles.json or the file MQIMG_PROFILES names';
    const near = nearestName(name, names.split(', '));
    throw new UsageError(
      `unknown --profile "${name}"; known profiles: ${names} (${read})${near ? `; did you mean ${near}?` : ''}`,
    );
  }
  return profile;
}

function readUserProfiles(path: string): Record<string, Profile> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read profiles from ${path}: ${(error as Error).message}`);
  }
  const result = z.record(z.string(), profileSchema).safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(
      `profiles in ${path} are invalid at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`,
    );
  }
  return result.data;
}
