// The viewer in a real browser (Debian's Chromium, headless): lanes, arrows, lost messages,
// fault spans, decisions, folds that a click unfolds, the violation at the bottom, the state
// panel, a page that fetches nothing, and a long run that keeps few rows in the page (its speed
// is measured, not tested: README, "Reading a story"). The screenshot the README
// shows is made here (test-output/viewer.png).

import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { runDocument } from '../../cli/run-document.ts';
import { tapeInput } from '../../cli/run-input.ts';
import { renderRunHtml } from '../../viewer/html.ts';
import type { RunDocument } from '../../viewer/document.ts';
import { launch, open, scrollUntil } from '../helpers/browser.ts';
import { longDocument, smallDocument } from '../helpers/view-documents.ts';

const dir = mkdtempSync(join(tmpdir(), 'stairwell-viewer-'));
const OUTPUT = new URL('../../test-output/', import.meta.url).pathname;
let browser: Browser;

test.before(async () => {
  browser = await launch();
});

test.after.always(async () => {
  await browser?.close();
});

function written(name: string, doc: RunDocument): string {
  const path = join(dir, name);
  writeFileSync(path, renderRunHtml(doc));
  return path;
}

/** The museum's omicron#7282 tape, as `stairwell view` makes it. */
function museumDocument(): RunDocument {
  const input = tapeInput('museum/sled-agent__remove-before-notify.json');
  if (input.kind !== 'run') throw new Error('a tape is a run');
  return runDocument(input.request, input.title);
}

test.serial('a museum bug: a lane per node, the story shown, the violation at the bottom, nothing fetched; the README screenshot', async (t) => {
  const doc = museumDocument();
  const { page, requests, errors } = await open(browser, written('museum.html', doc));
  t.deepEqual(await page.locator('.lane-header').evaluateAll((hs) => hs.map((h) => (h as unknown as { dataset: { node: string } }).dataset.node)), [...doc.nodes]);
  t.true((await page.locator('.row.event.story').count()) > 5);
  t.true((await page.locator('.row.fold').count()) > 0, 'the rest is folded');
  t.true((await page.locator('svg .arrow').count()) > 0);
  const footer = await page.locator('#violation').innerText();
  t.regex(footer, /O-I5/);
  t.regex(footer, /a sled-agent says 'no such instance'/, "the invariant's promise");
  t.regex(footer, /left the table before its final state reached Nexus/);
  const box = await page.locator('#violation').boundingBox();
  t.true(box !== null && box.y + box.height >= 890, 'at the bottom of the window');
  const removed = page.locator('.row.story').filter({ hasText: 'removed from the table before' }).first();
  t.true(await scrollUntil(page, '.scroller', removed), 'the moment the VMM leaves the table is in the story');
  t.regex(await removed.innerText(), /sled-\d log VMM vmm-\d+ removed from the table before its final state was published/);
  // The state after an event: the sled-agent's table, then the event's own node first.
  const register = page.locator('.row.event.story', { hasText: 'VmmRegister' }).first();
  t.true(await scrollUntil(page, '.scroller', register));
  await register.click();
  t.false(await page.locator('#state-panel').isHidden());
  const first = page.locator('#state-panel details.node-state').first();
  t.regex((await first.getAttribute('data-node')) ?? '', /^sled-\d$/);
  t.regex(await first.innerText(), /"vmms"/);
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'viewer.png') });
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});

test.serial('a fold unfolds on a click, and the toggle shows every event or the story only', async (t) => {
  const { page } = await open(browser, written('museum-fold.html', museumDocument()));
  const fold = page.locator('.row.fold').first();
  const from = Number(await fold.getAttribute('data-from'));
  const to = Number(await fold.getAttribute('data-to'));
  t.true(to > from, 'a fold of more than one event');
  t.is(await page.locator(`.row.event[data-i="${from}"]`).count(), 0, 'folded: not drawn');
  await fold.click();
  t.is(await page.locator(`.row.event[data-i="${from}"]`).count(), 1, 'unfolded: drawn');
  t.is(await page.locator(`.row.event[data-i="${from + 1}"]`).count(), 1);
  t.is(await page.locator(`.row.fold[data-from="${from}"]`).count(), 0, 'the fold is gone');
  await page.locator('#toggle').click();
  t.is(await page.locator('.row.fold').count(), 0, 'show all: nothing folded');
  t.regex(await page.locator('#toggle').innerText(), /story only/);
  await page.locator('#toggle').click();
  t.true((await page.locator('.row.fold').count()) > 0);
  await page.close();
});

test.serial('arrows go from a send to its delivery, a lost message is crossed out, faults are spans, decisions are marked', async (t) => {
  const doc = smallDocument();
  const { page, errors } = await open(browser, written('small.html', doc));
  await page.locator('#toggle').click(); // every event, no folds
  const top = async (i: number): Promise<number> => Number((await page.locator(`.row[data-i="${i}"]`).getAttribute('style'))!.match(/top:(\d+)px/)![1]);
  const arrow = page.locator('svg .arrow[data-i="2"]');
  t.is(await arrow.count(), 1);
  t.is(Number(await arrow.getAttribute('y1')), (await top(1)) + 10, 'from the send row');
  t.is(Number(await arrow.getAttribute('y2')), (await top(2)) + 10, 'to the delivery row');
  t.true(Number(await arrow.getAttribute('x2')) > Number(await arrow.getAttribute('x1')), 'from lane a to lane b');
  t.is(await page.locator('svg path.lost').count(), 1);
  t.is(await page.locator('.row.lost[data-i="9"]').count(), 1);
  const spans = page.locator('svg rect.fault-span');
  t.is(await spans.count(), 2);
  t.regex(await page.locator('svg rect.fault-crash title').textContent() ?? '', /crash b/);
  t.is(Number(await page.locator('svg rect.fault-crash').getAttribute('y')), await top(11), 'the crash span starts at the crash');
  t.true((await page.locator('.decision').count()) >= 2);
  t.regex(await page.locator('.row[data-i="1"] .decision').innerText(), /net\.delayMs=3/);
  // The state after event 4 (a got the value): a's latest is state 2, b's the one at event 2.
  await page.locator('.row[data-i="4"]').click();
  const panel = page.locator('#state-panel');
  t.regex((await panel.locator('details[data-node="a"] pre').textContent()) ?? '', /has k-1/);
  t.regex((await panel.locator('details[data-node="b"] pre').textContent()) ?? '', /serving k-1/, "b's latest state, from event 2");
  t.true(await panel.locator('details[data-node="a"]').evaluate((d) => (d as unknown as { open: boolean }).open), "the event's own node open");
  t.deepEqual(errors, []);
  await page.close();
});

test.serial('a run of 10,000 events keeps a bounded number of rows in the page, and scrolls to its end', async (t) => {
  const doc = longDocument(10_000);
  const path = written('long.html', doc);
  const { page, errors } = await open(browser, path);
  await page.locator('#toggle').click(); // all 10,000 rows
  const rows = await page.locator('.row').count();
  t.true(rows < 200, `${rows} rows in the page`);
  await page.locator('.scroller').evaluate((s) => {
    s.scrollTop = s.scrollHeight;
    s.dispatchEvent(new Event('scroll'));
  });
  t.is(await page.locator(`.row[data-i="${doc.events.length - 1}"]`).count(), 1, 'the last event is drawn');
  t.deepEqual(errors, []);
  await page.close();
});
