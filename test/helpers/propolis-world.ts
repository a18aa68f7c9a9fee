// A small world for Propolis tests, the shape of propolis' PHD tests: three downstairs holding a
// disk's region set (one may be dead: a "black hole" target), two spares, one Propolis, and a
// client that calls the Propolis API as a test script says. Run by hand with the simulator.

import { downstairs } from '../../model/crucible/downstairs/node.ts';
import { runConfig } from '../../sim/run-config.ts';
import type { Region } from '../../model/crucible/downstairs/region.ts';
import type { Vcr } from '../../model/crucible/vcr.ts';
import { call, sleep, type Flow } from '../../ports/index.ts';
import type { PropolisReply, PropolisRequest } from '../../model/propolis/api.ts';
import { propolis, type PropolisProcess } from '../../model/propolis/node.ts';
import type { VmTuning } from '../../model/propolis/vm.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';

export const REGION = { regionId: 'region-a', extentCount: 4, blocksPerExtent: 4 } as const;
export const PROPOLIS = 'propolis-a';
export const VMM = 'vmm-1';
export const DISK = 'disk-1';

export const QUIET: VmTuning = { haltMs: 5, resetMs: 5, rundownMs: 5, migrateInMs: 50, deviceStartFailPerMille: 0, guestResetPerMille: 0, guestHaltPerMille: 0, guestEventMsMax: 1000 };

/** The disk's VCR: one Region sub-volume on `targets`, at generation `gen`. */
export function diskVcr(targets: readonly string[], gen: number): Vcr {
  return {
    type: 'Volume',
    id: 'volume-1',
    blockSize: 512,
    readOnlyParent: null,
    subVolumes: [
      { type: 'Region', blockSize: 512, blocksPerExtent: REGION.blocksPerExtent, extentCount: REGION.extentCount, gen, opts: { id: 'upstairs-1', target: targets, lossy: false, flushTimeout: null, key: null, certPem: null, keyPem: null, rootCertPem: null, control: null, readOnly: false } },
    ],
  };
}

export interface PropolisWorld {
  readonly sim: Simulator;
  readonly replies: { readonly request: string; readonly reply: PropolisReply | 'timeout'; readonly atMs: number }[];
  /** The Propolis process (null while crashed). */
  readonly propolis: () => PropolisProcess | null;
  /** Run until `until` holds or `maxMs` of virtual time pass; returns whether it held. */
  runUntil(until: () => boolean, maxMs: number): boolean;
}

export type Api = (r: PropolisRequest) => Flow<PropolisReply | 'timeout'>;

/** `script` (and `also`, side by side with it) run in the client node; `dead` downstairs are crashed before anything runs. */
export function propolisWorld(script: (api: Api) => Flow<void>, options: { bugs?: ReadonlySet<string>; dead?: readonly string[]; tuning?: VmTuning; seed?: string; extentGen?: number; also?: (api: Api) => Flow<void> } = {}): PropolisWorld {
  const bugs = options.bugs ?? new Set<string>();
  const sim = new Simulator({ choices: seededChoices(options.seed ?? '1'), config: runConfig({ link: { delayMsMin: 1, delayMsMax: 3, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  for (const id of ['ds-1', 'ds-2', 'ds-3', 'ds-4', 'ds-5']) sim.addNode(downstairs({ id, region: { ...REGION, regionId: `region-${id}` }, readOnly: false, idleMsMax: 3_000 }, bugs));
  if (options.extentGen !== undefined) {
    for (const id of ['ds-1', 'ds-2', 'ds-3']) for (const e of (sim.node(id).durable as { region: Region }).region.extents) e.gen = options.extentGen;
  }
  sim.addNode(propolis({ id: PROPOLIS, nexus: ['nexus'], tuning: options.tuning ?? QUIET, handshakeTimeoutMs: 200, vcrWaitMsMax: 10_000 }, bugs));
  sim.addNode({ id: 'propolis-b', initDurable: () => null, boot: () => ({ onCall: () => ({ type: 'HandshakeRefused' }) }) });
  sim.addNode({ id: 'nexus', initDurable: () => null, boot: () => ({ onCall: () => ({ type: 'Ok' }) }) });
  const replies: PropolisWorld['replies'] = [];
  function* api(r: PropolisRequest): Flow<PropolisReply | 'timeout'> {
    const result = yield* call<PropolisReply>(PROPOLIS, r, 15_000);
    const reply = result.ok ? result.reply : 'timeout';
    replies.push({ request: r.type === 'InstanceStatePut' ? `${r.type} ${r.requested}` : r.type, reply, atMs: sim.now });
    return reply;
  }
  const boot = (env: { spawn(name: string, flow: Flow<unknown>): void }): object => {
    env.spawn('script', script(api));
    if (options.also !== undefined) env.spawn('also', options.also(api));
    return {};
  };
  sim.addNode({ id: 'client', initDurable: () => null, boot });
  for (const id of options.dead ?? []) sim.crash(id);
  return {
    sim,
    replies,
    propolis: () => sim.node(PROPOLIS).process as PropolisProcess | null,
    runUntil(until, maxMs) {
      const deadline = sim.now + maxMs;
      for (let i = 0; i < 1_000_000; i++) {
        if (until()) return true;
        if (sim.nextTime() > deadline || sim.step() === null) return until();
      }
      return until();
    },
  };
}

/** Wait in a script. */
export function* pause(ms: number): Flow<void> {
  yield* sleep(ms);
}
