/**
 * Sets `process.env` back to `saved` in place, then sets `extra` on it: keys added since `saved` was
 * taken are deleted, changed ones set back, and an `extra` key whose value is `undefined` is deleted.
 * What assigning `{ ...saved, ...extra }` to `process.env` meant, without replacing Node's own env object (a plain
 * object in its place no longer coerces values to strings nor reaches the process's C environment,
 * and it would stay in the worker for the files after this one): with this, a file that puts its
 * environment back shares a worker (project `shared-reset`, test/support/shared-worker-files.ts;
 * test/support/file-state.ts restores the environment after every file as well).
 * @param saved a copy of `process.env` (`{ ...process.env }`), taken before the file changed it
 * @param extra variables to set after the reset
 */
export function resetProcessEnv(saved: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): void {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  for (const [key, value] of Object.entries({ ...saved, ...extra })) {
    if (value === undefined) delete process.env[key];
    else if (process.env[key] !== value) process.env[key] = value;
  }
}
