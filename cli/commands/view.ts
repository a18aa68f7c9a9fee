// stairwell view <F.json> | <scenario> --seed N [--bug ID]... [--strategy S] [--out F.html]
// Writes one self-contained HTML file of a run (viewer/html.ts): a sequence diagram with a lane
// per node, the story unfolded and the rest folded, faults and decisions marked, the violation
// at the bottom, and the state after any event on a click. It works offline: nothing is fetched.

import { bugsFor, nonNegativeInt, one, outputPaths, scenarioNamed, singleRunStrategy, type Parsed } from '../args.ts';
import { usage } from '../exit.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { runDocument } from '../../api/run-document.ts';
import { registry } from '../registry.ts';
import { seedInput, tapeInput, type RunInput } from '../run-input.ts';
import { renderRunHtml } from '../../viewer/html.ts';

export function view(p: Parsed): number {
  if (p.positionals.length !== 1) usage('view takes one tape file, or one scenario with --seed N');
  const input = p.positionals[0]!;
  const fromTape = input.endsWith('.json');
  if (fromTape && (p.flags.has('seed') || p.flags.has('bug') || p.flags.has('strategy'))) usage('a tape names its own seed, switches and strategy: give the tape alone');
  const run = fromTape ? tapeInput(input) : seedRun(p, input);
  const out = one(p, 'out') ?? (fromTape ? input.replace(/\.json$/, '.html') : `${input}-seed${one(p, 'seed')}.html`);
  if (!out.endsWith('.html')) usage(`--out ${out}: the view is an HTML file (F.html)`);
  checkOutputs([...outputPaths(p, []), { flag: one(p, 'out') === undefined ? 'the view (default path; --out F.html to choose)' : '--out', path: out, kind: 'file' }], fromTape ? [input] : []);
  if (run.kind !== 'run') usage('view takes a tape or a scenario and seed');
  const doc = runDocument(run.request, run.title, registry().invariant);
  const written = outputs.write(out, renderRunHtml(doc), 'the view');
  const verdict = doc.violation === null ? 'no violation' : `${doc.violation.invariant} at step ${doc.violation.step}`;
  process.stdout.write(`${run.title}: ${doc.events.length} events, ${doc.events.filter((e) => e.story).length} in the story, ${verdict}\nview: ${written}\n`);
  return doc.violation === null ? 0 : 1;
}

function seedRun(p: Parsed, name: string): RunInput {
  const scenario = scenarioNamed(name);
  const seedText = one(p, 'seed');
  if (seedText === undefined) usage('view <scenario> needs --seed N');
  return seedInput(scenario, nonNegativeInt(seedText, '--seed'), bugsFor(scenario, p.flags.get('bug') ?? []), singleRunStrategy(one(p, 'strategy'), 'view'));
}
