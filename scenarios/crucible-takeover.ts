// crucible-takeover: three downstairs; upstairs-a is activated at generation 1 and its guest
// writes; once it is active, upstairs-b (a live-migration target) is activated at generation 2
// against the same region set while IO is in flight. The first must end Disabled (or unable to do
// IO, if it never heard of the takeover) and no write it had flushed may be lost.

import { crucibleScenario, type CrucibleShape } from './crucible-world.ts';

const SHAPE: CrucibleShape = {
  upstairs: ['upstairs-a', 'upstairs-b'],
  activations: [
    { upstairs: 'upstairs-a', gen: 1, afterMs: 0 },
    // Drawn: the takeover lands anywhere from just after the guest starts to well into its IO.
    { upstairs: 'upstairs-b', gen: 2, afterMs: 250, afterMsMax: 2_000 },
  ],
  guestStartMs: { 'upstairs-a': 200, 'upstairs-b': 2_500 },
};

export const crucibleTakeover = crucibleScenario(
  'crucible-takeover',
  '3 downstairs; a second upstairs at a higher generation takes the region set over while the first has IO in flight',
  SHAPE,
  ['C-L1', 'C-L2', 'C-L4'],
);
