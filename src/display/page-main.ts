/// <reference lib="dom" />
import { plainJsCrypto } from '../platform/js-sha256.js';
import { webCrypto } from '../platform/web-crypto.js';
import { toHex } from '../protocol/wire/bytes.js';
import { receiverSubscriptions } from '../protocol/wire/topics.js';
import { BrowserTransport } from '../transport/browser-transport.js';
import { loadLastImage, type StoredImage, saveLastImage } from './image-store.js';
import { MemoryReplayGuard } from './memory-replay-guard.js';
import { type EmbeddedConfig, readConfig } from './page-config.js';
import { PageOverlay } from './page-overlay.js';
import { PageReceiver, type ReceivedImage } from './page-receiver.js';
import { PageView, type ShownImage } from './page-view.js';
import { remember } from './recent.js';
import { SkippedImages, skippedLine } from './skipped-images.js';

/** What the page exposes as `window.mqimgDisplay`, for tests and monitoring. */
interface DisplayStatus {
  state: string;
  receiverId: string;
  /**
   * The last 100 images shown (display/recent.ts), oldest first, with the time from their last chunk to the swap and to the
   * next frame (ms); `failures` and `rejections` likewise keep the last 100.
   */
  shown: Array<{ name: string; sha256: string; lastChunkToSwapMs: number; lastChunkToFrameMs: number }>;
  failures: Array<{ code: string; message: string }>;
  rejections: Array<{ code: string; message: string }>;
  /** Images left out because the feed was faster than this display (display/skipped-images.ts). */
  skipped: number;
}

const element = (id: string) => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found;
};

/**
 * A receiver id kept in sessionStorage: a reloaded page is the same receiver to senders, and two tabs of one
 * browser are two receivers (localStorage would give them one id, and a sender would count them as one).
 */
function receiverId(): string {
  const key = 'mqimg-receiver-id';
  try {
    const kept = sessionStorage.getItem(key);
    if (kept && /^[A-Za-z0-9_.-]{1,64}$/.test(kept)) return kept;
    const made = `page-${toHex(crypto.getRandomValues(new Uint8Array(6)))}`;
    sessionStorage.setItem(key, made);
    return made;
  } catch {
    return `page-${toHex(crypto.getRandomValues(new Uint8Array(6)))}`;
  }
}

/** Keeps the screen on (Screen Wake Lock API, secure contexts only), asking again when the page is shown again. */
function keepScreenOn(overlay: PageOverlay): void {
  const wakeLock = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<unknown> } })
    .wakeLock;
  if (!wakeLock) {
    overlay.set('wake', 'wake lock: not available here (needs https or localhost)');
    return;
  }
  const ask = () =>
    wakeLock.request('screen').then(
      () => overlay.set('wake', 'wake lock: held'),
      (error: Error) => overlay.set('wake', `wake lock: refused (${error.message})`),
    );
  void ask();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void ask();
  });
}

function main(): void {
  const overlay = new PageOverlay(element('overlay'), new URLSearchParams(location.search).has('debug'));
  const embedded = JSON.parse(element('mqimg-config').textContent || '{}') as EmbeddedConfig;
  const config = readConfig(location.search, embedded, location.origin);
  const status: DisplayStatus = {
    state: 'starting',
    receiverId: '',
    shown: [],
    failures: [],
    rejections: [],
    skipped: 0,
  };
  (window as unknown as { mqimgDisplay: DisplayStatus }).mqimgDisplay = status;
  if ('problem' in config) {
    status.state = 'misconfigured';
    overlay.set('problem', `mqimg display: ${config.problem}`, true);
    return;
  }
  // Browsers give WebCrypto to https pages and localhost only; a tablet opening http://192.168.x.x has none, and
  // checks chunks and files with SHA-256 in JavaScript instead. Signatures and encryption need WebCrypto.
  const secure = Boolean(globalThis.crypto?.subtle);
  if (!secure && (config.trust || config.secret)) {
    status.state = 'misconfigured';
    overlay.set(
      'problem',
      'mqimg display: signed or encrypted transfers need WebCrypto, which this browser gives only to https pages and localhost: serve the page over https, or open it on the display machine itself',
      true,
    );
    return;
  }
  document.body.dataset.fit = config.fit;
  status.receiverId = receiverId();
  overlay.set('where', `${config.url}  topic ${config.topic}  as ${status.receiverId}`);
  if (!secure) overlay.set('checks', 'checks: SHA-256 in JavaScript (plain http: no WebCrypto here)');
  const view = new PageView(element('stage'));
  const storeKey = `${config.url} ${config.topic}`;
  let received = false;
  // Until an image is on screen the overlay says what the page waits for, so that a black screen is explained.
  const debug = config.debug;
  overlay.set('waiting', `waiting for an image on ${config.topic}`, true);
  const firstImage = () => {
    overlay.set('waiting', '');
    if (!debug) overlay.hide();
  };
  void loadLastImage(storeKey).then((kept) => {
    if (kept && !received)
      void view.show(kept, true).then((shown) => typeof shown === 'object' && firstImage());
  });
  keepScreenOn(overlay);

  const skips = new SkippedImages();
  const noteSkips = () => {
    status.skipped = skips.skipped;
    overlay.set('skipped', skippedLine(skips.skipped));
  };
  const onShown = (image: ReceivedImage, shown: ShownImage | 'overtaken' | undefined) => {
    if (shown === 'overtaken') {
      skips.overtaken(image.manifest.id);
      noteSkips();
    }
    if (typeof shown !== 'object') return;
    skips.shown(image.manifest.id);
    noteSkips();
    if (status.shown.length === 0) firstImage();
    const lastChunkToSwapMs = shown.swappedMs - image.lastChunkMs;
    const lastChunkToFrameMs = shown.frameMs - image.lastChunkMs;
    remember(status.shown, { name: shown.name, sha256: shown.sha256, lastChunkToSwapMs, lastChunkToFrameMs });
    overlay.set(
      'image',
      `shown ${shown.name} from ${image.topic} (${lastChunkToSwapMs.toFixed(1)} ms from its last chunk)`,
    );
  };
  const onImage = (image: ReceivedImage) => {
    received = true;
    const { manifest, bytes, sha256 } = image;
    const stored: StoredImage = {
      bytes,
      type: manifest.type,
      name: manifest.name,
      sha256,
      width: manifest.width,
      height: manifest.height,
      pixelFormat: manifest.pixelFormat,
      stride: manifest.stride,
    };
    void view.show(stored).then((shown) => onShown(image, shown));
    void saveLastImage(storeKey, stored);
  };

  const { manifests, chunks } = receiverSubscriptions(config.topic);
  const transport = new BrowserTransport({
    url: config.url,
    username: config.username,
    password: config.password,
    subscriptions: [
      { filters: manifests, qos: 1 },
      { filters: chunks, qos: 0 },
    ],
    onState: (state, detail) => {
      status.state = state;
      overlay.set('link', `${state}${detail ? `: ${detail}` : ''}`);
    },
  });
  const receiver = new PageReceiver({
    transport,
    crypto: secure ? webCrypto() : plainJsCrypto(),
    receiverId: status.receiverId,
    secret: config.secret,
    trust: config.trust,
    replayGuard: config.trust ? new MemoryReplayGuard(config.maxAgeMs) : undefined,
    onImage,
    onEvent: (event) => {
      if (event.event === 'started') {
        skips.started(event.id);
        overlay.set('transfer', `receiving ${event.name} (${event.size} bytes)`);
      } else if (event.event === 'progress')
        overlay.set('transfer', `receiving ${event.name}: ${event.receivedChunks} of ${event.chunks} chunks`);
      // Shown (or about to be): the progress line of this transfer says nothing true any more.
      else if (event.event === 'completed') overlay.set('transfer', '');
      else if (event.event === 'failed') {
        remember(status.failures, { code: event.code, message: event.message });
        // Left out for a newer image or a busy page: counted when a newer one is shown, not an error to show.
        if (skips.failed(event.id, event.code)) overlay.set('transfer', '');
        else overlay.set('transfer', `failed: ${event.code}: ${event.message}`);
      } else {
        remember(status.rejections, { code: event.code, message: event.message });
        overlay.set('rejected', `rejected: ${event.code}: ${event.message}`);
      }
    },
  });
  receiver.start();
}

main();
