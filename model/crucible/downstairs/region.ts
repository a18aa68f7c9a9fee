// A downstairs region: extents of blocks, each extent with its generation, flush number and dirty
// bit. Durable: it survives a crash of the downstairs. A write makes its extent dirty; a flush
// stamps every dirty extent with the flush's generation and number and cleans it.

import { panic } from '../../assert.ts';
import type { BlockData, ExtentVersionsBody, RegionDefinition } from '../protocol.ts';

export interface Extent {
  gen: number;
  flush: number;
  dirty: boolean;
  blocks: (BlockData | null)[];
}

export interface Region {
  readonly definition: RegionDefinition;
  readonly extents: Extent[];
}

export function newRegion(definition: RegionDefinition): Region {
  const extents = Array.from({ length: definition.extentCount }, () => ({ gen: 0, flush: 0, dirty: false, blocks: Array.from({ length: definition.blocksPerExtent }, () => null) }));
  return { definition, extents };
}

function extent(region: Region, index: number): Extent {
  const e = region.extents[index];
  if (e === undefined) panic(`region ${region.definition.regionId} has no extent ${index}`);
  return e;
}

export function writeBlock(region: Region, index: number, block: number, data: BlockData): void {
  const e = extent(region, index);
  if (block < 0 || block >= e.blocks.length) panic(`extent ${index} has no block ${block}`);
  e.blocks[block] = data;
  e.dirty = true;
}

export function readBlock(region: Region, index: number, block: number): BlockData | null {
  return extent(region, index).blocks[block] ?? null;
}

/** A flush stamps every dirty extent; during a live repair only those up to `extentLimit` (region.rs region_flush). */
export function flushRegion(region: Region, flushNumber: number, gen: number, extentLimit: number | null = null): void {
  for (const [index, e] of region.extents.entries()) {
    if (!e.dirty || (extentLimit !== null && index > extentLimit)) continue;
    e.gen = gen;
    e.flush = flushNumber;
    e.dirty = false;
  }
}

/** A reconciliation ExtentFlush: one extent, only if dirty (extent.rs Extent::flush: a clean extent has nothing to write). */
export function flushExtent(region: Region, index: number, flushNumber: number, gen: number): void {
  const e = extent(region, index);
  if (!e.dirty) return;
  e.gen = gen;
  e.flush = flushNumber;
  e.dirty = false;
}

export function replaceExtent(region: Region, index: number, from: { gen: number; flush: number; blocks: readonly (BlockData | null)[] }): void {
  const e = extent(region, index);
  e.gen = from.gen;
  e.flush = from.flush;
  e.dirty = false;
  e.blocks = [...from.blocks];
}

export function extentVersions(region: Region): ExtentVersionsBody {
  return { gen: region.extents.map((e) => e.gen), flush: region.extents.map((e) => e.flush), dirty: region.extents.map((e) => e.dirty) };
}

export function extentData(region: Region, index: number): { gen: number; flush: number; blocks: readonly (BlockData | null)[] } {
  const e = extent(region, index);
  return { gen: e.gen, flush: e.flush, blocks: [...e.blocks] };
}
