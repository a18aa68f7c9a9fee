// The commands a person reads a failure with: the story `run`, `replay` and `shrink` print by
// default (--all, --last, --node, --entity), `view` (one self-contained HTML file) and `diff`
// (two runs aligned, the first divergence named).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'stairwell-story-'));
const TAPE = 'museum/sled-agent__remove-before-notify.json';

function stairwell(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('replay prints the story by default: at most 30 lines, the VMM leaving the table among them', (t) => {
  const r = stairwell('replay', TAPE);
  t.is(r.status, 1);
  const heading = /the story \(--all for every event\): (\d+) lines/.exec(r.stdout);
  t.not(heading, null, r.stdout);
  t.true(Number(heading![1]) <= 30);
  t.regex(r.stdout, /removed from the table before its final state was published/);
  t.regex(r.stdout, /=> O-I5: sled-\d says VMM vmm-\d+ does not exist/);
});

test('--all prints every event, sends and deliveries; --last N the last N; --node and --entity filter', (t) => {
  const all = stairwell('replay', TAPE, '--all');
  const count = Number(/every event: (\d+) lines/.exec(all.stdout)![1]);
  t.true(count > 100);
  t.regex(all.stdout, / sends [\w-]+ (req|msg|rep) /);
  t.regex(all.stdout, / -> [\w-]+ (req|msg|rep) /);
  const last = stairwell('replay', TAPE, '--last', '7');
  t.regex(last.stdout, /the last 7 events: 7 lines/);
  const node = stairwell('replay', TAPE, '--all', '--node', 'crdb');
  const lines = node.stdout.split('\n').filter((l) => /^ {4}#\d+/.test(l));
  t.true(lines.length > 0);
  t.true(lines.every((l) => /crdb/.test(l)), 'every event is on, from or to crdb');
  const entity = stairwell('replay', TAPE, '--all', '--entity', 'saga-1');
  t.true(entity.stdout.split('\n').filter((l) => /^ {4}#\d+/.test(l)).every((l) => /saga-1\b/.test(l)));
});

test('bad input: --all with --last, and --last 0, give one line and exit 2', (t) => {
  for (const args of [['--all', '--last', '3'], ['--last', '0']]) {
    const r = stairwell('replay', TAPE, ...args);
    t.is(r.status, 2);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});

test('run --json and replay --json report storyLines', (t) => {
  const r = JSON.parse(stairwell('replay', TAPE, '--json').stdout) as { storyLines: number };
  t.true(r.storyLines > 0 && r.storyLines <= 30);
});

test('view writes one self-contained HTML file of a museum tape: no external URL, the document inside', (t) => {
  const out = join(dir, 'view.html');
  const r = stairwell('view', TAPE, '--out', out);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stdout, /view: .*view\.html/);
  const html = readFileSync(out, 'utf8');
  t.regex(html, /^<!doctype html>/i);
  t.notRegex(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'nothing is loaded from elsewhere');
  t.notRegex(html, /https?:\/\/(?!www\.w3\.org\/)/, 'no external URL');
  t.regex(html, /removed from the table before its final state was published/);
});

test('view of a scenario and seed; bad input gives one line and exit 2', (t) => {
  const out = join(dir, 'seed.html');
  t.is(stairwell('view', 'crucible-takeover', '--seed', '3', '--out', out).status, 0);
  for (const args of [['view', 'crucible-takeover'], ['view', TAPE, '--out', join(dir, 'x.txt')], ['view', TAPE, '--seed', '3']]) {
    const r = stairwell(...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1);
  }
});

test('diff of a museum tape under its bug and under the fixed protocol names the first divergence', (t) => {
  const out = join(dir, 'diff.html');
  const r = stairwell('diff', TAPE, '--fixed', '--out', out);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stdout, /A: .*VIOLATION O-I5/);
  t.regex(r.stdout, /B: .*under the fixed protocol: ok/);
  t.regex(r.stdout, /first divergence at aligned event \d+: /);
  t.regex(r.stdout, />> (A|B): /);
  t.regex(readFileSync(out, 'utf8'), /^<!doctype html>/i);
  const json = JSON.parse(stairwell('diff', TAPE, '--fixed', '--json').stdout) as { same: boolean; firstDivergence: { pair: number } | null };
  t.false(json.same);
  t.true(json.firstDivergence!.pair >= 0);
});

test('diff of a run with itself finds nothing (exit 0); two seeds differ at once; a trace before and after compares', (t) => {
  t.is(stairwell('diff', 'crucible-takeover@3', 'crucible-takeover@3').status, 0);
  const two = stairwell('diff', 'crucible-takeover@3', 'crucible-takeover@4');
  t.is(two.status, 1);
  t.regex(two.stdout, /first divergence at aligned event/);
  const trace = join(dir, 'before.jsonl');
  stairwell('replay', TAPE, '--trace', trace);
  const same = stairwell('diff', trace, TAPE);
  t.is(same.status, 0, same.stdout);
});
