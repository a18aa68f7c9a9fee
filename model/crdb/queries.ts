// The transactions Nexus runs against CockroachDB, each atomic, as request and reply types.
// The names follow omicron's datastore functions (nexus/db-queries/src/db/datastore/*.rs).

import type { IntendedState, VmmRuntimeState } from '../common/vmm-state.ts';
import type { InstanceRow, VmmRow } from './tables.ts';

export interface Queries {
  InstanceCreate: { req: { instanceId: string }; rep: { created: boolean } };
  InstanceFetch: { req: { instanceId: string }; rep: InstanceSnapshot | null };
  InstanceSetIntendedState: { req: { instanceId: string; intended: IntendedState }; rep: { found: boolean } };
  /** The start saga's record step: a new VMM (Creating, gen 1) becomes the instance's active one. */
  InstanceStartVmm: {
    req: { instanceId: string; expectedGeneration: number; vmmId: string; sledId: string };
    rep: { started: boolean };
  };
  /** Stop of a Failed instance with no VMM: Failed -> NoVmm. */
  InstanceClearFailed: { req: { instanceId: string; expectedGeneration: number }; rep: { updated: boolean } };
  /** A sled-agent's report: lands only at a higher generation on a row not deleted. */
  VmmUpdateRuntime: { req: { vmmId: string; runtime: VmmRuntimeState }; rep: VmmWriteResult };
  /**
   * Nexus's own conclusion that a VMM is gone (instance watcher 404, a 404 on a state change).
   * Lands like VmmUpdateRuntime, and only on a VMM the sled-agent has reported running:
   * not Creating, not already terminal or unwound. Destroyed wins over a synthesized Failed.
   */
  VmmMarkFailed: { req: { vmmId: string; gen: number }; rep: VmmWriteResult };
  /** The update step's commit: the active VMM is folded into the instance. */
  InstanceCommitUpdate: {
    req: { instanceId: string; expectedGeneration: number; vmmId: string; newState: 'NoVmm' | 'Failed' };
    rep: { committed: boolean };
  };
  /** The instance watcher's list: VMMs on a sled, not deleted. */
  InstanceAndVmmListBySledAgent: { req: object; rep: { vmms: VmmRow[] } };
  /** The instance updater's list: instances whose active VMM is terminal. */
  InstancesNeedingUpdate: { req: object; rep: { instanceIds: string[] } };
}

export type QueryName = keyof Queries;
export type DbRequest = { [K in QueryName]: { type: K } & Queries[K]['req'] }[QueryName];
export type DbReply<K extends QueryName> = Queries[K]['rep'];

export interface InstanceSnapshot {
  readonly instance: InstanceRow;
  readonly activeVmm: VmmRow | null;
}

export interface VmmWriteResult {
  readonly found: boolean;
  readonly updated: boolean;
  readonly instanceId: string | null;
}
