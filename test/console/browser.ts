// Debian's Chromium driven by playwright-core (no browser download): the console's browser tests.
// CI installs it (.ci/run: apt-get install -y chromium); without it these tests FAIL with the
// command to run, never skip.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the tests write the README's screenshots. */
export const SHOTS_DIR = path.resolve(__dirname, '../../docs/console');

export interface TestBrowser {
  /** A fresh browser context (its own cookies): one staff member. */
  newPage(): Promise<{ page: Page; context: BrowserContext }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`);
  }
  // playwright-core's launch gives the browser a new empty profile directory of its own (removed on close).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      return { page: await context.newPage(), context };
    },
    close: () => browser.close(),
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`) });
}
