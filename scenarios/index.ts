// Every scenario stairwell knows, by name.

import { instanceLifecycle } from './instance-lifecycle.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [instanceLifecycle];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
