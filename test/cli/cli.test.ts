import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUGS, SCENARIOS } from '../../scenarios/index.ts';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'stairwell-'));

function stairwell(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BAD_INPUT: [string, string[], RegExp][] = [
  ['unknown scenario', ['run', 'no-such-world', '--seed', '1'], /unknown scenario 'no-such-world'/],
  ['unknown bug', ['sweep', 'instance-lifecycle', '--seeds', '1..2', '--bug', 'nexus/imaginary'], /unknown bug 'nexus\/imaginary'/],
  ['an empty seed range', ['sweep', 'instance-lifecycle', '--seeds', '5..1'], /--seeds 5\.\.1: the range is empty/],
  ['a malformed seed range', ['sweep', '--seeds', 'lots'], /--seeds takes A\.\.B \(e\.g\. 1\.\.1000\) or random:N\[@S\]/],
  ['a switch that does not apply to the scenario', ['run', 'instance-lifecycle', '--seed', '1', '--bug', 'crucible/disable-one-client'], /--bug crucible\/disable-one-client does not apply to instance-lifecycle; it applies to crucible-activation, crucible-takeover, crucible-replacement/],
  ['a value option given twice', ['run', 'instance-lifecycle', '--seed', '1', '--seed', '2'], /--seed given more than once/],
  ['an option without its value', ['sweep', 'crucible-takeover', '--seeds'], /option '--seeds <A\.\.B\|random:N\[@S\]>' argument missing/],
  ['a random seed count of zero', ['sweep', 'crucible-takeover', '--seeds', 'random:0'], /N must be 1\.\.4294967296/],
  ['a time budget that is not a number', ['sweep', 'crucible-takeover', '--seeds', '1..2', '--seconds', 'soon'], /--seconds takes a positive number of seconds, not 'soon'/],
  ['a failure budget of zero', ['sweep', 'crucible-takeover', '--seeds', '1..2', '--max-failures', '0'], /--max-failures takes 1 or more/],
  ['a shard with no seeds', ['sweep', 'crucible-takeover', '--seeds', '1..2', '--shard', '3/3'], /--shard 3\/3 of --seeds 1\.\.2 has no seeds/],
  ['museum told both to update and to write elsewhere', ['museum', '--update', '--out', '/tmp'], /--update writes the committed museum\/; --out DIR writes elsewhere: give one/],
  ['a tape given with switches of its own', ['shrink', 'museum/crucible__disable-one-client.json', '--bug', 'crucible/disable-one-client'], /a tape names its own seed, switches and strategy: give the tape alone/],
  ['a missing seed', ['run', 'instance-lifecycle'], /run needs --seed N/],
  ['an unknown option', ['run', 'instance-lifecycle', '--seed', '1', '--colour'], /unknown option '--colour' \(see 'stairwell run --help'\)/],
  ['an unknown strategy', ['run', 'instance-lifecycle', '--seed', '1', '--strategy', 'telepathy'], /unknown strategy 'telepathy'/],
  ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['shrinking a run that does not fail', ['shrink', 'crucible-takeover', '--seed', '2'], /does not fail: nothing to shrink/],
  ['shrinking without a seed', ['shrink', 'crucible-takeover'], /shrink <scenario> needs --seed N/],
  ['a shard past the shard count', ['sweep', 'crucible-takeover', '--seeds', '1..2', '--shard', '3/2'], /--shard 3\/2: K must be 1..N/],
  ['merging nothing', ['merge'], /merge takes the sweep --json results/],
  ['zero workers', ['sweep', 'crucible-takeover', '--seeds', '1..2', '--workers', '0'], /--workers takes a number of threads, 1 or more/],
  ['one run under a search strategy', ['run', 'crucible-takeover', '--seed', '1', '--strategy', 'coverage'], /coverage is a search over many runs/],
  ['an unknown bench section', ['bench', '--only', 'speed'], /--only takes sections among throughput, sweep, memory, search, shrink, not 'speed'/],
];

for (const [what, args, message] of BAD_INPUT) {
  test(`bad input: ${what} gives one line and exit 2`, (t) => {
    const r = stairwell(...args);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.notRegex(r.stderr, /\n\s+at /);
  });
}

test('bad input: malformed tape files give one line and exit 2', (t) => {
  const cases: [string, string, RegExp][] = [
    ['garbage.json', '{ not json', /is not JSON/],
    ['empty.json', '{}', /not a stairwell tape/],
    ['values.json', JSON.stringify({ stairwell: 1, scenario: 'instance-lifecycle', bugs: [], seed: 1, choices: [['x', 2, 5]] }), /choice 0 is not \[label, n, value\]/],
    ['world.json', JSON.stringify({ stairwell: 1, scenario: 'atlantis', bugs: [], seed: 1, choices: [] }), /unknown scenario 'atlantis'/],
  ];
  for (const [name, text, message] of cases) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const r = stairwell('replay', path);
    t.is(r.status, 2, name);
    t.regex(r.stderr, message, name);
    t.is(r.stderr.trim().split('\n').length, 1, name);
  }
  t.is(stairwell('replay', join(dir, 'missing.json')).status, 2);
});

test('run --json prints the same fingerprint twice', (t) => {
  const a = stairwell('run', 'instance-lifecycle', '--seed', '7', '--json');
  const b = stairwell('run', 'instance-lifecycle', '--seed', '7', '--json');
  t.is(a.status, 0);
  const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
  t.is(ja.fingerprint, jb.fingerprint);
  t.true(ja.ok);
  t.is(ja.violation, null);
  t.is(ja.replay, 'npx stairwell run instance-lifecycle --seed 7');
  t.true(ja.steps > 0);
});

test('a sweep with the bug exits 1 naming the first failing seed, its invariant and a replay command; its tape replays', (t) => {
  const r = stairwell('sweep', 'instance-lifecycle', '--seeds', '1..300', '--bug', 'sled-agent/remove-before-notify');
  t.is(r.status, 1);
  const m = /first failure: instance-lifecycle seed (\d+), O-I5 at step \d+\nreplay: (npx stairwell run instance-lifecycle --seed \d+ --bug sled-agent\/remove-before-notify)/.exec(r.stdout);
  t.truthy(m, r.stdout);
  const seed = m![1]!;
  const tape = join(dir, 'found.json');
  const trace = join(dir, 'found.jsonl');
  const run = stairwell('run', 'instance-lifecycle', '--seed', seed, '--bug', 'sled-agent/remove-before-notify', '--tape', tape, '--trace', trace);
  t.is(run.status, 1);
  t.regex(run.stdout, /VIOLATION O-I5/);
  t.regex(run.stdout, /the story \(--all for every event\): \d+ lines/);
  t.true(readFileSync(trace, 'utf8').split('\n').filter(Boolean).every((l) => typeof JSON.parse(l).event === 'string'));
  const replay = stairwell('replay', tape, '--json');
  t.is(replay.status, 1);
  const j = JSON.parse(replay.stdout);
  t.true(j.reproduced);
  t.true(j.sameFingerprint);
  t.is(j.divergence, null);
  t.is(j.violation.invariant, 'O-I5');
});

test('sweep --json lists seeds and failures; list names every scenario and bug', (t) => {
  const r = stairwell('sweep', 'all', '--seeds', '1..40', '--json');
  t.is(r.status, 0);
  const j = JSON.parse(r.stdout);
  const names = SCENARIOS.map((s) => s.name);
  t.is(j.seeds, 40 * names.length, '40 seeds of each scenario');
  t.deepEqual(j.scenarios, names);
  t.deepEqual(j.failures, []);
  const list = stairwell('list');
  t.is(list.status, 0);
  for (const s of SCENARIOS) t.true(list.stdout.includes(`  ${s.name}`), s.name);
  for (const b of BUGS) t.true(list.stdout.includes(`  ${b.id}  [${b.scenario}, ${b.invariant}]`), b.id);
});

test('shrink writes a smaller tape that replays the same invariant', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stairwell-shrink-'));
  const out = join(dir, 'small.json');
  const r = stairwell('shrink', 'crucible-replacement', '--seed', '48', '--bug', 'crucible/replace-while-initializing', '--seconds', '20', '--out', out, '--json');
  t.is(r.status, 1);
  const j = JSON.parse(r.stdout);
  t.is(j.invariant, 'PANIC');
  t.true(j.to.choices < j.from.choices, JSON.stringify(j));
  const replay = JSON.parse(stairwell('replay', out, '--json').stdout);
  t.true(replay.reproduced);
  t.is(replay.violation.invariant, 'PANIC');
});

test('sweep on two worker threads finds exactly what one thread finds, in the same order', (t) => {
  const args = ['sweep', 'crucible-takeover', '--seeds', '1..200', '--bug', 'crucible/accept-equal-generation', '--json'];
  const one = JSON.parse(stairwell(...args, '--workers', '1').stdout);
  const two = JSON.parse(stairwell(...args, '--workers', '2').stdout);
  t.is(two.seeds, 200);
  t.is(two.steps, one.steps);
  t.deepEqual(two.failures, one.failures);
});

test('sweep shards split a range, and merge joins them into what one sweep finds', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stairwell-shards-'));
  const args = ['sweep', 'crucible-takeover', '--seeds', '1..300', '--bug', 'crucible/accept-equal-generation', '--workers', '1'];
  const whole = JSON.parse(stairwell(...args, '--json').stdout);
  const parts = ['1/2', '2/2'].map((shard, i) => {
    const path = join(dir, `shard-${i + 1}.json`);
    stairwell(...args, '--shard', shard, '--json', path);
    return path;
  });
  const merged = stairwell('merge', ...parts, '--json');
  t.is(merged.status, 1);
  const j = JSON.parse(merged.stdout);
  t.is(j.seeds, whole.seeds);
  t.is(j.steps, whole.steps);
  t.deepEqual(j.failures, whole.failures);
  t.deepEqual(j.missingShards, []);
  const dup = stairwell('merge', parts[0]!, parts[0]!);
  t.is(dup.status, 2);
  t.regex(dup.stderr, /shard 1\/2 is given twice/);
  const alone = stairwell('merge', parts[0]!, '--json');
  t.is(alone.status, 1, 'a shard that never reported is not a clean one');
  t.deepEqual(JSON.parse(alone.stdout).missingShards, ['2/2']);
});

test('museum finds, shrinks and replays a registered bug, and checks the fixed protocol on the same seeds', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stairwell-museum-'));
  const r = stairwell('museum', '--bug', 'crucible/disable-one-client', '--seconds', '3', '--out', dir, '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.true(j.ok);
  t.like(j.bugs[0], { id: 'crucible/disable-one-client', found: true, seedsToFind: 1, reproduced: true, fixedClean: true });
  t.true(j.bugs[0].shrunkSteps <= 100);
  t.is(JSON.parse(readFileSync(j.bugs[0].tape, 'utf8')).bugs[0], 'crucible/disable-one-client');
});

test('bad input: a tape of another scenario gives one line and exit 2', (t) => {
  const tape = join(dir, 'takeover.json');
  stairwell('run', 'crucible-takeover', '--seed', '1', '--tape', tape);
  const r = stairwell('replay', 'crucible-activation', tape);
  t.is(r.status, 2);
  t.is(r.stderr.trim(), `stairwell: tape ${tape} is of scenario crucible-takeover, not crucible-activation`);
  t.is(stairwell('replay', 'crucible-takeover', tape).status, 0);
});

test('replay after the code changed says where it diverged and realigns the choices on their labels', (t) => {
  const tape = join(dir, 'museum-shifted.json');
  const museumTape = JSON.parse(readFileSync(new URL('../../museum/crucible__accept-equal-generation.json', import.meta.url), 'utf8'));
  museumTape.choices.splice(3, 0, ['retired.choice', 5, 4], ['retired.choice', 5, 3]);
  writeFileSync(tape, JSON.stringify(museumTape));
  const r = stairwell('replay', tape);
  t.is(r.status, 1);
  t.regex(r.stdout, /diverged at choice 3: the tape has 'retired\.choice'/);
  t.regex(r.stdout, /reproduced: C-I1 \(best effort: after realigning the choices on their labels\)/);
});

test('a coverage sweep runs one search in order, writes each failure as a tape, and the tape replays', (t) => {
  const tapes = mkdtempSync(join(tmpdir(), 'stairwell-tapes-'));
  const args = ['sweep', 'crucible-replacement', '--seeds', '1..150', '--strategy', 'coverage', '--bug', 'crucible/replace-while-initializing', '--tapes', tapes, '--json'];
  const r = stairwell(...args);
  t.is(r.status, 1);
  const j = JSON.parse(r.stdout);
  t.true(j.complete);
  t.true(j.failures.length > 0);
  const first = j.failures[0];
  t.is(first.replay, `npx stairwell replay ${join(tapes, `crucible-replacement-coverage-${first.seed}.json`)}`);
  const replay = JSON.parse(stairwell('replay', first.replay.split(' ').at(-1), '--json').stdout);
  t.true(replay.reproduced);
  t.deepEqual(JSON.parse(stairwell(...args).stdout).failures, j.failures, 'the same search again');
});

test('an interrupted sweep keeps what it found: its --json file holds the failures so far', async (t) => {
  const out = join(dir, 'interrupted.json');
  const child = spawn(process.execPath, [BIN, 'sweep', 'crucible-takeover', '--seeds', '1..200000', '--bug', 'crucible/disable-one-client', '--workers', '1', '--json', out]);
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Seed 1 fails, so the file appears with the first seed: interrupt once the sweep is under way.
  for (let waited = 0; !existsSync(out) && waited < 60_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  t.is(code, 130);
  t.regex(stderr, /sweep interrupted after \d+ seeds, \d+ failed; results so far in /);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  t.false(j.complete);
  t.true(j.failures.length > 0 && j.failures.length <= j.seeds && j.seeds < 200_000, `${j.failures.length} of ${j.seeds}`);
});

test('bench --json reports seeds to find per strategy and the shrinker beside fast-check', (t) => {
  const r = stairwell('bench', '--only', 'search,shrink', '--starts', '1', '--cap', '50', '--seconds', '2', '--bug', 'crucible/replace-while-initializing', '--json');
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const power = j.search[0];
  t.is(power.id, 'crucible/replace-while-initializing');
  t.deepEqual(Object.keys(power.strategies).sort(), ['coverage', 'pct', 'random', 'swarm']);
  t.true(power.strategies.random.median <= 51);
  const shrink = j.shrink[0];
  t.true(shrink.stairwell.sameInvariant && shrink.fastCheck.sameInvariant);
  // The shrinker minimises decisions first, within twice the first run's steps (docs/commands.md, `shrink`).
  t.true(shrink.stairwell.decisions <= shrink.from.decisions);
  t.true(shrink.stairwell.steps <= 2 * shrink.from.steps);
});
