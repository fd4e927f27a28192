import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDirsOfGoneProcesses } from '../../lib/process-alive.js';

// One set and one exit hook per process, kept on the process: project `shared-reset` evaluates
// this module again for every file (test/support/file-state.ts), and a second exit hook per file
// would pile up listeners.
const CREATED = Symbol.for('tessera.tempDirs.created');
const processState = process as unknown as Record<symbol, Set<string> | undefined>;
const created = processState[CREATED] ?? new Set<string>();
if (!processState[CREATED]) {
  processState[CREATED] = created;
  // After each file (test/support/test-setup.ts), and when the process exits without reaching it
  // (a worker ended early, a script that is not a test file); rmSync is synchronous, as 'exit' needs.
  process.once('exit', () => removeTempDirs());
}

/** What tempDir puts between the prefix and mkdtemp's six characters: the owning process's pid. */
const OWNER = /pid(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A fresh directory under the OS temp dir, `<prefix>pid<pid>-XXXXXX`, removed after the test file
 * (test/support/test-setup.ts), at the process's exit, or, when the process was killed (a worker
 * vitest stopped on a timeout, Ctrl-C), by {@link removeOrphanedTempDirs} at the start and end of
 * the next run.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}pid${process.pid}-`));
  created.add(dir);
  return dir;
}

/** Removes every directory tempDir made in this process. */
export function removeTempDirs(): void {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
  created.clear();
}

/**
 * Removes the directories tempDir made under `parent` for processes that are gone (a killed
 * process runs no exit hook). Directories of live processes, and every other entry, are left alone.
 * @returns the directories removed
 */
export function removeOrphanedTempDirs(parent: string = tmpdir()): string[] {
  return removeDirsOfGoneProcesses(parent, OWNER);
}
