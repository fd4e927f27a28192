import { describe, expect, it } from 'vitest';
import { printSteps, type WatchedStep } from '../../../lib/cli/execution-watch.js';

/**
 * Found in session 44: `tessera tenants watch` padded step names to 30 columns, so *Enable EBS encryption by default*
 * (32 characters) and its `Failed at …` (42) pushed their durations out of the column every other step's starts in.
 * The column is now as wide as the longest state name a workflow has (lib/cli/execution-watch.ts STEP_NAME_COLUMN).
 */
describe('tenants watch: the step-name column', () => {
  it('starts every duration in one column, for the longest step names the onboarding has too', () => {
    const steps: WatchedStep[] = [
      { name: 'Request compute quotas', status: 'DONE', seconds: 0.5 },
      { name: 'Enable EBS encryption by default', status: 'FAILED', seconds: 1.25 },
      { name: 'Failed at Enable EBS encryption by default', status: 'DONE', seconds: 0 },
      { name: 'Record failure', status: 'DONE', seconds: 0.25 },
    ];
    const lines: string[] = [];
    printSteps(steps, new Set(), false, false, (l) => lines.push(l), true);
    expect(lines).toHaveLength(4);
    // the duration of each line begins at the same column, one space after the widest name
    const columns = lines.map((l) => l.search(/\d+\.\d s$/));
    expect(new Set(columns).size).toBe(1);
    expect(lines[2]).toBe('  ✗ Failed at Enable EBS encryption by default 0.0 s');
    expect(lines[0]).toBe(`  ✓ Request compute quotas${' '.repeat(42 - 'Request compute quotas'.length)} 0.5 s`);
  });
});
