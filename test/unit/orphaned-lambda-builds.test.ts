import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeOrphanedBuilds } from '../../lib/bundling/shared-lambda-build.js';
import { tempDir } from '../support/temp-dirs.js';

describe('removeOrphanedBuilds (.tessera/lambda-build/ of processes ended by a signal)', () => {
  it('removes the builds of processes that are gone and of unnamed ones older than an hour, keeps the rest', () => {
    // GIVEN a pid that is certainly gone (a child that has exited and been reaped), this process's pid
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const parent = tempDir('tessera-lambda-build-');
    const dirs = {
      deadProcess: `build-${gone}-Ab12Cd`, liveProcess: `build-${process.pid}-Ef34Gh`,
      oldUnnamed: 'build-Xy56Zw', newUnnamed: 'build-Qr78St',
    };
    for (const name of Object.values(dirs)) mkdirSync(join(parent, name));
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    utimesSync(join(parent, dirs.oldUnnamed), twoHoursAgo, twoHoursAgo);
    // WHEN
    removeOrphanedBuilds(parent);
    // THEN
    expect(existsSync(join(parent, dirs.deadProcess))).toBe(false);
    expect(existsSync(join(parent, dirs.oldUnnamed))).toBe(false);
    expect(existsSync(join(parent, dirs.liveProcess))).toBe(true);
    expect(existsSync(join(parent, dirs.newUnnamed))).toBe(true);
  });
});
