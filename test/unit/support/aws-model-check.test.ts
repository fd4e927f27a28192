import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { loadModel, modelViolation, skippedPatterns } from '../../support/aws-model-check.js';
import { mockStrict, refusedModelRequests } from '../../support/strict-mock.js';

const ROLE = 'arn:aws:iam::111122223333:role/x';

describe('modelViolation: an input checked against botocore API model', () => {
  it('passes what the model allows', () => {
    expect(modelViolation('sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'tessera-a.b@c', DurationSeconds: 900, Tags: [{ Key: 'tenant', Value: '' }] })).toBeUndefined();
    expect(modelViolation('sts', 'GetCallerIdentity', {})).toBeUndefined();
    expect(modelViolation('events', 'PutEvents', { Entries: [{ Source: 'tessera.x', DetailType: 'y', Detail: '{}', Time: new Date() }] })).toBeUndefined();
  });

  it.each([
    ['a string under min length', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'x' }, "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"],
    ['a string over max length', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'x'.repeat(65) }, `1 validation error detected: Value '${'x'.repeat(65)}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`],
    ['a pattern matched in full', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'a b' }, "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"],
    ['a required member missing', 'sts', 'AssumeRole', { RoleArn: ROLE }, "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"],
    ['an integer under min', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ab', DurationSeconds: 899 }, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"],
    ['a non-integer integer', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ab', DurationSeconds: 900.5 }, "1 validation error detected: Value '900.5' at 'durationSeconds' failed to satisfy constraint: Member must be an integer (integer roleDurationSecondsType)"],
    ['a list element member (1-based)', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ab', Tags: [{ Key: 'a', Value: 'b' }, { Key: 'a!', Value: 'b' }] }, "1 validation error detected: Value 'a!' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"],
    ['a list over max items', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ab', Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }, /^1 validation error detected: Value '\[.*\]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50$/],
    ['a list under min items', 'events', 'PutEvents', { Entries: [] }, "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ['an unknown member', 'sts', 'AssumeRole', { RoleArn: ROLE, RoleSessionName: 'ab', RoleSesionName: 'typo' }, /^1 validation error detected: Unknown member 'RoleSesionName' at '<input>': AssumeRoleRequest has RoleArn, RoleSessionName/],
    ['an enum', 'events', 'PutRule', { Name: 'r', State: 'ON' }, "1 validation error detected: Value 'ON' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"],
    ['a timestamp', 'events', 'PutEvents', { Entries: [{ Time: 'not a date' }] }, "1 validation error detected: Value 'not a date' at 'entries.1.member.time' failed to satisfy constraint: Member must be a timestamp (EventTime)"],
    ['a map key', 'sqs', 'SendMessage', { QueueUrl: 'q', MessageBody: 'b', MessageSystemAttributes: { Other: { DataType: 'String', StringValue: 'x' } } }, /at 'messageSystemAttributes' failed to satisfy constraint: Map keys must satisfy constraint: \[Member must satisfy enum value set: \[AWSTraceHeader\]\]$/],
    ['a map value', 'sqs', 'SendMessage', { QueueUrl: 'q', MessageBody: 'b', MessageAttributes: { a: { StringValue: 'x' } } }, "1 validation error detected: Value null at 'messageAttributes.a.dataType' failed to satisfy constraint: Member must not be null"],
    ['a blob over max bytes', 'sagemaker-runtime', 'InvokeEndpoint', { EndpointName: 'e', Body: new Uint8Array(6_291_457) }, /at 'body' failed to satisfy constraint: Member must have length less than or equal to 6291456$/],
    ['a double under min', 'service-quotas', 'RequestServiceQuotaIncrease', { ServiceCode: 'ec2', QuotaCode: 'L-1', DesiredValue: -1 }, "1 validation error detected: Value '-1' at 'desiredValue' failed to satisfy constraint: Member must have value greater than or equal to 0"],
  ] as const)('refuses %s', (_, service, operation, input, message) => {
    const got = modelViolation(service, operation, input);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
  });

  it('skips, and lists, a pattern JavaScript cannot compile (\\p{Print})', () => {
    expect(modelViolation('sagemaker-runtime', 'InvokeEndpoint', { EndpointName: 'e', Body: '{}', InferenceId: ' x' })).toBeUndefined();
    expect(skippedPatterns.some((s) => s.startsWith('sagemaker-runtime/InferenceId: '))).toBe(true);
  });

  it('reads each model once and checks a call in microseconds', () => {
    expect(loadModel('sts')).toBe(loadModel('sts'));
    const input = { Entries: Array.from({ length: 10 }, (_, i) => ({ Source: 'tessera.lifecycle', DetailType: `Tenant ${i}`, Detail: JSON.stringify({ i }), EventBusName: 'tessera-platform' })) };
    modelViolation('events', 'PutEvents', input);
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) modelViolation('events', 'PutEvents', input);
    const perCall = ((performance.now() - t0) / n) * 1000;
    console.log(`aws-model-check: ${perCall.toFixed(1)} µs per PutEvents of 10 entries`);
  });
});

describe('mockStrict: a mock refusing what the model refuses', () => {
  it('answers a refused command with a ValidationException (400) of the client and records it', async () => {
    const sts = mockStrict(STSClient, 'sts', STSServiceException);
    try {
      sts.on(AssumeRoleCommand).resolves({});
      sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
      const client = new STSClient({ region: 'us-east-1' });
      const err = await client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'tenant session' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(STSServiceException);
      expect(err).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(refusedModelRequests.at(-1)).toMatchObject({ command: 'AssumeRoleCommand' });
      expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
      await expect(client.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '111122223333' });
      sts.reset();
      await expect(client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'x' }))).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      sts.restore();
    }
  });

  it('checks EventBridge PutEvents entries', async () => {
    const eb = mockStrict(EventBridgeClient, 'events');
    try {
      eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
      const client = new EventBridgeClient({ region: 'us-east-1' });
      await expect(client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}', EventBusName: 'bad bus' }] }))).rejects.toThrow(/at 'entries.1.member.eventBusName'/);
    } finally {
      eb.restore();
    }
  });
});
