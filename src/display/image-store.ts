/// <reference lib="dom" />

/** The last image shown, as kept across a reload. */
export interface StoredImage {
  bytes: Uint8Array;
  /** Media type of an encoded image (`image/jpeg`...), or `application/octet-stream` for raw pixels. */
  type: string;
  name: string;
  sha256: string;
  width: number;
  height: number;
  pixelFormat?: string | undefined;
  stride?: number | undefined;
}

const DB = 'mqimg-display';
const STORE = 'last-image';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Keeps the last verified image in IndexedDB under `key` (the broker URL and topic), so that a reloaded kiosk shows
 * it at once instead of a black screen. IndexedDB rather than localStorage (about 5 MB of strings) or the Cache API
 * (secure contexts only: a tablet opening http://192.168.x.x has none). Failures are ignored: it is a convenience.
 */
export async function saveLastImage(key: string, image: StoredImage): Promise<void> {
  try {
    const db = await open();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(image, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  } catch {
    // Private browsing or a full disk: the image is still on screen.
  }
}

/** The image `saveLastImage` kept under `key`, if any. */
export async function loadLastImage(key: string): Promise<StoredImage | undefined> {
  try {
    const db = await open();
    const found = await new Promise<StoredImage | undefined>((resolve, reject) => {
      const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
      request.onsuccess = () => resolve(request.result as StoredImage | undefined);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return found;
  } catch {
    return undefined;
  }
}
