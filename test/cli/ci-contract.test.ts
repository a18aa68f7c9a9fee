import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { BUILTIN, SCENARIOS } from '../../scenarios/index.ts';

// What CI relies on, through the real executable: exit codes that never lie, sweeps of any size
// that stop on a budget and say what they covered, shards that cannot go missing, JUnit XML a CI
// system can read, help and version, progress that does not flood a log.

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'stairwell-ci-'));

function stairwell(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

interface JUnitCase {
  readonly name: string;
  readonly classname: string;
  readonly failure?: { readonly message: string; readonly type: string; readonly '#text'?: string };
}

function testCases(path: string): JUnitCase[] {
  const doc = xml.parse(readFileSync(path, 'utf8')) as { testsuites: { testsuite: { testcase: JUnitCase[] }[] } };
  return doc.testsuites.testsuite.flatMap((s) => s.testcase);
}

test('--version prints the package version; help, --help and -h print a command\'s synopsis and options', (t) => {
  const version = stairwell('--version');
  t.is(version.status, 0);
  t.is(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  for (const args of [['sweep', '--help'], ['sweep', '-h'], ['help', 'sweep']]) {
    const r = stairwell(...args);
    t.is(r.status, 0, args.join(' '));
    t.regex(r.stdout, /^Usage: stairwell sweep \[<scenario>\|<file\.ts>\|all\] --seeds A\.\.B\|random:N\[@S\]\s+\[options\]/, args.join(' '));
    for (const flag of ['--seeds', '--workers', '--shard', '--seconds', '--max-failures', '--junit', '--quiet', '--check-determinism']) t.true(r.stdout.includes(flag), `${args.join(' ')} names ${flag}`);
  }
  const run = stairwell('run', '--help');
  t.is(run.status, 0);
  t.regex(run.stdout, /Usage: stairwell run <scenario\|file\.ts> --seed N/);
  const all = stairwell('help');
  t.is(all.status, 0);
  for (const command of ['list', 'run', 'sweep', 'merge', 'replay', 'shrink', 'museum', 'bench']) t.regex(all.stdout, new RegExp(`\\n  ${command} `));
  t.regex(all.stdout, /exit status:\n {2}0 {4}clean/);
  const none = stairwell();
  t.is(none.status, 2, 'no command is a usage error');
  t.regex(none.stderr, /^Usage: stairwell <command>/);
  t.is(none.stdout, '');
});

test('a sweep of ten billion seeds starts at once, stops on its time budget and says what it covered', (t) => {
  const out = join(dir, 'huge.json');
  const r = stairwell('sweep', 'all', '--seeds', '1..10000000000', '--seconds', '2', '--quiet', '--json', out);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  t.false(j.complete);
  t.is(j.stopped, 'seconds');
  t.is(j.total, SCENARIOS.length * 10_000_000_000);
  t.is(j.range, '1..10000000000');
  t.true(j.seeds > 0);
  t.is(j.covered.length, SCENARIOS.length);
  // Seed-major batches: every scenario got its share, each a run of seeds from the first.
  for (const c of j.covered) {
    t.true(c.seeds > 0, c.scenario);
    t.is(c.through, c.seeds, `${c.scenario}: seeds 1..${c.seeds}`);
  }
  t.true(j.covered.reduce((n: number, c: { seeds: number }) => n + c.seeds, 0) <= j.seeds);
  t.regex(r.stdout, /stopped by its time budget after \d+ of 70000000000 seeds; covered: instance-lifecycle \d+ seeds through \d+/);
});

test('a range past 2^32 is fine: the seeds are made as they are needed', (t) => {
  const r = stairwell('sweep', 'crucible-activation', '--seeds', '4294967290..4294967299', '--workers', '1', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.is(j.seeds, 10);
  t.true(j.complete);
  t.deepEqual(j.covered, [{ scenario: 'crucible-activation', seeds: 10, through: 4294967299 }]);
});

test('--seeds random:N prints its start first, and random:N@S draws the same seeds again', (t) => {
  // disable-one-client fails nearly every takeover seed, so any start finds failures to compare.
  const args = ['sweep', 'crucible-takeover', '--bug', 'crucible/disable-one-client', '--workers', '1', '--quiet'];
  const firstJson = join(dir, 'random-first.json');
  const first = stairwell(...args, '--seeds', 'random:40', '--json', firstJson);
  t.is(first.status, 1);
  const m = /^seeds: random:40@(\d+) \(40 seeds drawn from start \d+; --seeds random:40@\d+ draws the same again\)\n/.exec(first.stdout);
  t.truthy(m, first.stdout.split('\n')[0]);
  const a = JSON.parse(readFileSync(firstJson, 'utf8'));
  const b = JSON.parse(stairwell(...args, '--seeds', `random:40@${m![1]}`, '--json').stdout);
  t.is(a.range, `random:40@${m![1]}`);
  t.is(b.range, a.range);
  t.true(a.failures.length > 0);
  t.deepEqual(b.failures, a.failures, 'the same seeds, the same failures');
  t.true(a.failures.every((f: { seed: number }) => f.seed >= 0 && f.seed < 2 ** 32));
});

test('--max-failures stops a sweep on two workers after that many failures, and says so', (t) => {
  const r = stairwell('sweep', 'crucible-takeover', '--seeds', '1..100000', '--bug', 'crucible/disable-one-client', '--max-failures', '5', '--workers', '2', '--json');
  t.is(r.status, 1);
  const j = JSON.parse(r.stdout);
  t.is(j.stopped, 'max-failures');
  t.false(j.complete);
  t.true(j.failureCount >= 5 && j.seeds < 1000, `${j.failureCount} failures in ${j.seeds} seeds`);
});

test('merge: one shard of two exits 1 naming the missing one; an interrupted shard exits 1; a budgeted one does not', (t) => {
  const args = ['sweep', 'crucible-activation', '--seeds', '1..40', '--workers', '1', '--quiet'];
  const one = join(dir, 'act-1.json');
  const two = join(dir, 'act-2.json');
  t.is(stairwell(...args, '--shard', '1/2', '--json', one).status, 0);
  t.is(stairwell(...args, '--shard', '2/2', '--json', two).status, 0);
  t.is(stairwell('merge', one, two).status, 0, 'both shards, both clean');
  const alone = stairwell('merge', one, '--junit', join(dir, 'alone.xml'));
  t.is(alone.status, 1);
  t.regex(alone.stdout, /MISSING shards: 2\/2/);
  const shards = testCases(join(dir, 'alone.xml')).find((c) => c.name === 'shards');
  t.regex(shards?.failure?.message ?? '', /shard 2\/2 is missing/);
  // A shard whose sweep was killed leaves complete: false with no budget of its own.
  const cut = join(dir, 'act-2-cut.json');
  writeFileSync(cut, JSON.stringify({ ...JSON.parse(readFileSync(two, 'utf8')), complete: false, stopped: 'interrupted' }));
  const interrupted = stairwell('merge', one, cut);
  t.is(interrupted.status, 1);
  t.regex(interrupted.stdout, /INTERRUPTED shards: 2\/2/);
  // A shard that stopped on its own --seconds budget is a normal end: it says what it covered.
  const timed = join(dir, 'act-2-timed.json');
  writeFileSync(timed, JSON.stringify({ ...JSON.parse(readFileSync(two, 'utf8')), complete: false, stopped: 'seconds' }));
  const budgeted = stairwell('merge', one, timed);
  t.is(budgeted.status, 0, budgeted.stdout);
  t.regex(budgeted.stdout, /shard 2\/2 stopped by its time budget: crucible-activation 20 seeds through 40/);
});

test('sweep --junit is JUnit XML: a testcase per scenario, a failure with invariant, seed, message and replay command', (t) => {
  const path = join(dir, 'sweep.xml');
  const r = stairwell('sweep', 'all', '--seeds', '1..30', '--bug', 'crucible/disable-one-client', '--workers', '1', '--quiet', '--junit', path);
  t.is(r.status, 1);
  const cases = testCases(path);
  t.deepEqual(cases.map((c) => c.name), BUILTIN.bug('crucible/disable-one-client')!.appliesTo, 'all: the scenarios the switch applies to');
  const takeover = cases.find((c) => c.name === 'crucible-takeover')!;
  t.is(takeover.classname, 'stairwell.sweep');
  t.is(takeover.failure?.type, 'C-I5');
  t.regex(takeover.failure?.message ?? '', /^\d+ of 30 seeds failed; first: seed 1, C-I5 at step \d+: upstairs-a is Initializing/);
  t.regex(takeover.failure?.['#text'] ?? '', /seed 1: C-I5 at step \d+: .+\n {2}replay: npx stairwell run crucible-takeover --seed 1 --bug crucible\/disable-one-client/);
});

test('museum --junit: a testcase per bug; without --update the committed museum is left alone and the tapes go to a folder it names', (t) => {
  const committed = join(ROOT, 'museum', 'crucible__replace-while-initializing.json');
  const before = readFileSync(committed, 'utf8');
  const mtime = statSync(committed).mtimeMs;
  const path = join(dir, 'museum.xml');
  const r = stairwell('museum', '--bug', 'crucible/replace-while-initializing', '--seconds', '1', '--quiet', '--junit', path);
  t.is(r.status, 0, r.stderr);
  const m = /^tapes go to (\S+) \(a new folder; --update writes museum\/\)$/m.exec(r.stdout);
  t.truthy(m, r.stdout);
  t.deepEqual(readdirSync(m![1]!), ['crucible__replace-while-initializing.json']);
  t.is(readFileSync(committed, 'utf8'), before);
  t.is(statSync(committed).mtimeMs, mtime);
  const [bug] = testCases(path);
  t.is(bug?.name, 'crucible/replace-while-initializing');
  t.is(bug?.failure, undefined);
});

test('a write that fails after the work: one line naming where the results were kept, exit 4', (t) => {
  const r = stairwell('sweep', 'crucible-activation', '--seeds', '1..10', '--workers', '1', '--json=/dev/full');
  t.is(r.status, 4);
  const m = /^stairwell: could not write the sweep results to \/dev\/full \(ENOSPC: [^)]*\); kept it in (\S+)$/m.exec(r.stderr);
  t.truthy(m, r.stderr);
  t.is(JSON.parse(readFileSync(m![1]!, 'utf8')).seeds, 10, 'the results are all there');
  t.notRegex(r.stderr, /\n\s+at /);
  const shrink = stairwell('shrink', 'crucible-replacement', '--seed', '48', '--bug', 'crucible/replace-while-initializing', '--seconds', '1', '--out', '/dev/full');
  t.is(shrink.status, 4);
  const kept = /kept it in (\S+)$/m.exec(shrink.stderr)![1]!;
  t.regex(shrink.stdout, new RegExp(`tape: ${kept.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} {2}\\(npx stairwell replay `), 'the printed tape path is where the tape is');
  t.is(stairwell('replay', kept, '--json').status, 1, 'and it replays');
});

test('a tape naming a switch that does not apply to its scenario is refused', (t) => {
  const tape = join(dir, 'odd.json');
  stairwell('run', 'instance-lifecycle', '--seed', '3', '--tape', tape);
  writeFileSync(tape, JSON.stringify({ ...JSON.parse(readFileSync(tape, 'utf8')), bugs: ['crucible/disable-one-client'] }));
  for (const command of ['replay', 'shrink']) {
    const r = stairwell(command, tape);
    t.is(r.status, 2, command);
    t.is(r.stderr.trim(), `stairwell: tape ${tape}: switch crucible/disable-one-client does not apply to instance-lifecycle; it applies to crucible-activation, crucible-takeover, crucible-replacement, propolis-start`);
  }
});

test('off a terminal, progress is a plain line every few seconds, never a carriage return', async (t) => {
  const child = spawn(process.execPath, [BIN, 'sweep', 'all', '--seeds', '1..1000000', '--seconds', '6', '--workers', '1']);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  t.is(code, 0);
  t.false(stderr.includes('\r'));
  const lines = stderr.split('\n').filter(Boolean);
  t.true(lines.length >= 1 && lines.length <= 2, stderr);
  t.regex(lines[0]!, /^all \(7 scenarios\): [\d,]+ of 7,000,000 seeds \(\d+\.\d+%\), 0 failed, [\d,]+ seeds\/s, ETA \d+s$/);
  const quiet = stairwell('shrink', 'crucible-replacement', '--seed', '48', '--bug', 'crucible/replace-while-initializing', '--seconds', '1', '--out', join(dir, 'q.json'));
  t.false(quiet.stderr.includes('\r'), 'a shrink off a terminal writes no carriage returns either');
});
