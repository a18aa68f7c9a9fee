// A museum bug's view in a real browser, as `stairwell view museum/<bug>.json` makes it: the
// omicron#7282 tape (sled-agent/remove-before-notify). A lane per node of the scenario, the story
// shown and the rest folded, the moment the VMM leaves the sled-agent's table in the story, the
// violation with its invariant at the bottom, the sled-agent's VMM table in the state panel, and
// nothing fetched. The README's screenshot (docs/viewer.png) is the one saved here
// (test-output/viewer.png).

import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDocument } from '../../api/run-document.ts';
import { BUILTIN } from '../../scenarios/index.ts';
import { tapeInput } from '../../cli/run-input.ts';
import { renderRunHtml } from '../../viewer/html.ts';
import type { RunDocument } from '../../viewer/document.ts';
import { browserFor, openHtml, scrollTo } from '../helpers/browser.ts';

const OUTPUT = new URL('../../test-output/', import.meta.url).pathname;
const ROW_PX = 20;
const browser = browserFor(test);

function museumDocument(): RunDocument {
  const input = tapeInput(new URL('../../museum/sled-agent__remove-before-notify.json', import.meta.url).pathname);
  if (input.kind !== 'run') throw new Error('a tape is a run');
  return runDocument(input.request, input.title, BUILTIN.invariant);
}

test('the omicron#7282 tape: lanes, story, the VMM leaving the table, the violation, the state panel; nothing fetched', async (t) => {
  const doc = museumDocument();
  const { page, requests, errors } = await openHtml(browser(), 'museum.html', renderRunHtml(doc));
  const lanes = await page.locator('.lane-header').evaluateAll((hs) => hs.map((h) => (h as unknown as { dataset: { node: string } }).dataset.node));
  t.deepEqual(lanes, [...doc.nodes]);
  t.true((await page.locator('.row.event.story').count()) > 5);
  t.true((await page.locator('.row.fold').count()) > 0, 'the rest is folded');
  t.true((await page.locator('svg .arrow').count()) > 0);
  const footer = await page.locator('#violation').innerText();
  t.regex(footer, /O-I5/);
  t.regex(footer, /a sled-agent says 'no such instance'/, "the invariant's promise");
  t.regex(footer, /left the table before its final state reached Nexus/);
  // The moment that matters, in the story: find its row by the document, scroll to it.
  const removed = doc.events.find((e) => e.story && e.line.includes('removed from the table before its final state was published'));
  t.truthy(removed, 'the log line is a story event');
  const rowIndex = removed!.i;
  await scrollTo(page, '.scroller', 0);
  let found = false;
  for (let k = 0; k < 400 && !found; k++) {
    found = (await page.locator(`.row.event[data-i="${rowIndex}"]`).count()) > 0;
    if (!found) await scrollTo(page, '.scroller', (k + 1) * 30 * ROW_PX);
  }
  t.true(found, 'drawn when scrolled to');
  t.regex(await page.locator(`.row.event[data-i="${rowIndex}"]`).innerText(), /sled-\d log VMM vmm-\d+ removed from the table before its final state was published/);
  // The state after registering the VMM: the sled-agent's VMM table, its node first.
  const register = doc.events.find((e) => e.story && e.kind === 'deliver' && e.line.includes('VmmRegister'))!;
  await scrollTo(page, '.scroller', 0);
  for (let k = 0; k < 400 && (await page.locator(`.row.event[data-i="${register.i}"]`).count()) === 0; k++) await scrollTo(page, '.scroller', (k + 1) * 30 * ROW_PX);
  await page.locator(`.row.event[data-i="${register.i}"]`).click();
  const first = page.locator('#state-panel details').first();
  t.regex((await first.getAttribute('data-node')) ?? '', /^sled-\d$/);
  t.regex((await first.textContent()) ?? '', /"vmms"/);
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'viewer.png') });
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});
