import { afterEach, describe, expect, it, vi } from 'vitest';
import { TRAINING_STATE_METRIC, countTrainingState } from '../../../lambdas/fine-tuning/training-state-metric.js';

/** The EMF lines `fn` prints (Powertools writes them to stdout, or through console.log in dev mode). */
function emfLines(fn: () => void): Array<Record<string, any>> {
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => (out.push(String(chunk)), true));
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.map(String).join(' ')));
  try {
    fn();
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
  return out.flatMap((s) => s.split('\n')).filter((s) => s.startsWith('{')).map((s) => JSON.parse(s)).filter((l) => l._aws);
}

afterEach(() => vi.restoreAllMocks());

describe('countTrainingState', () => {
  it('prints one EMF line: TrainingJobStateChanges = 1 under service and State', () => {
    const [line, ...rest] = emfLines(() => countTrainingState('Failed'));
    expect(rest).toEqual([]);
    expect(line._aws.CloudWatchMetrics).toEqual([{
      Namespace: TRAINING_STATE_METRIC.namespace, Dimensions: [['service', 'State']], Metrics: [{ Name: 'TrainingJobStateChanges', Unit: 'Count' }],
    }]);
    expect(line).toMatchObject({ service: 'tessera-fine-tuning', State: 'Failed', TrainingJobStateChanges: 1 });
  });

  it('counts a status SageMaker does not send as Other (the dimension stays bounded)', () => {
    expect(emfLines(() => countTrainingState('tenant-made-up-1234'))[0]).toMatchObject({ State: 'Other' });
    expect(emfLines(() => countTrainingState('Completed'))[0]).toMatchObject({ State: 'Completed' });
  });
});
