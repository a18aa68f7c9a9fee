// What the Crucible invariants read: each downstairs' region and connections, each upstairs'
// state and clients, the control plane's activation requests, and the guests' histories.

import type { ControlProcess } from '../model/crucible/control-plane.ts';
import type { DownstairsProcess } from '../model/crucible/downstairs/node.ts';
import type { GuestProcess } from '../model/crucible/guest.ts';
import type { Region } from '../model/crucible/downstairs/region.ts';
import type { UpstairsProcess } from '../model/crucible/upstairs/node.ts';

export interface CrucibleWorld {
  readonly downstairsIds: readonly string[];
  readonly upstairsIds: readonly string[];
  readonly controlId: string;
  /** null while the node is down. */
  downstairs(id: string): DownstairsProcess | null;
  /** The region on disk, readable even while the downstairs is down. */
  region(id: string): Region;
  upstairs(id: string): UpstairsProcess | null;
  control(): ControlProcess | null;
  /** One per upstairs, in the order of `upstairsIds` (none where nothing does guest IO). */
  guests(): readonly GuestProcess[];
  /** The guests by node id, for the data checker (C-I10, C-L5); absent where none is checked. */
  readonly guestIds?: readonly string[];
  guest?(id: string): GuestProcess | null;
}
