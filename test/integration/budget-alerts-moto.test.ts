import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../../lib/lifecycle-constants.js';
import { BudgetAlerts } from '../../lambdas/inference/budget-alerts/budget-alerts.js';
import { DynamoDbAlertMarkers } from '../../lambdas/inference/budget-alerts/dynamodb-markers.js';
import { BUDGET_THRESHOLD_EVENT } from '../../lambdas/inference/budget-alerts/thresholds.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import type { PipelineRequest } from '../../lambdas/inference/pipeline.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import type { BudgetLimits, Subject } from '../../lambdas/inference/stores/gateway-store.js';
import { emitLifecycleEvent } from '../../lambdas/shared/events.js';
import { ENV } from '../../lambdas/shared/environment.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { startMoto, pointSdkAtMoto, type MotoServer } from './support/moto-server.js';

// Issue 16, item 2: concurrent requests that together cross 80% emit exactly one event for 80%,
// on moto's DynamoDB (markers in the usage table) and EventBridge (a rule copies the events to SQS).
let moto: MotoServer;
let queueUrl: string;
const USAGE = 'tessera-usage';
const documents = unscopedDocumentClient();

interface Delivered { 'detail-type': string; source: string; detail: Record<string, unknown> }

/** Every budget event of `tenantId` the bus delivered to the queue, read until `expected` arrived, and then twice more (nothing beyond). */
async function delivered(tenantId: string, expected: number): Promise<Delivered[]> {
  const sqs = new SQSClient({});
  const found: Delivered[] = [];
  const read = async () => found.push(...((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? []).map((m) => JSON.parse(m.Body!) as Delivered).filter((e) => e.detail.tenantId === tenantId));
  for (let i = 0; i < 40 && found.length < expected; i++) {
    await read();
    if (found.length < expected) await new Promise((r) => setTimeout(r, 50));
  }
  await read();
  await read();
  return found;
}

/** The parts of a pipeline request budget alerts read: tenant `tenantId` of tier starter (thresholds 50, 80, 100). */
const request = (tenantId: string, limits: BudgetLimits) => ({ caller: { tenantId, tenant: { tier: 'starter' } }, policy: { limits, tier: {} } }) as unknown as Pick<PipelineRequest, 'caller' | 'policy'>;

/** One request as the pipeline runs it on one Lambda: reserve, settle, then budget alerts after the settle. */
async function call(lambda: BudgetAlerts, store: DynamoDbStore, r: ReturnType<typeof request>, tokens: number, now: Date, subject?: Subject, overReserved = 2) {
  const reservation = await store.reserve(r.caller.tenantId, tokens + overReserved, 0, r.policy.limits, now, subject); // reserved a little more than used, as a real request does
  lambda.watch(reservation, r, subject);
  await store.settle(reservation, tokens, 0);
  await lambda.afterSettle(reservation, tokens);
}

/** `n` Lambdas: each its own BudgetAlerts (own memory, own marker client), on the one usage table and bus. */
const lambdas = (n: number, store: DynamoDbStore) => Array.from({ length: n }, () => new BudgetAlerts({ store, markers: new DynamoDbAlertMarkers(USAGE, documents), emit: emitLifecycleEvent }));

beforeAll(async () => {
  // Serial: DynamoDB applies each update atomically, moto_server's threads do not (an ADD lost under
  // load: 888 of 900 tokens counted, or an 80% alert never sent). The concurrent calls still
  // interleave their round trips (reserve, settle, claim), which is what these tests race.
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  process.env[ENV.eventBus] = PLATFORM_EVENT_BUS_NAME;
  await createGatewayTables([localTenant('acme', 'starter'), localTenant('keyed', 'starter'), localTenant('retried', 'starter')]);
  const events = new EventBridgeClient({});
  await events.send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  const sqs = new SQSClient({});
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'budget-alerts-copy' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  // The rule an email Lambda or a billing system would put on the bus: this detail type only.
  await events.send(new PutRuleCommand({ Name: 'budget-thresholds', EventBusName: PLATFORM_EVENT_BUS_NAME, EventPattern: JSON.stringify({ source: [LIFECYCLE_EVENT_SOURCE], 'detail-type': [BUDGET_THRESHOLD_EVENT] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'budget-thresholds', EventBusName: PLATFORM_EVENT_BUS_NAME, Targets: [{ Id: 'queue', Arn: queueArn }] }));
}, 120_000);
afterAll(async () => moto?.stop());

describe('budget alerts on DynamoDB and EventBridge (moto)', () => {
  it('a tenant\'s daily budget: 30 concurrent requests on 6 Lambdas cross 80% together, and 80% is sent once', async () => {
    const store = new DynamoDbStore('tessera-tenants', USAGE, documents);
    const now = new Date('2026-12-14T09:30:00Z');
    const r = request('acme', { dayTokens: 1000 });
    const fleet = lambdas(6, store);
    // 600 of 1,000 first (50% reached, sent), then 30 × 10 tokens at once (12 reserved each): 900, past 80%, short of 100%.
    await call(fleet[0]!, store, r, 600, now);
    await Promise.all(Array.from({ length: 30 }, (_, i) => call(fleet[i % 6]!, store, r, 10, now)));
    const events = await delivered('acme', 2);
    expect(events.map((e) => [e['detail-type'], e.source, e.detail.scope, e.detail.thresholdPercent]).sort()).toEqual([
      [BUDGET_THRESHOLD_EVENT, LIFECYCLE_EVENT_SOURCE, 'tenant', 50],
      [BUDGET_THRESHOLD_EVENT, LIFECYCLE_EVENT_SOURCE, 'tenant', 80],
    ]);
    const eighty = events.find((e) => e.detail.thresholdPercent === 80)!.detail;
    expect(eighty).toMatchObject({ tenantId: 'acme', tier: 'starter', budgetId: 'day-tokens', budget: 'daily token budget', unit: 'tokens', limit: 1000, period: 'day', periodId: '2026-12-14', periodEndsAt: '2026-12-15T00:00:00.000Z' });
    expect(eighty.used as number).toBeGreaterThanOrEqual(800);
    expect(eighty.used as number).toBeLessThanOrEqual(900); // settled usage: what other requests' reservations still in flight hold is not counted
    expect((await store.usage('acme', now)).day.tokens).toBe(900);
    // The marker: an item under the tenant's usage prefix, kept until a day after the period ends.
    const marker = (await (await documents('acme')).send(new GetCommand({ TableName: USAGE, Key: { id: 'usage#acme#alert#tenant#day-tokens#2026-12-14#1000#80' } }))).Item;
    expect(marker).toMatchObject({ expiresAt: Date.parse('2026-12-16T00:00:00Z') / 1000, claimedAt: expect.any(String) });

    // More requests past 80% on fresh Lambdas (no memory of it) send nothing more for 80%, and 100% once.
    const more = lambdas(4, store);
    await Promise.all(Array.from({ length: 10 }, (_, i) => call(more[i % 4]!, store, r, 10, now, undefined, 0))); // 1,000: the whole budget
    const after = await delivered('acme', 1);
    expect(after.map((e) => [e.detail.scope, e.detail.thresholdPercent])).toEqual([['tenant', 100]]);
  }, 60_000);

  it('a key\'s daily budget inside the tenant\'s: 9 concurrent requests cross 50% and 80% of the key\'s; each is sent once, as the key\'s', async () => {
    const store = new DynamoDbStore('tessera-tenants', USAGE, documents);
    const now = new Date('2026-12-14T10:00:00Z');
    const key: Subject = { kind: 'key', id: 'key_0123456789abcdef', limits: { tokensPerDay: 200 } };
    const r = request('keyed', { dayTokens: 100_000 });
    const fleet = lambdas(5, store);
    await Promise.all(Array.from({ length: 9 }, (_, i) => call(fleet[i % 5]!, store, r, 20, now, key))); // 180 of the key's 200; 0.18% of the tenant's
    const events = await delivered('keyed', 2);
    expect(events.map((e) => [e.detail.tenantId, e.detail.scope, e.detail.keyId, e.detail.budgetId, e.detail.thresholdPercent]).sort()).toEqual([
      ['keyed', 'key', 'key_0123456789abcdef', 'day-tokens', 50],
      ['keyed', 'key', 'key_0123456789abcdef', 'day-tokens', 80],
    ]);
    expect((await store.usage('keyed', now, key)).day.tokens).toBe(180);
  }, 60_000);

  it('reservations in flight are not spending: 5 concurrent chats reserving 16,484 tokens each and using 300 send nothing on a 100,000-token day (hostile review)', async () => {
    const store = new DynamoDbStore('tessera-tenants', USAGE, documents);
    const now = new Date('2026-12-16T10:00:00Z');
    const r = request('inflight', { dayTokens: 100_000 });
    const fleet = lambdas(5, store);
    // Each reserves its prompt and the model's whole output (no max_tokens: 16,384 for gpt-4o-mini) and uses 300.
    // Four are in flight while the fifth settles: counted with their reservations, it read 66,236 tokens (50% reached).
    const inFlight = await Promise.all(Array.from({ length: 4 }, () => store.reserve('inflight', 16_484, 0, r.policy.limits, now)));
    await call(fleet[4]!, store, r, 300, now, undefined, 16_184);
    await Promise.all(inFlight.map(async (x, i) => {
      fleet[i]!.watch(x, r);
      await store.settle(x, 300, 0);
      await fleet[i]!.afterSettle(x, 300);
    }));
    expect(await delivered('inflight', 0)).toEqual([]);
    const used = await store.usage('inflight', now);
    expect([used.day.tokens, used.held?.day.tokens]).toEqual([1_500, 0]);
  }, 60_000);

  it('an event EventBridge refuses is not lost: the marker is released and the next request sends it', async () => {
    const store = new DynamoDbStore('tessera-tenants', USAGE, documents);
    const now = new Date('2026-12-15T10:00:00Z');
    const r = request('retried', { dayTokens: 100 });
    const logged: Array<Record<string, unknown>> = [];
    process.env[ENV.eventBus] = 'no-such-bus'; // moto refuses PutEvents to a bus that does not exist, as AWS does
    const [lambda] = [new BudgetAlerts({ store, markers: new DynamoDbAlertMarkers(USAGE, documents), emit: emitLifecycleEvent, log: (e) => logged.push(e) })];
    await call(lambda!, store, r, 55, now);
    expect(logged.map((l) => l.message)).toEqual([expect.stringMatching(/not sent; its marker is released/)]);
    const marker = (await (await documents('retried')).send(new GetCommand({ TableName: USAGE, Key: { id: 'usage#retried#alert#tenant#day-tokens#2026-12-15#100#50' } }))).Item;
    expect(marker?.claimedAt).toBeUndefined();
    process.env[ENV.eventBus] = PLATFORM_EVENT_BUS_NAME;
    await call(lambda!, store, r, 1, now);
    expect((await delivered('retried', 1)).map((e) => [e.detail.periodId, e.detail.thresholdPercent, e.detail.used])).toEqual([['2026-12-15', 50, 56]]);
  }, 60_000);
});
