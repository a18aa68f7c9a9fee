// Every built-in scenario, with the invariants they check (oracle/catalog.ts) and the bug
// switches they read (scenarios/bugs.ts): the built-in registry, checked when it loads.

import { defineRegistry, type Registry } from '../api/registry.ts';
import type { Scenario } from '../api/scenario.ts';
import { INVARIANTS } from '../oracle/catalog.ts';
import { BUG_DEFS } from './bugs.ts';
import { crucibleActivation } from './crucible-activation.ts';
import { crucibleReplacement } from './crucible-replacement.ts';
import { crucibleTakeover } from './crucible-takeover.ts';
import { instanceLifecycle } from './instance-lifecycle.ts';
import { instanceMigration } from './instance-migration.ts';
import { propolisStart } from './propolis-start.ts';
import { regionSnapshotReplacement } from './region-snapshot-replacement.ts';

export const SCENARIOS: readonly Scenario[] = [instanceLifecycle, instanceMigration, crucibleActivation, crucibleTakeover, crucibleReplacement, propolisStart, regionSnapshotReplacement];

export const BUILTIN: Registry = defineRegistry({ scenarios: SCENARIOS, invariants: INVARIANTS, bugs: BUG_DEFS });

/** Every built-in bug switch, its `appliesTo` filled in. */
export const BUGS = BUILTIN.bugs;

export function findScenario(name: string): Scenario | undefined {
  return BUILTIN.scenario(name);
}
