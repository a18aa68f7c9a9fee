// stairwell diff <A> <B> | <F.json> --fixed  [--bug ID]... [--out F.html] [--json [F.json]]
// Two runs aligned event by event (sim/trace-diff.ts), and where they first part ways, as text
// and, with --out, side by side in the HTML viewer. A and B are each a tape (F.json), a trace
// written by --trace (F.jsonl: a run before a code change), or a scenario and seed
// (`instance-lifecycle@12`, with the --bug switches given). `--fixed` compares one tape under its
// bug switches with the same choices under the fixed protocol. Exit 0 if the runs are the same,
// 1 if they differ (as diff(1)).

import { alignTraces, type TraceAlignment } from '../../sim/trace-diff.ts';
import { describeRecord, type TraceRecord } from '../../sim/trace.ts';
import { renderDiffHtml } from '../../viewer/html.ts';
import type { RunDocument } from '../../viewer/document.ts';
import { bugsFor, nonNegativeInt, one, outputPaths, scenarioNamed, type Parsed } from '../args.ts';
import { usage } from '../exit.ts';
import { execute } from '../../api/execute.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { emitJson, verdictLine, violationJson } from '../report.ts';
import { runDocument, traceDocument } from '../../api/run-document.ts';
import { registry } from '../registry.ts';
import { fileInput, seedInput, tapeInput, type RunInput } from '../run-input.ts';

const CONTEXT_EVENTS = 3;

export function diff(p: Parsed): number {
  const [a, b] = inputsOf(p);
  const out = one(p, 'out');
  const json = one(p, 'json');
  if (out !== undefined && !out.endsWith('.html')) usage(`--out ${out}: the side-by-side view is an HTML file (F.html)`);
  checkOutputs(outputPaths(p, [['out', 'file'], ['json', 'file']]), p.positionals);
  const left = sideOf(a);
  const right = sideOf(b);
  const alignment = alignTraces(left.records, right.records);
  const summary = summaryOf(left, right, alignment);
  if (out !== undefined) {
    const written = outputs.write(out, renderDiffHtml({ left: documentOfSide(left), right: documentOfSide(right), pairs: alignment.pairs, firstDivergence: alignment.firstDivergence, summary }), 'the side-by-side view');
    if (json === undefined) process.stdout.write(`view: ${written}\n`);
  }
  if (json !== undefined) {
    emitJson(json, jsonOf(left, right, alignment), 'the diff');
  } else {
    process.stdout.write(`${textOf(left, right, alignment, summary).join('\n')}\n`);
  }
  return alignment.firstDivergence === null ? 0 : 1;
}

/** The two runs the command line names. */
function inputsOf(p: Parsed): [RunInput, RunInput] {
  const bugs = p.flags.get('bug') ?? [];
  if (p.flags.has('fixed')) {
    if (p.positionals.length !== 1 || !p.positionals[0]!.endsWith('.json')) usage('diff --fixed takes one tape (F.json): it is run under its switches and under the fixed protocol');
    if (bugs.length > 0) usage('diff --fixed takes the switches from the tape');
    return [tapeInput(p.positionals[0]!), tapeInput(p.positionals[0]!, true)];
  }
  if (p.positionals.length !== 2) usage('diff takes two runs (a tape F.json, a trace F.jsonl, or <scenario>@<seed>), or one tape with --fixed');
  return [inputOf(p.positionals[0]!, bugs), inputOf(p.positionals[1]!, bugs)];
}

function inputOf(text: string, bugs: readonly string[]): RunInput {
  const at = /^([\w-]+)@(\d+)$/.exec(text);
  if (at === null) {
    if (bugs.length > 0 && !text.endsWith('.jsonl') && text.endsWith('.json')) usage('--bug applies to <scenario>@<seed> runs; a tape names its own switches');
    return fileInput(text);
  }
  const scenario = scenarioNamed(at[1]);
  return seedInput(scenario, nonNegativeInt(at[2]!, 'the seed'), bugsFor(scenario, bugs), 'random');
}

interface Side {
  readonly input: RunInput;
  readonly records: readonly TraceRecord[];
  readonly verdict: string;
  readonly violation: object | null;
}

function sideOf(input: RunInput): Side {
  if (input.kind === 'trace') return { input, records: input.records, verdict: `${input.title}: a trace of ${input.records.length} events (its verdict is not in the trace)`, violation: null };
  const outcome = execute({ ...input.request, trace: true }).outcome;
  return { input, records: outcome.records ?? [], verdict: verdictLine(input.title, outcome), violation: violationJson(outcome.violation) };
}

function documentOfSide(side: Side): RunDocument {
  return side.input.kind === 'trace' ? traceDocument(side.input.records, side.input.title) : runDocument(side.input.request, side.input.title, registry().invariant);
}

/** The first divergence in one line: where, and what differs there. */
function summaryOf(left: Side, right: Side, al: TraceAlignment): string {
  if (al.firstDivergence === null) return `the runs are the same event for event (${left.records.length} events)`;
  const [i, j] = al.pairs[al.firstDivergence]!;
  const where = `first divergence at aligned event ${al.firstDivergence + 1}`;
  if (i === null) return `${where}: only B has ${describeRecord(right.records[j!]!)}`;
  if (j === null) return `${where}: only A has ${describeRecord(left.records[i]!)}`;
  return `${where}: ${whatDiffers(left.records[i]!, right.records[j]!)}`;
}

/** The fields two versions of an event differ in, named by path (`message.state.gen: 4 vs 5`). */
export function whatDiffers(a: TraceRecord, b: TraceRecord): string {
  const diffs: string[] = [];
  const walk = (x: unknown, y: unknown, path: string, depth: number): void => {
    if (JSON.stringify(x) === JSON.stringify(y)) return;
    const objects = typeof x === 'object' && x !== null && typeof y === 'object' && y !== null && !Array.isArray(x) && !Array.isArray(y);
    if (!objects || depth >= 4) {
      diffs.push(`${path}: ${JSON.stringify(x) ?? 'none'} vs ${JSON.stringify(y) ?? 'none'}`);
      return;
    }
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, depth + 1);
  };
  const { step: _sa, ...ra } = a;
  const { step: _sb, ...rb } = b;
  walk(ra, rb, '', 0);
  return diffs.length === 0 ? 'the same event at another step' : diffs.slice(0, 6).join('; ');
}

function textOf(left: Side, right: Side, al: TraceAlignment, summary: string): string[] {
  const lines = [`A: ${left.verdict}`, `B: ${right.verdict}`, summary];
  if (al.firstDivergence === null) return lines;
  const from = Math.max(0, al.firstDivergence - CONTEXT_EVENTS);
  for (let k = from; k < Math.min(al.pairs.length, al.firstDivergence + CONTEXT_EVENTS + 1); k++) {
    const [i, j] = al.pairs[k]!;
    const mark = k === al.firstDivergence ? '>>' : '  ';
    const a = i === null ? '(none)' : describeRecord(left.records[i]!);
    const b = j === null ? '(none)' : describeRecord(right.records[j]!);
    if (i !== null && j !== null && a === b) lines.push(`${mark} both: ${a}`);
    else lines.push(`${mark} A: ${a}`, `${mark} B: ${b}`);
  }
  lines.push(`${al.differing} of ${al.pairs.length} aligned events differ`);
  return lines;
}

function jsonOf(left: Side, right: Side, al: TraceAlignment): object {
  const at = al.firstDivergence === null ? null : al.pairs[al.firstDivergence]!;
  return {
    left: { title: left.input.title, events: left.records.length, violation: left.violation },
    right: { title: right.input.title, events: right.records.length, violation: right.violation },
    same: al.firstDivergence === null,
    firstDivergence:
      at === null
        ? null
        : {
            pair: al.firstDivergence,
            left: at[0] === null ? null : describeRecord(left.records[at[0]]!),
            right: at[1] === null ? null : describeRecord(right.records[at[1]]!),
            differs: at[0] !== null && at[1] !== null ? whatDiffers(left.records[at[0]]!, right.records[at[1]]!) : null,
          },
    differing: al.differing,
    pairs: al.pairs.length,
  };
}
