import type { LoadedBlueprints } from '../../../lib/preflight/blueprints.js';
import { runPreflight, type PreflightReport } from '../../../lib/preflight/run.js';
import { configWith } from '../../support/config-with.js';
import { saveDiskAnswers, useDiskAnswers } from './answer-store.js';
import { cachedBlueprints } from './cached-blueprints.js';

let run: Promise<{ loaded: LoadedBlueprints; report: PreflightReport }> | undefined;

/**
 * The blueprints of the default config and their preflight run (every tier), made once per
 * process. The suites of preflight.test.ts share it, and the IAM simulator's answers it memoizes
 * (lib/preflight/iam-eval.ts): a self-test's planted run, or another config's, then costs only
 * the requests that differ. Callers must not change what it returns.
 */
export function defaultPreflight(): Promise<{ loaded: LoadedBlueprints; report: PreflightReport }> {
  run ??= (async () => {
    const loaded = await cachedBlueprints(configWith());
    // The simulator's answers of the last run for the requests that did not change (./answer-store.ts).
    useDiskAnswers();
    const report = await runPreflight(loaded);
    saveDiskAnswers();
    return { loaded, report };
  })();
  return run;
}
