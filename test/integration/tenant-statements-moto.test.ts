import { mockCostExplorer } from '../support/cost-explorer-strict.js';
import { GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { MODEL_USAGE_INDEX } from '../../lambdas/inference/stores/model-usage.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { STATEMENT_JOBS_TABLE_ENV, STATEMENT_USAGE_TABLE_ENV, STATEMENTS_BUCKET_ENV } from '../../lambdas/statements/environment.js';
import { STATEMENTS_EVENT_SOURCE } from '../../lib/statements/usage-event.js';
import { configWith } from '../support/synth.js';
import { JOBS } from '../unit/statements/fixture.js';
import { startAdminApiFront, type AdminApiFront } from './support/admin-api-front.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';
import { runTessera, runTesseraInProcess } from './support/tessera-cli.js';

// Issue 16, item 3: a tenant with known gateway usage (written through the gateway's store), three
// fine-tuning jobs and a Cost Explorer answer (aws-sdk-client-mock: moto has no Cost Explorer)
// gives the exact statement, on the admin API (tessera tenants usage --month --json / --csv) and
// from the monthly job (both objects in the statements bucket and one Tenant Usage Reported).
// moto holds what the platform stack would: the registry, the gateway's usage table with its
// ledger index, the jobs table, the statements bucket and the platform bus; the admin API handler
// runs behind the shared loopback front (support/admin-api-front.ts).
let moto: MotoServer;
let front: AdminApiFront;
let spawned = false;
const tessera = (...args: string[]) => (spawned ? runTesseraInProcess : ((spawned = true), runTessera))(front.url, ...args);
const ce = mockCostExplorer();
let queueUrl: string;
const KEY = 'key_0123456789abcdef';
const USER = '3f1c9a6e-5a43-4d2e-9a7b-1c2d3e4f5a6b';

/**
 * The statement, added up by hand:
 * - gpt-4o-mini: 3 Oct 1000 + 500 tokens $0.0006 (reported; estimate 1520) and 17 Oct 300 + 100 tokens $0.00012 (estimated):
 *   2 requests, 1300 + 600 = 1900 tokens, $0.00072; reported 1 request, 1500 tokens, estimate 1520 (+1.33%: no flag)
 * - llama-3.1-8b-instruct: 3 Oct 800 + 200 tokens $0.002 (reported 1000, estimate 1150: +15%, flagged)
 * - by day: 3 Oct 2 requests 1800 + 700 = 2500 tokens $0.0026; 17 Oct 1 request 400 tokens $0.00012
 * - gateway: 3 requests, 2100 + 800 = 2900 tokens, $0.00072 + $0.002 = $0.00272
 * - by key: the first request (1500 tokens, $0.0006); by user: the other two (1000 + 400 = 1400 tokens, $0.002 + $0.00012 = $0.00212)
 * - fine-tuning: 2.5 h × $1.515 = $3.7875 (ml.g5.2xlarge, 1 GPU) + 1 h of a 2 h job across 30 Sep/1 Oct × $7.09 (ml.g5.12xlarge, 4 GPUs)
 *   = $10.8775, 3.5 instance-hours, 2.5 + 4 = 6.5 GPU-hours; the queued job has none
 * - infrastructure: Cost Explorer pages $100.0000001 + $23.456789 = $123.456789 (micro-dollars)
 * - total: $0.00272 + $123.456789 = $123.459509: the fine-tuning estimate is not added (SageMaker bills the tagged
 *   training jobs to the tenant's tag, so Cost Explorer's $123.456789 holds them; adding it counted them twice: $134.337009)
 */
const GOLDEN = {
  tenantId: 'acme', tenantName: 'acme', tier: 'professional', isolation: 'vpc', accountId: '111111111111', month: '2026-10',
  // The tier(s) of that month (no change in it: one, the whole month).
  tiers: [{ tier: 'professional', from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' }],
  period: { start: '2026-10-01', end: '2026-11-01' }, currency: 'USD',
  rounding: 'USD, each line rounded half away from zero to 6 decimals (micro-dollars) from its exact sum (the gateway counts nano-dollars); totals are sums of the rounded lines (the gateway\'s of its lines by model; its lines by day may add up to under half a micro-dollar a line more or less)',
  gateway: {
    requests: 3, promptTokens: 2100, completionTokens: 800, totalTokens: 2900, costUsd: 0.00272,
    byModel: [
      { model: 'gpt-4o-mini', requests: 2, promptTokens: 1300, completionTokens: 600, totalTokens: 1900, costUsd: 0.00072, reportedRequests: 1, reportedTokens: 1500, estimatedTokens: 1520 },
      { model: 'llama-3.1-8b-instruct', requests: 1, promptTokens: 800, completionTokens: 200, totalTokens: 1000, costUsd: 0.002, reportedRequests: 1, reportedTokens: 1000, estimatedTokens: 1150 },
    ],
    byDay: [
      { day: '2026-10-03', requests: 2, promptTokens: 1800, completionTokens: 700, totalTokens: 2500, costUsd: 0.0026 },
      { day: '2026-10-17', requests: 1, promptTokens: 300, completionTokens: 100, totalTokens: 400, costUsd: 0.00012 },
    ],
    byUser: [{ id: USER, tokens: 1400, costUsd: 0.00212, requests: 2 }],
    byKey: [{ id: KEY, tokens: 1500, costUsd: 0.0006, requests: 1 }],
    subjectsIncomplete: false,
  },
  fineTuning: {
    jobs: [
      { jobId: 'ftjob-aaaaaaaaaaaaaaaaaaaaaaaa', model: 'llama-3.1-8b-instruct', instanceType: 'ml.g5.2xlarge', gpusPerInstance: 1, spot: false, status: 'succeeded', from: '2026-10-10T00:00:00.000Z', to: '2026-10-10T02:30:00.000Z', instanceHours: 2.5, gpuHours: 2.5, usdPerHour: 1.515, costUsd: 3.7875 },
      { jobId: 'ftjob-bbbbbbbbbbbbbbbbbbbbbbbb', model: 'llama-3.1-8b-instruct', instanceType: 'ml.g5.12xlarge', gpusPerInstance: 4, spot: false, status: 'failed', from: '2026-10-01T00:00:00.000Z', to: '2026-10-01T01:00:00.000Z', instanceHours: 1, gpuHours: 4, usdPerHour: 7.09, costUsd: 7.09 },
    ],
    instanceHours: 3.5, gpuHours: 6.5, costUsd: 10.8775,
    prices: { region: 'us-east-1', date: '2026-11-01', source: 'https://aws.amazon.com/sagemaker/pricing/ (Training, On-Demand, US East (N. Virginia))' },
    basis: 'wall-clock of training: from its start (SageMaker\'s TrainingStartTime, or when the job was seen running; its creation for older records) to its end (TrainingEndTime, or when it was seen ending; now while running), at most the job\'s max runtime, clipped to the month',
    includedIn: 'infrastructure',
  },
  infrastructure: { costUsd: 123.456789, metric: 'UnblendedCost', source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' }, estimated: false },
  totalUsd: 123.459509,
  reconciliation: {
    thresholdPercent: 10,
    flags: [{ model: 'llama-3.1-8b-instruct', reportedRequests: 1, estimatedTokens: 1150, reportedTokens: 1000, deviationPercent: 15, thresholdPercent: 10, message: 'llama-3.1-8b-instruct: estimated 1150 tokens, providers reported 1000 over 1 requests (+15%, more than 10%)' }],
  },
  notes: [],
};

const GOLDEN_CSV = [
  'tenant_id,month,section,key,requests,prompt_tokens,completion_tokens,total_tokens,instance_hours,gpu_hours,cost_usd,note',
  'acme,2026-10,gateway.model,gpt-4o-mini,2,1300,600,1900,,,0.000720,',
  'acme,2026-10,gateway.model,llama-3.1-8b-instruct,1,800,200,1000,,,0.002000,',
  'acme,2026-10,gateway.day,2026-10-03,2,1800,700,2500,,,0.002600,',
  'acme,2026-10,gateway.day,2026-10-17,1,300,100,400,,,0.000120,',
  `acme,2026-10,gateway.user,${USER},2,,,1400,,,0.002120,`,
  `acme,2026-10,gateway.key,${KEY},1,,,1500,,,0.000600,`,
  'acme,2026-10,gateway.total,,3,2100,800,2900,,,0.002720,',
  'acme,2026-10,fine_tuning.job,ftjob-aaaaaaaaaaaaaaaaaaaaaaaa,,,,,2.5000,2.5000,3.787500,ml.g5.2xlarge',
  'acme,2026-10,fine_tuning.job,ftjob-bbbbbbbbbbbbbbbbbbbbbbbb,,,,,1.0000,4.0000,7.090000,ml.g5.12xlarge',
  'acme,2026-10,fine_tuning.total,,,,,,3.5000,6.5000,10.877500,"estimate; included in infrastructure.total, not added to total"',
  'acme,2026-10,infrastructure.total,tessera:tenant-id=acme,,,,,,,123.456789,',
  'acme,2026-10,total,,,,,,,,123.459509,',
  'acme,2026-10,reconciliation.flag,llama-3.1-8b-instruct,1,,,,,,,"llama-3.1-8b-instruct: estimated 1150 tokens, providers reported 1000 over 1 requests (+15%, more than 10%)"',
].join('\r\n') + '\r\n';

const withoutTime = (s: Record<string, unknown>) => ({ ...s, generatedAt: undefined });

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  Object.assign(process.env, {
    [ENV.registryTable]: 'tessera-tenants', [ENV.eventBus]: 'tessera-lifecycle', [ENV.config]: JSON.stringify(configWith()),
    [STATEMENT_USAGE_TABLE_ENV]: 'tessera-usage', [STATEMENT_JOBS_TABLE_ENV]: 'tessera-fine-tuning-jobs', [STATEMENTS_BUCKET_ENV]: 'tessera-statements',
    POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_TRACE_ENABLED: 'false',
  });
  const ddb = new DynamoDBClient({});
  await ddb.send(new CreateTableCommand({ TableName: 'tessera-tenants', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }] }));
  const { name, partitionKey, sortKey } = MODEL_USAGE_INDEX;
  await ddb.send(new CreateTableCommand({
    TableName: 'tessera-usage', BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: partitionKey, AttributeType: 'S' }, { AttributeName: sortKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [{ IndexName: name, KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
  }));
  await ddb.send(new CreateTableCommand({
    TableName: 'tessera-fine-tuning-jobs', BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'jobId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'jobId', KeyType: 'RANGE' }],
  }));
  const s3 = new S3Client({ forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'tessera-statements' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'tessera-statements', VersioningConfiguration: { Status: 'Enabled' } }));
  // A billing system's subscription: every Tenant Usage Reported into a queue.
  const sqs = new SQSClient({});
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'billing' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const eb = new EventBridgeClient({});
  await eb.send(new CreateEventBusCommand({ Name: 'tessera-lifecycle' }));
  await eb.send(new PutRuleCommand({ Name: 'billing', EventBusName: process.env[ENV.eventBus], EventPattern: JSON.stringify({ source: [STATEMENTS_EVENT_SOURCE], 'detail-type': ['Tenant Usage Reported'] }) }));
  await eb.send(new PutTargetsCommand({ Rule: 'billing', EventBusName: process.env[ENV.eventBus], Targets: [{ Id: 'queue', Arn: queueArn }] }));

  await DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } })
    .send(new PutCommand({ TableName: process.env[ENV.registryTable], Item: localTenant('acme', 'professional', { accountId: '111111111111', createdAt: '2026-09-01T00:00:00.000Z' }) }));
  // The gateway's own writes: reserve, then settle with what the model used.
  const store = new DynamoDbStore(process.env[ENV.registryTable]!, 'tessera-usage', unscopedDocumentClient());
  const call = async (at: string, subject: { kind: 'user' | 'key'; id: string }, model: string, prompt: number, completion: number, costUsd: number, reported: boolean, estimatedTokens: number) => {
    const r = await store.reserve('acme', 4000, 0.01, {}, new Date(at), subject);
    await store.settle(r, prompt + completion, costUsd, { model, promptTokens: prompt, completionTokens: completion, reported, estimatedTokens });
  };
  await call('2026-10-03T10:00:00Z', { kind: 'key', id: KEY }, 'gpt-4o-mini', 1000, 500, 0.0006, true, 1520);
  await call('2026-10-03T11:00:00Z', { kind: 'user', id: USER }, 'llama-3.1-8b-instruct', 800, 200, 0.002, true, 1150);
  await call('2026-10-17T09:00:00Z', { kind: 'user', id: USER }, 'gpt-4o-mini', 300, 100, 0.00012, false, 400);
  const jobs = new DynamoDbJobStore('tessera-fine-tuning-jobs', unscopedDocumentClient({ marshallOptions: { removeUndefinedValues: true } }));
  for (const job of JOBS) await jobs.create(job, 10);
  // Cost Explorer, two pages of the tenant's tag group.
  ce.on(GetCostAndUsageCommand)
    .resolves({ ResultsByTime: [{ Estimated: false, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '100.0000001', Unit: 'USD' } } }] }], NextPageToken: 'p2' })
    .on(GetCostAndUsageCommand, { NextPageToken: 'p2' })
    .resolves({ ResultsByTime: [{ Estimated: false, Groups: [{ Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '23.456789', Unit: 'USD' } } }] }] });
  const { handler } = await import('../../lambdas/admin/admin-api.js');
  front = await startAdminApiFront(handler, 'arn:aws:sts::123456789012:assumed-role/TesseraPlatformAdmin/ops');
}, 90_000);
afterAll(async () => {
  ce.restore();
  await front?.close();
  await moto?.stop();
});

describe('tessera tenants usage --month', () => {
  it('prints the exact statement as JSON', async () => {
    const run = await tessera('--json', 'tenants', 'usage', 'acme', '--month', '2026-10');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const statement = JSON.parse(run.stdout);
    expect(Date.parse(statement.generatedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(withoutTime(statement)).toEqual({ ...GOLDEN, generatedAt: undefined });
    // The one Cost Explorer question: October by the tenant's tag, then its second page.
    expect(ce.commandCalls(GetCostAndUsageCommand).slice(-2).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ TimePeriod: { Start: '2026-10-01', End: '2026-11-01' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'], GroupBy: [{ Type: 'TAG', Key: 'tessera:tenant-id' }] }),
      expect.objectContaining({ NextPageToken: 'p2' }),
    ]);
  });

  it('prints the exact statement as CSV, and as lines', async () => {
    const csv = await tessera('tenants', 'usage', 'acme', '--month', '2026-10', '--csv');
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(`${GOLDEN_CSV.replace(/\r\n$/, '')}\n`);
    const text = await tessera('tenants', 'usage', 'acme', '--month', '2026-10');
    // docs/operations.md "Ask for a month": TESSERA_PRINT_STATEMENT=1 shows the statement on this machine, without AWS.
    if (process.env.TESSERA_PRINT_STATEMENT) console.log(`$ tessera tenants usage acme --month 2026-10\n${text.stdout}`);
    expect(text.stdout).toMatch(/^total\s+123\.459509\s+\$123\.46$/m);
    expect(text.stdout).toMatch(/^ {2}of which fine-tuning\s+~10\.877500\s+estimate: 6\.5 GPU-hours \(3\.5 instance-hours\), in infrastructure, not added again$/m);
    expect(text.stdout).toContain('llama-3.1-8b-instruct: estimated 1150 tokens, providers reported 1000');
  });

  it('refuses a malformed or future month naming it: the CLI (exit 2) before any call, the admin API with a 400; a Cost Explorer refusal is a 502', async () => {
    const bad = await tessera('tenants', 'usage', 'acme', '--month', '2026-13');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--month: month = "2026-13": must be a month as YYYY-MM/);
    const future = await tessera('tenants', 'usage', 'acme', '--month', '2099-01');
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/month = "2099-01": is in the future/);
    const csv = await tessera('tenants', 'usage', 'acme', '--csv');
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/--csv needs --month/);
    const { handler } = await import('../../lambdas/admin/admin-api.js');
    const ask = (query: Record<string, string>) => handler({ httpMethod: 'GET', resource: '/admin/tenants/{id}/usage', path: '/admin/tenants/acme/usage', pathParameters: { id: 'acme' }, queryStringParameters: query, headers: {}, body: null, isBase64Encoded: false, requestContext: { requestId: 'r' } } as never);
    for (const [month, message] of [['2026-1', /month = "2026-1": must be a month as YYYY-MM/], ['2099-01', /month = "2099-01": is in the future/]] as const) {
      const out = await ask({ month });
      expect(out.statusCode).toBe(400);
      const { error } = JSON.parse(out.body);
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_month', param: 'month' });
      expect(error.message).toMatch(message);
    }
    const both = await ask({ month: '2026-10', by: 'key' });
    expect(both.statusCode).toBe(400);
    expect(JSON.parse(both.body).error).toMatchObject({ param: 'by' });
    // Cost Explorer refusing (here: no permission) is the admin API's 502, naming CE's error.
    ce.on(GetCostAndUsageCommand, { TimePeriod: { Start: '2026-09-01', End: '2026-10-01' } }).rejects(Object.assign(new Error('User is not authorized to perform ce:GetCostAndUsage'), { name: 'AccessDeniedException' }));
    const refused = await ask({ month: '2026-09' });
    expect(refused.statusCode).toBe(502);
    expect(JSON.parse(refused.body).error).toEqual({
      type: 'api_error', code: 'cost_explorer_unavailable', param: null,
      message: 'Cost Explorer did not answer for 2026-09: AccessDeniedException: User is not authorized to perform ce:GetCostAndUsage; the statement needs the tenant\'s infrastructure cost',
    });
    // Without month the answers are unchanged (issue 15's day and month counters).
    const plain = await ask({});
    expect(plain.statusCode).toBe(200);
    expect(Object.keys(JSON.parse(plain.body)).sort()).toEqual(['day', 'month', 'tenantId', 'usage']);
  });
});

describe('the monthly statements job', () => {
  const s3 = () => new S3Client({ forcePathStyle: true });
  const read = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: 'tessera-statements', Key: key }))).Body!.transformToString());
  const received = async () => {
    const out = await new SQSClient({}).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    return (out.Messages ?? []).map((m) => JSON.parse(m.Body!) as { source: string; 'detail-type': string; detail: Record<string, unknown> });
  };

  it('writes the JSON and CSV statements and emits one Tenant Usage Reported shaped like SBT\'s ingestUsage; a re-run changes nothing', async () => {
    const { handler } = await import('../../lambdas/statements/monthly-statements.js');
    const outcome = await handler({ month: '2026-10' } as never);
    expect(outcome).toMatchObject({ month: '2026-10', reported: ['acme'], unchanged: [], failed: [] });
    expect(withoutTime(JSON.parse(await read('statements/2026-10/acme.json')))).toEqual({ ...GOLDEN, generatedAt: undefined });
    expect(await read('statements/2026-10/acme.csv')).toBe(GOLDEN_CSV);
    const events = await received();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'tessera.statements', 'detail-type': 'Tenant Usage Reported' });
    expect(events[0].detail).toEqual({
      tenantId: 'acme', meterApiName: 'tessera.total_usd', meterValue: 123.459509, month: '2026-10', currency: 'USD', estimated: false,
      usage: [
        { meterApiName: 'tessera.gateway.tokens', meterValue: 2900 },
        { meterApiName: 'tessera.gateway.cost_usd', meterValue: 0.00272 },
        { meterApiName: 'tessera.fine_tuning.gpu_hours', meterValue: 6.5 },
        { meterApiName: 'tessera.infrastructure.cost_usd', meterValue: 123.456789 },
        { meterApiName: 'tessera.total_usd', meterValue: 123.459509 },
      ],
      idempotencyKey: expect.stringMatching(/^acme:2026-10:1:[0-9a-f]{16}$/), revision: 1,
      statement: { bucket: 'tessera-statements', json: 'statements/2026-10/acme.json', csv: 'statements/2026-10/acme.csv' },
    });

    // The same month again: same figures, so no object version and no event.
    const again = await handler({ month: '2026-10' } as never);
    expect(again).toMatchObject({ reported: [], unchanged: ['acme'], failed: [] });
    expect(await received()).toEqual([]);
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket: 'tessera-statements', Prefix: 'statements/2026-10/' }));
    expect(versions.Versions?.map((v) => v.Key).sort()).toEqual(['statements/2026-10/acme.csv', 'statements/2026-10/acme.event.json', 'statements/2026-10/acme.json']);
    // The event kept beside the statement is the one put.
    expect(JSON.parse(await read('statements/2026-10/acme.event.json'))).toEqual(events[0].detail);
  });
});
