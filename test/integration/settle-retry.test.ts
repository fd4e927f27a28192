import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore, usageIds } from '../../lambdas/inference/stores/dynamodb-store.js';
import { documentClientWith } from '../../lambdas/shared/document-clients.js';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy, type WriteFault } from './support/dynamodb-fault-proxy.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// A settle whose first try DynamoDB applied but whose answer was lost (a dropped connection, or a
// stalled one that the client's socket timeout ends: lib/aws-http-timeouts.ts) is sent again by the SDK's retry: it must
// count once. moto behind a loopback proxy that keeps DynamoDB's ClientRequestToken idempotency
// (support/dynamodb-fault-proxy.ts) and loses the answer of the first write once armed.
let moto: MotoServer;
let proxy: DynamoDbFaultProxy;
let store: DynamoDbStore;
const TENANT = 'settle-retry';
const SUBJECT = { kind: 'key' as const, id: 'key_00000000000000ab' };
const MODEL = 'openai/gpt-4o-mini';

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createGatewayTables([localTenant(TENANT, 'enterprise')]);
  proxy = await startDynamoDbFaultProxy(moto.endpoint);
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
}, 60_000);
afterAll(async () => {
  if (moto) process.env.AWS_ENDPOINT_URL = moto.endpoint;
  await proxy?.close();
  await moto?.stop();
});

/** The store's client: a session of its own (clientWith keys its clients by AWS_ENDPOINT_URL), through the proxy. */
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
beforeEach(() => {
  store = new DynamoDbStore('tessera-tenants', 'tessera-usage', async () => documentClientWith(credentials));
});

const read = async (id: string) => (await documentClientWith(credentials).send(new GetCommand({ TableName: 'tessera-usage', Key: { id }, ConsistentRead: true }))).Item ?? {};

/** Reserves 500 tokens and USD 0.01 for the key, loses the answer of the settle's first write (`fault`), settles 120 tokens and USD 0.0012. */
async function settleThrough(fault: WriteFault, day: string) {
  const at = new Date(`${day}T10:15:00Z`);
  const r = await store.reserve(TENANT, 500, 0.01, { monthCostUsd: 100 }, at, SUBJECT);
  const before = proxy.seen.length;
  proxy.arm(fault);
  await store.settle(r, 120, 0.0012, { model: MODEL, promptTokens: 100, completionTokens: 20, reported: true, estimatedTokens: 118 });
  return { r, sent: proxy.seen.slice(before) };
}

async function expectCountedOnce(day: string) {
  for (const id of [usageIds.tenantUsage(TENANT, day), usageIds.subjectUsage(TENANT, SUBJECT, day)]) {
    // THEN the day items count the request once: its 120 tokens and 1,200,000 nano-dollars, nothing held
    expect(await read(id), id).toMatchObject({ tokens: 120, costNanos: 1_200_000, heldTokens: 0, heldNanos: 0, requests: 1 });
  }
  // AND the ledger's model-day item counts one request
  expect(await read(usageIds.modelDay(TENANT, day, MODEL))).toMatchObject({ requests: 1, promptTokens: 100, completionTokens: 20, costNanos: 1_200_000, reportedRequests: 1 });
}

describe('DynamoDbStore.settle (moto behind a proxy): a retry of a settle that landed counts once', () => {
  it('the connection dropped after the settle was applied: the SDK sends it again, with the same ClientRequestToken, and it counts once', async () => {
    const { sent } = await settleThrough('drop', '2026-11-23');
    await expectCountedOnce('2026-11-23');
    // AND the settle was sent twice (the SDK's retry of the dropped attempt), with one token
    const settles = sent.filter((s) => s.operation === 'TransactWriteItems');
    expect(settles).toHaveLength(2);
    expect(settles[0].token).toMatch(/^[0-9a-f-]{36}$/);
    expect(settles[1].token).toBe(settles[0].token);
  });

  // Before the clients had timeouts, this settle waited for an answer that never came (until the
  // Lambda's end: 15 minutes for the router), its reservation held. Now the `request` socket timeout
  // (15 s without a byte, lib/aws-http-timeouts.ts) ends the attempt and the SDK sends it again.
  it('the answer stalled after the settle was applied: the socket timeout ends the attempt, the SDK sends it again, and it counts once', async () => {
    const { sent } = await settleThrough('stall', '2026-11-24');
    await expectCountedOnce('2026-11-24');
    const settles = sent.filter((s) => s.operation === 'TransactWriteItems');
    expect(settles).toHaveLength(2);
    expect(settles[1].token).toBe(settles[0].token);
  }, 60_000);
});
