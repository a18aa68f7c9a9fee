// Every scenario stairwell knows, by name.

import { crucibleActivation } from './crucible-activation.ts';
import { crucibleReplacement } from './crucible-replacement.ts';
import { crucibleTakeover } from './crucible-takeover.ts';
import { instanceLifecycle } from './instance-lifecycle.ts';
import { instanceMigration } from './instance-migration.ts';
import { propolisStart } from './propolis-start.ts';
import { regionSnapshotReplacement } from './region-snapshot-replacement.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [instanceLifecycle, instanceMigration, crucibleActivation, crucibleTakeover, crucibleReplacement, propolisStart, regionSnapshotReplacement];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
