// The nemesis injects faults from a scenario's menu during the workload phase. Fault model:
// - partition: both ways (or one way) between two groups of nodes, for an episode;
// - isolate: one node cut off from every other node, for an episode;
// - crash: a node crashes and restarts after the episode (durable state kept, volatile lost);
// - kill: a node dies for good (not even the heal restarts it); with `alert`, a message from
//   outside the network reports it to a node the scenario names, after a drawn delay;
// - signal: a fault the protocol code models itself (steno's saga error injection), armed on
//   some nodes for an episode by a message from outside the network, disarmed at its end;
// - link: extra loss, duplication or delay on matching links, for an episode.
// Every `gapMsMax` at most, it flips whether to inject (`injectPerMille`) and, if so, which
// option; at most `maxActive` episodes overlap. Every draw goes through the choice source, with
// 0 meaning "no fault", so a shrunk tape drops faults first. Episodes still open when the
// workload ends are healed by the runner (Simulator.healAll).

import { assert } from './assert.ts';
import { between, flip } from './choice.ts';
import { nemesisFor } from './strategy.ts';
import type { LinkFault } from './network.ts';
import type { NodeId } from '../ports/index.ts';
import type { NemesisParams } from './run-config.ts';
import type { FaultRecord, Simulator } from './simulator.ts';

export type FaultOption =
  | { readonly kind: 'partition'; readonly a: readonly NodeId[]; readonly b: readonly NodeId[]; readonly oneWay?: boolean }
  | { readonly kind: 'isolate'; readonly node: NodeId }
  | { readonly kind: 'crash'; readonly node: NodeId }
  | { readonly kind: 'kill'; readonly node: NodeId; readonly alert?: { readonly to: NodeId; readonly message: unknown; readonly delayMsMax: number } }
  | ({ readonly kind: 'link' } & LinkFault)
  | { readonly kind: 'signal'; readonly name: string; readonly nodes: readonly NodeId[]; readonly start: unknown; readonly end: unknown };

/** The nemesis of one run: the menu it draws from and how often (sim/run-config.ts, `nemesis`). */
export interface NemesisConfig extends NemesisParams {
  readonly menu: readonly FaultOption[];
}

export function describeFault(f: FaultOption): string {
  switch (f.kind) {
    case 'partition':
      return `partition ${f.a.join(',')} ${f.oneWay === true ? '->' : '|'} ${f.b.join(',')}`;
    case 'isolate':
      return `isolate ${f.node}`;
    case 'crash':
      return `crash ${f.node}`;
    case 'kill':
      return `kill ${f.node}${f.alert === undefined ? '' : ` (alert to ${f.alert.to})`}`;
    case 'link': {
      const parts = [
        f.lossPerMille === undefined ? '' : ` loss ${f.lossPerMille}‰`,
        f.dupPerMille === undefined ? '' : ` dup ${f.dupPerMille}‰`,
        f.extraDelayMsMax === undefined ? '' : ` +delay ≤${f.extraDelayMsMax}ms`,
      ];
      const except = f.exclude === undefined ? '' : ` (not ${f.exclude.join(',')})`;
      return `link ${f.from} -> ${f.to}${except}${parts.join('')}`;
    }
    case 'signal':
      return `${f.name} on ${f.nodes.join(',')}`;
  }
}

/**
 * Start injecting faults from `menu` from now until the workload ends, as the run's configuration
 * says (`sim.config.nemesis`; under swarm, pct and coverage, varied within `sim.config.swarm`).
 */
export function startNemesis(sim: Simulator, menu: readonly FaultOption[]): void {
  const untilMs = sim.config.workloadMs;
  const config = nemesisFor(sim, { ...sim.config.nemesis, menu });
  assert(config.gapMsMax >= 1 && config.episodeMsMax >= config.episodeMsMin, 'bad nemesis config');
  if (config.menu.length === 0 || config.injectPerMille <= 0) return;
  let active = 0;
  const tick = (): void => {
    if (sim.now >= untilMs) return;
    if (active < config.maxActive && flip(sim.choices, 'nemesis.inject', config.injectPerMille)) {
      const option = config.menu[sim.choices.choose('nemesis.fault', config.menu.length)]!;
      const durationMs = between(sim.choices, 'nemesis.episodeMs', config.episodeMsMin, config.episodeMsMax);
      const end = inject(sim, option, config.killsMax);
      if (end === null) return sim.at(between(sim.choices, 'nemesis.gapMs', 1, config.gapMsMax), 'nemesis', tick);
      active++;
      sim.at(durationMs, `end ${describeFault(option)}`, () => {
        active--;
        if (sim.now <= untilMs) end();
      });
    }
    sim.at(between(sim.choices, 'nemesis.gapMs', 1, config.gapMsMax), 'nemesis', tick);
  };
  sim.at(between(sim.choices, 'nemesis.gapMs', 1, config.gapMsMax), 'nemesis', tick);
}

/** Apply one fault; returns what ends it, or null for a kill refused (no episode to end). */
function inject(sim: Simulator, option: FaultOption, killsMax: number | null): (() => void) | null {
  switch (option.kind) {
    case 'partition': {
      const record = option.oneWay === true ? sim.partitionOneWay(option.a, option.b) : sim.partition(option.a, option.b);
      return () => sim.repair(record);
    }
    case 'isolate': {
      const record = sim.isolate(option.node);
      return () => sim.repair(record);
    }
    case 'crash':
      if (!sim.node(option.node).up) return () => {};
      sim.crash(option.node);
      return () => sim.restart(option.node);
    case 'kill': {
      if (sim.node(option.node).dead || sim.faultLog.filter((f) => f.kind === 'kill').length >= (killsMax ?? Infinity)) return null;
      sim.kill(option.node);
      const alert = option.alert;
      if (alert !== undefined) sim.at(between(sim.choices, 'nemesis.alertMs', 0, alert.delayMsMax), `alert ${alert.to}`, () => sim.tell(alert.to, alert.message));
      return () => {};
    }
    case 'link': {
      const fault: LinkFault = option;
      sim.network.addFault(fault);
      const record: FaultRecord = { kind: 'link', nodes: [option.from, option.to].filter((n) => n !== '*'), description: describeFault(option), startMs: sim.now, endMs: null };
      sim.logFault(record);
      return () => {
        sim.network.removeFault(fault);
        record.endMs = sim.now;
      };
    }
    case 'signal': {
      const record = sim.signal(option.nodes, option.start, option.end, describeFault(option));
      return () => sim.unsignal(record);
    }
  }
}
