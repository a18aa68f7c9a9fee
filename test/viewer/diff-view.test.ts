// The side-by-side view of `stairwell diff --out`, in a real browser: a museum tape under its bug
// and under the fixed protocol, the first divergence marked and in view, the rows that differ
// marked, and a click showing both sides' state.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, open } from '../helpers/browser.ts';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'stairwell-diff-'));
let browser: Browser;

test.before(async () => {
  browser = await launch();
});

test.after.always(async () => {
  await browser?.close();
});

test('a museum tape under its bug and under the fixed protocol: the first divergence marked and in view', async (t) => {
  const out = join(dir, 'diff.html');
  const r = spawnSync(process.execPath, [BIN, 'diff', 'museum/sled-agent__remove-before-notify.json', '--fixed', '--out', out], { encoding: 'utf8' });
  t.is(r.status, 1, r.stderr);
  const { page, requests, errors } = await open(browser, out);
  const first = page.locator('#first-divergence');
  t.is(await first.count(), 1);
  t.true(await first.isVisible());
  const box = await first.boundingBox();
  t.true(box !== null && box.y > 0 && box.y < 900, 'scrolled into view');
  t.regex(await page.locator('#summary').innerText(), /first divergence at aligned event \d+/);
  t.true((await page.locator('.diff-row.differs').count()) > 0);
  t.true((await page.locator('.diff-row:not(.differs)').count()) > 0, 'what both runs share is shown too');
  await first.click();
  const sides = page.locator('#state-panel section.side h2');
  t.is(await sides.count(), 2);
  t.regex(await sides.first().innerText(), /^A: /);
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});
