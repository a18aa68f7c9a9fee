// stairwell list [file.ts]: scenarios, bugs, invariants, strategies (of the built-in registry, or of a scenario file's).

import { registry, scenarioFile } from '../registry.ts';
import { describeFault } from '../../sim/nemesis.ts';
import { STRATEGIES } from '../../sim/strategy.ts';
import { one, outputPaths, type Parsed } from '../args.ts';
import { checkOutputs } from '../outputs.ts';
import { emitJson } from '../report.ts';
import { usage } from '../exit.ts';

export function list(p: Parsed): number {
  if (p.positionals.length > (scenarioFile() === null ? 0 : 1)) usage(`list takes at most one scenario file, got ${p.positionals.join(' ')}`);
  const json = one(p, 'json');
  checkOutputs(outputPaths(p, [['json', 'file']]), []);
  if (json !== undefined) {
    emitJson(json, {
      scenarios: registry().scenarios.map((s) => ({ name: s.name, summary: s.summary, invariants: s.invariants, faults: s.faultMenu.map(describeFault), config: s.config })),
      bugs: registry().bugs,
      invariants: registry().invariants,
      strategies: STRATEGIES,
    });
    return 0;
  }
  const out: string[] = ['Scenarios:'];
  for (const s of registry().scenarios) {
    out.push(`  ${s.name}  ${s.summary}`, `    checks ${s.invariants.join(', ')}`, `    faults: ${s.faultMenu.map(describeFault).join('; ')}`);
  }
  out.push('', 'Bugs (--bug ID):');
  for (const b of registry().bugs) out.push(`  ${b.id}  [${b.scenario}, ${b.invariant}]`, `    ${b.title}`, `    applies to: ${b.appliesTo.join(', ')}`, `    source: ${b.source}`);
  out.push('', 'Invariants:');
  for (const i of registry().invariants) out.push(`  ${i.id.padEnd(12)} ${i.kind.padEnd(8)} ${i.text}`);
  out.push('', `Strategies: ${STRATEGIES.join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
