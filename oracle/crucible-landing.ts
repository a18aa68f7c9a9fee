// C-I11: what lands on a downstairs came through a live connection, and repairs copy faithfully.
// - Every IO or repair a downstairs acknowledges (WriteAck, FlushAck, ReadResponse, RepairAckId,
//   and live repair's acks) ran for a connection still open there and active (or read-only):
//   never one it had closed, dropped, or told YouAreNoLongerActive.
// - An extent a repair (reconciliation's ExtentRepair, or live repair) just replaced holds the
//   same blocks as its source's copy.
// - When reconciliation ends and an upstairs goes Active, its three downstairs hold the same
//   blocks (C-I7 compares only (gen, flush, dirty); equal metadata over different data would be a
//   repair that was skipped).

import type { DownstairsMessage, Framed, UpstairsMessage } from '../model/crucible/protocol.ts';
import type { Extent } from '../model/crucible/downstairs/region.ts';
import type { Finding } from '../sim/runner.ts';
import type { CrucibleWorld } from './crucible-world.ts';

/** Acknowledgements of work done on the region. */
const LANDS: ReadonlySet<string> = new Set(['WriteAck', 'FlushAck', 'ReadResponse', 'RepairAckId', 'ExtentLiveCloseAck', 'ExtentLiveRepairAckId', 'ExtentLiveAckId']);

export class CrucibleLanding {
  readonly #world: CrucibleWorld;
  /** ExtentRepair requests sent, by downstairs, connection and repair id. */
  readonly #repairs = new Map<string, { readonly extent: number; readonly source: string }>();
  /** Connections a downstairs closed (by downstairs and connection id). */
  readonly #closed = new Set<string>();

  constructor(world: CrucibleWorld) {
    this.#world = world;
  }

  /** An upstairs sent a frame to a downstairs: remember what each repair is to copy. */
  onUpstairsFrame(to: string, frame: Framed<UpstairsMessage>): void {
    const m = frame.message;
    if (m.type === 'ExtentRepair') this.#repairs.set(`${to}/${frame.conn}/${m.repairId}`, { extent: m.extent, source: m.source });
    if (m.type === 'ExtentLiveRepair') this.#repairs.set(`${to}/${frame.conn}/live-${m.jobId}`, { extent: m.extent, source: m.source });
  }

  onDownstairsFrame(from: string, frame: Framed<DownstairsMessage>): Finding | null {
    const m = frame.message;
    const key = `${from}/${frame.conn}`;
    if (m.type === 'Closed') {
      this.#closed.add(key);
      return null;
    }
    if (!LANDS.has(m.type)) return null;
    const dead = this.#deadConnection(from, frame.conn);
    if (dead !== null) return { invariant: 'C-I11', message: `${from} ran ${m.type.includes('Repair') || m.type.startsWith('ExtentLive') ? 'a repair' : 'IO'} (${m.type}) on connection ${frame.conn}, which ${dead}` };
    const repairKey = m.type === 'RepairAckId' ? `${key}/${m.repairId}` : m.type === 'ExtentLiveRepairAckId' && m.error === null ? `${key}/live-${m.jobId}` : null;
    if (repairKey === null) return null;
    const repair = this.#repairs.get(repairKey);
    if (repair === undefined) return null; // an ExtentFlush, or a no-op
    this.#repairs.delete(repairKey);
    return this.#sameAsSource(from, repair.extent, repair.source);
  }

  /** An upstairs just went Active after reconciliation: its downstairs must agree block for block. */
  reconciled(upstairsId: string, targets: readonly string[]): Finding | null {
    const regions = targets.map((t) => this.#world.region(t));
    const extents = regions[0]!.extents.length;
    for (let e = 0; e < extents; e++) {
      const copies = regions.map((r) => r.extents[e]!);
      const b = differingBlock(copies[0]!, copies);
      if (b !== -1) return { invariant: 'C-I11', message: `${upstairsId} went Active but extent ${e} block ${b} differs: ${targets.map((t, i) => `${t} has ${show(copies[i]!, b)}`).join(', ')}` };
    }
    return null;
  }

  #deadConnection(ds: string, conn: string): string | null {
    if (this.#closed.has(`${ds}/${conn}`)) return 'it had closed';
    const p = this.#world.downstairs(ds);
    if (p === null) return 'belongs to a downstairs that is down';
    const c = p.connections.get(conn);
    if (c === undefined) return 'is no longer open there';
    if (!c.readOnly && !p.active().includes(c)) return 'is not its active one';
    return null;
  }

  /** Blocks only: the source's (gen, flush) may move meanwhile (a deactivation's final flush runs
   *  on the Active source while a live repair copies from it), its data may not. */
  #sameAsSource(ds: string, extent: number, source: string): Finding | null {
    const copy = this.#world.region(ds).extents[extent]!;
    const original = this.#world.region(source).extents[extent]!;
    const b = differingBlock(original, [copy]);
    if (b === -1) return null;
    return { invariant: 'C-I11', message: `${ds} repaired extent ${extent} from ${source}, but block ${b} is ${show(copy, b)} there and ${show(original, b)} on ${source}` };
  }
}

/** The first block where some copy differs from `first` (writeId and generation), or -1. */
function differingBlock(first: Extent, copies: readonly Extent[]): number {
  for (let b = 0; b < first.blocks.length; b++) {
    const want = first.blocks[b];
    for (const c of copies) {
      const got = c.blocks[b];
      if ((got?.writeId ?? null) !== (want?.writeId ?? null) || (got?.gen ?? 0) !== (want?.gen ?? 0)) return b;
    }
  }
  return -1;
}

function show(e: Extent, b: number): string {
  const d = e.blocks[b];
  return d == null ? 'nothing' : `${d.writeId} (gen ${d.gen})`;
}
