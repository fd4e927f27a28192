import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockStrict } from '../../support/strict-mock.js';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { setLifecycleEnv } from './support.js';

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const { handler } = await import('../../../lambdas/lifecycle/summarize-upgrade.js');
const body = (value: unknown) => ({ Body: sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify(value))])) });
const child = (tenantId: string, Status: string, output?: unknown, extra: Record<string, unknown> = {}) => ({
  ExecutionArn: `arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/run:${tenantId}`, Status,
  Input: JSON.stringify({ request: { tenantId, requestId: `u-${tenantId}` }, change: { blueprintVersion: '2.0.0' } }),
  ...(output ? { Output: JSON.stringify(output) } : {}), ...extra,
});

beforeEach(() => {
  setLifecycleEnv();
  s3.reset();
});

describe('Summarize upgrade: upgraded, refused, skipped and failed tenants from the Distributed Map\'s result files', () => {
  it('reads the manifest, then each SUCCEEDED and FAILED file; a refused child (SUCCEEDED, refused) and a skipped one (SUCCEEDED, skipped) are listed apart from failures and upgrades', async () => {
    // GIVEN the ResultWriter's manifest and result files (Step Functions Developer Guide, ResultWriter)
    s3.on(GetObjectCommand, { Bucket: 'work', Key: 'upgrades/u/results/run/manifest.json' }).resolves(body({
      DestinationBucket: 'work', MapRunArn: 'arn:map', ResultFiles: { FAILED: [{ Key: 'upgrades/u/results/run/FAILED_0.json', Size: 1 }], PENDING: [], SUCCEEDED: [{ Key: 'upgrades/u/results/run/SUCCEEDED_0.json', Size: 1 }] },
    }));
    s3.on(GetObjectCommand, { Bucket: 'work', Key: 'upgrades/u/results/run/SUCCEEDED_0.json' }).resolves(body([
      child('hooli', 'SUCCEEDED', { result: { status: 'ACTIVE' } }),
      child('acme', 'SUCCEEDED', { tenantId: 'acme', refused: true, refusal: { reason: 'ChangeRefused: … Database …', refusedChanges: [{ logicalId: 'Database' }] } }),
      child('vandelay', 'SUCCEEDED', { tenantId: 'vandelay', skipped: true, reason: 'tenant "vandelay" is on tier business since the upgrade of tier starter to 2.0.0 listed it; …' }),
    ]));
    s3.on(GetObjectCommand, { Bucket: 'work', Key: 'upgrades/u/results/run/FAILED_0.json' }).resolves(body([
      child('initech', 'FAILED', undefined, { Error: 'StackFailed', Cause: 'stack tessera-initech is UPDATE_ROLLBACK_COMPLETE' }),
      child('globex', 'FAILED', undefined, { Error: 'States.TaskFailed', Cause: JSON.stringify({ errorType: 'Error', errorMessage: '😀'.repeat(300), trace: ['at handler (/var/task/index.mjs:1:1)'] }) }),
    ]));
    // WHEN
    const out = await handler({ results: { MapRunArn: 'arn:map', ResultWriterDetails: { Bucket: 'work', Key: 'upgrades/u/results/run/manifest.json' } } });
    // THEN
    expect(out).toEqual({
      upgraded: 1, refused: 1, skipped: 1, failed: 2,
      refusals: [{ tenantId: 'acme', reason: 'ChangeRefused: … Database …', resources: [{ logicalId: 'Database' }] }],
      skips: [{ tenantId: 'vandelay', reason: 'tenant "vandelay" is on tier business since the upgrade of tier starter to 2.0.0 listed it; …' }],
      // a Lambda's JSON Cause: its message without the stack trace, at most 500 characters, no half emoji
      failures: [
        { tenantId: 'initech', error: 'StackFailed', cause: 'stack tessera-initech is UPDATE_ROLLBACK_COMPLETE' },
        { tenantId: 'globex', error: 'States.TaskFailed', cause: expect.stringMatching(/^(😀)+ … \(600 characters; the rest is in the execution's history\)$/) },
      ],
      manifest: 's3://work/upgrades/u/results/run/manifest.json',
    });
  });

  it('answers zeros when the map wrote nothing (no tenant to upgrade)', async () => {
    await expect(handler({ results: {} })).resolves.toMatchObject({ upgraded: 0, refused: 0, skipped: 0, failed: 0 });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
