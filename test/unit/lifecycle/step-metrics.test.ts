import { afterEach, describe, expect, it, vi } from 'vitest';
import { lifecycleHandler } from '../../../lambdas/shared/handler.js';

/** The EMF records the handler printed (Powertools' Console writes one JSON line per record to stdout). */
function emfRecords(write: { mock: { calls: unknown[][] } }): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } }> {
  return write.mock.calls
    .map(([chunk]) => String(chunk))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lifecycle step metrics', () => {
  it('publishes one StepSucceeded or StepFailed record per invocation, with the dimensions service and Step, for every invocation', async () => {
    // GIVEN a step that succeeds twice and then fails (no tenant in the event: no registry write)
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let calls = 0;
    const step = lifecycleHandler('Check stack', async () => {
      calls += 1;
      if (calls === 3) throw new Error('stack failed');
      return calls;
    });
    // WHEN
    await step({} as never);
    await step({} as never);
    await expect(step({} as never)).rejects.toThrow('stack failed');
    // THEN each outcome is its own record in the dashboard's schema {Tessera, service, Step}
    const records = emfRecords(write);
    write.mockRestore();
    expect(records.map((r) => Object.keys(r).filter((k) => k.startsWith('Step')))).toEqual([['Step', 'StepSucceeded'], ['Step', 'StepSucceeded'], ['Step', 'StepFailed']]);
    for (const [i, record] of records.entries()) {
      const name = i < 2 ? 'StepSucceeded' : 'StepFailed';
      expect(record._aws.CloudWatchMetrics).toEqual([{ Namespace: 'Tessera', Dimensions: [['service', 'Step']], Metrics: [{ Name: name, Unit: 'Count' }] }]);
      expect(record).toMatchObject({ service: 'tessera-lifecycle', Step: 'Check stack', [name]: 1 });
    }
  });

  it('keeps each step\'s own Step dimension when steps run interleaved', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const first = lifecycleHandler('Wire tenant', async () => 'a');
    const second = lifecycleHandler('Activate tenant', async () => 'b');
    await Promise.all([first({} as never), second({} as never), first({} as never)]);
    const records = emfRecords(write);
    write.mockRestore();
    expect(records.map((r) => r.Step).sort()).toEqual(['Activate tenant', 'Wire tenant', 'Wire tenant']);
    expect(records.every((r) => r._aws.CloudWatchMetrics[0].Dimensions.length === 1 && r.StepSucceeded === 1)).toBe(true);
  });
});
