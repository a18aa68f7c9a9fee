// Search strategies: how a run spends its choices. Every strategy draws only through the choice
// source, so whatever it finds is a tape that replays.
// - random: the baseline; the nemesis picks uniformly from the whole fault menu at one rate.
// - swarm: each run first draws which of the menu's faults it may use (each kept with the odds
//   of the run configuration's `swarm.keepPerMille`, even by default; at least one) and how often
//   it injects (within `swarm.injectPerMilleMin..Max`), as FoundationDB's and TigerBeetle's simulators do:
//   runs that leave most faults out reach states that a fault of every kind at once would mask.
// - pct: node priorities with a few priority change points order ready events and shape message
//   delays (sim/pct.ts), over swarm's per-run fault menu.
// - coverage: a corpus of tapes that reached new transitions, mutated (sim/coverage.ts); a search
//   over many runs, its runs draw faults as under swarm.

import { between, flip } from './choice.ts';
import type { NemesisConfig } from './nemesis.ts';
import type { Simulator } from './simulator.ts';

export const STRATEGIES = ['random', 'swarm', 'pct', 'coverage'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The nemesis configuration this run uses under its strategy. */
export function nemesisFor(sim: Simulator, config: NemesisConfig): NemesisConfig {
  if (sim.strategy === 'random' || config.menu.length === 0) return config;
  const bounds = sim.config.swarm;
  let menu = config.menu.filter((_, i) => flip(sim.choices, `swarm.keep.${i}`, bounds.keepPerMille));
  if (menu.length === 0) menu = [config.menu[sim.choices.choose('swarm.only', config.menu.length)]!];
  const injectPerMille = between(sim.choices, 'swarm.injectPerMille', bounds.injectPerMilleMin, bounds.injectPerMilleMax);
  return { ...config, menu, injectPerMille };
}
