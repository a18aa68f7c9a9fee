// The world of the Crucible scenarios: three downstairs holding one region set, one or more
// upstairs, the control plane that activates them, and a guest per upstairs. Every link is one
// TCP connection's worth of ordering (FIFO); a lost message breaks the connection, which both
// ends notice by the gap in its sequence numbers.

import type { Replacement } from '../model/crucible/control-replace.ts';
import { controlPlane, type Activation, type ControlProcess, type Deactivation } from '../model/crucible/control-plane.ts';
import { downstairs, type DownstairsProcess } from '../model/crucible/downstairs/node.ts';
import type { Region } from '../model/crucible/downstairs/region.ts';
import { guest, type GuestProcess } from '../model/crucible/guest.ts';
import type { RegionDefinition } from '../model/crucible/protocol.ts';
import { upstairs, type UpstairsProcess } from '../model/crucible/upstairs/node.ts';
import type { Bugs } from '../ports/index.ts';
import { crucibleLivenessGoal } from '../oracle/crucible-liveness.ts';
import { GuestRegister } from '../oracle/crucible-register.ts';
import { CrucibleSafety } from '../oracle/crucible-safety.ts';
import type { CrucibleWorld } from '../oracle/crucible-world.ts';
import { startNemesis, type FaultOption } from '../sim/nemesis.ts';
import type { RunConfigInput } from '../sim/run-config.ts';
import type { Oracle } from '../sim/runner.ts';
import { defineScenario, type Scenario } from '../api/scenario.ts';
import type { Simulator } from '../sim/simulator.ts';
import { CRUCIBLE_ACTIVATION_PROBES, CRUCIBLE_REPLACEMENT_PROBES, CRUCIBLE_TAKEOVER_PROBES } from './required-probes.ts';

export const DOWNSTAIRS = ['ds-1', 'ds-2', 'ds-3'] as const;
export const CONTROL = 'control';
export const REGION: RegionDefinition = { regionId: 'region-a', extentCount: 4, blocksPerExtent: 4 };

/** Every Crucible scenario: 12 s of workload, then up to 40 s to settle; faults a little more often and shorter. */
export const CRUCIBLE_RUN_CONFIG: RunConfigInput = { workloadMs: 12_000, livenessMs: 40_000, nemesis: { injectPerMille: 350, episodeMsMax: 2_500 } };
const SAFETY = ['C-I1', 'C-I2', 'C-I3', 'C-I4', 'C-I5', 'C-I7', 'C-I8', 'C-I9', 'C-I10', 'C-I11', 'PANIC'];

const CRUCIBLE_PROBES: Readonly<Record<string, readonly string[]>> = {
  'crucible-activation': CRUCIBLE_ACTIVATION_PROBES,
  'crucible-takeover': CRUCIBLE_TAKEOVER_PROBES,
  'crucible-replacement': CRUCIBLE_REPLACEMENT_PROBES,
};

/** A Crucible scenario from its shape: the safety invariants all check, plus its liveness goals. */
export function crucibleScenario(name: string, summary: string, shape: CrucibleShape, liveness: readonly string[]): Scenario {
  return defineScenario({
    name,
    summary,
    // C-L5 (the replicas agree with each other and the guest's history) in every one of them.
    invariants: [...SAFETY, ...liveness, 'C-L5'],
    faultMenu: crucibleFaultMenu(shape),
    requiredProbes: CRUCIBLE_PROBES[name] ?? [],
    config: CRUCIBLE_RUN_CONFIG,
    setup: (sim, { bugs, faultMenu }) => buildCrucibleWorld(sim, bugs, shape, faultMenu),
  });
}

export interface CrucibleShape {
  readonly upstairs: readonly string[];
  /** Downstairs with a fresh region of their own, for replacements to swap in. */
  readonly spares?: readonly string[];
  readonly replacements?: readonly Replacement[];
  readonly deactivations?: readonly Deactivation[];
  /** The activation script; guests start once their upstairs is meant to be active. */
  readonly activations: readonly Activation[];
  readonly guestStartMs: Readonly<Record<string, number>>;
}

export function crucibleFaultMenu(shape: { readonly upstairs: readonly string[]; readonly spares?: readonly string[] }): FaultOption[] {
  return [
    ...[...DOWNSTAIRS, ...(shape.spares ?? [])].flatMap((ds): FaultOption[] => [
      { kind: 'crash', node: ds },
      ...shape.upstairs.map((u): FaultOption => ({ kind: 'partition', a: [u], b: [ds] })),
      ...shape.upstairs.map((u): FaultOption => ({ kind: 'link', from: u, to: ds, lossPerMille: 100 })),
    ]),
    ...shape.upstairs.map((u): FaultOption => ({ kind: 'crash', node: u })),
  ];
}

export function buildCrucibleWorld(sim: Simulator, bugs: Bugs, shape: CrucibleShape, menu: readonly FaultOption[]): Oracle {
  const spares = shape.spares ?? [];
  const allDownstairs = [...DOWNSTAIRS, ...spares];
  const nodes = [...allDownstairs, ...shape.upstairs];
  for (const a of nodes) for (const b of nodes) if (a !== b) sim.network.configure(a, b, { fifo: true });
  for (const id of DOWNSTAIRS) sim.addNode(downstairs({ id, region: REGION, readOnly: false, idleMsMax: 3_000 }, bugs));
  for (const id of spares) sim.addNode(downstairs({ id, region: { ...REGION, regionId: `region-${id}` }, readOnly: false, idleMsMax: 3_000 }, bugs));
  sim.addNode(controlPlane({ id: CONTROL, activations: shape.activations, retryMs: 4_000, attemptsMax: 20, replacements: shape.replacements ?? [], deactivations: shape.deactivations ?? [] }));
  shape.upstairs.forEach((id, i) => {
    sim.addNode(upstairs({ id, upstairsId: `upstairs-${i + 1}`, downstairs: DOWNSTAIRS, region: REGION, keepAliveMs: 300, deadAfterMs: 1_200, holdMax: 30, control: CONTROL }, bugs));
    sim.addNode(guest({ id: `guest-${i + 1}`, upstairs: id, region: REGION, opsMax: 24, thinkMsMax: 600, timeoutMs: 3_000, startMs: shape.guestStartMs[id] ?? 0 }));
  });
  startNemesis(sim, menu);

  const guestIds = shape.upstairs.map((_, i) => `guest-${i + 1}`);
  const world: CrucibleWorld = {
    downstairsIds: allDownstairs,
    upstairsIds: shape.upstairs,
    controlId: CONTROL,
    downstairs: (id) => sim.node(id).process as DownstairsProcess | null,
    region: (id) => (sim.node(id).durable as { region: Region }).region,
    upstairs: (id) => sim.node(id).process as UpstairsProcess | null,
    control: () => sim.node(CONTROL).process as ControlProcess | null,
    guests: () => shape.upstairs.map((_, i) => sim.node(`guest-${i + 1}`).process as GuestProcess),
    guestIds,
    guest: (id) => (guestIds.includes(id) ? (sim.node(id).process as GuestProcess | null) : null),
  };
  const register = new GuestRegister();
  const safety = new CrucibleSafety(world, register);
  sim.observe(safety);
  return { afterStep: (step) => safety.afterStep(step), unmetGoal: () => crucibleLivenessGoal(world, register) };
}
