import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether a process with id `pid` exists on this machine: `kill(pid, 0)` checks without signalling;
 * ESRCH means none, EPERM means one that is not ours (it exists). A reused pid reads as alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the directories under `parent` whose name matches `named` (its first group: the pid of
 * the process that made it) and whose process is gone: what a process ended by a signal left
 * behind, since it ran no exit hook. Files, other names and directories of live processes stay.
 * @returns the paths removed
 */
export function removeDirsOfGoneProcesses(parent: string, named: RegExp): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(parent, { withFileTypes: true })) {
    const pid = entry.isDirectory() ? named.exec(entry.name)?.[1] : undefined;
    if (pid === undefined || processAlive(Number(pid))) continue;
    rmSync(join(parent, entry.name), { recursive: true, force: true });
    removed.push(join(parent, entry.name));
  }
  return removed;
}
