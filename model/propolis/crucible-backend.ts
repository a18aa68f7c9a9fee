// A Crucible block backend inside Propolis (lib/propolis/src/block/crucible.rs): a Volume built
// from the disk's VCR, one upstairs (our model/crucible/upstairs) per Region sub-volume, running
// in the Propolis process on an environment of its own. The upstairs talks to its downstairs as
// the process does (frames from a downstairs are routed here by the client they belong to); what
// it says to its control (activation replies, replace replies, repair notifications) comes back
// to Propolis as an event of its own, never in the same step, as a channel reply would.
// - activate: each sub-volume activated in order at its Region's generation (Volume::activate).
// - vcrReplace: Volume::target_replace: compare the VCR the spec stores with the new one
//   (crucible/vcr.ts); a generation-only change is VcrMatches without asking anyone; one target
//   changed goes to each sub-volume's upstairs in order until one knows the old target
//   (replace_downstairs); Missing everywhere is an error. On any Ok the spec stores the new VCR.
// - volumeInfo: query_volume_info, read at the moment it is asked (a separate call from Nexus,
//   after a VcrMatches), never folded into the replacement's answer.
// Not modelled: read-only parents (an upstairs of a read-only region); a VCR with one is refused
// when its target change is in the parent (README).

import { panic } from '../assert.ts';
import type { UpstairsReply, UpstairsRequest } from '../crucible/upstairs/control.ts';
import { upstairs, type UpstairsProcess } from '../crucible/upstairs/node.ts';
import { compareVcrForTargetReplacement, regionSubVolumes, type RegionVcr, type TargetChange, type Vcr } from '../crucible/vcr.ts';
import type { Bugs, Env, Flow, NodeId } from '../../ports/index.ts';
import type { UpstairsStatus, VcrReplaceResult } from './api.ts';

/** How a backend's upstairs are tuned (the Crucible scenarios' values). */
const UPSTAIRS_TUNING = { keepAliveMs: 300, deadAfterMs: 1_200, holdMax: 30 } as const;

/** What an upstairs said to its control, tagged with where it came from. */
export interface BackendEvent {
  readonly type: 'BackendEvent';
  readonly vmEpoch: number;
  readonly backendId: string;
  readonly subVolume: number;
  readonly message: UpstairsReply | { readonly type: 'Booted' };
}

export interface UpstairsTimer {
  readonly type: 'UpstairsTimer';
  readonly vmEpoch: number;
  readonly backendId: string;
  readonly subVolume: number;
  readonly tag: unknown;
}

/** The outcome of a VCR replacement, as the endpoint returns it. */
export type VcrOutcome = { readonly ok: true; readonly result: VcrReplaceResult } | { readonly ok: false; readonly status: 400; readonly message: string };

interface PendingReplace {
  readonly change: TargetChange;
  readonly vcr: Vcr;
  /** The sub-volume asked now; Missing moves on to the next. */
  subVolume: number;
  readonly requestId: string;
  readonly done: (outcome: VcrOutcome) => void;
}

export class CrucibleBackend {
  readonly backendId: string;
  /** The VCR the instance spec stores for this disk: what a replacement is compared with. */
  vcr: Vcr;
  readonly upstairs: UpstairsProcess[];
  readonly #envs: Env[];
  #pendingReplace: PendingReplace | null = null;
  /** Activation: the sub-volume whose reply is awaited, and who hears the outcome. */
  #activation: { subVolume: number; readonly requestId: string; readonly done: (ok: boolean, error: string | null) => void } | null = null;

  constructor(env: Env, vmEpoch: number, backendId: string, vcr: Vcr, bugs: Bugs, notifyRepairs: boolean) {
    this.backendId = backendId;
    this.vcr = vcr;
    const regions = regionSubVolumes(vcr);
    if (regions.length === 0) panic(`backend ${backendId}: a VCR with no Region sub-volume`);
    this.#envs = regions.map((_, i) => subVolumeEnv(env, vmEpoch, backendId, i));
    this.upstairs = regions.map((r, i) => bootUpstairs(this.#envs[i]!, r, `${env.self}-${backendId}-sv${i}`, controlId(env.self, backendId, i), bugs, notifyRepairs));
  }

  /** The upstairs and the sub-volume index of a downstairs frame's connection, if it is one of ours. */
  upstairsFor(from: NodeId, conn: string): { readonly process: UpstairsProcess; readonly subVolume: number } | null {
    for (const [i, p] of this.upstairs.entries()) {
      if (p.upstairs.clients.some((c) => c.address === from && c.conn === conn)) return { process: p, subVolume: i };
    }
    return null;
  }

  envOf(subVolume: number): Env {
    return this.#envs[subVolume]!;
  }

  /** Volume::activate: every sub-volume, in order, at its Region's generation; `done` once. */
  activate(requestIdPrefix: string, done: (ok: boolean, error: string | null) => void): void {
    if (this.#activation !== null) panic(`backend ${this.backendId} activated twice at once`);
    this.#activation = { subVolume: 0, requestId: requestIdPrefix, done };
    this.#activateNext();
  }

  #activateNext(): void {
    const a = this.#activation!;
    const region = regionSubVolumes(this.vcr)[a.subVolume]!;
    this.#request(a.subVolume, { type: 'GoActiveWithGen', requestId: `${a.requestId}-sv${a.subVolume}`, gen: region.gen });
  }

  /** Volume::target_replace with the spec's VCR as the original; `done` gets the outcome once. */
  vcrReplace(requestId: string, vcr: Vcr, done: (outcome: VcrOutcome) => void): void {
    if (this.#pendingReplace !== null) panic(`backend ${this.backendId}: two VCR replacements at once (the driver applies one at a time)`);
    const check = compareVcrForTargetReplacement(this.vcr, vcr);
    if (check.kind === 'Invalid') return done({ ok: false, status: 400, message: check.error });
    if (check.kind === 'ReplacementMatchesOriginal') {
      this.vcr = vcr;
      return done({ ok: true, result: 'VcrMatches' });
    }
    this.#pendingReplace = { change: check.change, vcr, subVolume: 0, requestId, done };
    this.#askReplace();
  }

  #askReplace(): void {
    const p = this.#pendingReplace!;
    if (p.subVolume >= this.upstairs.length) {
      this.#pendingReplace = null;
      return p.done({ ok: false, status: 400, message: `Volume ${this.backendId} Can't locate ${p.change.old} to replace` });
    }
    this.#request(p.subVolume, { type: 'Replace', requestId: `${p.requestId}-sv${p.subVolume}`, old: p.change.old, new: p.change.new });
  }

  /** An upstairs answered its control: advance what waited on it. Returns false if nothing did. */
  onUpstairsReply(subVolume: number, reply: UpstairsReply): boolean {
    if (reply.type === 'ActivationReply') return this.#onActivationReply(subVolume, reply);
    if (reply.type === 'ReplaceReply') return this.#onReplaceReply(subVolume, reply);
    return false;
  }

  #onActivationReply(subVolume: number, reply: Extract<UpstairsReply, { type: 'ActivationReply' }>): boolean {
    const a = this.#activation;
    if (a === null || a.subVolume !== subVolume || reply.requestId !== `${a.requestId}-sv${subVolume}`) return false;
    if (!reply.ok) {
      this.#activation = null;
      a.done(false, reply.error);
      return true;
    }
    a.subVolume++;
    if (a.subVolume < this.upstairs.length) this.#activateNext();
    else {
      this.#activation = null;
      a.done(true, null);
    }
    return true;
  }

  #onReplaceReply(subVolume: number, reply: Extract<UpstairsReply, { type: 'ReplaceReply' }>): boolean {
    const p = this.#pendingReplace;
    if (p === null || p.subVolume !== subVolume || reply.requestId !== `${p.requestId}-sv${subVolume}`) return false;
    if (reply.result === 'Missing') {
      p.subVolume++;
      this.#askReplace();
      return true;
    }
    this.#pendingReplace = null;
    if (reply.result === 'Invalid') return (p.done({ ok: false, status: 400, message: `Replace downstairs failed for ${this.backendId} with ${reply.why}` }), true);
    this.vcr = p.vcr;
    p.done({ ok: true, result: reply.result });
    return true;
  }

  /** query_volume_info: every upstairs with its targets, healthy when it and all its clients are Active. */
  volumeInfo(): UpstairsStatus[] {
    return this.upstairs.map((p) => ({
      upstairsId: p.upstairs.upstairsId,
      targets: p.upstairs.clients.map((c) => c.address),
      healthy: p.upstairs.state.kind === 'Active' && p.upstairs.clients.every((c) => c.state.kind === 'Active'),
    }));
  }

  /** Every upstairs Active: what a VM that published Running must have (P-I5). */
  get active(): boolean {
    return this.upstairs.every((p) => p.upstairs.state.kind === 'Active');
  }

  #request(subVolume: number, request: UpstairsRequest): void {
    const env = this.#envs[subVolume]!;
    this.upstairs[subVolume]!.onMessage!(env, controlId(env.self, this.backendId, subVolume), request);
  }
}

/** The pseudo-address an embedded upstairs reports to: its own Propolis, by backend and sub-volume. */
export function controlId(propolis: NodeId, backendId: string, subVolume: number): NodeId {
  return `${propolis}#${backendId}#${subVolume}`;
}

function bootUpstairs(env: Env, region: RegionVcr, id: string, control: NodeId, bugs: Bugs, notifyRepairs: boolean): UpstairsProcess {
  const def = upstairs(
    {
      id,
      upstairsId: region.opts.id,
      downstairs: region.opts.target,
      region: { regionId: `${region.opts.id}-region`, extentCount: region.extentCount, blocksPerExtent: region.blocksPerExtent },
      control,
      notifyRepairs,
      ...UPSTAIRS_TUNING,
    },
    bugs,
  );
  return def.boot(env, { targets: [...region.opts.target] }) as UpstairsProcess;
}

/** The Propolis environment as one upstairs sees it: its control replies and timers come back tagged. */
function subVolumeEnv(env: Env, vmEpoch: number, backendId: string, subVolume: number): Env {
  const control = controlId(env.self, backendId, subVolume);
  return {
    self: env.self,
    now: () => env.now(),
    send(to: NodeId, message: unknown): void {
      if (to !== control) return env.send(to, message);
      env.setTimer(0, { type: 'BackendEvent', vmEpoch, backendId, subVolume, message } as BackendEvent);
    },
    setTimer(delayMs: number, tag: unknown): void {
      env.setTimer(delayMs, { type: 'UpstairsTimer', vmEpoch, backendId, subVolume, tag } satisfies UpstairsTimer);
    },
    spawn(name: string, flow: Flow<unknown>): void {
      env.spawn(`${backendId}/${subVolume} ${name}`, flow);
    },
    choose: (label, n) => env.choose(label, n),
    mintId: (prefix) => env.mintId(prefix),
    log: (text) => env.log(`${backendId}/${subVolume}: ${text}`),
    probe: (name) => env.probe?.(name),
  };
}
