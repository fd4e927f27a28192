import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneCompileCache } from '../../support/compile-cache.js';
import { tempDir } from '../../support/temp-dirs.js';

describe('pruneCompileCache', () => {
  it('removes the entries neither read nor written for 3 days, in every Node version\'s directory, and keeps the rest', () => {
    const dir = tempDir('tessera-compile-cache-');
    const now = Date.now();
    const day = 86_400_000;
    const entry = (version: string, name: string, atime: number, mtime: number) => {
      mkdirSync(join(dir, version), { recursive: true });
      const path = join(dir, version, name);
      writeFileSync(path, 'v8 code');
      utimesSync(path, new Date(atime), new Date(mtime));
      return path;
    };
    const stale = entry('v24.21.0-x64-aaaa-0', 'stale', now - 4 * day, now - 5 * day);
    const readLately = entry('v24.21.0-x64-aaaa-0', 'read', now - 1 * day, now - 9 * day);
    const writtenLately = entry('v24.21.0-x64-bbbb-0', 'written', now - 8 * day, now - 2 * day);
    const otherVersionStale = entry('v24.21.0-x64-bbbb-0', 'old', now - 10 * day, now - 10 * day);
    expect(pruneCompileCache(dir, now)).toBe(2);
    expect([stale, readLately, writtenLately, otherVersionStale].map((p) => existsSync(p))).toEqual([false, true, true, false]);
    // at most once a day: a stale entry added now waits for the next day's prune
    const later = entry('v24.21.0-x64-aaaa-0', 'later', now - 6 * day, now - 6 * day);
    expect(pruneCompileCache(dir, now + 3_600_000)).toBe(0);
    expect(existsSync(later)).toBe(true);
    // a day later: that entry, and the one written 2 days before (now 3 days and a bit)
    expect(pruneCompileCache(dir, now + day + 1)).toBe(2);
    expect([readLately, writtenLately, later].map((p) => existsSync(p))).toEqual([true, false, false]);
  });

  it('does nothing where there is no cache yet', () => {
    expect(pruneCompileCache(join(tempDir('tessera-compile-cache-'), 'absent'))).toBe(0);
  });
});
