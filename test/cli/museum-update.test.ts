import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { outputs } from '../../cli/outputs.ts';
import { readTape, tapeOf, tapeText } from '../../api/tape.ts';
import { execute } from '../../api/execute.ts';
import { findScenario } from '../../scenarios/index.ts';
import { captured } from '../helpers/capture.ts';

// `museum --update` writes the committed museum/ of the package, and only where it gains: a
// committed tape that still replays and is no longer than the new one stays. Run in this process
// with the package root pointed at a scratch copy (STAIRWELL_ROOT, as cli/bin.mjs sets it).

const REPO = new URL('../../', import.meta.url).pathname;
const BUG = 'crucible/replace-while-initializing';
const FILE = 'crucible__replace-while-initializing.json';

function scratchRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'stairwell-root-'));
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
  mkdirSync(join(root, 'museum'));
  return root;
}

async function museumUpdate(root: string): Promise<{ code: number; stdout: string }> {
  process.env.STAIRWELL_ROOT = root;
  try {
    const r = await captured(() => main(['museum', '--update', '--bug', BUG, '--seconds', '2', '--quiet']));
    return { code: r.value, stdout: r.stdout };
  } finally {
    delete process.env.STAIRWELL_ROOT;
    outputs.lost.length = 0;
  }
}

test.serial('a committed tape that still replays and is as short is kept, and said so', async (t) => {
  const root = scratchRoot();
  copyFileSync(join(REPO, 'museum', FILE), join(root, 'museum', FILE));
  const before = readFileSync(join(root, 'museum', FILE), 'utf8');
  const r = await museumUpdate(root);
  t.is(r.code, 0);
  t.regex(r.stdout, new RegExp(`kept ${join(root, 'museum', FILE)} \\(\\d+ decisions, \\d+ steps, still replays; this run's shrink reached \\d+ decisions, \\d+ steps\\)`));
  t.is(readFileSync(join(root, 'museum', FILE), 'utf8'), before);
});

test.serial('a longer committed tape is replaced, and the file written is printed', async (t) => {
  const root = scratchRoot();
  // A failing run of the bug that is longer than the shrunk one: the first seed past 48 that fails in more steps.
  const scenario = findScenario('crucible-replacement')!;
  let long = null;
  for (let seed = 49; long === null && seed < 5000; seed++) {
    const { outcome } = execute({ scenario, bugs: [BUG], seed });
    if (outcome.violation?.invariant === 'PANIC' && outcome.steps > 10) long = tapeOf(outcome, { scenario, bugs: [BUG], strategy: 'random', seed });
  }
  t.truthy(long);
  writeFileSync(join(root, 'museum', FILE), tapeText(long!));
  const r = await museumUpdate(root);
  t.is(r.code, 0);
  t.regex(r.stdout, new RegExp(`wrote ${join(root, 'museum', FILE)}`));
  t.true(readTape(join(root, 'museum', FILE)).steps < long!.steps);
});

test.serial('a committed tape that no longer replays is replaced', async (t) => {
  const root = scratchRoot();
  writeFileSync(join(root, 'museum', FILE), '{ "stairwell": 1, "this is": "not a tape" }\n');
  const r = await museumUpdate(root);
  t.is(r.code, 0);
  t.regex(r.stdout, /wrote /);
  t.is(readTape(join(root, 'museum', FILE)).bugs[0], BUG);
});
