// The Crucible data checks on hand-made states: C-I11 (what lands on a downstairs came through its
// live, active connection; repairs copy faithfully; reconciliation leaves equal blocks), C-L5 (at
// the end the owner's three downstairs agree with each other and with the guest's history), and
// C-I10 as the safety oracle feeds it from a guest's steps.

import test from 'ava';
import type { ControlProcess } from '../../model/crucible/control-plane.ts';
import type { DownstairsProcess, DsConnection } from '../../model/crucible/downstairs/node.ts';
import { newRegion, writeBlock, type Region } from '../../model/crucible/downstairs/region.ts';
import type { GuestEvent, GuestProcess } from '../../model/crucible/guest.ts';
import type { DownstairsMessage, Framed, RegionDefinition, UpstairsMessage } from '../../model/crucible/protocol.ts';
import type { UpstairsProcess } from '../../model/crucible/upstairs/node.ts';
import { crucibleLivenessGoal } from '../../oracle/crucible-liveness.ts';
import { GuestRegister } from '../../oracle/crucible-register.ts';
import { CrucibleSafety } from '../../oracle/crucible-safety.ts';
import type { CrucibleWorld } from '../../oracle/crucible-world.ts';
import type { StepRecord } from '../../sim/simulator.ts';

const REGION: RegionDefinition = { regionId: 'region-a', extentCount: 2, blocksPerExtent: 2 };
const DS = ['ds-1', 'ds-2', 'ds-3'] as const;

interface Fixture {
  readonly world: CrucibleWorld;
  readonly regions: Map<string, Region>;
  /** Each downstairs' open connections; `active` names the active one. */
  readonly conns: Map<string, Map<string, DsConnection>>;
  readonly active: Map<string, string | null>;
  readonly down: Set<string>;
  readonly history: GuestEvent[];
  readonly upstairs: { sessionId: string; gen: number; state: { kind: string }; clients: { index: number; address: string; state: { kind: string } }[]; region: RegionDefinition };
}

function fixture(): Fixture {
  const regions = new Map(DS.map((id) => [id as string, newRegion(REGION)]));
  const conns = new Map(DS.map((id) => [id as string, new Map<string, DsConnection>()]));
  const active = new Map<string, string | null>(DS.map((id) => [id, null]));
  const down = new Set<string>();
  const history: GuestEvent[] = [];
  const upstairs = { sessionId: 's1', gen: 1, state: { kind: 'Active' }, clients: DS.map((address, index) => ({ index, address: address as string, state: { kind: 'Active' } })), region: REGION };
  const dsProcess = (id: string): DownstairsProcess => {
    const open = conns.get(id)!;
    return { region: regions.get(id)!, connections: open, active: () => [...open.values()].filter((c) => c.conn === active.get(id)) } as unknown as DownstairsProcess;
  };
  const guest = { history, done: () => true } as unknown as GuestProcess;
  const control = { requests: new Map(), script: [{ upstairs: 'upstairs-a', gen: 1, afterMs: 0 }], replacements: [], activated: new Map() } as unknown as ControlProcess;
  const world: CrucibleWorld = {
    downstairsIds: DS,
    upstairsIds: ['upstairs-a'],
    controlId: 'control',
    downstairs: (id) => (down.has(id) ? null : dsProcess(id)),
    region: (id) => regions.get(id)!,
    upstairs: () => ({ upstairs: upstairs }) as unknown as UpstairsProcess,
    control: () => control,
    guests: () => [guest],
    guestIds: ['guest-1'],
    guest: (id) => (id === 'guest-1' ? guest : null),
  };
  return { world, regions, conns, active, down, history, upstairs };
}

function open(f: Fixture, ds: string, conn: string, makeActive = true): void {
  f.conns.get(ds)!.set(conn, { node: 'upstairs-a', conn, inSeq: 0, outSeq: 0, state: 'Running', upstairsId: 'u', sessionId: 's1', gen: 1, readOnly: false, heardMs: 0 });
  if (makeActive) f.active.set(ds, conn);
}

const frame = <M>(conn: string, message: M): Framed<M> => ({ type: 'Frame', conn, seq: 1, message });
const fromDs = (s: CrucibleSafety, ds: string, conn: string, m: DownstairsMessage): void => s.onSend(ds, 'upstairs-a', frame(conn, m));
const toDs = (s: CrucibleSafety, ds: string, conn: string, m: UpstairsMessage): void => s.onSend('upstairs-a', ds, frame(conn, m));
const step = (node: string, kind: StepRecord['kind'] = 'timer', message: unknown = null): StepRecord => ({ index: 1, timeMs: 0, kind, node, from: null, envelope: null, message });
const safetyOf = (f: Fixture): CrucibleSafety => new CrucibleSafety(f.world, new GuestRegister());

test('C-I11: IO acknowledged on the open, active connection passes; on a gone one it is named', (t) => {
  const f = fixture();
  open(f, 'ds-1', 'c1');
  const s = safetyOf(f);
  fromDs(s, 'ds-1', 'c1', { type: 'WriteAck', jobId: 1 });
  t.is(s.afterStep(step('ds-1')), null);
  fromDs(s, 'ds-1', 'c9', { type: 'WriteAck', jobId: 2 });
  t.regex(s.afterStep(step('ds-1'))?.message ?? '', /^ds-1 ran IO \(WriteAck\) on connection c9, which is no longer open there/);
  open(f, 'ds-1', 'c2', false);
  fromDs(s, 'ds-1', 'c2', { type: 'FlushAck', jobId: 3 });
  t.like(s.afterStep(step('ds-1')), { invariant: 'C-I11', message: 'ds-1 ran IO (FlushAck) on connection c2, which is not its active one' });
  fromDs(s, 'ds-1', 'c1', { type: 'Closed', reason: 'bye' });
  fromDs(s, 'ds-1', 'c1', { type: 'ReadResponse', jobId: 4, data: null });
  t.regex(s.afterStep(step('ds-1'))?.message ?? '', /on connection c1, which it had closed/);
  f.down.add('ds-2');
  fromDs(s, 'ds-2', 'c5', { type: 'WriteAck', jobId: 5 });
  t.regex(s.afterStep(step('ds-2'))?.message ?? '', /belongs to a downstairs that is down/);
});

test('C-I11: a repaired extent must hold its source’s blocks', (t) => {
  const f = fixture();
  open(f, 'ds-1', 'c1');
  const s = safetyOf(f);
  writeBlock(f.regions.get('ds-2')!, 1, 0, { writeId: 'w1', gen: 1 });
  toDs(s, 'ds-1', 'c1', { type: 'ExtentRepair', repairId: 7, extent: 1, source: 'ds-2' });
  writeBlock(f.regions.get('ds-1')!, 1, 0, { writeId: 'w1', gen: 1 }); // the copy landed
  fromDs(s, 'ds-1', 'c1', { type: 'RepairAckId', repairId: 7 });
  t.is(s.afterStep(step('ds-1')), null);
  toDs(s, 'ds-1', 'c1', { type: 'ExtentRepair', repairId: 8, extent: 1, source: 'ds-3' }); // ds-3 has nothing there
  fromDs(s, 'ds-1', 'c1', { type: 'RepairAckId', repairId: 8 });
  t.like(s.afterStep(step('ds-1')), { invariant: 'C-I11', message: 'ds-1 repaired extent 1 from ds-3, but block 0 is w1 (gen 1) there and nothing on ds-3' });
  fromDs(s, 'ds-1', 'c1', { type: 'RepairAckId', repairId: 9 }); // an ExtentFlush's: nothing to compare
  t.is(s.afterStep(step('ds-1')), null);
});

test('C-I11: when reconciliation ends the three regions must hold the same blocks', (t) => {
  const f = fixture();
  const s = safetyOf(f);
  const to = (kind: 'GoActive' | 'Active'): void => {
    f.upstairs.state = { kind };
    for (const c of f.upstairs.clients) c.state = kind === 'Active' ? { kind } : { kind: 'Connecting', state: 'Reconcile', mode: 'New' } as { kind: string };
  };
  to('GoActive');
  t.is(s.afterStep(step('upstairs-a')), null);
  to('Active');
  t.is(s.afterStep(step('upstairs-a')), null, 'all empty, all equal');
  to('GoActive');
  s.afterStep(step('upstairs-a'));
  writeBlock(f.regions.get('ds-3')!, 0, 1, { writeId: 'w1', gen: 1 });
  for (const r of f.regions.values()) r.extents[0]!.dirty = false; // (gen, flush, dirty) agree: C-I7 is satisfied
  to('Active');
  t.like(s.afterStep(step('upstairs-a')), { invariant: 'C-I11', message: 'upstairs-a went Active but extent 0 block 1 differs: ds-1 has nothing, ds-2 has nothing, ds-3 has w1 (gen 1)' });
});

/** The guest wrote and read as `lines` say; each line an invocation then its completion. */
function guestDid(f: Fixture, lines: readonly [string, 'write' | 'read' | 'flush', string | null][], epoch = 's1@1'): void {
  for (const [opId, kind, value] of lines) {
    const op = kind === 'write' ? { f: 'write' as const, extent: 0, block: 0, writeId: opId } : kind === 'read' ? { f: 'read' as const, extent: 0, block: 0 } : { f: 'flush' as const };
    f.history.push({ type: 'invoke', opId, op, atMs: 0 }, { type: 'ok', opId, epoch, value, atMs: 1 });
  }
}

test('C-I10 through the oracle: a guest step feeds the register, and a stale read is named there', (t) => {
  const f = fixture();
  const s = safetyOf(f);
  guestDid(f, [['w1', 'write', null], ['w2', 'write', null], ['r1', 'read', 'w2']]);
  t.is(s.afterStep(step('guest-1')), null);
  guestDid(f, [['r2', 'read', 'w1']]);
  t.like(s.afterStep(step('guest-1')), { invariant: 'C-I10' });
  t.is(new CrucibleSafety(f.world).afterStep(step('guest-1')), null, 'without a register (the Propolis world) nothing is checked');
});

function setBlock(f: Fixture, ds: string, writeId: string | null): void {
  f.regions.get(ds)!.extents[0]!.blocks[0] = writeId === null ? null : { writeId, gen: 1 };
}

test('C-L5: at the end the three downstairs agree with each other and with the guest', (t) => {
  const f = fixture();
  const register = new GuestRegister();
  guestDid(f, [['w1', 'write', null], ['f1', 'flush', null], ['w2', 'write', null]]);
  for (const ds of DS) setBlock(f, ds, 'w2');
  t.is(crucibleLivenessGoal(f.world, register), null);
  setBlock(f, 'ds-3', 'w1');
  t.like(crucibleLivenessGoal(f.world, register), { invariant: 'C-L5', message: "upstairs-a's downstairs differ at extent 0 block 0: ds-1 has w2, ds-2 has w2, ds-3 has w1" });
  for (const ds of DS) setBlock(f, ds, 'w1');
  t.like(crucibleLivenessGoal(f.world, register), {
    invariant: 'C-L5',
    message: "upstairs-a's downstairs hold w1 at extent 0 block 0 in epoch s1@1, but w2, acknowledged in the same epoch before the read began, was issued after w1 was acknowledged",
  });
  f.upstairs.sessionId = 's2'; // a restart: the unflushed w2 may be gone, the flushed w1 may not
  t.is(crucibleLivenessGoal(f.world, register), null);
  const g = fixture();
  guestDid(g, [['w1', 'write', null]]);
  for (const ds of DS) setBlock(g, ds, 'ghost');
  const ghost = crucibleLivenessGoal(g.world, new GuestRegister());
  t.is(ghost?.invariant, 'C-L5');
  t.regex(ghost?.message ?? '', /hold ghost at extent 0 block 0 in epoch s1@1, but no write of ghost to it was issued/);
});

test('C-I9 (durability) reads the history: a flushed write replaced only by one that may have followed it', (t) => {
  const f = fixture();
  const register = new GuestRegister();
  guestDid(f, [['w1', 'write', null], ['f1', 'flush', null]]);
  setBlock(f, 'ds-1', 'w1');
  t.like(crucibleLivenessGoal(f.world, register), { invariant: 'C-I9', message: 'write w1 to extent 0 block 0 was acknowledged and flushed but survives on 1 downstairs' });
  f.history.push({ type: 'invoke', opId: 'w2', op: { f: 'write', extent: 0, block: 0, writeId: 'w2' }, atMs: 2 }, { type: 'info', opId: 'w2', atMs: 3 });
  for (const ds of DS) setBlock(f, ds, 'w2');
  t.is(crucibleLivenessGoal(f.world, register), null, 'w2, issued after w1, replaced it');
});

// crucible 6d037cb6 downstairs.rs `replace`: a second replacement is refused while one is under way.
test('C-I8: one client being replaced is fine, two at once are named', (t) => {
  const f = fixture();
  const safety = safetyOf(f);
  f.upstairs.clients[0]!.state = { kind: 'Stopping', reason: 'Replacing' } as never;
  t.is(safety.afterStep(step('upstairs-a')), null);
  f.upstairs.clients[1]!.state = { kind: 'Connecting', state: 'WaitConnect', mode: 'Replaced' } as never;
  t.regex(safetyOf(f).afterStep(step('upstairs-a'))?.message ?? '', /2 clients being replaced at once/);
});
