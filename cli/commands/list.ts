// stairwell list: scenarios, bugs, invariants, strategies.

import { INVARIANTS } from '../../oracle/catalog.ts';
import { BUGS } from '../../scenarios/bugs.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { describeFault } from '../../sim/nemesis.ts';
import { STRATEGIES } from '../../sim/strategy.ts';
import { parseArgs } from '../args.ts';
import { emitJson } from '../report.ts';

export function list(argv: readonly string[]): number {
  const p = parseArgs(argv, { json: 'json' });
  const json = p.flags.get('json')?.[0];
  if (json !== undefined) {
    emitJson(json, {
      scenarios: SCENARIOS.map((s) => ({ name: s.name, summary: s.summary, invariants: s.invariants, faults: s.faultMenu.map(describeFault), limits: s.limits })),
      bugs: BUGS,
      invariants: INVARIANTS,
      strategies: STRATEGIES,
    });
    return 0;
  }
  const out: string[] = ['Scenarios:'];
  for (const s of SCENARIOS) {
    out.push(`  ${s.name}  ${s.summary}`, `    checks ${s.invariants.join(', ')}`, `    faults: ${s.faultMenu.map(describeFault).join('; ')}`);
  }
  out.push('', 'Bugs (--bug ID):');
  for (const b of BUGS) out.push(`  ${b.id}  [${b.scenario}, ${b.invariant}]`, `    ${b.title}`, `    source: ${b.source}`);
  out.push('', 'Invariants:');
  for (const i of INVARIANTS) out.push(`  ${i.id.padEnd(12)} ${i.kind.padEnd(8)} ${i.text}`);
  out.push('', `Strategies: ${STRATEGIES.join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
