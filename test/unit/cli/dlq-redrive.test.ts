import { EventBridgeClient, ListTargetsByRuleCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DeleteMessageCommand, ListDeadLetterSourceQueuesCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand, type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatAge, redriveLines } from '../../../lib/cli/dlq-command.js';
import { peekMessages } from '../../../lib/cli/dlq/queues.js';
import { jsonPath, redriveQueue } from '../../../lib/cli/dlq/redrive.js';
import { EVENTBRIDGE_DLQ_ATTRIBUTES as A } from '../../../lib/dead-letters.js';

const sqsMock = mockClient(SQSClient);
const eventsMock = mockClient(EventBridgeClient);
const lambdaMock = mockClient(LambdaClient);
const sfnMock = mockClient(SFNClient);
const clients = { sqs: new SQSClient({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), lambda: new LambdaClient({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }) };

const ACCOUNT = '111122223333';
const queue = { name: 'tessera-dlq-x', url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/tessera-dlq-x`, arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:tessera-dlq-x` };
const fnArn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:tessera-process-closure-queue`;
const smArn = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:tessera-drift`;
const scheduled = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: ACCOUNT, time: '2026-12-01T06:00:00Z', region: 'us-east-1', resources: [], detail: {} };

/** A message as EventBridge dead-letters it. */
const ebMessage = (id: string, rule: string, target: string, event: object = scheduled): Message => ({
  MessageId: id, ReceiptHandle: `rh-${id}`, Body: JSON.stringify(event),
  MessageAttributes: { [A.ruleArn]: { DataType: 'String', StringValue: rule }, [A.targetArn]: { DataType: 'String', StringValue: target } },
});

beforeEach(() => {
  for (const m of [sqsMock, eventsMock, lambdaMock, sfnMock]) m.reset();
  sqsMock.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: [] });
  sqsMock.on(DeleteMessageCommand).resolves({});
});
/** The queue answers `messages` once, then nothing. */
const queueHolds = (...messages: Message[]) => sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({});

describe('redriveQueue', () => {
  it('invokes a Lambda target asynchronously with the event (no input configured), then deletes the message', async () => {
    // GIVEN a schedule's event dead-lettered by rule DailyClosureQueue (default bus)
    queueHolds(ebMessage('m1', `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`, fnArn));
    eventsMock.on(ListTargetsByRuleCommand, { Rule: 'DailyClosureQueue', EventBusName: undefined }).resolves({ Targets: [{ Id: 'Target0', Arn: fnArn }] });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    // WHEN redriven
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    // THEN one async invoke with the event, and the message deleted
    expect(report.messages).toEqual([{ messageId: 'm1', from: 'eventbridge', delivery: { kind: 'lambda', target: fnArn, payload: JSON.stringify(scheduled) }, redriven: true }]);
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoke).toMatchObject({ FunctionName: fnArn, InvocationType: 'Event' });
    expect(new TextDecoder().decode(invoke.Payload as Uint8Array)).toBe(JSON.stringify(scheduled));
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: queue.url, ReceiptHandle: 'rh-m1' }]);
  });

  it('starts a state machine with the target\'s constant Input, reading the rule on its custom bus', async () => {
    queueHolds(ebMessage('m2', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-lifecycle/DailyDriftDetection`, smArn));
    eventsMock.on(ListTargetsByRuleCommand, { Rule: 'DailyDriftDetection', EventBusName: 'tessera-lifecycle' }).resolves({ Targets: [{ Id: 'Target0', Arn: smArn, Input: '{}' }] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0]).toMatchObject({ redriven: true, delivery: { kind: 'state-machine', target: smArn, input: '{}' } });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: smArn, input: '{}' });
  });

  it('refuses to put an aws.* event on a bus (PutEvents cannot), keeps the message and names the queue and message', async () => {
    const bus = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/tessera-lifecycle`;
    const sagemaker = { ...scheduled, source: 'aws.sagemaker', 'detail-type': 'SageMaker Training Job State Change' };
    queueHolds(ebMessage('m3', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-t1-training-events`, bus, sagemaker));
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: bus }] });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0]!.error).toBe('tessera-dlq-x message m3: the event\'s source is aws.sagemaker: PutEvents cannot put an AWS service\'s event; replay it from the account where it arose');
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('puts a custom event back on a bus target, and fails the message when PutEvents refuses the entry', async () => {
    const bus = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/other`;
    const custom = { ...scheduled, source: 'tessera.lifecycle', 'detail-type': 'Tenant Onboarding Requested', detail: { tenantId: 't1' } };
    queueHolds(ebMessage('m4', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-lifecycle/Forward`, bus, custom));
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'T', Arn: bus }] });
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(eventsMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries).toEqual([{ Source: 'tessera.lifecycle', DetailType: 'Tenant Onboarding Requested', Detail: '{"tenantId":"t1"}', Resources: [], EventBusName: bus }]);
    expect(report.messages[0]!.error).toContain('tessera-dlq-x message m4: events:PutEvents to');
    expect(report.messages[0]!.error).toContain('InternalFailure: try again');
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('re-invokes the function whose DeadLetterConfig names the queue for a Lambda DLQ message', async () => {
    queueHolds({ MessageId: 'm5', ReceiptHandle: 'rh-m5', Body: '{"a":1}', MessageAttributes: { RequestID: { DataType: 'String', StringValue: 'r' }, ErrorCode: { DataType: 'Number', StringValue: '200' } } });
    lambdaMock.on(ListFunctionsCommand).resolvesOnce({ Functions: [{ FunctionArn: 'arn:other', DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:1:other' } }], NextMarker: 'p2' })
      .resolves({ Functions: [{ FunctionArn: fnArn, DeadLetterConfig: { TargetArn: queue.arn } }] });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0]).toMatchObject({ from: 'lambda', redriven: true, delivery: { kind: 'lambda', target: fnArn, payload: '{"a":1}' } });
    expect(lambdaMock.commandCalls(ListFunctionsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'p2']);
  });

  it('keeps the message when the invoke fails, naming the queue, the message and the call', async () => {
    queueHolds(ebMessage('m6', `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`, fnArn));
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: fnArn }] });
    lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0]!.error).toBe(`tessera-dlq-x message m6: lambda:Invoke (Event) ${fnArn} failed: TooManyRequestsException: Rate exceeded`);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(redriveLines(report).at(-1)).toBe('tessera-dlq-x: 0 of 1 redriven; 1 failed and stay in the queue (visible again after the visibility timeout)');
  });

  it('refuses a target with an input transformer, and applies InputPath', async () => {
    queueHolds(
      ebMessage('m7', `arn:aws:events:us-east-1:${ACCOUNT}:rule/R1`, fnArn),
      ebMessage('m8', `arn:aws:events:us-east-1:${ACCOUNT}:rule/R2`, smArn, { ...scheduled, detail: { tenantId: 't9' } }),
    );
    eventsMock.on(ListTargetsByRuleCommand, { Rule: 'R1' }).resolves({ Targets: [{ Id: 'T', Arn: fnArn, InputTransformer: { InputTemplate: '"<x>"' } }] });
    eventsMock.on(ListTargetsByRuleCommand, { Rule: 'R2' }).resolves({ Targets: [{ Id: 'T', Arn: smArn, InputPath: '$.detail' }] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0]!.error).toMatch(/uses an input transformer, which tessera does not re-apply/);
    expect(report.messages[1]).toMatchObject({ redriven: true, delivery: { input: '{"tenantId":"t9"}' } });
  });

  it('moves messages back with StartMessageMoveTask when SQS queues dead-letter into it; a dry run only says so', async () => {
    sqsMock.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: [`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/work`] });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h1' });
    const dry = await redriveQueue(clients, queue, { dryRun: true, max: 10 });
    expect(dry.moveTask).toEqual({ sources: ['work'] });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    const run = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: queue.arn });
    expect(redriveLines(run)).toEqual(['tessera-dlq-x: SQS message move task h1 started, back to work']);
  });

  it('a dry run peeks with VisibilityTimeout 0 and replays nothing', async () => {
    queueHolds(ebMessage('m9', `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`, fnArn));
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: fnArn }] });
    const report = await redriveQueue(clients, queue, { dryRun: true, max: 5 });
    expect(report.messages).toMatchObject([{ messageId: 'm9', redriven: false, delivery: { kind: 'lambda' } }]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand).every((c) => c.args[0].input.VisibilityTimeout === 0)).toBe(true);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});

describe('peekMessages', () => {
  it('receives with VisibilityTimeout 0 and stops once SQS answers fewer than asked (each receive counts against the messages)', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [{ MessageId: 'a' }, { MessageId: 'b' }] });
    expect((await peekMessages(clients.sqs, queue.url, 5)).map((m) => m.MessageId)).toEqual(['a', 'b']);
    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((c) => [c.args[0].input.MaxNumberOfMessages, c.args[0].input.VisibilityTimeout])).toEqual([[5, 0]]);
  });
  it('asks again for the rest when a call is full, without repeating a message', async () => {
    const page = (from: number, n: number) => ({ Messages: Array.from({ length: n }, (_, i) => ({ MessageId: `m${from + i}` })) });
    sqsMock.on(ReceiveMessageCommand).resolvesOnce(page(0, 10)).resolvesOnce(page(5, 10)).resolves({});
    expect(await peekMessages(clients.sqs, queue.url, 12)).toHaveLength(12);
  });
});

describe('helpers', () => {
  it('jsonPath reads $ and dotted paths and refuses other forms', () => {
    expect(jsonPath({ a: { b: 2 } }, '$')).toEqual({ a: { b: 2 } });
    expect(jsonPath({ a: { b: 2 } }, '$.a.b')).toBe(2);
    expect(() => jsonPath({}, '$.a[0]')).toThrow(/InputPath "\$.a\[0\]" is not a dotted path/);
  });
  it('formatAge', () => {
    expect([undefined, 5, 95, 7_500, 200_000].map(formatAge)).toEqual(['-', '5s', '1m 35s', '2h 05m', '2d 07h']);
  });
});
