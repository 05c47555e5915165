import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { OutputFormat, PrepareOptions } from '../../image/prepare-image.js';
import { definedOnly } from '../../protocol/wire/defined.js';
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
  /** `--optimize`: PrepareOptions.optimizeCoding. */
  optimize?: boolean;
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
  // An explicit --max-size replaces the profile's --resize (they are two ways of sizing), and what the profile
  // sets for a format the command line replaced does not apply (rgb565's byte order once --format jpeg is given).
  if (given('maxSize') && !given('resize')) {
    delete flags.resize;
    delete flags.fit;
  }
  const format = flags.format ?? 'auto';
  if (!given('byteOrder') && format !== 'rgb565') delete flags.byteOrder;
  if (!given('quality') && !QUALITY_FORMATS.includes(format)) delete flags.quality;
  if (!given('progressive') && !PROGRESSIVE_FORMATS.includes(format)) delete flags.progressive;
}

/** Formats `--quality` applies to (auto may make JPEG, WebP or AVIF). */
const QUALITY_FORMATS: readonly string[] = ['auto', 'jpeg', 'webp', 'avif'];
/** Formats `--progressive` applies to. */
const PROGRESSIVE_FORMATS: readonly string[] = ['auto', 'jpeg'];
/** The raw pixel formats: no metadata, no encoder. */
const RAW_FORMATS: readonly string[] = ['rgb565', 'rgb888', 'gray8', 'gray4', 'mono1'];

/**
 * Why these image options cannot be used together (after `applyProfile`), or undefined: an option that would be
 * silently ignored is an error (exit 2) instead. `keepMetadata` is `--keep-metadata`.
 */
export function imageOptionProblem(flags: ImageFlags & { keepMetadata?: boolean }): string | undefined {
  const format = flags.format ?? 'auto';
  const set = (
    [
      ['resize', '--resize'],
      ['maxSize', '--max-size'],
      ['fit', '--fit'],
      ['background', '--background'],
      ['quality', '--quality'],
      ['progressive', '--progressive'],
      ['optimize', '--optimize'],
      ['byteOrder', '--byte-order'],
    ] as const
  )
    .filter(([key]) => flags[key] !== undefined && flags[key] !== false)
    .map(([, option]) => option);
  if (format === 'original' && set.length > 0)
    return `--format original sends the file's bytes untouched, so ${set.join(', ')} would be ignored: drop ${set.length === 1 ? 'it' : 'them'}, or choose an output format (e.g. --format jpeg)`;
  if (flags.resize && flags.maxSize)
    return '--resize and --max-size are two ways of sizing the image: give one (--resize WxH for a display, --max-size WxH to fit inside)';
  if (flags.fit !== undefined && !flags.resize) return '--fit says how --resize fits: use it with --resize';
  if (flags.quality !== undefined && !QUALITY_FORMATS.includes(format))
    return `--quality applies to JPEG, WebP and AVIF, not to --format ${format}`;
  if (flags.progressive && !PROGRESSIVE_FORMATS.includes(format))
    return `--progressive applies to JPEG, not to --format ${format}`;
  if (flags.optimize && !PROGRESSIVE_FORMATS.includes(format))
    return `--optimize applies to JPEG, not to --format ${format}`;
  if (flags.byteOrder !== undefined && format !== 'rgb565')
    return `--byte-order applies to --format rgb565 only, not to ${format}`;
  if (flags.keepMetadata && RAW_FORMATS.includes(format))
    return `--keep-metadata: raw pixels (--format ${format}) carry no metadata`;
  return undefined;
}

/** Throws a UsageError when `imageOptionProblem` finds one. */
export function checkImageOptions(flags: ImageFlags & { keepMetadata?: boolean }): void {
  const problem = imageOptionProblem(flags);
  if (problem) throw new UsageError(problem);
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
    optimizeCoding: flags.optimize,
    byteOrder: flags.byteOrder,
    chunkBytes: flags.chunkSize,
  });
}
