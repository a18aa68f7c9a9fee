// The viewer's page: one self-contained HTML file of a run (or of two, side by side), that works
// offline and can be attached to an issue. The document (viewer/document.ts) is embedded as JSON;
// the browser code (viewer/app/) is bundled into the page by esbuild when the page is made, with
// the style sheet inlined; nothing is loaded from anywhere else.
//
// No UI library: the lanes, arrows, faults and folds are laid out by hand, in rows of one height
// drawn only where the window is (a run of 10,000 events is 10,000 rows, ~150 in the page). No
// sequence-diagram library fits that: mermaid and its kin lay out every message as SVG at once and
// are far past usable at a few thousand. A component library (preact) would only wrap the ~150
// rows a scroll redraws, which one innerHTML of a string does faster and in fewer lines, and the
// rest of the page (a header, a footer, a state panel) is a dozen createElement calls.

import { buildSync } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../cli/package-root.ts';
import type { DiffDocument, RunDocument } from './document.ts';

/** The bundled browser code, made once per process. */
let script: string | null = null;

function appScript(): string {
  if (script !== null) return script;
  const built = buildSync({
    entryPoints: [join(packageRoot(), 'viewer', 'app', 'main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'error',
  });
  // `</script` could only sit in a string or regex literal of the minified code, where `<\/script`
  // means the same; escaped, the page's parser cannot take it for the end of the element.
  script = built.outputFiles[0]!.text.replace(/<\/(script)/gi, '<\\/$1');
  return script;
}

function style(): string {
  return readFileSync(join(packageRoot(), 'viewer', 'app', 'style.css'), 'utf8');
}

/** JSON that can sit inside a <script> element: no `</script>` or `<!--` can close it early. */
function embedded(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(kind: 'run' | 'diff', title: string, data: unknown): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>stairwell: ${escapeHtml(title)}</title>`,
    `<style>${style()}</style>`,
    '</head>',
    `<body data-kind="${kind}">`,
    '<noscript>This view needs JavaScript (it runs offline, from this file alone).</noscript>',
    `<script type="application/json" id="document">${embedded(data)}</script>`,
    `<script>${appScript()}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

export function renderRunHtml(doc: RunDocument): string {
  return page('run', doc.title, doc);
}

export function renderDiffHtml(doc: DiffDocument): string {
  return page('diff', `${doc.left.title} vs ${doc.right.title}`, doc);
}
