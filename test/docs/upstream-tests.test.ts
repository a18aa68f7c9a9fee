// docs/upstream-tests.md pairs upstream tests with ours: every test of ours it names must exist,
// so the table cannot go stale when a test is renamed or removed.

import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function testSources(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? testSources(join(dir, e.name)) : e.name.endsWith('.test.ts') ? readFileSync(join(dir, e.name), 'utf8') : ''))
    .join('\n');
}

test('every test of ours that docs/upstream-tests.md names exists', (t) => {
  const doc = readFileSync('docs/upstream-tests.md', 'utf8');
  const sources = testSources('test').replaceAll("\\'", "'");
  const named = new Set<string>();
  for (const line of doc.split('\n').filter((l) => l.startsWith('| `'))) {
    const status = line.split('|').at(-2)!.trim();
    if (!status.startsWith('ours')) continue;
    for (const m of status.matchAll(/`([^`]+)`/g)) if (m[1]!.includes(' ')) named.add(m[1]!.replace(/, \.\.\.$/, '').replace(/\.\.\.$/, ''));
  }
  t.true(named.size >= 20, `only ${named.size} tests named`);
  const missing = [...named].filter((title) => !sources.includes(title));
  t.deepEqual(missing, []);
});
