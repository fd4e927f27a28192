import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_SOURCE_TAG, EVENTBRIDGE_DLQ_ATTRIBUTES as A } from '../../lib/dead-letters.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * `tessera dlq list|redrive` as an operator runs them, as real processes, against moto's SQS
 * and EventBridge. What is emulated: moto runs no retries and dead-letters nothing, so the test puts
 * into the DLQ the message EventBridge itself would after its last failed attempt (body = the
 * event, String attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
 * EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 * The rule is the platform's OnboardingRequested (bus tessera-lifecycle, InputPath $.detail), with
 * an SQS queue standing in for its state machine target (moto runs neither Lambda nor Step
 * Functions targets); the redrive reads the rule's target from moto (ListTargetsByRule) and sends
 * the target's input (the detail, as the rule would) to it. moto would not apply InputPath itself
 * (it sends whole events to SQS targets), so no live delivery through the bus is asserted.
 */
const bin = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');
/** The CLI bundled once (test/support/cli-bundle.ts: the same program without tsx's start-up cost); the first run goes through bin/tessera.mjs, the entry point `npx tessera` starts. */
const cli = await tesseraBundle();
const REGION = 'us-east-1';
const DLQ = 'tessera-dlq-onboarding-requested';
let moto: MotoServer;
let env: NodeJS.ProcessEnv;
let sqs: SQSClient;
let dlqUrl: string;
let targetUrl: string;
let ruleArn: string;
let targetArn: string;

interface Run { code: number; stdout: string; stderr: string }
function tessera(args: string[], entry = cli): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [entry, ...args], { timeout: 60_000, killSignal: 'SIGKILL', env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    child.stdin?.end();
  });
}
const depth = async (url: string) => Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!.ApproximateNumberOfMessages);
const onboardingEvent = (tenantId: string) => ({
  version: '0', id: `evt-${tenantId}`, 'detail-type': 'Tenant Onboarding Requested', source: 'tessera.lifecycle', account: '123456789012',
  time: '2026-12-01T10:00:00Z', region: REGION, resources: [], detail: { tenantId, tier: 'starter', name: 'Acme' },
});
/** What EventBridge puts in a target's DLQ after the last failed attempt. */
const deadLetter = (queueUrl: string, event: object, attributes: Record<string, string>) => sqs.send(new SendMessageCommand({
  QueueUrl: queueUrl, MessageBody: JSON.stringify(event),
  MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
}));

beforeAll(async () => {
  moto = await startMoto();
  env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  const config = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  // GIVEN the platform's DLQ as the construct makes it (platform key, 14 days, source tag), a stand-in target queue
  const key = (await new KMSClient(config).send(new CreateKeyCommand({ Description: 'platform key' }))).KeyMetadata!.KeyId!;
  dlqUrl = (await sqs.send(new CreateQueueCommand({
    QueueName: DLQ, Attributes: { KmsMasterKeyId: key, MessageRetentionPeriod: '1209600' }, tags: { [DLQ_SOURCE_TAG]: 'rule OnboardingRequested to onboard state machine' },
  }))).QueueUrl!;
  targetUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-test-onboard-target' }))).QueueUrl!;
  targetArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: targetUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  // and the rule: bus tessera-lifecycle, the detail as the target's input, a DLQ and a retry policy
  await events.send(new CreateEventBusCommand({ Name: 'tessera-lifecycle' }));
  ruleArn = (await events.send(new PutRuleCommand({ Name: 'OnboardingRequested', EventBusName: 'tessera-lifecycle', EventPattern: JSON.stringify({ source: ['tessera.lifecycle'] }) }))).RuleArn!;
  await events.send(new PutTargetsCommand({
    Rule: 'OnboardingRequested', EventBusName: 'tessera-lifecycle',
    Targets: [{ Id: 'Target0', Arn: targetArn, InputPath: '$.detail', DeadLetterConfig: { Arn: dlqArn }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 } }],
  }));
  // and one more platform DLQ, empty
  await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-dlq-process-closure-queue', tags: { [DLQ_SOURCE_TAG]: 'schedule DailyClosureQueue to process-closure-queue Lambda' } }));
  await sqs.send(new CreateQueueCommand({ QueueName: 'not-a-tessera-dlq' }));
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('tessera dlq against moto (SQS, EventBridge)', () => {
  it('a failing target\'s event lands in its DLQ, list shows the depth, redrive replays it to the target and empties the DLQ', async () => {
    // GIVEN the onboarding of t-acme failed every delivery attempt: EventBridge dead-lettered the event
    await deadLetter(dlqUrl, onboardingEvent('t-acme'), {
      [A.ruleArn]: ruleArn, [A.targetArn]: targetArn, [A.errorCode]: 'SDK_CLIENT_ERROR', [A.errorMessage]: 'Failed to send message to target',
      [A.exhaustedRetryConditions]: 'MaximumRetryAttempts', [A.retryAttempts]: '8',
    });

    // WHEN the operator lists the platform's DLQs
    const list = await tessera(['dlq', 'list'], bin);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    // THEN both tessera-dlq-* queues, not the other, with depth and source; the DLQ holds the event
    const rows = list.stdout.split('\n');
    expect(rows[0]).toMatch(/^QUEUE\s+MESSAGES\s+IN FLIGHT\s+OLDEST\s+SOURCE$/);
    expect(rows.find((r) => r.startsWith(DLQ))).toMatch(/^tessera-dlq-onboarding-requested\s+1\s+0\s+\d+s\s+rule OnboardingRequested to onboard state machine$/);
    expect(rows.find((r) => r.startsWith('tessera-dlq-process-closure-queue'))).toMatch(/\s0\s+0\s+-\s+schedule DailyClosureQueue/);
    expect(list.stdout).not.toContain('not-a-tessera-dlq');

    // WHEN it peeks: the message and its attributes are shown and stay in the queue
    const peek = await tessera(['dlq', 'list', 'onboarding-requested', '--peek', '5']);
    expect(peek.code).toBe(0);
    expect(peek.stdout).toContain(`${A.ruleArn}                  ${ruleArn}`);
    expect(peek.stdout).toContain('"tenantId":"t-acme"');
    expect(await depth(dlqUrl)).toBe(1);

    // WHEN it asks for a dry run: the target is named and nothing moves
    const dry = await tessera(['dlq', 'redrive', 'onboarding-requested', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`send to queue ${targetArn}  would redrive`);
    expect(dry.stdout).toContain('1 message(s) would be redriven, 0 could not be (nothing changed: --dry-run)');
    expect(await depth(dlqUrl)).toBe(1);
    expect(await depth(targetUrl)).toBe(0);

    // WHEN it redrives
    const redrive = await tessera(['dlq', 'redrive', DLQ]);
    expect(redrive.stderr).toBe('');
    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toContain(`${DLQ}: 1 of 1 redriven`);
    // THEN the target receives the input the rule would have sent (InputPath $.detail), and the DLQ is empty
    const received = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: targetUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? [];
    expect(received.map((m) => JSON.parse(m.Body!))).toEqual([{ tenantId: 't-acme', tier: 'starter', name: 'Acme' }]);
    expect(await depth(dlqUrl)).toBe(0);
    const after = await tessera(['dlq', 'list', '--json']);
    expect(JSON.parse(after.stdout).queues.find((q: { name: string }) => q.name === DLQ)).toMatchObject({ visible: 0, inFlight: 0 });
  }, 120_000);

  it('keeps a message it cannot replay, exits 1 and names the queue, the message and why', async () => {
    // GIVEN a message no rule dead-lettered and no function owns (moto's ListFunctions: none names this queue)
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify({ orphan: true }) }));
    // WHEN the operator redrives
    const run = await tessera(['dlq', 'redrive', 'onboarding-requested']);
    // THEN it fails for that message, naming the queue, and the message stays (hidden for the visibility timeout)
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAILED: ${DLQ} message ${sent.MessageId}: has no RULE_ARN attribute (not dead-lettered by EventBridge) and no Lambda function names`);
    expect(run.stdout).toContain(`${DLQ}: 0 of 1 redriven; 1 failed and stay in the queue`);
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
    expect(Number(attrs.ApproximateNumberOfMessagesNotVisible)).toBe(1);
  }, 120_000);

  it('refuses a queue that is not a platform DLQ, naming it and the ones there are (exit 2)', async () => {
    const run = await tessera(['dlq', 'redrive', 'not-a-tessera-dlq']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no dead-letter queue "not-a-tessera-dlq" (names starting tessera-dlq-): there are tessera-dlq-onboarding-requested, tessera-dlq-process-closure-queue');
  }, 60_000);

  it('many messages: --max stops and says more may wait; Ctrl-C half way prints what was replayed, leaves the rest visible at once; every event reaches the target exactly once (hops)', async () => {
    // GIVEN a second DLQ and target of the same rule, and 45 dead-lettered events (more than one receive batch)
    const config = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    const manyUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-dlq-many', tags: { [DLQ_SOURCE_TAG]: 'rule OnboardingRequested (second target)' } }))).QueueUrl!;
    const manyArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: manyUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const target2Url = (await sqs.send(new CreateQueueCommand({ QueueName: 'tessera-test-many-target' }))).QueueUrl!;
    const target2Arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: target2Url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await new EventBridgeClient(config).send(new PutTargetsCommand({ Rule: 'OnboardingRequested', EventBusName: 'tessera-lifecycle', Targets: [{ Id: 'Target1', Arn: target2Arn, InputPath: '$.detail', DeadLetterConfig: { Arn: manyArn } }] }));
    const attributes = { [A.ruleArn]: ruleArn, [A.targetArn]: target2Arn, [A.errorCode]: 'SDK_CLIENT_ERROR', [A.errorMessage]: 'Failed to send message to target' };
    for (let i = 0; i < 45; i += 10) {
      await sqs.send(new SendMessageBatchCommand({
        QueueUrl: manyUrl,
        Entries: Array.from({ length: Math.min(10, 45 - i) }, (_, j) => ({
          Id: `e${i + j}`, MessageBody: JSON.stringify(onboardingEvent(`t-${i + j}`)),
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        })),
      }));
    }
    const counts = async () => {
      const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: manyUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
      return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
    };

    // WHEN the operator redrives at most 15: 15 lines and a summary that says more may wait
    const capped = await tessera(['dlq', 'redrive', 'many', '--max', '15']);
    expect(capped.code).toBe(0);
    expect(capped.stdout.split('\n').filter((l) => l.endsWith('redriven, deleted'))).toHaveLength(15);
    expect(capped.stdout).toContain('tessera-dlq-many: 15 of 15 redriven; stopped at --max 15: more messages may wait');
    expect(await counts()).toEqual({ visible: 30, inFlight: 0 });

    // WHEN it redrives the rest and presses Ctrl-C once the first message is done
    const interrupted = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'dlq', 'redrive', 'many'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('redriven, deleted') && !child.killed) child.kill('SIGINT');
      });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    // THEN each message replayed was printed as it went, the summary says interrupted (exit 130), and
    // the messages received but not replayed are visible again at once (not hidden for 300 s)
    const done = interrupted.stdout.split('\n').filter((l) => l.endsWith('redriven, deleted')).length;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain('interrupted: finishing the message being replayed');
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(30);
    expect(interrupted.stdout).toContain(`tessera-dlq-many: ${done} of ${done} redriven; interrupted: the messages received and not replayed are visible again, run again for them`);
    expect(await counts()).toEqual({ visible: 30 - done, inFlight: 0 });

    // WHEN it runs again: the rest goes, and the target got every event exactly once
    const rest = await tessera(['dlq', 'redrive', 'many']);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain(`tessera-dlq-many: ${30 - done} of ${30 - done} redriven`);
    const tenants: string[] = [];
    for (;;) {
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: target2Url, MaxNumberOfMessages: 10, VisibilityTimeout: 600, WaitTimeSeconds: 1 }))).Messages ?? [];
      if (!got.length) break;
      tenants.push(...got.map((m) => (JSON.parse(m.Body!) as { tenantId: string }).tenantId));
    }
    expect(tenants.sort()).toEqual(Array.from({ length: 45 }, (_, i) => `t-${i}`).sort());
    expect(await counts()).toEqual({ visible: 0, inFlight: 0 });
  }, 120_000);
});
