/// <reference lib="dom" />
import { PIXEL_FORMATS, type PixelFormat } from '../protocol/wire/constants.js';
import { monotonicClock } from '../util/clock.js';
import type { StoredImage } from './image-store.js';
import { rawToRgba } from './raw-pixels.js';

/** When an image went on screen, for the overlay, the tests and monitoring. */
export interface ShownImage {
  name: string;
  sha256: string;
  /** Monotonic time (the clock of util/clock.ts, ms) the new element replaced the old one in the page. */
  swappedMs: number;
  /** Monotonic time of the first animation frame after the swap: the frame that paints it. */
  frameMs: number;
}

const isPixelFormat = (format: string | undefined): format is PixelFormat =>
  (PIXEL_FORMATS as readonly string[]).includes(format ?? '');

/**
 * The full-screen image. A new image is decoded off screen (an `<img>` after `decode()`, or a `<canvas>` for raw
 * pixels) and only then swapped in, in one step, so that the screen never goes blank or shows half an image.
 * The element on screen carries `data-mqimg-sha256` (the SHA-256 of the file it shows) and `data-mqimg-name`.
 * When images arrive faster than they decode, only the newest is swapped in.
 */
export class PageView {
  private generation = 0;
  private objectUrl: string | undefined;

  constructor(private readonly stage: HTMLElement) {}

  /**
   * Decodes `image` and swaps it in. Resolves with when it went on screen, `'overtaken'` when a newer image was
   * decoded first (this one is left out), or undefined when it could not be decoded.
   */
  async show(image: StoredImage, restored = false): Promise<ShownImage | 'overtaken' | undefined> {
    const mine = ++this.generation;
    let element: HTMLElement;
    let url: string | undefined;
    try {
      if (isPixelFormat(image.pixelFormat)) {
        const { width, height } = image;
        const stride = image.stride ?? 0;
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        const context = canvas.getContext('2d');
        if (!context) throw new Error('this browser has no 2D canvas');
        context.putImageData(
          new ImageData(rawToRgba(image.bytes, image.pixelFormat, width, height, stride), width, height),
          0,
          0,
        );
        element = canvas;
      } else {
        url = URL.createObjectURL(new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.type }));
        const img = new Image();
        img.src = url;
        await img.decode();
        img.alt = image.name;
        element = img;
      }
    } catch {
      if (url) URL.revokeObjectURL(url);
      return undefined;
    }
    if (mine !== this.generation) {
      if (url) URL.revokeObjectURL(url);
      return 'overtaken';
    }
    element.className = 'mqimg-image';
    element.dataset.mqimgSha256 = image.sha256;
    element.dataset.mqimgName = image.name;
    if (restored) element.dataset.mqimgRestored = 'true';
    this.stage.replaceChildren(element);
    const swappedMs = monotonicClock();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = url;
    const frameMs = await new Promise<number>((resolve) =>
      requestAnimationFrame(() => resolve(monotonicClock())),
    );
    return { name: image.name, sha256: image.sha256, swappedMs, frameMs };
  }
}
