import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { toolRequired } from './required-tool.js';

/** Debian's Chromium (apt-get install chromium), driven by playwright-core. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags that let Chromium run headless here (as root, without a GPU, without calling home). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Where browser tests leave screenshots: test-artifacts/ at the repository root (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * True when browser tests must run: always in CI (a missing Chromium is then a failure, not a skip), and locally
 * when Chromium is installed.
 */
export function chromiumRequired(): boolean {
  return toolRequired(() => existsSync(CHROMIUM_PATH));
}

/** Starts headless Chromium (`extraArgs` after CHROMIUM_FLAGS); throws a clear error when it is not installed. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    headless: true,
  });
}

/** A page with what it said on its console and its uncaught errors collected, for the no-console-error check. */
export async function openPage(browser: Browser, viewport = { width: 800, height: 600 }) {
  const context = await browser.newContext({ viewport });
  const page: Page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      errors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return { page, context, errors };
}
