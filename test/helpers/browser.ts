// A real browser for the viewer's tests: Debian's Chromium (`apt-get install -y chromium`; .ci/run
// installs it when missing) driven by playwright-core, which never downloads a browser of its own.
// One browser per test file (launched in test.before, closed in test.after.always); each test
// opens pages in it. A page is opened from a file, as a person opens an attached HTML file, so
// that every request other than the file itself is one the page should not have made.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestFn } from 'ava';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Not skipped when missing: a viewer nobody tested would pass CI silently. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** One browser for a test file: launched before its tests, closed after them; call the result for it. */
export function browserFor(test: TestFn): () => Browser {
  let browser: Browser | null = null;
  test.before(async () => {
    browser = await launch();
  });
  test.after.always(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === null) throw new Error('the browser is launched in test.before');
    return browser;
  };
}

export interface OpenedPage {
  readonly page: Page;
  /** Every request the page made but for the page itself, data: and about: (a self-contained page makes none). */
  readonly requests: string[];
  /** Errors the page's own code threw or logged. */
  readonly errors: string[];
}

export interface Viewport {
  readonly width: number;
  readonly height: number;
}

export const VIEWPORT: Viewport = { width: 1400, height: 900 };

/** Open the HTML file at `path` in a fresh page, recording its requests and errors. */
export async function open(browser: Browser, path: string, viewport: Viewport = VIEWPORT): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const requests: string[] = [];
  const errors: string[] = [];
  const self = pathToFileURL(path).href;
  page.on('request', (r) => {
    const url = r.url();
    if (url !== self && !url.startsWith('data:') && !url.startsWith('about:')) requests.push(url);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(self, { waitUntil: 'load' });
  return { page, requests, errors };
}

const pages = mkdtempSync(join(tmpdir(), 'stairwell-viewer-'));

/** Write `html` to a file of a temporary folder and open it. */
export async function openHtml(browser: Browser, name: string, html: string, viewport: Viewport = VIEWPORT): Promise<OpenedPage> {
  const path = join(pages, name);
  writeFileSync(path, html);
  return open(browser, path, viewport);
}

/** Scroll the element matching `scroller` to `topPx` (clamped by the browser), as a person's scroll would: the view redraws on the scroll event. */
export async function scrollTo(page: Page, scroller: string, topPx: number): Promise<void> {
  await page.locator(scroller).evaluate((s, top) => {
    s.scrollTop = top;
    s.dispatchEvent(new Event('scroll'));
  }, topPx);
}

/** The vertical offset of a row (its style's `top`): rows are placed absolutely, one row height apart. */
export async function topPx(row: Locator): Promise<number> {
  const style = (await row.getAttribute('style')) ?? '';
  const m = /top:\s*(-?\d+)px/.exec(style);
  if (m === null) throw new Error(`no top in style "${style}"`);
  return Number(m[1]);
}
