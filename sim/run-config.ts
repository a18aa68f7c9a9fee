// The run configuration: every knob of one run, with its meaning, unit, default and bounds, in
// this one place. A scenario gives its defaults (`defineScenario({ config })`, only the fields
// it changes); `stairwell run --config` prints the effective one; a tape records it, so a replay
// runs with the configuration the failure was found under even after the scenario's defaults
// change. The swarm, pct and coverage strategies vary the nemesis per run, only within the
// bounds stated here (`swarm.*`).
//
// What is not here: the strategy (how choices are drawn: `--strategy`, recorded in the tape
// beside this), the fault menu (a scenario's: which faults exist in its world) and protocol
// parameters (a Nexus' timeouts, a sled-agent's publish attempts: the model's, set by the world).

import { assert } from './assert.ts';

/** The network's base parameters, on every directed link (link faults add to them for an episode). */
export interface LinkParams {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly lossPerMille: number;
  readonly dupPerMille: number;
  readonly fifo: boolean;
}

/** How often and how long the nemesis injects faults from the scenario's menu. */
export interface NemesisParams {
  readonly gapMsMax: number;
  readonly injectPerMille: number;
  readonly episodeMsMin: number;
  readonly episodeMsMax: number;
  readonly maxActive: number;
  /** At most this many nodes killed for good in a run; null: no limit. */
  readonly killsMax: number | null;
}

/** What swarm testing (and pct and coverage, which draw faults as swarm does) may vary per run. */
export interface SwarmBounds {
  readonly keepPerMille: number;
  readonly injectPerMilleMin: number;
  readonly injectPerMilleMax: number;
}

export interface RunConfig {
  readonly workloadMs: number;
  readonly livenessMs: number;
  readonly maxSteps: number;
  readonly link: LinkParams;
  readonly nemesis: NemesisParams;
  readonly swarm: SwarmBounds;
  readonly pctDepth: number;
}

/** A configuration with only the fields a scenario (or a user) changes; the rest are defaults. */
export type RunConfigInput = {
  readonly [K in keyof RunConfig]?: RunConfig[K] extends object ? Partial<RunConfig[K]> : RunConfig[K];
};

export interface ConfigField {
  /** Dotted path: `nemesis.gapMsMax`. */
  readonly path: string;
  readonly unit: string;
  readonly meaning: string;
  readonly min: number;
  readonly max: number;
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  workloadMs: 15_000,
  livenessMs: 60_000,
  maxSteps: 200_000,
  link: { delayMsMin: 1, delayMsMax: 10, lossPerMille: 0, dupPerMille: 0, fifo: false },
  nemesis: { gapMsMax: 1_500, injectPerMille: 300, episodeMsMin: 100, episodeMsMax: 3_000, maxActive: 2, killsMax: null },
  swarm: { keepPerMille: 500, injectPerMilleMin: 100, injectPerMilleMax: 900 },
  pctDepth: 3,
};

const MS_MAX = 86_400_000;

/** Every field: what it means, its unit, and the values it may take (booleans are 0..1). */
export const RUN_CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'workloadMs', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: 'how long the workload runs with the nemesis injecting faults; safety is checked after every step' },
  { path: 'livenessMs', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: 'after the heal (every fault ended, crashed nodes restarted), how long the liveness goals have to hold' },
  { path: 'maxSteps', unit: 'steps', min: 1, max: 100_000_000, meaning: 'steps in all before the run is stopped as BOUND-STEPS (an event storm or a livelock)' },
  { path: 'link.delayMsMin', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: "a message's shortest delay, on every link" },
  { path: 'link.delayMsMax', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: "a message's longest delay (uniform in between, drawn per message)" },
  { path: 'link.lossPerMille', unit: '‰ of messages', min: 0, max: 1000, meaning: 'messages lost on every link, outside fault episodes' },
  { path: 'link.dupPerMille', unit: '‰ of messages', min: 0, max: 1000, meaning: 'messages delivered twice on every link, outside fault episodes' },
  { path: 'link.fifo', unit: 'boolean', min: 0, max: 1, meaning: 'every link delivers in order (a world may still make single links fifo)' },
  { path: 'nemesis.gapMsMax', unit: 'virtual ms', min: 1, max: MS_MAX, meaning: 'the nemesis wakes after a gap drawn in 1..gapMsMax and decides whether to inject' },
  { path: 'nemesis.injectPerMille', unit: '‰ of wake-ups', min: 0, max: 1000, meaning: 'how often a wake-up injects a fault from the menu (0: no faults at all)' },
  { path: 'nemesis.episodeMsMin', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: "a fault episode's shortest length (a partition held, a crashed node down)" },
  { path: 'nemesis.episodeMsMax', unit: 'virtual ms', min: 0, max: MS_MAX, meaning: "a fault episode's longest length" },
  { path: 'nemesis.maxActive', unit: 'episodes', min: 0, max: 1_000, meaning: 'fault episodes open at once at most' },
  { path: 'nemesis.killsMax', unit: 'nodes (null: no limit)', min: 0, max: 1_000, meaning: 'nodes killed for good in one run at most: which failures stay recoverable' },
  { path: 'swarm.keepPerMille', unit: '‰ per fault', min: 0, max: 1000, meaning: "swarm, pct, coverage: each fault of the menu is kept for the run with these odds (at least one is)" },
  { path: 'swarm.injectPerMilleMin', unit: '‰ of wake-ups', min: 0, max: 1000, meaning: 'swarm, pct, coverage: the lowest injection rate a run may draw instead of nemesis.injectPerMille' },
  { path: 'swarm.injectPerMilleMax', unit: '‰ of wake-ups', min: 0, max: 1000, meaning: 'swarm, pct, coverage: the highest injection rate a run may draw' },
  { path: 'pctDepth', unit: 'ordering constraints', min: 1, max: 64, meaning: 'pct: the bug depth it targets (depth - 1 priority change points within the workload)' },
];

/** The configuration `input` names, every other field its default; checked against the bounds above. */
export function runConfig(input: RunConfigInput = {}, base: RunConfig = DEFAULT_RUN_CONFIG): RunConfig {
  const config: RunConfig = {
    workloadMs: input.workloadMs ?? base.workloadMs,
    livenessMs: input.livenessMs ?? base.livenessMs,
    maxSteps: input.maxSteps ?? base.maxSteps,
    link: { ...base.link, ...input.link },
    nemesis: { ...base.nemesis, ...input.nemesis },
    swarm: { ...base.swarm, ...input.swarm },
    pctDepth: input.pctDepth ?? base.pctDepth,
  };
  const problems = configProblems(config);
  if (problems.length > 0) throw new RangeError(`bad run configuration: ${problems.join('; ')}`);
  return config;
}

/** What is wrong with a configuration (unknown or missing fields, values out of bounds, min above max); empty when nothing is. */
export function configProblems(config: unknown): string[] {
  if (typeof config !== 'object' || config === null) return ['not an object'];
  const problems: string[] = [];
  const known = new Set(RUN_CONFIG_FIELDS.map((f) => f.path));
  for (const path of leafPaths(config)) if (!known.has(path)) problems.push(`unknown field ${path}`);
  for (const field of RUN_CONFIG_FIELDS) {
    const value = fieldValue(config, field.path);
    if (field.path === 'nemesis.killsMax' && value === null) continue;
    const n = typeof value === 'boolean' && field.unit === 'boolean' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) problems.push(`${field.path} must be ${field.unit === 'boolean' ? 'true or false' : 'an integer'}, not ${JSON.stringify(value)}`);
    else if (n < field.min || n > field.max) problems.push(`${field.path} must be in ${field.min}..${field.max}, not ${n}`);
  }
  const c = config as RunConfig;
  if (problems.length > 0) return problems;
  if (c.link.delayMsMin > c.link.delayMsMax) problems.push('link.delayMsMin is above link.delayMsMax');
  if (c.nemesis.episodeMsMin > c.nemesis.episodeMsMax) problems.push('nemesis.episodeMsMin is above nemesis.episodeMsMax');
  if (c.swarm.injectPerMilleMin > c.swarm.injectPerMilleMax) problems.push('swarm.injectPerMilleMin is above swarm.injectPerMilleMax');
  return problems;
}

export function fieldValue(config: object, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function leafPaths(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, v]) => (typeof v === 'object' && v !== null ? leafPaths(v as object, `${prefix}${key}.`) : [`${prefix}${key}`]));
}

/** The configuration as a table a person reads: field, value, unit, meaning; fields a scenario changed are marked. */
export function describeRunConfig(config: RunConfig, defaults: RunConfig = DEFAULT_RUN_CONFIG): string[] {
  assert(configProblems(config).length === 0, 'describing a bad configuration');
  const width = Math.max(...RUN_CONFIG_FIELDS.map((f) => f.path.length));
  return RUN_CONFIG_FIELDS.map((f) => {
    const value = fieldValue(config, f.path);
    const changed = value !== fieldValue(defaults, f.path) ? '*' : ' ';
    return `${changed} ${f.path.padEnd(width)}  ${String(value).padStart(9)}  ${f.unit.padEnd(22)} ${f.meaning}`;
  });
}
