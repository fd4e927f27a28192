import { EventBridgeClient, ListRuleNamesByTargetCommand, ListTargetsByRuleCommand, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, ListFunctionsCommand, LambdaServiceException } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, GetQueueAttributesCommand, ListDeadLetterSourceQueuesCommand, ListQueuesCommand, ListQueueTagsCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, StartMessageMoveTaskCommand, type Message, SQSServiceException } from '@aws-sdk/client-sqs';
import { mockStrict } from '../../support/strict-mock.js';
import { Command } from 'commander';
import { beforeEach, describe, expect, it } from 'vitest';
import { dlqCommand, formatAge, listHints, messageLines, purgeLines, redriveLines, redriveMessageLine, sameQueuesOptions, type DlqIo } from '../../../lib/cli/dlq-command.js';
import { purgeQueue } from '../../../lib/cli/dlq/purge.js';
import { awsServiceEventSource, peekMessages, type DeadLetterQueueInfo } from '../../../lib/cli/dlq/queues.js';
import { jsonPath, REDRIVE_RECEIVE_WAIT_SECONDS, redriveQueue } from '../../../lib/cli/dlq/redrive.js';
import { EVENTBRIDGE_DLQ_ATTRIBUTES as A } from '../../../lib/dead-letters.js';

const sqsMock = mockStrict(SQSClient, 'sqs', SQSServiceException);
const eventsMock = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const lambdaMock = mockStrict(LambdaClient, 'lambda', LambdaServiceException);
const sfnMock = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
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
    // AND the summary says that "redriven" is the function's acceptance, and where a second failure shows (hops)
    expect(redriveLines(report).slice(-2)).toEqual([
      'tessera-dlq-x: 1 of 1 redriven',
      '  a function invoked asynchronously may fail again: after its own retries its event lands in this queue again (tessera dlq list tessera-dlq-x --peek 5 in a few minutes)',
    ]);
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
    expect(report.messages[0]!.error).toBe('tessera-dlq-x message m3: the event\'s source is aws.sagemaker, an AWS service\'s event: it cannot be replayed (PutEvents refuses aws.* sources, and the service sends each event once); fix what made the target refuse it, then delete it with tessera dlq purge');
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

  describe('a message whose rule a deploy replaced (the rule is gone, its target kept)', () => {
    const oldRule = `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-lifecycle/TesseraPlatform-LifecycleDailyDrift-OLD1`;
    const gone = () => Object.assign(new Error('Rule TesseraPlatform-LifecycleDailyDrift-OLD1 does not exist on EventBus tessera-lifecycle.'), { name: 'ResourceNotFoundException' });
    beforeEach(() => {
      eventsMock.on(ListTargetsByRuleCommand, { Rule: 'TesseraPlatform-LifecycleDailyDrift-OLD1' }).rejects(gone());
    });

    it('replays with the target settings of the one rule that has the target now, and says so', async () => {
      queueHolds(ebMessage('m1', oldRule, smArn));
      eventsMock.on(ListRuleNamesByTargetCommand, { TargetArn: smArn, EventBusName: 'tessera-lifecycle' })
        .resolvesOnce({ RuleNames: ['TesseraPlatform-LifecycleDailyDrift-OLD1'], NextToken: 'p2' })
        .resolves({ RuleNames: ['TesseraPlatformEventRules-DailyDrift-NEW2'] });
      eventsMock.on(ListTargetsByRuleCommand, { Rule: 'TesseraPlatformEventRules-DailyDrift-NEW2', EventBusName: 'tessera-lifecycle' })
        .resolves({ Targets: [{ Id: 'Other', Arn: fnArn }, { Id: 'Target0', Arn: smArn, Input: '{"source":"schedule"}' }] });
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
      const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
      expect(report.messages[0]).toEqual({
        messageId: 'm1', from: 'eventbridge', redriven: true,
        delivery: { kind: 'state-machine', target: smArn, input: '{"source":"schedule"}', viaRule: { deleted: 'TesseraPlatform-LifecycleDailyDrift-OLD1', now: 'TesseraPlatformEventRules-DailyDrift-NEW2' } },
      });
      expect(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input).toMatchObject({ stateMachineArn: smArn, input: '{"source":"schedule"}' });
      expect(redriveMessageLine(report.messages[0]!, false)).toBe(`m1  start execution ${smArn} (rule TesseraPlatform-LifecycleDailyDrift-OLD1 no longer exists: with the target settings of rule TesseraPlatformEventRules-DailyDrift-NEW2, the one that has this target now)  redriven, deleted`);
    });

    it('keeps the message when no rule, or more than one, has the target now, naming them', async () => {
      queueHolds(ebMessage('m1', oldRule, smArn), ebMessage('m2', oldRule, fnArn));
      eventsMock.on(ListRuleNamesByTargetCommand, { TargetArn: smArn }).resolves({ RuleNames: [] });
      eventsMock.on(ListRuleNamesByTargetCommand, { TargetArn: fnArn }).resolves({ RuleNames: ['A', 'B'] });
      eventsMock.on(ListTargetsByRuleCommand, { Rule: 'A' }).resolves({ Targets: [{ Id: 'T', Arn: fnArn }] });
      eventsMock.on(ListTargetsByRuleCommand, { Rule: 'B' }).resolves({ Targets: [{ Id: 'T', Arn: fnArn, Input: '{}' }] });
      const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
      expect(report.messages.map((m) => m.error)).toEqual([
        `tessera-dlq-x message m1: rule TesseraPlatform-LifecycleDailyDrift-OLD1 no longer exists (a deploy replaced or removed it) and no rule of the bus now has the target ${smArn}: replay it by hand`,
        `tessera-dlq-x message m2: rule TesseraPlatform-LifecycleDailyDrift-OLD1 no longer exists (a deploy replaced or removed it) and rules A, B all have the target ${fnArn} now: cannot tell which replaced it; replay it by hand`,
      ]);
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
      expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    });

    it('a rule that cannot be read for another reason is that error, with no search for another rule', async () => {
      queueHolds(ebMessage('m1', `arn:aws:events:us-east-1:${ACCOUNT}:rule/R9`, fnArn));
      eventsMock.on(ListTargetsByRuleCommand, { Rule: 'R9' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
      const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
      expect(report.messages[0]!.error).toMatch(/^tessera-dlq-x message m1: events:ListTargetsByRule R9 failed: AccessDeniedException: not authorized \(your credentials may not make this call/);
      expect(eventsMock.commandCalls(ListRuleNamesByTargetCommand)).toHaveLength(0);
    });
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
    expect(redriveLines(run)).toEqual(['tessera-dlq-x: SQS message move task h1 started, back to work: every message of the queue (a move task takes no --max)']);
  });

  // s43f: the work queues' messages carry MessageGroupId = the tenant (fair queues: work-queues.ts fairQueueGroup). SQS's
  // move task moves each message unmodified (only its MessageId and enqueue time are new: docs/resilience.md), so the
  // tenant's group goes back with it; a receive and SendMessage of our own would have to re-send the group or drop it.
  it('a work queue\'s DLQ (its messages in their tenant\'s message group) is redriven by the move task alone: nothing received, nothing re-sent', async () => {
    sqsMock.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: [`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/tessera-batches`] });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h2' });
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: '{"tenantId":"acme"}', Attributes: { MessageGroupId: 'acme' } }] });
    const run = await redriveQueue(clients, { ...queue, name: 'tessera-dlq-batches' }, { dryRun: false, max: 10 });
    expect(run.moveTask).toEqual({ sources: ['tessera-batches'], taskHandle: 'h2' });
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  // s22i17: `--max <n>` ("at most n messages", 100 by default) was ignored for a DLQ of SQS queues: StartMessageMoveTask
  // takes no count and moved every message (`tessera dlq redrive x --max 1` on a queue of 5,000 moved 5,000).
  it('refuses --max for a DLQ of SQS queues (a move task moves every message; it takes no count), starts nothing; without --max says it moves them all', async () => {
    sqsMock.on(ListDeadLetterSourceQueuesCommand).resolves({ queueUrls: [`https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/work`] });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h1' });
    sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: [queue.url] });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: queue.arn, ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    sqsMock.on(ListQueueTagsCommand).resolves({});
    const out: string[] = [];
    const tessera = (...args: string[]) => {
      const program = new Command('tessera').option('--region <region>').option('--json').exitOverride();
      program.addCommand(dlqCommand({ out: (t) => void out.push(t), clients: async () => clients, account: async () => ACCOUNT }));
      return program.parseAsync(['dlq', 'redrive', ...args], { from: 'user' });
    };
    for (const args of [['x', '--max', '1'], ['x', '--max', '100', '--dry-run']]) {
      await expect(tessera(...args), args.join(' ')).rejects.toMatchObject({
        name: 'CliError', exitCode: 2,
        message: expect.stringMatching(/^--max \d+: tessera-dlq-x is the dead-letter queue of SQS queue\(s\) work: its redrive is an SQS message move task, which moves every message \(StartMessageMoveTask takes no count\); run it without --max/),
      });
    }
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(out).toEqual([]);
    await tessera('x');
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(1);
    expect(out).toEqual(['tessera-dlq-x: SQS message move task h1 started, back to work: every message of the queue (a move task takes no --max)']);
  });

  // s47: with --json every end of a command is one JSON line on stderr; a redrive stopped by Ctrl-C said it in text only.
  it('--json, Ctrl-C: the report on stdout, then the stop as one JSON error line on stderr (type interrupted, code redrive_stopped); exit 130', async () => {
    sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: [queue.url] });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: queue.arn, ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' } });
    sqsMock.on(ListQueueTagsCommand).resolves({});
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });
    const rule = `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`;
    // The listing peeks one message (its source), then the redrive receives both
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [ebMessage('m1', rule, fnArn)] })
      .resolvesOnce({ Messages: [ebMessage('m1', rule, fnArn), ebMessage('m2', rule, fnArn)] }).resolves({});
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: fnArn }] });
    // The operator's Ctrl-C while the first message is replayed
    lambdaMock.on(InvokeCommand).callsFake(() => { process.emit('SIGINT'); return { StatusCode: 202 }; });
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((t: string) => { err.push(String(t)); return true; }) as typeof process.stderr.write;
    try {
      const program = new Command('tessera').option('--region <region>').option('--json').exitOverride();
      program.addCommand(dlqCommand({ out: (t) => void out.push(t), clients: async () => clients, account: async () => ACCOUNT }));
      await program.parseAsync(['--json', 'dlq', 'redrive', 'x'], { from: 'user' });
      expect(process.exitCode).toBe(130);
    } finally {
      process.stderr.write = write;
      process.exitCode = undefined;
    }
    expect(JSON.parse(out.join('\n'))).toMatchObject({ queue: 'tessera-dlq-x', stopped: 'interrupted', messages: [{ messageId: 'm1', redriven: true }] });
    // The note said when Ctrl-C was pressed (the message being replayed is finished first), then the JSON line, last
    expect(err[0]).toBe('interrupted: finishing the message being replayed, then stopping (Ctrl-C again to quit at once)\n');
    expect(err).toHaveLength(2);
    expect(JSON.parse(err.at(-1)!)).toEqual({ error: {
      message: 'interrupted (Ctrl-C): the redrive stopped after 1 message (the report on stdout); the messages not replayed stay in tessera-dlq-x',
      type: 'interrupted', code: 'redrive_stopped',
    } });
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

describe('redriveQueue: many messages, interruptions, failures half way (hops)', () => {
  const closure = (id: string) => ebMessage(id, `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`, fnArn);
  beforeEach(() => {
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: fnArn }] });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('receives with long polling: a short poll (WaitTimeSeconds 0) samples SQS\'s servers and may answer empty while messages wait, ending the run early', async () => {
    queueHolds(closure('m1'));
    await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    const receives = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input);
    expect(REDRIVE_RECEIVE_WAIT_SECONDS).toBeGreaterThan(0);
    expect(receives.every((r) => r.WaitTimeSeconds === REDRIVE_RECEIVE_WAIT_SECONDS && r.VisibilityTimeout === 300)).toBe(true);
  });

  it('a receive that fails after a first batch keeps the report of what was replayed and deleted (it used to throw it away)', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [closure('m1'), closure('m2')] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled' }));
    const seen: string[] = [];
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 100, onMessage: (m) => seen.push(m.messageId) });
    expect(report.messages.map((m) => [m.messageId, m.redriven])).toEqual([['m1', true], ['m2', true]]);
    expect(report.stopped).toEqual({ error: expect.stringMatching(/^sqs:ReceiveMessage on tessera-dlq-x.*Rate exceeded/) });
    expect(seen).toEqual(['m1', 'm2']);
    expect(redriveLines(report, false)[0]).toMatch(/^tessera-dlq-x: 2 of 2 redriven; stopped: sqs:ReceiveMessage on tessera-dlq-x.*Rate exceeded.*run again for them$/);
    // Nothing done yet: the failure is the command's, as before.
    sqsMock.on(ReceiveMessageCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled' }));
    await expect(redriveQueue(clients, queue, { dryRun: false, max: 100 })).rejects.toThrow(/sqs:ReceiveMessage on tessera-dlq-x/);
  });

  it('Ctrl-C (the signal) finishes the message being replayed, makes the received rest visible again at once, and reports the run as interrupted', async () => {
    queueHolds(closure('m1'), closure('m2'), closure('m3'));
    const interrupt = new AbortController();
    lambdaMock.on(InvokeCommand).callsFake(() => {
      interrupt.abort();
      return { StatusCode: 202 };
    });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 100, signal: interrupt.signal });
    expect(report.messages.map((m) => [m.messageId, m.redriven])).toEqual([['m1', true]]);
    expect(report.stopped).toBe('interrupted');
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['rh-m1']);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries)).toEqual([[
      { Id: '0', ReceiptHandle: 'rh-m2', VisibilityTimeout: 0 }, { Id: '1', ReceiptHandle: 'rh-m3', VisibilityTimeout: 0 },
    ]]);
    expect(redriveLines(report)).toContain('tessera-dlq-x: 1 of 1 redriven; interrupted: the messages received and not replayed are visible again, run again for them');
  });

  it('says when --max ended the run (more may wait), instead of a summary that reads like an empty queue', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [closure('m1'), closure('m2')] }).resolves({ Messages: [closure('m3')] });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 3 });
    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.MaxNumberOfMessages)).toEqual([3, 1]);
    expect(report.messages).toHaveLength(3);
    expect(report.stopped).toBe('max');
    expect(redriveLines(report)).toContain('tessera-dlq-x: 3 of 3 redriven; stopped at --max 3: more messages may wait (tessera dlq list shows them; run again, or raise --max)');
  });

  it('replays a message SQS delivers twice in one run once, and deletes the second copy', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [closure('m1')] })
      .resolvesOnce({ Messages: [{ ...closure('m1'), ReceiptHandle: 'rh-m1-again' }] }).resolves({});
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages).toHaveLength(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['rh-m1', 'rh-m1-again']);
  });

  it('an empty receive with messages in flight (failed replays hidden 300 s, or another redrive) says so, not just "no messages"', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({});
    const report = await redriveQueue(clients, { ...queue, inFlight: 2 }, { dryRun: false, max: 10 });
    expect(redriveLines(report)).toEqual(['tessera-dlq-x: no messages; 2 in flight, hidden by a redrive (another one running, or replays that failed: visible again within their 300 s visibility timeout): tessera dlq list shows them, run again once they are visible']);
    expect(redriveLines(await redriveQueue(clients, queue, { dryRun: false, max: 10 }))).toEqual(['tessera-dlq-x: no messages']);
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

describe('AWS service events (tenant forwarders) and purge', () => {
  const bus = `arn:aws:events:us-east-1:999988887777:event-bus/tessera-lifecycle`;
  const sagemaker = { ...scheduled, source: 'aws.sagemaker', 'detail-type': 'SageMaker Training Job State Change' };

  it('awsServiceEventSource: an aws.* event dead-lettered on its way to an event bus, not a schedule\'s event for a Lambda, nor a custom event', () => {
    expect(awsServiceEventSource(ebMessage('a', `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-acme-training-events`, bus, sagemaker))).toBe('aws.sagemaker');
    expect(awsServiceEventSource(ebMessage('b', `arn:aws:events:us-east-1:${ACCOUNT}:rule/DailyClosureQueue`, fnArn))).toBeUndefined();
    expect(awsServiceEventSource(ebMessage('c', `arn:aws:events:us-east-1:${ACCOUNT}:rule/R`, bus, { ...scheduled, source: 'tessera.lifecycle' }))).toBeUndefined();
    expect(awsServiceEventSource({ MessageId: 'd', Body: JSON.stringify(sagemaker) })).toBeUndefined();
    expect(awsServiceEventSource({ ...ebMessage('e', `arn:aws:events:us-east-1:${ACCOUNT}:rule/R`, bus), Body: 'not json' })).toBeUndefined();
  });

  it('list hints carry --prefix and --profile, and offer purge, not redrive, for queues of AWS service events', () => {
    const info = (name: string, visible: number, awsServiceEvents: number): DeadLetterQueueInfo => ({ name, url: `u/${name}`, arn: `a:${name}`, visible, inFlight: 0, awsServiceEvents });
    expect(sameQueuesOptions('tessera-dlq-', undefined)).toBe('');
    expect(sameQueuesOptions('tessera-dlq-', undefined, 'eu-west-1')).toBe(' --region eu-west-1');
    const options = sameQueuesOptions('tessera-acme-dlq-', 'acme');
    expect(options).toBe(' --prefix tessera-acme-dlq- --profile acme');
    const hints = listHints([info('tessera-acme-dlq-training-events', 2, 2), info('tessera-acme-dlq-restore-events', 0, 0)], options);
    expect(hints).toEqual(['tessera-acme-dlq-training-events hold(s) AWS service events (aws.*), which cannot be replayed: tessera dlq list <queue> --prefix tessera-acme-dlq- --profile acme --peek 5 shows them; fix what refused them (docs/resilience.md: Nothing lost in asynchronous paths), then tessera dlq purge <queue> --prefix tessera-acme-dlq- --profile acme --yes deletes them']);
    expect(hints.join('\n')).not.toContain('redrive');
    expect(listHints([info('tessera-dlq-x', 1, 0)], '')).toEqual(['tessera-dlq-x hold(s) messages: tessera dlq list <queue> --peek 5 shows them; tessera dlq redrive <queue> --dry-run says where they would go']);
  });

  it('purgeQueue counts visible, in-flight and delayed messages; a dry run and an empty queue call no PurgeQueue', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '1' } })
      .resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '0' } })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' } });
    sqsMock.on(PurgeQueueCommand).resolves({});
    const dry = await purgeQueue(clients.sqs, queue, true);
    expect(dry).toEqual({ queue: queue.name, dryRun: true, messages: 5, purged: false });
    expect(purgeLines(dry)).toBe('tessera-dlq-x: 5 message(s); purge would delete them all (nothing changed: --dry-run)');
    expect(sqsMock.commandCalls(PurgeQueueCommand)).toHaveLength(0);
    const run = await purgeQueue(clients.sqs, queue, false);
    expect(run).toEqual({ queue: queue.name, dryRun: false, messages: 4, purged: true });
    expect(sqsMock.commandCalls(PurgeQueueCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: queue.url }]);
    expect(purgeLines(run)).toMatch(/^tessera-dlq-x: purged about 4 message\(s\)/);
    const empty = await purgeQueue(clients.sqs, queue, false);
    expect(empty.purged).toBe(false);
    expect(purgeLines(empty)).toBe('tessera-dlq-x: no messages, nothing to purge');
    expect(sqsMock.commandCalls(PurgeQueueCommand)).toHaveLength(1);
  });

  it('a purge SQS refuses (PurgeQueueInProgress within 60 s) is a CliError (exit 1) naming the call and the queue', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqsMock.on(PurgeQueueCommand).rejects(Object.assign(new Error('Only one PurgeQueue operation on tessera-dlq-x is allowed every 60 seconds.'), { name: 'PurgeQueueInProgress' }));
    await expect(purgeQueue(clients.sqs, queue, false)).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/sqs:PurgeQueue on tessera-dlq-x.*PurgeQueueInProgress/) });
  });

  // Found by a platform engineer trying the README (s22): `tessera dlq list --region ap-south-1` with no queues said
  // "in this account and region" without naming either.
  it('with no queues, names the account of the credentials and the region it looked in', async () => {
    sqsMock.on(ListQueuesCommand).resolves({});
    const out: string[] = [];
    const south = { ...clients, sqs: new SQSClient({ region: 'ap-south-1' }) };
    const tessera = (...args: string[]) => {
      const program = new Command('tessera').option('--region <region>').option('--json').exitOverride();
      program.addCommand(dlqCommand({ out: (t) => void out.push(t), clients: async () => south, account: async (region) => (region === 'ap-south-1' ? ACCOUNT : 'wrong region') }));
      return program.parseAsync(['dlq', ...args], { from: 'user' });
    };
    await tessera('list', '--region', 'ap-south-1');
    expect(out).toEqual([`no queues named tessera-dlq-* in account ${ACCOUNT}, region ap-south-1 (check --region and --profile)`]);
    await expect(tessera('redrive', 'x', '--profile', 'ops')).rejects.toMatchObject({
      message: `no dead-letter queue "x" (names starting tessera-dlq-): there are none in account ${ACCOUNT}, region ap-south-1 (profile ops) (check --region and your credentials)`,
    });
  });

  // s25: `tessera dlq list --json` with no queue printed `{ "queues": [] }` alone: a pipeline reading it could not tell
  // a platform without dead letters from the wrong account, region or profile. Exit 0 stays (an empty list is an answer).
  it('--json with no queues says where it looked (searchedIn: account, region, profile, prefix); exit 0', async () => {
    sqsMock.on(ListQueuesCommand).resolves({});
    const out: string[] = [];
    const south = { ...clients, sqs: new SQSClient({ region: 'ap-south-1' }) };
    const tessera = async (account: DlqIo['account'], ...args: string[]) => {
      const program = new Command('tessera').option('--region <region>').option('--json').exitOverride();
      program.addCommand(dlqCommand({ out: (t) => void out.push(t), clients: async () => south, account }));
      await program.parseAsync(['--json', 'dlq', ...args], { from: 'user' });
      return JSON.parse(out.pop()!) as unknown;
    };
    expect(await tessera(async () => ACCOUNT, 'list', '--region', 'ap-south-1', '--profile', 'ops')).toEqual({
      queues: [], searchedIn: { account: ACCOUNT, region: 'ap-south-1', profile: 'ops', prefix: 'tessera-dlq-' },
    });
    const refused = Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken' });
    expect(await tessera(async () => { throw refused; }, 'list', '--prefix', 'tessera-acme-dlq-')).toEqual({
      queues: [], searchedIn: { accountError: 'ExpiredToken: The security token included in the request is expired', region: 'ap-south-1', prefix: 'tessera-acme-dlq-' },
    });
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('the help names the subcommands there are (list with --peek, redrive, purge)', () => {
    const dlq = dlqCommand();
    expect(dlq.description()).toBe('dead-letter queues of the platform\'s asynchronous paths: list (--peek shows messages), redrive, purge');
    expect(dlq.commands.map((c) => c.name())).toEqual(['list', 'redrive', 'purge']);
  });
});

// (hostile pass): a DLQ message's id, attributes and body are written by whoever sent the event or the message
// (a tenant's event detail, a function's ERROR_MESSAGE). `tessera dlq list --peek` and the redrive lines printed them raw:
// a `\r` or an escape sequence in one printed over the lines before it, e.g. a fake "0 of 1 redriven" or queue row.
describe('hostile message contents on a terminal', () => {
  const forged = '\r\u001b[2K\u001b[1Atessera-dlq-x: 0 messages\u202e';
  const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it('--peek prints control characters of the body, the attributes and the id escaped (\\r, \\u001b), the rest as it is', () => {
    const lines = messageLines({
      MessageId: 'id\r1', Body: `{"detail":"ok"}\n${forged}`,
      Attributes: { SentTimestamp: '1764979200000', ApproximateReceiveCount: '2' },
      MessageAttributes: { ERROR_MESSAGE: { DataType: 'String', StringValue: `Task timed out\n${forged}` }, ERROR_CODE: { DataType: 'String', StringValue: '200' } },
    });
    for (const line of lines) expect(line).not.toMatch(controls);
    expect(lines).toEqual([
      'message id\\r1  sent 2025-12-06T00:00:00.000Z  received 2x',
      `  ERROR_CODE                200`,
      `  ERROR_MESSAGE             Task timed out\\n\\r\\u001b[2K\\u001b[1Atessera-dlq-x: 0 messages\\u202e`,
      `  body {"detail":"ok"}\\n\\r\\u001b[2K\\u001b[1Atessera-dlq-x: 0 messages\\u202e`,
    ]);
  });

  it('a long body is cut at 2,000 characters (escaped after the cut), never inside a surrogate pair, and its length named', () => {
    const body = `${'a'.repeat(1999)}\u{1F600}${'\u001b'.repeat(10)}`;
    const [, line] = messageLines({ MessageId: 'm', Body: body });
    expect(line).toBe(`  body ${'a'.repeat(1999)}… (${body.length} characters)`);
    const [, plain] = messageLines({ MessageId: 'm', Body: `${'\u001b'.repeat(2000)}x` });
    expect(plain).toBe(`  body ${'\\u001b'.repeat(2000)}… (2001 characters)`);
  });

  it('a redrive line quoting a forged TARGET_ARN (the rule no longer has it) prints it escaped', async () => {
    const rule = `arn:aws:events:us-east-1:${ACCOUNT}:rule/tessera-drift-daily`;
    queueHolds(ebMessage('m1', rule, `${fnArn}${forged}`));
    eventsMock.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 't', Arn: fnArn }] });
    const report = await redriveQueue(clients, queue, { dryRun: false, max: 10 });
    expect(report.messages[0].error).toContain('no longer has the target');
    const line = redriveMessageLine(report.messages[0], false);
    expect(line).not.toMatch(controls);
    expect(line).toContain(`FAILED: tessera-dlq-x message m1: rule tessera-drift-daily no longer has the target ${fnArn}\\r\\u001b[2K`);
    for (const l of redriveLines({ ...report, stopped: { error: `sqs:ReceiveMessage on tessera-dlq-x failed: X: ${forged}` } })) expect(l).not.toMatch(controls);
  });
});

