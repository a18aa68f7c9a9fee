// The world of the propolis-start scenario: CockroachDB (holding one disk, its volume and its
// regions), one Nexus (instance lifecycle plus region replacement), one sled-agent running VMs in
// Propolis (two Propolis processes, one VM each), five downstairs (three hold the disk's region
// set, two are spares for replacements), the user (with a misbehaving client beside it) and the
// operator, who expunges a disk the hardware reports dead. The faults are propolisFaultMenu's: the
// disk's downstairs (not the spares) die or crash, Propolis and Nexus crash, Nexus is cut from the
// sled and Propolis from each disk downstairs, links out of Propolis and out of Nexus lose
// messages, and links not touching the sled-agent or CockroachDB are slowed. The sled-agent's
// links to its Propolis are local, never faulty.

import { cockroachDb } from '../model/crdb/node.ts';
import type { Tables } from '../model/crdb/tables.ts';
import { downstairs } from '../model/crucible/downstairs/node.ts';
import type { Region } from '../model/crucible/downstairs/region.ts';
import type { RegionDefinition } from '../model/crucible/protocol.ts';
import type { Vcr } from '../model/crucible/vcr.ts';
import { nexus } from '../model/nexus/node.ts';
import { operator, type DiskFailed } from '../model/operator/node.ts';
import type { Bugs } from '../ports/index.ts';
import { propolis, type PropolisProcess } from '../model/propolis/node.ts';
import type { VmTuning } from '../model/propolis/vm.ts';
import { propolisSledAgent, type PropolisHostProcess } from '../model/sled-agent/propolis-host.ts';
import { user, type UserProcess } from '../model/user/node.ts';
import { CrucibleSafety } from '../oracle/crucible-safety.ts';
import type { CrucibleWorld } from '../oracle/crucible-world.ts';
import type { InstanceWorld } from '../oracle/instance-world.ts';
import { InstanceSafety } from '../oracle/instance-safety.ts';
import { propolisLivenessGoal } from '../oracle/propolis-liveness.ts';
import { PropolisSafety } from '../oracle/propolis-safety.ts';
import type { PropolisWorld } from '../oracle/propolis-world.ts';
import { startNemesis, type FaultOption } from '../sim/nemesis.ts';
import type { Oracle } from '../sim/runner.ts';
import type { Simulator } from '../sim/simulator.ts';
import { outcomesGoal, type OutcomeWorld } from '../oracle/instance-outcomes.ts';
import { sagaErrorFault } from './saga-errors.ts';

export const DB = 'crdb';
export const NEXUS = 'nexus-1';
export const SLED = 'sled-1';
export const PROPOLIS = ['propolis-1a', 'propolis-1b'] as const;
export const DISK_DOWNSTAIRS = ['ds-1', 'ds-2', 'ds-3'] as const;
export const SPARES = ['ds-4', 'ds-5'] as const;
export const USER = 'user';
export const OPERATOR = 'operator';
export const INSTANCE = 'inst-1';
export const DISK = 'disk-1';
export const VOLUME = 'volume-1';
const REGION: Omit<RegionDefinition, 'regionId'> = { extentCount: 4, blocksPerExtent: 4 };

const TUNING: VmTuning = { haltMs: 20, resetMs: 20, rundownMs: 10, migrateInMs: 200, deviceStartFailPerMille: 15, guestResetPerMille: 80, guestHaltPerMille: 20, guestEventMsMax: 6_000 };

export interface PropolisWorldShape {
  /** Per mille of starts after which the misbehaving client sends a Reboot or a migration straight to Propolis. */
  readonly roguePerMille: number;
}

/**
 * The disk's VCR as the database first holds it: one Region sub-volume on the three downstairs,
 * generation 2: its data (an image) was written and flushed at generation 1 before the disk was
 * handed over, and an upstairs must activate above that (at 1 every run's first start failed with
 * GenerationNumberTooLow, which the coverage probes showed).
 */
export function initialVcr(): Vcr {
  const opts = { id: `${DISK}-upstairs`, target: [...DISK_DOWNSTAIRS], lossy: false, flushTimeout: null, key: null, certPem: null, keyPem: null, rootCertPem: null, control: null, readOnly: false };
  return { type: 'Volume', id: VOLUME, blockSize: 512, readOnlyParent: null, subVolumes: [{ type: 'Region', blockSize: 512, ...REGION, opts, gen: 2 }] };
}

function populate(tables: Tables): void {
  tables.disk.set(DISK, { id: DISK, instanceId: INSTANCE, volumeId: VOLUME });
  tables.volume.set(VOLUME, { id: VOLUME, vcr: initialVcr(), timeDeleted: null });
  for (const ds of DISK_DOWNSTAIRS) tables.region.set(`region-${ds}`, { id: `region-${ds}`, volumeId: VOLUME, downstairs: ds, timeDeleted: null, dataset: ds, readOnly: false, deleting: false });
  for (const ds of [...DISK_DOWNSTAIRS, ...SPARES]) tables.physicalDisk.set(ds, { expunged: false });
}

/** Kills of the disk's downstairs (the nemesis's killsMax bounds them), the operator paged; crashes; cuts; trouble on the links. */
export function propolisFaultMenu(): FaultOption[] {
  const local = [SLED]; // the sled-agent's links to its own Propolis are never faulty
  return [
    ...DISK_DOWNSTAIRS.map((ds): FaultOption => ({ kind: 'kill', node: ds, alert: { to: OPERATOR, message: { type: 'DiskFailed', downstairs: ds } satisfies DiskFailed, delayMsMax: 2_000 } })),
    ...PROPOLIS.map((p): FaultOption => ({ kind: 'crash', node: p })),
    { kind: 'crash', node: NEXUS },
    ...DISK_DOWNSTAIRS.map((ds): FaultOption => ({ kind: 'crash', node: ds })),
    { kind: 'partition', a: [NEXUS], b: [SLED] },
    ...DISK_DOWNSTAIRS.map((ds): FaultOption => ({ kind: 'partition', a: [...PROPOLIS], b: [ds] })),
    ...PROPOLIS.map((p): FaultOption => ({ kind: 'link', from: p, to: '*', exclude: local, lossPerMille: 100 })),
    { kind: 'link', from: NEXUS, to: '*', exclude: [DB], lossPerMille: 200 },
    { kind: 'link', from: '*', to: '*', exclude: [...local, DB], extraDelayMsMax: 300 },
    sagaErrorFault([NEXUS]),
  ];
}

export function buildPropolisWorld(sim: Simulator, bugs: Bugs, shape: PropolisWorldShape, menu: readonly FaultOption[]): Oracle {
  sim.addNode(cockroachDb(DB, populate));
  sim.network.configure(NEXUS, DB, { fifo: true });
  sim.network.configure(DB, NEXUS, { fifo: true });
  sim.addNode(
    nexus(
      {
        id: NEXUS,
        db: DB,
        sleds: [SLED],
        dbTimeoutMs: 200,
        sledTimeoutMs: 500,
        periodsMs: { instance_watcher: 1_000, instance_updater: 2_000, abandoned_vmm_reaper: 3_000, instance_reincarnation: 2_000, region_replacement: 1_000, region_replacement_driver: 1_000 },
        reincarnationCooldownMs: 5_000,
        crucibleDisks: true,
      },
      bugs,
    ),
  );
  sim.addNode(propolisSledAgent({ id: SLED, nexus: [NEXUS], nexusTimeoutMs: 500, publishAttempts: 100, propolis: PROPOLIS, propolisTimeoutMs: 100, monitorEveryMs: 50, monitorMissesMax: 5, vcrTimeoutMs: 5_000 }));
  for (const p of PROPOLIS) {
    sim.network.configure(SLED, p, { fifo: true, delayMsMin: 0, delayMsMax: 1 });
    sim.network.configure(p, SLED, { fifo: true, delayMsMin: 0, delayMsMax: 1 });
    sim.addNode(propolis({ id: p, nexus: [NEXUS], tuning: TUNING, handshakeTimeoutMs: 500, vcrWaitMsMax: 5_000 }, bugs));
  }
  const allDownstairs = [...DISK_DOWNSTAIRS, ...SPARES];
  for (const ds of allDownstairs) sim.addNode(downstairs({ id: ds, region: { ...REGION, regionId: `region-${ds}` }, readOnly: false, idleMsMax: 3_000 }, bugs));
  // The disk was made from an image: its three regions hold flushed data (generation 1); the spares are blank.
  for (const ds of DISK_DOWNSTAIRS) for (const e of (sim.node(ds).durable as { region: Region }).region.extents) Object.assign(e, { gen: 1, flush: 1 });
  for (const a of [...allDownstairs, ...PROPOLIS]) for (const b of [...allDownstairs, ...PROPOLIS]) if (a !== b) sim.network.configure(a, b, { fifo: true });
  sim.addNode(
    user({
      id: USER,
      nexus: [NEXUS],
      instances: [{ id: INSTANCE, autoRestartPolicy: 'BestEffort' }],
      sleds: [SLED],
      ops: ['start', 'stop', 'restart', 'restart'],
      startFirst: true,
      opsMax: 3,
      thinkMsMax: 3_000,
      timeoutMs: 1_000,
      attemptsMax: 100,
      deletePerMille: 0,
      changeOfMind: { perMille: 100, stopAfterMsMax: 150 },
      rogue: { perMille: shape.roguePerMille, propolis: PROPOLIS, delayMsMax: 2_000, retryMsMax: 25, triesMax: 120 },
    }),
  );
  sim.addNode(operator({ id: OPERATOR, nexus: [NEXUS], timeoutMs: 1_000, attemptsMax: 100 }));
  startNemesis(sim, menu);
  return propolisOracle(sim, allDownstairs);
}

function propolisOracle(sim: Simulator, allDownstairs: readonly string[]): Oracle {
  const db = sim.node(DB);
  const propolisWorld: PropolisWorld = {
    propolisIds: PROPOLIS,
    sledId: SLED,
    downstairsIds: allDownstairs,
    propolis: (id) => sim.node(id).process as PropolisProcess | null,
    sledAgent: () => sim.node(SLED).process as PropolisHostProcess | null,
    tables: () => db.durable as Tables,
    user: () => sim.node(USER).process as UserProcess | null,
    faultLog: () => sim.faultLog,
    dead: (id) => sim.node(id).dead,
  };
  const propolisSafety = new PropolisSafety(propolisWorld);
  const instanceWorld: InstanceWorld = {
    sledIds: [SLED],
    tables: propolisWorld.tables,
    user: propolisWorld.user,
    faultLog: propolisWorld.faultLog,
    hostsOf: (vmmId) => {
      const host = propolisSafety.hostOf.get(vmmId);
      return host === undefined ? [] : [host];
    },
    failedOnItsOwn: (vmmId) => propolisSafety.failedOnItsOwn.has(vmmId),
  };
  const crucibleWorld: CrucibleWorld = {
    downstairsIds: allDownstairs,
    // The upstairs live in the Propolis processes: one disk of one sub-volume, so one per Propolis.
    upstairsIds: PROPOLIS,
    controlId: NEXUS,
    downstairs: (id) => sim.node(id).process as ReturnType<CrucibleWorld['downstairs']>,
    region: (id) => (sim.node(id).durable as { region: Region }).region,
    upstairs: (id) => {
      const vm = (sim.node(id).process as PropolisProcess | null)?.vm() ?? null;
      return vm === null || vm.rundown === 'Complete' ? null : ([...vm.backends.values()][0]?.upstairs[0] ?? null);
    },
    control: () => null,
    guests: () => [],
  };
  const instanceSafety = new InstanceSafety(instanceWorld);
  const outcomes: OutcomeWorld = { sledIds: [SLED], tables: propolisWorld.tables, sledVmms: () => propolisWorld.sledAgent()?.vmms ?? null };
  const crucibleSafety = new CrucibleSafety(crucibleWorld);
  sim.observe(instanceSafety);
  sim.observe(crucibleSafety);
  sim.observe(propolisSafety);
  return {
    afterStep: (step) => propolisSafety.afterStep(step) ?? crucibleSafety.afterStep(step) ?? instanceSafety.afterStep(step),
    unmetGoal: () => propolisLivenessGoal(propolisWorld, instanceWorld, [INSTANCE]) ?? outcomesGoal(outcomes),
  };
}
