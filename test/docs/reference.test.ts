// The reference pages that list what the code defines stay equal to it: every invariant of the
// built-in registry in docs/invariants.md with its text, every run configuration field in
// docs/writing-a-scenario.md with its default; and nothing in the repository points outside it.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN } from '../../scenarios/index.ts';
import { DEFAULT_RUN_CONFIG, fieldValue, RUN_CONFIG_FIELDS } from '../../sim/run-config.ts';

test('docs/invariants.md lists every invariant of the built-in registry, with its text and the scenarios that check it', (t) => {
  const rows = readFileSync('docs/invariants.md', 'utf8').split('\n').filter((l) => l.startsWith('| `'));
  t.is(rows.length, BUILTIN.invariants.length);
  for (const i of BUILTIN.invariants) {
    const row = rows.find((r) => r.startsWith(`| \`${i.id}\` |`));
    t.truthy(row, i.id);
    t.true(row!.includes(i.text.replaceAll('|', '\\|')), `${i.id}: its text`);
    for (const s of BUILTIN.scenarios.filter((s) => s.invariants.includes(i.id))) t.true(row!.includes(s.name), `${i.id}: ${s.name}`);
  }
});

test('docs/writing-a-scenario.md describes every field of the run configuration, with its default', (t) => {
  const doc = readFileSync('docs/writing-a-scenario.md', 'utf8');
  for (const f of RUN_CONFIG_FIELDS) t.true(doc.includes(`| \`${f.path}\` | ${JSON.stringify(fieldValue(DEFAULT_RUN_CONFIG, f.path))} | ${f.unit} |`), f.path);
});

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'dist' || e.name === 'test-output' ? [] : e.isDirectory() ? files(join(dir, e.name)) : /\.(md|ts|mjs|json|yml)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

test('nothing in the repository refers to files outside it', (t) => {
  const outside = files('.').filter((f) => /\.\.\/shared\/|\b(?:DESIGN|anchors|tooling)\.md|(?<!RFD \d+\s+)§\d/.test(readFileSync(f, 'utf8')));
  t.deepEqual(outside, []);
});

test('the README is short and links into docs/ for the rest', (t) => {
  const readme = readFileSync('README.md', 'utf8');
  t.true(readme.split('\n').length <= 200, `${readme.split('\n').length} lines`);
  for (const page of ['writing-a-scenario.md', 'commands.md', 'protocols.md', 'invariants.md', 'bugs.md', 'benchmarks.md', 'how-it-works.md']) t.true(readme.includes(`docs/${page}`), page);
});
