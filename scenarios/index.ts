// Every scenario stairwell knows, by name.

import { instanceLifecycle } from './instance-lifecycle.ts';
import { instanceMigration } from './instance-migration.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [instanceLifecycle, instanceMigration];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
