// The viewer's entry in the page: read the embedded document and draw the view it is for.

import type { DiffDocument, RunDocument } from '../document.ts';
import { showDiff } from './diff-view.ts';
import { showRun } from './run-view.ts';

const source = document.getElementById('document');
if (source === null) throw new Error('no document in the page');
const data: unknown = JSON.parse(source.textContent ?? 'null');
if (document.body.dataset.kind === 'diff') showDiff(data as DiffDocument);
else showRun(data as RunDocument);
