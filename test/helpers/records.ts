// Records and configurations for model and oracle tests.

import type { InstanceRow } from '../../model/crdb/tables.ts';
import type { NexusConfig } from '../../model/nexus/context.ts';

/** A running instance on VMM `activePropolisId`, unlocked, at state generation 2. */
export function instanceRow(id: string, activePropolisId: string, overrides: Partial<InstanceRow> = {}): InstanceRow {
  return {
    id,
    ncpus: 2,
    memoryMib: 1024,
    state: 'Vmm',
    stateGeneration: 2,
    activePropolisId,
    targetPropolisId: null,
    migrationId: null,
    intendedState: 'Running',
    updaterId: null,
    updaterGen: 1,
    autoRestartPolicy: null,
    timeLastAutoRestarted: null,
    timeDeleted: null,
    ...overrides,
  };
}

export const NEXUS_CONFIG: NexusConfig = {
  id: 'nexus',
  db: 'crdb',
  sleds: ['sled-1'],
  dbTimeoutMs: 100,
  sledTimeoutMs: 100,
  periodsMs: { instance_watcher: 1000, instance_updater: 1000, abandoned_vmm_reaper: 1000, instance_reincarnation: 1000 },
  reincarnationCooldownMs: 1000,
};
