// A real browser for the viewer's tests: Debian's Chromium (`apt-get install -y chromium`; .ci/run
// installs it when missing) driven by playwright-core, which never downloads a browser of its own.
// One browser per test file; each test opens pages in it.

import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface OpenedPage {
  readonly page: Page;
  /** Every request the page made that is not the page itself (a self-contained page makes none). */
  readonly requests: string[];
  /** Errors the page's own code threw or logged. */
  readonly errors: string[];
}

/** Open `path` (an HTML file) in a fresh page, recording its requests and errors. */
export async function open(browser: Browser, path: string, viewport = { width: 1400, height: 900 }): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const requests: string[] = [];
  const errors: string[] = [];
  const self = `file://${path}`;
  page.on('request', (r) => {
    if (r.url() !== self && !r.url().startsWith('data:') && !r.url().startsWith('about:')) requests.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(self);
  return { page, requests, errors };
}

/**
 * Scroll `scroller` down a window at a time until `target` is drawn (the views draw only the rows
 * in the window); false if the end comes first.
 */
export async function scrollUntil(page: Page, scroller: string, target: ReturnType<Page['locator']>): Promise<boolean> {
  await page.locator(scroller).evaluate((s) => {
    s.scrollTop = 0;
    s.dispatchEvent(new Event('scroll'));
  });
  for (let k = 0; k < 1000; k++) {
    if ((await target.count()) > 0) return true;
    const moved = await page.locator(scroller).evaluate((s) => {
      const before = s.scrollTop;
      s.scrollTop = before + s.clientHeight;
      s.dispatchEvent(new Event('scroll'));
      return s.scrollTop !== before;
    });
    if (!moved) return (await target.count()) > 0;
  }
  return false;
}
