import type { Command } from 'commander';
import type { OutputFormat, PrepareOptions } from '../image/prepare-image.js';
import { definedOnly } from '../protocol/defined.js';
import { dimensions } from './parse-values.js';

/** The image options `send` and `relay` share, parsed; those of the library have its names and types. */
export interface ImageFlags
  extends Pick<
    PrepareOptions,
    'quality' | 'maxSize' | 'resize' | 'fit' | 'background' | 'progressive' | 'byteOrder'
  > {
  format?: OutputFormat;
  /** `--profile`: a display preset (profiles.ts). */
  profile?: string;
  /** `--chunk-size`, in bytes. */
  chunkSize?: number;
}

/**
 * With `--profile`, fills `flags` in from the profile wherever the command line (or the environment) did not say
 * otherwise: explicit options win. A command that lacks one of the options takes the profile's value for it.
 * Throws a UsageError for an unknown profile.
 */
export async function applyProfile(command: Command, flags: ImageFlags): Promise<void> {
  if (flags.profile === undefined) return;
  const { findProfile } = await import('./profiles.js');
  const profile = findProfile(flags.profile);
  const given = (name: keyof ImageFlags) => ['cli', 'env'].includes(command.getOptionValueSource(name) ?? '');
  if (!given('format') && profile.format) flags.format = profile.format;
  if (!given('resize') && profile.resize) flags.resize = dimensions(profile.resize);
  if (!given('fit') && profile.fit) flags.fit = profile.fit;
  if (!given('background') && profile.background) flags.background = profile.background;
  if (!given('quality') && profile.quality !== undefined) flags.quality = profile.quality;
  if (!given('progressive') && profile.progressive !== undefined) flags.progressive = profile.progressive;
  if (!given('byteOrder') && profile.byteOrder) flags.byteOrder = profile.byteOrder;
  if (!given('chunkSize') && profile.chunkSize !== undefined) flags.chunkSize = profile.chunkSize;
}

/** The options of `sendImages` and `sendFeed` that `flags` set (after `applyProfile`), and none that they did not. */
export function imageOptions(flags: ImageFlags): PrepareOptions & { chunkBytes?: number } {
  return definedOnly({
    format: flags.format,
    quality: flags.quality,
    maxSize: flags.maxSize,
    resize: flags.resize,
    fit: flags.fit,
    background: flags.background,
    progressive: flags.progressive,
    byteOrder: flags.byteOrder,
    chunkBytes: flags.chunkSize,
  });
}
