/// <reference lib="dom" />

/**
 * The small overlay in a corner: connection state, broker and topic, the transfer in progress, the last image and
 * how long it took from its last chunk to the screen. Shown until the first image is on screen, then hidden
 * unless the page was opened with `?debug`; a key press or a double click (tap) shows or hides it. Problems (a bad URL, a refused transfer) are written here, never to
 * the console: a kiosk has nobody reading it.
 */
export class PageOverlay {
  private readonly lines = new Map<string, string>();

  constructor(
    private readonly element: HTMLElement,
    visible: boolean,
  ) {
    this.element.hidden = !visible;
    document.addEventListener('keydown', () => this.toggle());
    document.addEventListener('dblclick', () => this.toggle());
  }

  toggle(): void {
    this.element.hidden = !this.element.hidden;
  }

  hide(): void {
    this.element.hidden = true;
  }

  /**
   * Sets line `key` (connection, transfer, image, problem) to `text` (empty: removes it), and shows the overlay
   * when `show`.
   */
  set(key: string, text: string, show = false): void {
    if (text) this.lines.set(key, text);
    else this.lines.delete(key);
    this.element.textContent = [...this.lines.values()].join('\n');
    if (show) this.element.hidden = false;
  }
}
