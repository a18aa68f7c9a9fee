// CockroachDB's tables as far as the instance lifecycle needs them. This is the durable state of
// the CockroachDB node: it survives a crash of any node, itself included.

import type { InstanceState, IntendedState, VmmState } from '../common/vmm-state.ts';

export interface InstanceRow {
  readonly id: string;
  state: InstanceState;
  /** Owned by Nexus; bumped by every write of the instance's runtime state. */
  stateGeneration: number;
  activePropolisId: string | null;
  intendedState: IntendedState;
  timeDeleted: number | null;
}

export interface VmmRow {
  readonly id: string;
  readonly instanceId: string;
  readonly sledId: string;
  state: VmmState;
  /** Owned by the sled-agent; a runtime write lands only with a higher generation. */
  gen: number;
  readonly timeCreated: number;
  timeDeleted: number | null;
}

export interface Tables {
  readonly instance: Map<string, InstanceRow>;
  readonly vmm: Map<string, VmmRow>;
  /** Bumped by every committed write, so observers can skip unchanged snapshots. */
  writes: number;
}

export function emptyTables(): Tables {
  return { instance: new Map(), vmm: new Map(), writes: 0 };
}
