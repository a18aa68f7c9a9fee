// The run view of a 10,000-event run in a real browser: it keeps a bounded number of rows in the
// page however far it scrolls, draws the last event at the end, and draws an arrow whose send is
// above the window and whose delivery is below it. How fast it loads is measured, not tested
// (the machines are shared): docs/how-it-works.md, "Reading a story".

import test from 'ava';
import type { Page } from 'playwright-core';
import { renderRunHtml } from '../../viewer/html.ts';
import { browserFor, openHtml, scrollTo } from '../helpers/browser.ts';
import { LONG_FLIGHT_SEND, longDocument } from '../helpers/view-documents.ts';

const EVENTS = 10_000;
const ROW_PX = 20;
/** Rows of a 900-pixel window are ~40, with a margin of 30 either side: 200 means nothing leaks. */
const ROWS_MAX = 200;

const doc = longDocument(EVENTS);
const html = renderRunHtml(doc);
const browser = browserFor(test);

async function rowsInPage(page: Page): Promise<number> {
  return page.locator('.row').count();
}

test.serial('few rows in the page, story only or every event, and the last event drawn at the end', async (t) => {
  const { page, errors } = await openHtml(browser(), 'bounded.html', html);
  t.true((await rowsInPage(page)) < ROWS_MAX, `${await rowsInPage(page)} rows, story only`);
  await page.locator('#toggle').click(); // every event: 10,000 rows
  t.is(await page.locator('.fold').count(), 0);
  t.true((await rowsInPage(page)) < ROWS_MAX, `${await rowsInPage(page)} rows of ${EVENTS}`);
  t.is(await page.locator('.canvas').evaluate((c) => c.getBoundingClientRect().height), EVENTS * ROW_PX, 'the canvas is as tall as every row');
  const scrollsMs: number[] = [];
  for (const fraction of [0.25, 0.5, 0.75, 1]) {
    const startMs = performance.now();
    await scrollTo(page, '.scroller', fraction * EVENTS * ROW_PX);
    scrollsMs.push(Math.round(performance.now() - startMs));
    t.true((await rowsInPage(page)) < ROWS_MAX, `${await rowsInPage(page)} rows at ${fraction}`);
    t.true((await page.locator('.arrow').count()) < ROWS_MAX, 'arrows of the window only');
  }
  t.log(`scroll and redraw, ms: ${scrollsMs.join(', ')}`);
  const last = page.locator(`.event[data-i="${EVENTS - 1}"]`);
  t.is(await last.count(), 1, 'the last event is drawn at the end');
  t.true(await last.isVisible());
  const box = (await last.boundingBox())!;
  const scroller = (await page.locator('.scroller').boundingBox())!;
  t.true(box.y + box.height <= scroller.y + scroller.height + 1, 'in the window, not below it');
  t.is(await page.locator('.event[data-i="0"]').count(), 0, 'the first is gone from the page');
  t.deepEqual(errors, []);
  await page.close();
});

test.serial('an arrow whose send is above the window and delivery below it is drawn across it', async (t) => {
  const { page } = await openHtml(browser(), 'crossing.html', html);
  await page.locator('#toggle').click();
  await scrollTo(page, '.scroller', (EVENTS / 2) * ROW_PX);
  t.is(await page.locator(`.event[data-i="${LONG_FLIGHT_SEND}"]`).count(), 0, 'the send is not in the page');
  t.is(await page.locator(`.event[data-i="${EVENTS - 1}"]`).count(), 0, 'nor the delivery');
  const arrow = page.locator(`.arrow[data-i="${EVENTS - 1}"]`);
  t.is(await arrow.count(), 1);
  t.is(Number(await arrow.getAttribute('y1')), LONG_FLIGHT_SEND * ROW_PX + ROW_PX / 2);
  t.is(Number(await arrow.getAttribute('y2')), (EVENTS - 1) * ROW_PX + ROW_PX / 2);
  await page.close();
});
