// What names one run on the command line, for the commands that take one (`view`, `diff`):
// a tape file (`F.json`: its own scenario, switches, strategy and seed), a trace file written
// by `--trace` (`F.jsonl`: its events alone, for a run before a code change), or a scenario with
// `--seed N` and `--bug ID`s.

import { readFileSync } from 'node:fs';
import type { Scenario } from '../api/scenario.ts';
import type { Strategy } from '../sim/strategy.ts';
import type { TraceRecord } from '../sim/trace.ts';
import { bugsFor, scenarioNamed, strategyNamed } from './args.ts';
import { usage } from './exit.ts';
import type { RunRequest } from '../api/execute.ts';
import { readTape } from '../api/tape.ts';

export type RunInput =
  | { readonly kind: 'run'; readonly request: RunRequest; readonly title: string }
  | { readonly kind: 'trace'; readonly records: readonly TraceRecord[]; readonly title: string };

/** A tape (`F.json`), with its switches or, `fixed`, with none (the fixed protocol on the same choices). */
export function tapeInput(path: string, fixed = false): RunInput {
  const tape = readTape(path);
  const scenario = scenarioNamed(tape.scenario);
  const bugs = fixed ? [] : bugsFor(scenario, tape.bugs, `tape ${path}: switch`);
  const request: RunRequest = { scenario, bugs, seed: tape.seed, strategy: strategyNamed(tape.strategy), ...(tape.config === undefined ? {} : { config: tape.config }), tape: { values: tape.choices.map((c) => c[2]), labels: tape.choices.map((c) => c[0]) } };
  return { kind: 'run', request, title: `${path}${fixed ? ' under the fixed protocol' : bugs.length > 0 ? ` [${bugs.join(', ')}]` : ''}` };
}

export function seedInput(scenario: Scenario, seed: number, bugs: readonly string[], strategy: Strategy): RunInput {
  return { kind: 'run', request: { scenario, bugs, seed, strategy }, title: `${scenario.name} seed ${seed}${bugs.length > 0 ? ` [${bugs.join(', ')}]` : ''}` };
}

/** A trace written by `run`/`replay --trace`: one JSON record per line. */
export function traceInput(path: string): RunInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    usage(`cannot read trace ${path}`);
  }
  const records: TraceRecord[] = [];
  for (const [k, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      usage(`trace ${path} line ${k + 1} is not JSON`);
    }
    const ok = typeof r === 'object' && r !== null && typeof (r as TraceRecord).step === 'number' && typeof (r as TraceRecord).event === 'string';
    if (!ok) usage(`trace ${path} line ${k + 1} is not a trace record`);
    records.push(r as TraceRecord);
  }
  return { kind: 'trace', records, title: path };
}

/** A tape or a trace, by its name's ending. */
export function fileInput(path: string): RunInput {
  if (path.endsWith('.jsonl')) return traceInput(path);
  if (path.endsWith('.json')) return tapeInput(path);
  return usage(`${path}: give a tape (F.json) or a trace (F.jsonl)`);
}
