import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** A fresh directory under the OS temp dir, removed after the test file (test/support/test-setup.ts). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Removes every directory tempDir made in this process. */
export function removeTempDirs(): void {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
  created.clear();
}
