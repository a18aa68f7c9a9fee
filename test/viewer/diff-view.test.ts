// The diff view in a real browser, on hand-made diffs (test/helpers/view-documents.ts): the
// summary at the top, a row per aligned pair with a blank where a side has no counterpart, the
// rows that differ marked, the first divergence marked and scrolled into view on load (in a
// 10,000-pair diff too, drawn a window at a time), and a click showing both sides' state.

import test from 'ava';
import type { Page } from 'playwright-core';
import { renderDiffHtml } from '../../viewer/html.ts';
import { browserFor, openHtml } from '../helpers/browser.ts';
import { longDiffDocument, smallDiffDocument } from '../helpers/view-documents.ts';

const browser = browserFor(test);

async function drawnPairs(page: Page, selector: string): Promise<number[]> {
  return page.locator(selector).evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-k'))));
}

test('the summary at the top, a row per pair, blanks where a side has none, the differing rows and the first divergence marked', async (t) => {
  const doc = smallDiffDocument();
  const { page, requests, errors } = await openHtml(browser(), 'small-diff.html', renderDiffHtml(doc));
  t.is(await page.locator('#summary').innerText(), doc.summary);
  const summaryBox = (await page.locator('#summary').boundingBox())!;
  const rowsBox = (await page.locator('.scroller').boundingBox())!;
  t.true(summaryBox.y < rowsBox.y, 'above the rows');
  t.deepEqual(await drawnPairs(page, '.diff-row'), doc.pairs.map((_, k) => k));
  t.deepEqual(await drawnPairs(page, '.diff-row.differs'), [9, 10, 11], 'the changed pair and the two one-sided ones');
  t.is(await page.locator('#first-divergence').getAttribute('data-k'), '9');
  t.true(await page.locator('#first-divergence').evaluate((r) => r.classList.contains('first')));
  t.regex(await page.locator('.diff-row[data-k="9"] .cell.left').innerText(), /a -> c LOST msg Note/);
  t.regex(await page.locator('.diff-row[data-k="9"] .cell.right').innerText(), /a -> c msg Note/);
  t.true(await page.locator('.diff-row[data-k="10"] .cell.right').evaluate((c) => c.classList.contains('blank')), "B has no counterpart of A's event 10");
  t.true(await page.locator('.diff-row[data-k="11"] .cell.left').evaluate((c) => c.classList.contains('blank')), "nor A of B's reply");
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});

test("a click on a row shows both sides' state after it, or that a side has no counterpart", async (t) => {
  const { page, errors } = await openHtml(browser(), 'small-diff-state.html', renderDiffHtml(smallDiffDocument()));
  const panel = page.locator('#state-panel');
  t.true(await panel.isHidden());
  await page.locator('.diff-row[data-k="9"]').click();
  const sides = panel.locator('section.side');
  t.is(await sides.count(), 2);
  t.regex(await sides.nth(0).locator('h2').innerText(), /^A: /);
  t.regex((await sides.nth(0).locator('details[data-node="a"] pre').textContent()) ?? '', /has k-1/, "A: a's latest state");
  t.is(await sides.nth(0).locator('details[data-node="c"]').count(), 0, 'A: c recorded nothing');
  t.is(await sides.nth(1).locator('details.node-state').first().getAttribute('data-node'), 'c', "B: the event's node first");
  t.regex((await sides.nth(1).locator('details[data-node="c"] pre').textContent()) ?? '', /got the note/);
  await page.locator('.diff-row[data-k="10"]').click();
  t.regex(await panel.locator('section.side').nth(1).innerText(), /B: no counterpart/);
  t.deepEqual(errors, []);
  await page.close();
});

test('in a diff of 10,000 pairs the first divergence is in view on load, drawn a window at a time', async (t) => {
  const [events, from] = [10_000, 7_000];
  const { page, requests, errors } = await openHtml(browser(), 'long-diff.html', renderDiffHtml(longDiffDocument(events, from)));
  const first = page.locator('#first-divergence');
  t.is(await first.getAttribute('data-k'), String(from));
  const box = (await first.boundingBox())!;
  const scroller = (await page.locator('.scroller').boundingBox())!;
  t.true(box.y >= scroller.y && box.y + box.height <= scroller.y + scroller.height, 'scrolled into view');
  const drawn = await drawnPairs(page, '.diff-row');
  t.true(drawn.length < 200, `${drawn.length} rows in the page`);
  t.deepEqual(await drawnPairs(page, '.diff-row.differs'), drawn.filter((k) => k >= from), 'the rows before it agree, those after differ');
  t.true(drawn.some((k) => k < from), 'what both runs share above it is in view too');
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});
