import { describe, expect, it } from 'vitest';
import { blockCount, blockIndex, nthBlock, parseCidr } from '../../../lib/config/cidr.js';

// Allocate network hands out the tier pool's blocks by index (nthBlock) and moves the pool's counter back to a block given
// back by its index (blockIndex): one must be the other's inverse.
describe('blockIndex', () => {
  const pool = parseCidr('10.64.0.0/12')!;

  it('is the inverse of nthBlock over the pool', () => {
    for (const index of [0, 1, 2, 511, blockCount(pool, 22) - 1]) expect(blockIndex(pool, 22, nthBlock(pool, 22, index))).toBe(index);
    expect(blockIndex(pool, 22, '10.64.4.0/22')).toBe(1);
  });

  it('is undefined for a range of another prefix length, outside the pool, or not a canonical CIDR', () => {
    expect(blockIndex(pool, 22, '10.64.0.0/20')).toBeUndefined();
    expect(blockIndex(pool, 22, '10.80.0.0/22')).toBeUndefined();
    expect(blockIndex(pool, 22, '10.63.252.0/22')).toBeUndefined();
    expect(blockIndex(pool, 22, '10.64.1.0/22')).toBeUndefined();
    expect(blockIndex(pool, 22, 'not a cidr')).toBeUndefined();
    expect(blockIndex(parseCidr('10.64.0.0/24')!, 22, '10.64.0.0/22')).toBeUndefined();
  });
});
