// The run view in a real browser (Debian's Chromium, headless), on the small hand-made run whose
// every event is known (test/helpers/view-documents.ts): a lane per node, arrows from a send's row
// and lane to its delivery's, the lost message crossed out, fault spans on the right lanes and
// rows, decision badges, folds that a click unfolds and the toggle, the violation at the bottom,
// and the state panel. The screenshot of this view is written to test-output/viewer-small.png.

import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { renderRunHtml } from '../../viewer/html.ts';
import type { RunDocument } from '../../viewer/document.ts';
import { browserFor, openHtml, topPx, type OpenedPage } from '../helpers/browser.ts';
import { smallDocument } from '../helpers/view-documents.ts';

const OUTPUT = new URL('../../test-output/', import.meta.url).pathname;
const ROW_PX = 20;
const browser = browserFor(test);

async function openSmall(name: string, doc: RunDocument = smallDocument(), viewport?: { width: number; height: number }): Promise<OpenedPage> {
  return openHtml(browser(), name, renderRunHtml(doc), viewport);
}

/** Show every event (the toggle): rows are then event i at row i. */
async function showAll(page: Page): Promise<void> {
  await page.locator('#toggle').click();
}

/** The horizontal middle of a lane's header, on screen. */
async function laneMiddlePx(page: Page, node: string): Promise<number> {
  const box = (await page.locator(`.lane-header[data-node="${node}"]`).boundingBox())!;
  return box.x + box.width / 2;
}

/** Where an SVG coordinate of the diagram is on screen (a line's box would include its stroke and arrowhead). */
async function screenXPx(page: Page, line: Locator, attribute: 'x1' | 'x2'): Promise<number> {
  const svg = await boxOf(page.locator('svg.diagram'));
  return svg.x + Number(await line.getAttribute(attribute));
}

/** Whether two screen positions are the same, to a pixel's rounding. */
function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1;
}

async function boxOf(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await locator.boundingBox();
  if (box === null) throw new Error('not drawn');
  return box;
}

test('a lane header per node, a row per story event with its line, the rest folded, the violation at the bottom', async (t) => {
  const doc = smallDocument();
  const { page, requests, errors } = await openSmall('lanes.html');
  const headers = await page.locator('.lane-header').evaluateAll((hs) => hs.map((h) => h.getAttribute('data-node')));
  t.deepEqual(headers, ['a', 'b', 'c']);
  const storyRows = await page.locator('.event').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-i'))));
  t.deepEqual(storyRows, doc.events.filter((e) => e.story).map((e) => e.i), 'the story events, in order');
  t.is(await page.locator('.event.story').count(), storyRows.length, 'highlighted as the story');
  const row4 = await page.locator('.event[data-i="4"]').innerText();
  t.regex(row4, /#3 5ms/, 'the time');
  t.regex(row4, /b -> a rep Value \{"key":"k-1"\}/, 'the line');
  t.is(await page.locator('.fold').count(), 1);
  t.is((await page.locator('.fold').innerText()).trim(), '… 4 events');
  const footer = await page.locator('#violation').innerText();
  for (const part of ['T-I1', 'a key once read keeps its value', 'a read k-1 twice and got two values', 'step 9', '21ms']) t.true(footer.includes(part), part);
  const box = await boxOf(page.locator('#violation'));
  t.true(Math.abs(box.y + box.height - 900) <= 1, 'at the bottom of the window');
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});

test('a passing run says it passed where the violation would be', async (t) => {
  const { page } = await openSmall('passed.html', { ...smallDocument(), violation: null });
  t.regex(await page.locator('#violation').innerText(), /passed/);
  t.true(await page.locator('#violation').evaluate((f) => f.classList.contains('passed')));
  await page.close();
});

test('a click on a fold shows its events; the toggle shows every event, then the story only', async (t) => {
  const { page } = await openSmall('fold.html');
  const fold = page.locator('.fold');
  t.deepEqual([await fold.getAttribute('data-from'), await fold.getAttribute('data-to')], ['5', '8']);
  t.is(await page.locator('.event[data-i="6"]').count(), 0, 'folded: not drawn');
  await fold.click();
  t.is(await page.locator('.fold').count(), 0, 'the fold is gone');
  for (const i of [5, 6, 7, 8]) t.is(await page.locator(`.event[data-i="${i}"]`).count(), 1, `event ${i} drawn`);
  t.is(await page.locator('.event').count(), 14);
  await page.locator('#toggle').click(); // show all (clears the unfolding)
  t.regex(await page.locator('#toggle').innerText(), /story only/);
  t.is(await page.locator('.event').count(), 14);
  await page.locator('#toggle').click(); // story only again: folded again
  t.regex(await page.locator('#toggle').innerText(), /show all/);
  t.is(await page.locator('.fold').count(), 1);
  t.is(await page.locator('.event[data-i="6"]').count(), 0);
  await page.close();
});

test("an arrow goes from the send's row and lane to the delivery's; the lost message ends in a cross", async (t) => {
  const { page, errors } = await openSmall('arrows.html');
  await showAll(page);
  const [a, b, c] = [await laneMiddlePx(page, 'a'), await laneMiddlePx(page, 'b'), await laneMiddlePx(page, 'c')];
  const request = page.locator('.arrow[data-i="2"]');
  t.is(Number(await request.getAttribute('y1')), (await topPx(page.locator('.event[data-i="1"]'))) + ROW_PX / 2, 'from the send row');
  t.is(Number(await request.getAttribute('y2')), (await topPx(page.locator('.event[data-i="2"]'))) + ROW_PX / 2, 'to the delivery row');
  t.true(near(await screenXPx(page, request, 'x1'), a) && near(await screenXPx(page, request, 'x2'), b), 'from lane a to lane b on screen');
  const reply = page.locator('.arrow[data-i="4"]');
  t.true(Number(await reply.getAttribute('x1')) > Number(await reply.getAttribute('x2')), 'the reply goes back, from b to a');
  t.is(await page.locator('.arrow').count(), 3, 'two deliveries and a loss');
  const lost = page.locator('.arrow.lost-arrow');
  t.is(await lost.count(), 1);
  t.is(await lost.getAttribute('data-i'), '9');
  t.true(near(await screenXPx(page, lost, 'x1'), a) && near(await screenXPx(page, lost, 'x2'), c), 'from lane a to lane c');
  t.is(Number(await lost.getAttribute('y2')), (await topPx(page.locator('.event[data-i="9"]'))) + ROW_PX / 2, 'to the row of the loss');
  const cross = await boxOf(page.locator('path.lost[data-i="9"]'));
  const svg = await boxOf(page.locator('svg.diagram'));
  t.true(Math.abs(cross.x + cross.width / 2 - c) <= 1, 'the cross on lane c');
  t.true(Math.abs(cross.y + cross.height / 2 - (svg.y + Number(await lost.getAttribute('y2')))) <= 1, "the cross at the arrow's end");
  t.is(await page.locator('.event.lost[data-i="9"]').count(), 1, 'its row marked lost');
  t.deepEqual(errors, []);
  await page.close();
});

test('faults are shaded spans: the partition on lanes a and c (not b) until the heal, the crash on b until its restart', async (t) => {
  const { page } = await openSmall('faults.html');
  await showAll(page);
  const [a, b, c] = [await laneMiddlePx(page, 'a'), await laneMiddlePx(page, 'b'), await laneMiddlePx(page, 'c')];
  const covers = (box: { x: number; width: number }, x: number): boolean => box.x < x && x < box.x + box.width;
  const partition = page.locator('rect.fault-span.fault-partition');
  t.is(await partition.count(), 2, 'one span per run of adjacent lanes: a, and c');
  const spans = [await boxOf(partition.nth(0)), await boxOf(partition.nth(1))];
  t.true(spans.some((s) => covers(s, a)) && spans.some((s) => covers(s, c)), 'lanes a and c shaded');
  t.false(spans.some((s) => covers(s, b)), 'lane b is not in the partition');
  const startPx = await topPx(page.locator('.event[data-i="6"]'));
  const endPx = (await topPx(page.locator('.event[data-i="13"]'))) + ROW_PX;
  t.is(Number(await partition.first().getAttribute('y')), startPx, 'from the fault row');
  t.is(Number(await partition.first().getAttribute('height')), endPx - startPx, 'to the heal row');
  const crash = page.locator('rect.fault-span.fault-crash');
  t.is(await crash.count(), 1);
  const crashBox = await boxOf(crash);
  t.true(covers(crashBox, b) && !covers(crashBox, a) && !covers(crashBox, c), 'on lane b only');
  t.is(Number(await crash.getAttribute('y')), await topPx(page.locator('.event[data-i="11"]')), 'from the crash');
  t.is(Number(await crash.getAttribute('y')) + Number(await crash.getAttribute('height')), (await topPx(page.locator('.event[data-i="12"]'))) + ROW_PX, 'to the restart');
  t.regex((await crash.locator('title').textContent()) ?? '', /crash b/);
  await page.close();
});

test('an event with decisions carries a badge with them as text', async (t) => {
  const { page } = await openSmall('decisions.html');
  t.is(await page.locator('.decision').count(), 2);
  t.regex(await page.locator('.event[data-i="1"] .decision').innerText(), /net\.delayMs=3/);
  t.regex(await page.locator('.event[data-i="2"] .decision').innerText(), /net\.delayMs=3 \(at its send\)/);
  t.is(await page.locator('.event[data-i="0"] .decision').count(), 0, 'none where nothing was decided');
  t.is(await page.locator('svg .decision-mark').count(), 2, 'and a mark on the lane');
  await page.close();
});

test("a click on an event opens the state panel: each node's latest state at or before it, the event's node first", async (t) => {
  const { page, errors } = await openSmall('state.html', smallDocument(), { width: 1200, height: 520 });
  const panel = page.locator('#state-panel');
  t.true(await panel.isHidden(), 'closed until a click');
  await page.locator('.event[data-i="4"]').click();
  t.true(await panel.isVisible());
  const nodes = async (): Promise<(string | null)[]> => panel.locator('details.node-state').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-node')));
  t.deepEqual(await nodes(), ['a', 'b'], "a's event: a first; c recorded nothing");
  t.regex((await panel.locator('details[data-node="a"] pre').textContent()) ?? '', /"a": "has k-1"/, 'state 2, set by this event');
  t.regex((await panel.locator('details[data-node="b"] pre').textContent()) ?? '', /"b": "serving k-1"/, "b's latest, from event 2");
  t.true(await page.locator('.event[data-i="4"]').evaluate((r) => r.classList.contains('selected')));
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'viewer-small.png') });
  await page.locator('.event[data-i="2"]').click();
  t.deepEqual(await nodes(), ['b', 'a'], "b's event: b first");
  t.regex((await panel.locator('details[data-node="a"] pre').textContent()) ?? '', /"a": "idle"/, "a's state as of event 2 (from event 0), not its later one");
  await page.locator('.event[data-i="12"]').click();
  t.regex((await panel.locator('details[data-node="b"] pre').textContent()) ?? '', /"b": "restarted"/);
  t.deepEqual(errors, []);
  await page.close();
});

test('in a window narrower than the lanes, scrolled sideways, each lane name stays over its lane', async (t) => {
  const { page } = await openSmall('narrow.html', smallDocument(), { width: 800, height: 500 });
  await page.locator('.event[data-i="4"]').click(); // the state panel narrows the diagram's window further
  await page.locator('.scroller').evaluate((s) => {
    s.scrollLeft = 150;
    s.dispatchEvent(new Event('scroll'));
  });
  t.true(await page.locator('.scroller').evaluate((s) => s.scrollLeft > 0), 'scrolled sideways');
  // Events 0, 2 and 9 happen on lanes a, b and c: their dots are the lanes' middles.
  for (const [i, node] of [[0, 'a'], [2, 'b'], [9, 'c']] as const) {
    const dot = await boxOf(page.locator(`svg circle.dot[data-i="${i}"]`));
    t.true(near(dot.x + dot.width / 2, await laneMiddlePx(page, node)), `lane ${node}`);
  }
  const clip = await boxOf(page.locator('.lane-header-clip'));
  const scroller = await boxOf(page.locator('.scroller'));
  t.true(clip.width <= scroller.width + 1, 'the names end where the window does');
  await page.close();
});
