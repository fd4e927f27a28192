import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDistributedMap, type ChildRun, type DistributedMapState } from '../../integration/support/local-distributed-map.js';

// The local platform's Distributed Map (test/integration/support/local-distributed-map.ts): what aws-local-stepfunctions
// cannot run (a Map with ItemReader), run as Step Functions runs the rolling upgrade's. S3 mocked here; the whole upgrade
// on moto is test/integration/admin-upgrades-moto.test.ts.

const s3 = mockClient(S3Client);
const PARENT = 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade:starter-2';
const state = (extra: Partial<DistributedMapState> = {}): DistributedMapState => ({
  ItemReader: { ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: '<LifecycleWorkBucketC5548C0F>', 'Key.$': '$.tenants.key' } },
  ItemSelector: { 'request.$': '$$.Map.Item.Value.request', 'index.$': '$$.Map.Item.Index', 'tier.$': '$.tier', fixed: { a: 1 } },
  ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } }, ProcessorConfig: { Mode: 'DISTRIBUTED' } },
  ResultWriter: { Parameters: { Bucket: '<LifecycleWorkBucketC5548C0F>', 'Prefix.$': '$.tenants.resultsPrefix' } },
  MaxConcurrency: 2,
  ToleratedFailurePercentage: 10,
  ...extra,
});
const input = { tier: 'starter', tenants: { key: 'upgrades/starter-2/items.json', resultsPrefix: 'upgrades/starter-2/results' } };
const written = () => Object.fromEntries(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Key, JSON.parse(String(c.args[0].input.Body))]));

beforeEach(() => {
  s3.reset();
  process.env.TESSERA_LIFECYCLE_WORK_BUCKET = 'work-bucket';
  s3.on(PutObjectCommand).resolves({});
});
afterEach(() => { delete process.env.TESSERA_LIFECYCLE_WORK_BUCKET; });

describe('the local Distributed Map', () => {
  it('reads the items from S3, runs one child per item (MaxConcurrency at a time, named as Step Functions names them) with the ItemSelector\'s input, and writes the ResultWriter\'s files and manifest', async () => {
    const items = ['acme', 'beta', 'gamma'].map((tenantId) => ({ request: { tenantId }, ignored: true }));
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(items) } as never });
    let running = 0;
    let most = 0;
    const children: Array<{ definition: unknown; input: any; arn: string }> = [];
    const runChild = async (definition: unknown, childInput: unknown, arn: string): Promise<ChildRun> => {
      running++; most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      children.push({ definition, input: childInput, arn });
      return { status: 'SUCCEEDED', output: { done: (childInput as any).request.tenantId } };
    };
    const out = await runDistributedMap(state(), input, PARENT, runChild);
    // the items of the key the state's input names, from the work bucket (the definition keeps a CloudFormation placeholder)
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'work-bucket', Key: 'upgrades/starter-2/items.json' });
    expect(most).toBe(2);
    expect(children.map((c) => c.arn).sort()).toEqual([0, 1, 2].map((i) => `arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/starter-2:${i}`));
    expect(children.find((c) => c.input.request.tenantId === 'beta')!.input).toEqual({ request: { tenantId: 'beta' }, index: 1, tier: 'starter', fixed: { a: 1 } });
    expect(children[0]!.definition).toEqual({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    // the result files as ResultWriter writes them, which summarize-upgrade.ts reads
    expect(out.MapRunArn).toMatch(/^arn:aws:states:us-east-1:222222222222:mapRun:tessera-upgrade\/starter-2:[0-9a-f-]{36}$/);
    const files = written();
    const manifest = files[out.ResultWriterDetails!.Key];
    expect(out.ResultWriterDetails!.Bucket).toBe('work-bucket');
    expect(manifest).toMatchObject({ DestinationBucket: 'work-bucket', MapRunArn: out.MapRunArn, ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [{ Key: expect.stringMatching(/^upgrades\/starter-2\/results\/[0-9a-f-]{36}\/SUCCEEDED_0\.json$/) }] } });
    const succeeded = files[manifest.ResultFiles.SUCCEEDED[0].Key];
    expect(succeeded).toHaveLength(3);
    expect(succeeded[0]).toMatchObject({ Status: 'SUCCEEDED', Input: JSON.stringify(children.find((c) => c.input.index === 0)!.input), Output: JSON.stringify({ done: 'acme' }) });
  });

  it('fails States.ExceedToleratedFailureThreshold when more than ToleratedFailurePercentage of the children failed (results written first), and States.ItemReaderFailed on items it cannot read', async () => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify([{ request: { tenantId: 'a' } }, { request: { tenantId: 'b' } }]) } as never });
    const oneFails = async (_d: unknown, i: unknown): Promise<ChildRun> => ((i as any).request.tenantId === 'b' ? { status: 'FAILED', error: { error: 'States.TaskFailed', cause: 'Deploy blueprint: UPDATE_ROLLBACK_COMPLETE' } } : { status: 'SUCCEEDED', output: {} });
    await expect(runDistributedMap(state(), input, PARENT, oneFails)).rejects.toMatchObject({ name: 'States.ExceedToleratedFailureThreshold', message: expect.stringContaining('1 of 2 item(s) failed, more than the tolerated 10%') });
    const failed = Object.entries(written()).find(([k]) => k.endsWith('FAILED_0.json') && !k.endsWith('SUCCEEDED_0.json'))![1];
    expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'States.TaskFailed', Cause: 'Deploy blueprint: UPDATE_ROLLBACK_COMPLETE' })]);
    // within the tolerance (50%): the state succeeds
    await expect(runDistributedMap(state({ ToleratedFailurePercentage: 50 }), input, PARENT, oneFails)).resolves.toMatchObject({ MapRunArn: expect.any(String) });
    // no JSON array, or no object
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => '{"not":"an array"}' } as never });
    await expect(runDistributedMap(state(), input, PARENT, oneFails)).rejects.toMatchObject({ name: 'States.ItemReaderFailed', message: 's3://work-bucket/upgrades/starter-2/items.json holds no JSON array' });
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    await expect(runDistributedMap(state(), input, PARENT, oneFails)).rejects.toMatchObject({ name: 'States.ItemReaderFailed', message: expect.stringContaining('The specified key does not exist.') });
  });

  // (f / n) * 100 in floating point: 7 of 100 failed was 7.000000000000001%, "more than" a 7% tolerance, and the state failed
  // where Step Functions tolerates exactly that many (its threshold fails the run only when the percentage is exceeded).
  it('tolerates exactly ToleratedFailurePercentage of the items failing (7 of 100 at 7%, 14 of 100 at 14%), and fails one more', async () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ request: { tenantId: `t${i}` } }));
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(items) } as never });
    const failing = (count: number) => async (_d: unknown, i: unknown): Promise<ChildRun> => (Number((i as any).request.tenantId.slice(1)) >= 100 - count ? { status: 'FAILED', error: { error: 'States.TaskFailed' } } : { status: 'SUCCEEDED', output: {} });
    for (const pct of [7, 14, 28, 56]) {
      await expect(runDistributedMap(state({ ToleratedFailurePercentage: pct, MaxConcurrency: 0 }), input, PARENT, failing(pct))).resolves.toMatchObject({ MapRunArn: expect.any(String) });
      await expect(runDistributedMap(state({ ToleratedFailurePercentage: pct, MaxConcurrency: 0 }), input, PARENT, failing(pct + 1))).rejects.toMatchObject({ name: 'States.ExceedToleratedFailureThreshold' });
    }
  });

  // Step Functions fails the Map Run once its failures exceed the threshold: items not yet started are not run (AWS Step
  // Functions Developer Guide, "Tolerated failure threshold"). Before, every item ran: a rolling upgrade past its tolerance
  // went on upgrading every tenant of the tier on this machine, where in AWS it stops.
  it('starts no more children once the failures exceed the tolerance', async () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ request: { tenantId: `t${i}` } }));
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(items) } as never });
    const started: string[] = [];
    const thirdFails = async (_d: unknown, i: unknown): Promise<ChildRun> => {
      const id = (i as any).request.tenantId as string;
      started.push(id);
      return id === 't2' ? { status: 'FAILED', error: { error: 'States.TaskFailed' } } : { status: 'SUCCEEDED', output: {} };
    };
    await expect(runDistributedMap(state({ ToleratedFailurePercentage: 0, MaxConcurrency: 1 }), input, PARENT, thirdFails)).rejects.toMatchObject({ name: 'States.ExceedToleratedFailureThreshold', message: expect.stringContaining('1 of 10 item(s) failed') });
    expect(started).toEqual(['t0', 't1', 't2']);
    // 10%: one failure is within it (1 of 10), so every item runs
    started.length = 0;
    await expect(runDistributedMap(state({ ToleratedFailurePercentage: 10, MaxConcurrency: 1 }), input, PARENT, thirdFails)).resolves.toMatchObject({ MapRunArn: expect.any(String) });
    expect(started).toHaveLength(10);
  });
});
