import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_DLQ_ALARMS_RULE_NAME } from '../../constructs/monitoring/tenant-dlq-alarms.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { DLQ_SOURCE_TAG, EVENTBRIDGE_DLQ_ATTRIBUTES as A } from '../../lib/dead-letters.js';
import { PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * A tenant account's DLQ alarm reaching the platform's alarm topic, on moto's EventBridge and SQS,
 * with the rules as the templates synthesize them (the enterprise blueprint's
 * `tessera-<tenant>-training-events-alarm`, the Operations stack's `tessera-tenant-dlq-alarms` with
 * its input transformer):
 *
 * tenant account default bus --(tenant rule: resources = the alarm ARN)--> platform bus
 *   --(platform rule: Tessera-TenantDlq-* to ALARM, input transformer)--> alarm topic
 *
 * What is emulated, and why:
 * - CloudWatch: moto neither evaluates SQS metrics nor emits alarm state changes, so the test puts
 *   the `CloudWatch Alarm State Change` event on the tenant account's default bus itself, in the
 *   shape CloudWatch documents (AWS refuses PutEvents of an `aws.*` source; moto does not).
 * - The alarm topic: moto 5.2.5's rule targets do not include SNS (NotImplementedError), so an SQS
 *   queue stands in for the topic; the body is what the topic's subscribers get. The topic's and
 *   the key's policies are checked in test/infra/tenant-dlq-alarms.test.ts; moto evaluates neither.
 * - The two accounts are moto accounts (x-moto-account-id). moto's cross-account forward keeps
 *   source, detail type and detail but stamps the receiving account on the event and drops
 *   `resources`; AWS keeps the source account, so the notification names the tenant's account
 *   there. The platform rule matches on the detail only, so the chain is the same.
 */
const REGION = DEFAULT_CONFIG.homeRegion;
const PLATFORM = DEFAULT_CONFIG.platformAccountId;
const TENANT_ACCOUNT = '123456789012'; // moto's default account: the CLI below runs with it
const PLATFORM_BUS_ARN = `arn:aws:events:${REGION}:${PLATFORM}:event-bus/${PLATFORM_EVENT_BUS_NAME}`;
/** The CLI bundled once (test/support/cli-bundle.ts: the same program without tsx's start-up cost); the `dlq` commands' start through bin/tessera.mjs, the entry point `npx tessera` starts, is dlq-moto.test.ts's first run. */
const cli = await tesseraBundle();

let moto: MotoServer;
let tenantEvents: EventBridgeClient;
let platformSqs: SQSClient;
let tenantSqs: SQSClient;
let topicStandIn: string;
let tenantRule: { name: (t: string) => string; pattern: (alarmArn: string) => object; description: (t: string) => string };

/** A template value rendered with tenant `t`, Region and partition; `Fn::GetAtt` of a queue's name as that queue's literal name. */
function render(v: any, t: string, resources: Record<string, any>): string {
  if (typeof v === 'string') return v;
  if (v?.['Fn::Join']) return (v['Fn::Join'][1] as any[]).map((x) => render(x, t, resources)).join(v['Fn::Join'][0]);
  if (v?.Ref === 'TenantId') return t;
  if (v?.Ref === 'AWS::Region') return REGION;
  if (v?.Ref === 'AWS::Partition') return 'aws';
  if (v?.['Fn::GetAtt']?.[1] === 'QueueName') return render(resources[v['Fn::GetAtt'][0]].Properties.QueueName, t, resources);
  throw new Error(`cannot render ${JSON.stringify(v)}`);
}

const alarmArn = (t: string) => `arn:aws:cloudwatch:${REGION}:${TENANT_ACCOUNT}:alarm:Tessera-TenantDlq-${t}-training-events`;
/** What CloudWatch puts on the default bus when the alarm changes state (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html). */
const stateChange = (t: string, value: 'ALARM' | 'OK', description: string) => ({
  Source: 'aws.cloudwatch', DetailType: 'CloudWatch Alarm State Change', Resources: [alarmArn(t)],
  Detail: JSON.stringify({
    alarmName: `Tessera-TenantDlq-${t}-training-events`,
    state: { value, reason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/12/26 14:00:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).', timestamp: '2026-12-01T14:05:00.000+0000' },
    previousState: { value: value === 'ALARM' ? 'OK' : 'ALARM', reason: '-', timestamp: '2026-12-01T13:00:00.000+0000' },
    configuration: {
      description,
      metrics: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: `tessera-${t}-dlq-training-events` } }, period: 300, stat: 'Maximum' }, returnData: true }],
    },
  }),
});

/** A client of `account` on moto (moto picks the account from this header). */
function asAccount<C extends { middlewareStack: any }>(client: C, account: string): C {
  client.middlewareStack.add((next: any) => (args: any) => {
    args.request.headers['x-moto-account-id'] = account;
    return next(args);
  }, { step: 'build', name: 'motoAccount' });
  return client;
}

async function received(url: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await platformSqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return out;
    out.push(...r.Messages.map((m) => JSON.parse(m.Body!) as string));
  }
}

beforeAll(async () => {
  const app = defaultAppTemplates();
  const blueprint = app.blueprints.enterprise!.toJSON().Resources as Record<string, any>;
  const ops = app.operations.toJSON().Resources as Record<string, any>;
  const [alarmRuleId, alarmRule] = Object.entries(blueprint).find(([, r]) => r.Type === 'AWS::Events::Rule' && render(r.Properties.Name, 'T', blueprint).endsWith('-training-events-alarm'))!;
  const alarm = Object.values(blueprint).find((r) => r.Type === 'AWS::CloudWatch::Alarm')!;
  expect(alarmRule.Properties.EventPattern.resources).toEqual([{ 'Fn::GetAtt': [expect.stringContaining('DeadLetterAlarm'), 'Arn'] }]);
  expect(render(alarmRule.Properties.Targets[0].Arn, 'T', blueprint)).toBe(PLATFORM_BUS_ARN);
  tenantRule = {
    name: (t) => render(alarmRule.Properties.Name, t, blueprint),
    // The pattern as synthesized, with the alarm's ARN in place of its GetAtt.
    pattern: (arn) => JSON.parse(JSON.stringify(alarmRule.Properties.EventPattern).replace(JSON.stringify({ 'Fn::GetAtt': [alarmRule.Properties.EventPattern.resources[0]['Fn::GetAtt'][0], 'Arn'] }), JSON.stringify(arn))),
    description: (t) => render(alarm.Properties.AlarmDescription, t, blueprint),
  };
  expect(alarmRuleId).toContain('DeadLetterAlarm');
  const platformRule = Object.values(ops).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.Name === TENANT_DLQ_ALARMS_RULE_NAME)!;

  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const platformEvents = asAccount(new EventBridgeClient(config), PLATFORM);
  platformSqs = asAccount(new SQSClient(config), PLATFORM);
  tenantEvents = asAccount(new EventBridgeClient(config), TENANT_ACCOUNT);
  tenantSqs = asAccount(new SQSClient(config), TENANT_ACCOUNT);

  // GIVEN the platform account: its bus, and the platform rule with its pattern and input transformer (the topic: a stand-in queue)
  await platformEvents.send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  topicStandIn = (await platformSqs.send(new CreateQueueCommand({ QueueName: 'alarm-topic-stand-in' }))).QueueUrl!;
  const standInArn = (await platformSqs.send(new GetQueueAttributesCommand({ QueueUrl: topicStandIn, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await platformEvents.send(new PutRuleCommand({ Name: TENANT_DLQ_ALARMS_RULE_NAME, EventBusName: PLATFORM_EVENT_BUS_NAME, EventPattern: JSON.stringify(platformRule.Properties.EventPattern) }));
  const t = platformRule.Properties.Targets[0];
  await platformEvents.send(new PutTargetsCommand({
    Rule: TENANT_DLQ_ALARMS_RULE_NAME, EventBusName: PLATFORM_EVENT_BUS_NAME,
    Targets: [{ Id: 'Topic', Arn: standInArn, InputTransformer: { InputPathsMap: t.InputTransformer.InputPathsMap, InputTemplate: t.InputTransformer.InputTemplate }, RetryPolicy: t.RetryPolicy }],
  }));
  // and the tenant (workload) account: tenant acme's alarm rule, as its blueprint makes it, to the platform bus
  await tenantEvents.send(new PutRuleCommand({ Name: tenantRule.name('acme'), EventPattern: JSON.stringify(tenantRule.pattern(alarmArn('acme'))) }));
  await tenantEvents.send(new PutTargetsCommand({ Rule: tenantRule.name('acme'), Targets: [{ Id: 'Target0', Arn: PLATFORM_BUS_ARN }] }));
}, 180_000);

afterAll(async () => {
  await moto?.stop();
});

describe('a tenant account\'s DLQ alarm reaches the platform\'s alarm topic (moto)', () => {
  it('forwards acme\'s alarm going to ALARM, and the topic gets one text naming alarm, tenant, queue, region and the command', async () => {
    // WHEN CloudWatch reports acme's training-events DLQ alarm in ALARM
    const put = await tenantEvents.send(new PutEventsCommand({ Entries: [stateChange('acme', 'ALARM', tenantRule.description('acme'))] }));
    expect(put.FailedEntryCount).toBe(0);
    // THEN the alarm topic receives exactly one notification
    const texts = await received(topicStandIn);
    expect(texts).toHaveLength(1);
    const [first, second, third] = texts[0]!.split('\n');
    // (the account: moto stamps the receiving account on a forwarded event, AWS the tenant's; see the file's comment)
    expect(first).toMatch(new RegExp(`^ALARM Tessera-TenantDlq-acme-training-events in account \\d{12} \\(${REGION}\\) at \\S+\\.$`));
    expect(second).toBe(
      'Tessera tenant acme: dead-letter queue tessera-acme-dlq-training-events holds events EventBridge could not deliver to the platform bus. '
      + `Inspect with credentials of this account: tessera dlq list tessera-acme-dlq-training-events --prefix tessera-acme-dlq- --region ${REGION} --peek 5. `
      + 'tessera dlq redrive cannot replay them (AWS service events); fix the cause, then delete them: '
      + `tessera dlq purge tessera-acme-dlq-training-events --prefix tessera-acme-dlq- --region ${REGION} --yes (docs/resilience.md: Nothing lost in asynchronous paths).`);
    expect(third).toMatch(/^Reason: Threshold Crossed: 1 out of the last 1 datapoints/);
  }, 60_000);

  it('notifies nothing when the alarm returns to OK', async () => {
    await tenantEvents.send(new PutEventsCommand({ Entries: [stateChange('acme', 'OK', tenantRule.description('acme'))] }));
    expect(await received(topicStandIn)).toEqual([]);
  });

  it('does not forward another tenant\'s alarm with acme\'s rule (a workload account holds many tenants)', async () => {
    // GIVEN globex's alarm in the same account, and no rule of globex's blueprint
    await tenantEvents.send(new PutEventsCommand({ Entries: [stateChange('globex', 'ALARM', tenantRule.description('globex'))] }));
    expect(await received(topicStandIn)).toEqual([]);
    // WHEN globex's blueprint adds its own rule, its alarm is forwarded once, by that rule
    await tenantEvents.send(new PutRuleCommand({ Name: tenantRule.name('globex'), EventPattern: JSON.stringify(tenantRule.pattern(alarmArn('globex'))) }));
    await tenantEvents.send(new PutTargetsCommand({ Rule: tenantRule.name('globex'), Targets: [{ Id: 'Target0', Arn: PLATFORM_BUS_ARN }] }));
    await tenantEvents.send(new PutEventsCommand({ Entries: [stateChange('globex', 'ALARM', tenantRule.description('globex'))] }));
    const texts = await received(topicStandIn);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('Tessera tenant globex: dead-letter queue tessera-globex-dlq-training-events');
    expect(texts[0]).not.toContain('acme');
  });

  it('leaves the platform\'s own alarms (not Tessera-TenantDlq-*) to their own actions', async () => {
    const platformEvents = asAccount(new EventBridgeClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }), PLATFORM);
    const own = { ...stateChange('acme', 'ALARM', 'x'), EventBusName: PLATFORM_EVENT_BUS_NAME };
    own.Detail = own.Detail.replace('Tessera-TenantDlq-acme-training-events', 'Tessera-Workflow-onboard-FailedExecutions');
    await platformEvents.send(new PutEventsCommand({ Entries: [own] }));
    expect(await received(topicStandIn)).toEqual([]);
  });

  it('the command in the notification lists the tenant\'s queue in the tenant account', async () => {
    // GIVEN acme's queue as the blueprint makes it (name, source tag), holding one undelivered training event
    const url = (await tenantSqs.send(new CreateQueueCommand({
      QueueName: 'tessera-acme-dlq-training-events', Attributes: { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '1209600' },
      tags: { [DLQ_SOURCE_TAG]: 'rules tessera-TENANT-training-events and tessera-TENANT-training-events-alarm to the platform event bus' },
    }))).QueueUrl!;
    // (as EventBridge dead-letters it: the event as body, the rule and its platform-bus target as attributes)
    await tenantSqs.send(new SendMessageCommand({
      QueueUrl: url, MessageBody: JSON.stringify({ source: 'aws.sagemaker', 'detail-type': 'SageMaker Training Job State Change', detail: { TrainingJobName: 'acme-ft-1' } }),
      MessageAttributes: {
        [A.ruleArn]: { DataType: 'String', StringValue: `arn:aws:events:${REGION}:${TENANT_ACCOUNT}:rule/tessera-acme-training-events` },
        [A.targetArn]: { DataType: 'String', StringValue: PLATFORM_BUS_ARN },
      },
    }));
    await tenantSqs.send(new CreateQueueCommand({ QueueName: 'tessera-globex-dlq-training-events' }));
    // WHEN the operator runs it with the tenant account's credentials (moto's default account)
    const command = tenantRule.description('acme').match(/tessera dlq list (.*?) --peek 5/)![0].replace(/^tessera /, '').split(' ');
    const run = await tessera(command);
    // THEN it shows acme's queue only, its depth and source, and the message
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tessera-acme-dlq-training-events\s+1\s+0\s+\d+s\s+rules tessera-TENANT-training-events and/m);
    expect(run.stdout).toContain('"TrainingJobName":"acme-ft-1"');
    expect(run.stdout).not.toContain('globex');
  }, 90_000);

  it('the operator is told these cannot be replayed, and purges them with the prefix the list carried', async () => {
    // GIVEN acme's queue holding the undelivered training event (the test above)
    const prefix = ['--prefix', 'tessera-acme-dlq-'];
    // WHEN the operator lists without --peek: the hint keeps --prefix, offers the purge and no redrive
    const list = await tessera(['dlq', 'list', ...prefix]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('tessera-acme-dlq-training-events hold(s) AWS service events (aws.*), which cannot be replayed: tessera dlq list <queue> --prefix tessera-acme-dlq- --peek 5 shows them;');
    expect(list.stdout).toContain('then tessera dlq purge <queue> --prefix tessera-acme-dlq- --yes deletes them');
    expect(list.stdout).not.toContain('redrive <queue>');
    // WHEN it tries a redrive: refused (exit 1), saying these cannot be replayed, and the message stays
    const redrive = await tessera(['dlq', 'redrive', 'training-events', ...prefix]);
    expect(redrive.code).toBe(1);
    expect(redrive.stdout).toContain('the event\'s source is aws.sagemaker, an AWS service\'s event: it cannot be replayed');
    expect(redrive.stdout).toContain('then delete it with tessera dlq purge');
    // WHEN it purges without --yes: refused (exit 2), naming the count and --yes; --dry-run only counts
    const refused = await tessera(['dlq', 'purge', 'training-events', ...prefix]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('tessera-acme-dlq-training-events holds 1 message(s): purge deletes them all and cannot be undone; run again with --yes (tessera dlq purge tessera-acme-dlq-training-events --prefix tessera-acme-dlq- --yes)');
    const dry = await tessera(['dlq', 'purge', 'training-events', ...prefix, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('tessera-acme-dlq-training-events: 1 message(s); purge would delete them all (nothing changed: --dry-run)');
    expect(await messagesIn('tessera-acme-dlq-training-events')).toBe(1);
    // WHEN it purges with --yes: the queue is empty, the other tenant's queue untouched
    const purge = await tessera(['dlq', 'purge', 'tessera-acme-dlq-training-events', ...prefix, '--yes']);
    expect(purge.stderr).toBe('');
    expect(purge.code).toBe(0);
    expect(purge.stdout).toContain('tessera-acme-dlq-training-events: purged about 1 message(s)');
    expect(await messagesIn('tessera-acme-dlq-training-events')).toBe(0);
  }, 120_000);
});

/** `tessera <args>` with the tenant account's credentials (moto's default account), through `entry` (default: the bundled CLI). */
function tessera(args: string[], entry = cli): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION };
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    execFile(process.execPath, [entry, ...args], { timeout: 60_000, env }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** Visible + in flight + delayed messages of a tenant-account queue. */
async function messagesIn(name: string): Promise<number> {
  const url = (await tenantSqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  const a = (await tenantSqs.send(new GetQueueAttributesCommand({
    QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
  }))).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed);
}
