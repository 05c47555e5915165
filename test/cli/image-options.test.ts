import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyProfile, type ImageFlags, imageOptions } from '../../src/cli/options/image-options.js';
import { dimensions, integerIn } from '../../src/cli/options/parse-values.js';

/** A command with some of the image options, as `relay` has them (no --format, --fit, --progressive...). */
function relayLike(): Command {
  return new Command('relay')
    .exitOverride()
    .option('--profile <name>')
    .option('--resize <WxH>', '', dimensions)
    .option('--quality <1-100>', '', integerIn(1, 100));
}

function parse(command: Command, args: string[]): ImageFlags {
  command.parse(args, { from: 'user' });
  return command.opts<ImageFlags>();
}

// Built-in profiles only (a user's own may redefine one).
beforeEach(() => vi.stubEnv('MQIMG_PROFILES', ''));
afterEach(() => vi.unstubAllEnvs());

describe('applyProfile and imageOptions (send and relay)', () => {
  it('fills in from the profile what the command line did not say, options it lacks included', async () => {
    const command = relayLike();
    const flags = parse(command, ['--profile', 'ili9341-jpeg', '--quality', '60']);
    await applyProfile(command, flags);
    expect(imageOptions(flags)).toEqual({
      format: 'jpeg',
      quality: 60, // given: it wins
      resize: { width: 320, height: 240 },
      fit: 'cover',
      progressive: false,
      chunkBytes: 4096,
    });
  });

  it('sets nothing that neither the command line nor a profile says', async () => {
    const command = relayLike();
    const flags = parse(command, ['--resize', '10x20']);
    await applyProfile(command, flags);
    expect(imageOptions(flags)).toEqual({ resize: { width: 10, height: 20 } });
  });
});
