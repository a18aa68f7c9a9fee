// The storage user: one instance, and disks and snapshots made and deleted whenever they like
// (the races of omicron#7046 are users deleting in the middle of a replacement). Every operation
// starts from Nexus's own list, so a request whose answer was lost is no hole in what the user
// knows. Ops: a blank disk; a snapshot of a disk; a disk from a snapshot; delete a snapshot;
// delete a disk (an attached one: stop the instance, detach, delete, run again); move a disk onto
// or off the instance (stop it, attach or detach, start it again: a disk changes only while the
// instance has no VMM); start or stop the instance. It begins with a disk, a snapshot of it and a
// disk made from that, attached to the running instance. When its script ends the user either deletes everything it has (the instance stopped, every
// disk detached; `cleanedUp` once Nexus lists nothing) or leaves the instance running.
// Each request is retried while it times out or the service is unavailable, a delete also while
// its saga fails (bounded).

import { between, call, flip, sleep, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { NexusReply, NexusRequest } from '../nexus/api.ts';

export interface StorageUserConfig {
  readonly id: NodeId;
  readonly nexus: NodeId;
  readonly instanceId: string;
  readonly opsMax: number;
  readonly thinkMsMax: number;
  /** A create or delete waits for its saga: agents may be slow or away for a while. */
  readonly timeoutMs: number;
  readonly attemptsMax: number;
  /** Chance, per mille, that the script ends by deleting everything. */
  readonly cleanupPerMille: number;
}

type StorageOp = 'disk' | 'snapshot' | 'diskFromSnapshot' | 'deleteSnapshot' | 'deleteDisk' | 'attach' | 'detach' | 'start' | 'stop';
const OPS: readonly StorageOp[] = ['disk', 'snapshot', 'snapshot', 'diskFromSnapshot', 'diskFromSnapshot', 'deleteSnapshot', 'deleteDisk', 'attach', 'detach', 'start', 'stop'];

type Listing = Extract<NexusReply, { type: 'Storage' }>;

export interface StorageUserProcess extends Process {
  /** The script ended; `cleanup` says whether it was to delete everything. */
  readonly done: () => boolean;
  readonly cleanup: () => boolean;
  /** Everything deleted, as Nexus lists it. */
  readonly cleanedUp: () => boolean;
  /** The user last asked for the instance to run. */
  readonly wantsRunning: () => boolean;
}

const RETRY_PAUSE_MS = 500;
const WAIT_POLLS_MAX = 60;

export function storageUser(config: StorageUserConfig): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env) => new StorageUser(env, config) };
}

class StorageUser implements StorageUserProcess {
  private readonly env: Env;
  private readonly config: StorageUserConfig;
  private finished = false;
  private readonly deleteAll: boolean;
  private emptied = false;
  private running = false;

  constructor(env: Env, config: StorageUserConfig) {
    this.env = env;
    this.config = config;
    this.deleteAll = flip(env, 'user.cleanup', config.cleanupPerMille);
    env.spawn('storage user', this.script());
  }

  readonly done = (): boolean => this.finished;
  readonly cleanup = (): boolean => this.deleteAll;
  readonly cleanedUp = (): boolean => this.emptied;
  readonly wantsRunning = (): boolean => this.running;

  onMessage(): void {
    // The user is called by nobody: replies come back to its flows.
  }

  /** A create names a fresh disk or snapshot at each attempt: a lost answer leaves one the list shows, never two sagas on one name. */
  private *request(req: NexusRequest): Flow<NexusReply | null> {
    // A delete whose saga failed (500) is asked again: the disk or snapshot came back Faulted.
    const retried: readonly string[] = req.type === 'DiskDelete' || req.type === 'SnapshotDelete' ? ['ServiceUnavailable', 'InternalError'] : ['ServiceUnavailable'];
    for (let attempt = 0; attempt < this.config.attemptsMax; attempt++) {
      const fresh = req.type === 'DiskCreate' ? { ...req, diskId: this.env.mintId('disk') } : req.type === 'SnapshotCreate' ? { ...req, snapshotId: this.env.mintId('snapshot') } : req;
      const r = yield* call<NexusReply>(this.config.nexus, fresh, this.config.timeoutMs);
      if (r.ok && (r.reply.type !== 'Error' || !retried.includes(r.reply.code))) return r.reply;
      yield* sleep(RETRY_PAUSE_MS);
    }
    return null;
  }

  private *list(): Flow<Listing | null> {
    const r = yield* this.request({ type: 'StorageList' });
    return r?.type === 'Storage' ? r : null;
  }

  private *script(): Flow<void> {
    yield* this.request({ type: 'InstanceCreate', instanceId: this.config.instanceId, autoRestartPolicy: 'Never' });
    yield* this.setUp();
    for (let i = 0; i < this.config.opsMax; i++) {
      yield* sleep(between(this.env, 'user.thinkMs', 0, this.config.thinkMsMax));
      const listing = yield* this.list();
      if (listing === null) continue;
      yield* this.perform(OPS[this.env.choose('user.op', OPS.length)]!, listing);
    }
    if (this.deleteAll) yield* this.deleteEverything();
    else yield* this.setRunning(true);
    this.finished = true;
  }

  /** A disk, a snapshot of it, a disk made from that on the running instance: every user of a region snapshot there is. */
  private *setUp(): Flow<void> {
    yield* this.request({ type: 'DiskCreate', diskId: '', snapshotId: null });
    for (const op of ['snapshot', 'diskFromSnapshot', 'attach', 'start'] as const) {
      const listing = yield* this.list();
      if (listing !== null) yield* this.perform(op, listing);
    }
  }

  private pick<T>(label: string, items: readonly T[]): T | null {
    return items.length === 0 ? null : items[this.env.choose(label, items.length)]!;
  }

  private *perform(op: StorageOp, listing: Listing): Flow<void> {
    const detached = listing.disks.filter((d) => d.instanceId === null).map((d) => d.id);
    const attached = listing.disks.filter((d) => d.instanceId !== null).map((d) => d.id);
    const ready = listing.snapshots.filter((s) => s.state === 'Ready').map((s) => s.id);
    switch (op) {
      case 'disk':
        return void (yield* this.request({ type: 'DiskCreate', diskId: '', snapshotId: null }));
      case 'snapshot': {
        const disk = this.pick('user.disk', listing.disks.map((d) => d.id));
        if (disk !== null) yield* this.request({ type: 'SnapshotCreate', snapshotId: '', diskId: disk });
        return;
      }
      case 'diskFromSnapshot': {
        const snapshot = this.pick('user.snapshot', ready);
        if (snapshot !== null) yield* this.request({ type: 'DiskCreate', diskId: '', snapshotId: snapshot });
        return;
      }
      case 'deleteSnapshot': {
        const deletable = listing.snapshots.filter((s) => s.state === 'Ready' || s.state === 'Faulted').map((s) => s.id);
        const snapshot = this.pick('user.snapshot', deletable);
        if (snapshot !== null) yield* this.request({ type: 'SnapshotDelete', snapshotId: snapshot });
        return;
      }
      case 'deleteDisk': {
        const disk = this.pick('user.disk', listing.disks.map((d) => d.id));
        if (disk === null) return;
        if (attached.includes(disk)) yield* this.moveDisk('detach', [disk], { type: 'DiskDelete', diskId: disk });
        else yield* this.request({ type: 'DiskDelete', diskId: disk });
        return;
      }
      case 'attach':
      case 'detach':
        return yield* this.moveDisk(op, op === 'attach' ? detached : attached);
      case 'start':
      case 'stop':
        yield* this.setRunning(op === 'start');
        return;
    }
  }

  /** A disk changes only on a stopped instance: stop, attach or detach (and `then`), then run again if it ran. */
  private *moveDisk(op: 'attach' | 'detach', candidates: readonly string[], then?: NexusRequest): Flow<void> {
    const disk = this.pick('user.disk', candidates);
    if (disk === null) return;
    const wasRunning = this.running;
    if (!(yield* this.setRunning(false))) return;
    yield* this.request(op === 'attach' ? { type: 'DiskAttach', diskId: disk, instanceId: this.config.instanceId } : { type: 'DiskDetach', diskId: disk });
    if (then !== undefined) yield* this.request(then);
    if (wasRunning) yield* this.setRunning(true);
  }

  /** Start or stop the instance and wait until it is there (bounded); true if it got there. */
  private *setRunning(run: boolean): Flow<boolean> {
    this.running = run;
    const want = run ? 'Running' : 'Stopped';
    for (let poll = 0; poll < WAIT_POLLS_MAX; poll++) {
      const view = yield* this.request({ type: 'InstanceView', instanceId: this.config.instanceId });
      const state = view?.type === 'Ok' ? view.state : null;
      if (state === want) return true;
      if (state === 'Stopped' || state === 'Running' || state === 'Failed') yield* this.request({ type: run ? 'InstanceStart' : 'InstanceStop', instanceId: this.config.instanceId });
      yield* sleep(RETRY_PAUSE_MS);
    }
    return false;
  }

  /** Stop the instance, detach every disk, delete every snapshot and disk, until Nexus lists nothing (bounded). */
  private *deleteEverything(): Flow<void> {
    for (let round = 0; round < WAIT_POLLS_MAX; round++) {
      if (!(yield* this.setRunning(false))) continue;
      const listing = yield* this.list();
      if (listing === null) continue;
      if (listing.disks.length === 0 && listing.snapshots.length === 0) {
        this.emptied = true;
        return;
      }
      for (const d of listing.disks) if (d.instanceId !== null) yield* this.request({ type: 'DiskDetach', diskId: d.id });
      for (const s of listing.snapshots) yield* this.request({ type: 'SnapshotDelete', snapshotId: s.id });
      for (const d of listing.disks) yield* this.request({ type: 'DiskDelete', diskId: d.id });
      yield* sleep(RETRY_PAUSE_MS);
    }
  }
}
