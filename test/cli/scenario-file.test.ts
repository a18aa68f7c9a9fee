// Scenario files: `stairwell sweep ./path/scenario.ts` (and run, shrink, replay, view) load a
// user's scenarios from outside the package, checked as they load; bad files are one line, exit 2.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;
const LEASE = './examples/lease/scenario.ts';
const dir = mkdtempSync(join(tmpdir(), 'stairwell-file-'));
// A scenario file is an ES module: a .ts file in a package of "type": "module" (or a .mts file).
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');

function stairwell(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('sweep ./examples/lease/scenario.ts --seeds 1..500 from the repository root: the fixed lease holds', (t) => {
  const r = stairwell('sweep', LEASE, '--seeds', '1..500', '--quiet');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^lease: 500 seeds, 0 failed/m);
});

test('run, replay and view a file scenario; its tape records the file, so replay needs nothing else', (t) => {
  const tape = join(dir, 'lease.json');
  const run = stairwell('run', LEASE, '--seed', '1', '--bug', 'lease/count-from-reply', '--tape', tape);
  t.is(run.status, 1, run.stderr);
  t.regex(run.stdout, /replay: npx stairwell run \.\/examples\/lease\/scenario\.ts --seed 1 --bug lease\/count-from-reply/);
  const recorded = JSON.parse(readFileSync(tape, 'utf8')) as { file: string; config: { workloadMs: number } };
  t.true(recorded.file.endsWith('/examples/lease/scenario.ts'));
  t.is(recorded.config.workloadMs, 10_000, "the scenario's own configuration");
  const replay = stairwell('replay', tape);
  t.is(replay.status, 1, replay.stderr);
  t.regex(replay.stdout, /reproduced: L-I1/);
  const html = join(dir, 'lease.html');
  const view = stairwell('view', tape, '--out', html);
  t.is(view.status, 1, view.stderr); // view exits as run does: 1 for a violating run
  t.regex(readFileSync(html, 'utf8'), /at most one client holds the lease/);
});

test('run --config prints every field of the run configuration, the scenario\'s changes marked', (t) => {
  const r = stairwell('run', LEASE, '--seed', '2', '--config');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^\* workloadMs +10000 +virtual ms +how long the workload runs/m);
  t.regex(r.stdout, /^ {2}nemesis\.gapMsMax +1500 +virtual ms/m);
  t.regex(r.stdout, /^ {2}swarm\.injectPerMilleMax +900 /m);
});

const BAD_FILES: [string, string, RegExp][] = [
  ['a file that is not there', '', /^stairwell: no scenario file .*missing\.ts\n$/],
  ['a registry that contradicts itself', `import { defineRegistry, defineScenario } from 'stairwell';
const s = defineScenario({ name: 'x', summary: '', invariants: ['X-1'], setup: () => ({ afterStep: () => null, unmetGoal: () => null }) });
export default defineRegistry({ scenarios: [s], bugs: [{ id: 'x/y', title: '', source: '', scenario: 'z', invariant: 'X-1' }] });`, /^stairwell: cannot load scenario file .*: RegistryError: the registry is inconsistent: scenario x checks X-1, which no invariant describes; bug x\/y names scenario z, which does not exist; bug x\/y is caught by X-1, which no invariant describes\n$/],
  ['a syntax error', 'export default {', /^stairwell: cannot load scenario file .*: (?:TransformError|SyntaxError).*\n$/],
  ['no scenario exported', 'export const answer = 42;', /^stairwell: scenario file .* must export default defineRegistry\(\{ scenarios, invariants, bugs \}\) or defineScenario\(\{\.\.\.\}\)\n$/],
];

for (const [what, source, expected] of BAD_FILES) {
  test(`a scenario file with ${what}: one line, exit 2`, (t) => {
    const path = join(dir, source === '' ? 'missing.ts' : `${what.replace(/\W+/g, '-')}.ts`);
    if (source !== '') writeFileSync(path, source);
    const r = stairwell('sweep', path, '--seeds', '1..3');
    t.is(r.status, 2, r.stdout);
    t.regex(r.stderr, expected);
  });
}

test("an exception in a scenario file's own oracle is exit 3, naming the file and the seed, not blamed on stairwell alone", (t) => {
  const path = join(dir, 'broken-oracle.ts');
  writeFileSync(path, `import { defineScenario } from 'stairwell';
export default defineScenario({ name: 'broken', summary: '', invariants: ['PANIC'], setup: (sim) => {
  sim.addNode({ id: 'a', initDurable: () => null, boot: (env) => (env.setTimer(5, 't'), {}) });
  return { afterStep: () => { throw new TypeError('oracle bug'); }, unmetGoal: () => null };
} });`);
  const r = stairwell('sweep', path, '--seeds', '1..3', '--workers', '1');
  t.is(r.status, 3, r.stdout);
  t.regex(r.stderr, /^stairwell: internal error: while running broken seed 1: oracle bug \(in the setup or oracle of .*broken-oracle\.ts, or a bug in stairwell; not a finding; --debug/m);
});

test('a switch the file does not define is refused like any unknown switch', (t) => {
  const r = stairwell('run', LEASE, '--seed', '1', '--bug', 'crucible/disable-one-client');
  t.is(r.status, 2);
  t.regex(r.stderr, /unknown bug 'crucible\/disable-one-client'/);
});
