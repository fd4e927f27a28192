import { describe, expect, it } from 'vitest';
import { unreadItemsCause, WorkflowRunner, type Definition } from './support/workflow-runner.js';

// The local platform's Step Functions runner (aws-local-stepfunctions) reads no Map items from S3 (ItemReader): the rolling
// upgrade's Distributed Map fails there with States.Runtime. The execution's cause says so and what to run instead, where
// it said only "Input of Map state must be an array…", which reads as a defect of the input and names no way on.

const inner = { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } };
const itemReader = { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: 'work', 'Key.$': '$.tenants.key' } };
const distributed = {
  StartAt: 'Upgrade each tenant',
  States: {
    'Upgrade each tenant': { Type: 'Map', ItemReader: itemReader, ItemProcessor: { ...inner, ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } }, End: true },
  },
} as unknown as Definition;

describe('workflow runner: a Map that reads its items from S3', () => {
  it('fails with States.Runtime, its cause naming the state, the runner that cannot read the items, and what to run instead', async () => {
    const r = await new WorkflowRunner({} as never).run(distributed, { tenants: { key: 'upgrades/r1/items.json' } });
    expect(r.status).toBe('FAILED');
    expect(r.error?.error).toBe('States.Runtime');
    expect(r.error?.cause).toMatch(/^Input of Map state must be an array/);
    expect(r.error?.cause).toContain('(at "Upgrade each tenant": this Map reads its items from S3 (ItemReader, a Distributed Map), which the local Step Functions runner, aws-local-stepfunctions, does not do');
    expect(r.error?.cause).toContain('run its item processor for each item on its own instead');
  });

  it('names tessera tenants update for the upgrade workflow, and leaves every other failure\'s cause as it was', () => {
    expect(unreadItemsCause(distributed, 'Upgrade each tenant', 'States.Runtime', 'Input of Map state must be an array', 'upgrade'))
      .toContain('upgrade each tenant of the tier on its own instead: tessera tenants update <id> --blueprint-version <version> --watch');
    // another error at the same state, a Map without ItemReader, or another state: the cause unchanged
    expect(unreadItemsCause(distributed, 'Upgrade each tenant', 'States.TaskFailed', 'boom', 'upgrade')).toBe('boom');
    const inline = { StartAt: 'M', States: { M: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: inner, End: true } } } as unknown as Definition;
    expect(unreadItemsCause(inline, 'M', 'States.Runtime', 'Input of Map state must be an array', 'upgrade')).toBe('Input of Map state must be an array');
    expect(unreadItemsCause(distributed, undefined, 'States.Runtime', 'x', 'upgrade')).toBe('x');
  });
});
