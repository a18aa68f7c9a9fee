// Every saga a Nexus can run, by name, so recovery can resume one from the log.

import { instanceDelete } from '../sagas/instance-delete.ts';
import { instanceMigrate } from '../sagas/instance-migrate.ts';
import { instanceStart } from '../sagas/instance-start.ts';
import { instanceStop } from '../sagas/instance-stop.ts';
import { instanceUpdate, startInstanceUpdate } from '../sagas/instance-update.ts';
import { regionReplacementDrive } from '../sagas/region-replacement-drive.ts';
import { regionReplacementFinish } from '../sagas/region-replacement-finish.ts';
import { regionReplacementStart } from '../sagas/region-replacement-start.ts';
import { diskCreate } from '../sagas/disk-create.ts';
import { diskDelete } from '../sagas/disk-delete.ts';
import { regionSnapshotReplacementFinish } from '../sagas/region-snapshot-replacement-finish.ts';
import { regionSnapshotReplacementGarbageCollect } from '../sagas/region-snapshot-replacement-garbage-collect.ts';
import { regionSnapshotReplacementStart } from '../sagas/region-snapshot-replacement-start.ts';
import { regionSnapshotReplacementStepGarbageCollect } from '../sagas/region-snapshot-replacement-step-garbage-collect.ts';
import { regionSnapshotReplacementStep } from '../sagas/region-snapshot-replacement-step.ts';
import { snapshotCreate } from '../sagas/snapshot-create.ts';
import { snapshotDelete } from '../sagas/snapshot-delete.ts';
import type { SagaDef } from './saga.ts';

export const SAGAS: ReadonlyMap<string, SagaDef<never>> = new Map(
  (
    [
      instanceStart,
      instanceStop,
      instanceMigrate,
      instanceDelete,
      startInstanceUpdate,
      instanceUpdate,
      regionReplacementStart,
      regionReplacementDrive,
      regionReplacementFinish,
      diskCreate,
      diskDelete,
      snapshotCreate,
      snapshotDelete,
      regionSnapshotReplacementStart,
      regionSnapshotReplacementGarbageCollect,
      regionSnapshotReplacementStep,
      regionSnapshotReplacementStepGarbageCollect,
      regionSnapshotReplacementFinish,
    ] as SagaDef<never>[]
  ).map((d) => [d.name, d]),
);

/** Sagas run as a node of another saga: that node resumes them, recovery does not. */
export const SUBSAGAS: ReadonlySet<string> = new Set([instanceUpdate.name]);
