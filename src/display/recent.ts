/**
 * Most entries each list of `window.mqimgDisplay` keeps (the newest): a wall display runs for months, one image
 * every few seconds, and must not keep a record of each.
 */
export const RECENT = 100;

/** Appends `item` to `list`, dropping the oldest entries beyond `limit` (default RECENT, 100). */
export function remember<T>(list: T[], item: T, limit = RECENT): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
