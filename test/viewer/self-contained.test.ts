// The page is one self-contained file: it names no URL to load anything from, it makes no request
// when opened and used (its requests are recorded in a real browser), and whatever text a run
// carries (a payload with `</script>` or markup in it) stays text: it can neither end the
// embedded document early nor run.
//
// The URL check is strict (no `http://` or `https://` anywhere in the file, not only in src,
// href, url() or import): nothing in the page needs one. The one URL a page might be tempted to
// hold, the SVG namespace, is not needed: the SVG is made by the HTML parser (innerHTML), which
// puts it in its namespace by itself.

import test from 'ava';
import type { RunDocument, ViewEvent } from '../../viewer/document.ts';
import { renderDiffHtml, renderRunHtml } from '../../viewer/html.ts';
import { browserFor, openHtml } from '../helpers/browser.ts';
import { longDocument, smallDiffDocument, smallDocument } from '../helpers/view-documents.ts';

const URL_PATTERN = /https?:\/\//i;
const browser = browserFor(test);

/** The small run with payloads that would break out of the page if they were not escaped. */
function hostileDocument(): RunDocument {
  const doc = smallDocument();
  const hostile = '</script><script>document.title = "broken out"</script><img src=x onerror="document.title = \'ran\'"> <!-- \u2028';
  const events: ViewEvent[] = doc.events.map((e) => (e.i === 0 ? { ...e, line: `#1 1ms a timer ${hostile}` } : e));
  return { ...doc, title: `small run ${hostile}`, events, states: [{ a: hostile }, ...doc.states.slice(1)] };
}

test('the run page and the diff page name no http(s) URL', (t) => {
  for (const [what, html] of [
    ['run', renderRunHtml(smallDocument())],
    ['long run', renderRunHtml(longDocument(1_000))],
    ['diff', renderDiffHtml(smallDiffDocument())],
  ] as const) {
    t.true(html.startsWith('<!doctype html>'), what);
    t.is(URL_PATTERN.exec(html)?.[0], undefined, `${what}: a URL at ${URL_PATTERN.exec(html)?.index}`);
    t.notRegex(html, /<(script|link|img|iframe)[^>]+(src|href)=/i, `${what}: nothing to load`);
  }
});

test('opened and used, the page requests nothing', async (t) => {
  const { page, requests, errors } = await openHtml(browser(), 'quiet.html', renderRunHtml(smallDocument()));
  await page.locator('.fold').click();
  await page.locator('.event[data-i="4"]').click();
  await page.locator('#toggle').click();
  await page.locator('.scroller').evaluate((s) => {
    s.scrollTop = 100;
    s.dispatchEvent(new Event('scroll'));
  });
  t.deepEqual(requests, []);
  t.deepEqual(errors, []);
  await page.close();
});

test('a payload with </script> and markup in it is shown as text, and runs nothing', async (t) => {
  const { page, errors } = await openHtml(browser(), 'hostile.html', renderRunHtml(hostileDocument()));
  t.deepEqual(errors, []);
  t.regex(await page.title(), /^stairwell: small run <\/script>/, 'the title is text');
  t.regex(await page.locator('.event[data-i="0"]').innerText(), /<\/script><script>document\.title = "broken out"<\/script><img src=x/);
  t.is(await page.locator('img').count(), 0, 'no element made of the payload');
  t.is(await page.locator('script').count(), 2, 'the document and the code, nothing else');
  await page.locator('.event[data-i="0"]').click();
  t.regex((await page.locator('#state-panel details[data-node="a"] pre').textContent()) ?? '', /<\/script><script>/);
  await page.close();
});
