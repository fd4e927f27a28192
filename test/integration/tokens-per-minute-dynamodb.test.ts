import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { BudgetExhaustedError, TokenRateLimitError, type Subject } from '../../lambdas/inference/stores/gateway-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// Tokens per minute on DynamoDB (moto): the minute items' conditions evaluated by moto, in the reservation's
// transaction beside the budgets' and beside the rate check's `count` on the same item.
let moto: MotoServer;
let store: DynamoDbStore;
const now = new Date('2026-11-23T10:15:30Z');
const key: Subject = { kind: 'key', id: 'key_0000000000000001', limits: { tokensPerMinute: 300 } };
const rate = { minute: 100, hour: 1000, day: 10_000 };

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createGatewayTables([localTenant('tpm', 'enterprise')]);
  store = new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient());
});
afterAll(async () => {
  await moto?.stop();
});
afterEach(() => vi.useRealTimers());

/** Runs `settle` with the clock (Date only) at `at`: the settle corrects the minute it is in. */
const settledAt = async (at: string, settle: () => Promise<void>) => {
  vi.useFakeTimers({ now: new Date(at), toFake: ['Date'] });
  try {
    await settle();
  } finally {
    vi.useRealTimers();
  }
};

const item = async (id: string) => (await (await unscopedDocumentClient()('tpm')).send(new GetCommand({ TableName: 'tessera-usage', Key: { id }, ConsistentRead: true }))).Item;

describe('DynamoDbStore (moto): tokens per minute', () => {
  it('admits while the minute\'s tokens fit, refuses the one past the limit naming the minute\'s use, and counts nothing of it', async () => {
    expect(await store.countRequest('tpm', rate, now)).toEqual({ ok: true });
    for (let i = 0; i < 10; i++) await store.reserve('tpm', 100, 0, { minuteTokens: 1000 }, now);
    await expect(store.reserve('tpm', 100, 0, { minuteTokens: 1000 }, now)).rejects.toEqual(new TokenRateLimitError(1000, 1000, 100, 'tenant'));
    expect(await item('rate#tpm#2026-11-23T10:15')).toEqual({ id: 'rate#tpm#2026-11-23T10:15', count: 1, tokens: 1000, expiresAt: expect.any(Number) });
    expect((await store.usage('tpm', now)).day).toMatchObject({ tokens: 1000, requests: 10 });
    // The rate check's condition on `count` is unaffected by `tokens` on its item.
    expect(await store.countRequest('tpm', rate, now)).toEqual({ ok: true });
  });

  it('the settle gives the unused reservation back to its minute; a key\'s own limit is named with its scope', async () => {
    const r = await store.reserve('tpm', 250, 0, { minuteTokens: 2000 }, new Date('2026-11-23T10:16:10Z'), key);
    await expect(store.reserve('tpm', 100, 0, { minuteTokens: 2000 }, new Date('2026-11-23T10:16:20Z'), key)).rejects.toEqual(new TokenRateLimitError(300, 250, 100, 'key'));
    await settledAt('2026-11-23T10:16:25Z', () => store.settle(r, 40, 0));
    expect(await item(`rate#tpm#key#${key.id}#2026-11-23T10:16`)).toMatchObject({ tokens: 40 });
    await store.reserve('tpm', 260, 0, { minuteTokens: 2000 }, new Date('2026-11-23T10:16:30Z'), key);
    expect(await item('rate#tpm#2026-11-23T10:16')).toMatchObject({ tokens: 300 });
  });

  it('a settle after its minute ended adds what was used beyond the reservation to the minute it ends in', async () => {
    const r = await store.reserve('tpm', 100, 0, { minuteTokens: 1000 }, new Date('2026-11-23T10:19:59.900Z'), key);
    await settledAt('2026-11-23T10:20:00.100Z', () => store.settle(r, 350, 0));
    expect(await item('rate#tpm#2026-11-23T10:19')).toMatchObject({ tokens: 100 });
    expect(await item('rate#tpm#2026-11-23T10:20')).toMatchObject({ tokens: 250 });
    expect(await item(`rate#tpm#key#${key.id}#2026-11-23T10:20`)).toMatchObject({ tokens: 250 });
    await expect(store.reserve('tpm', 51, 0, { minuteTokens: 1000 }, new Date('2026-11-23T10:20:01Z'), key)).rejects.toEqual(new TokenRateLimitError(300, 250, 51, 'key'));
  });

  it('a budget refusing the same reservation is the one named; a reservation larger than a whole minute is refused unsent', async () => {
    const at = new Date('2026-11-23T10:17:00Z');
    await store.reserve('tpm', 900, 0, { minuteTokens: 1000 }, at);
    await expect(store.reserve('tpm', 200, 0, { minuteTokens: 1000, dayTokens: 1500 }, at)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 1500));
    await expect(store.reserve('tpm', 1001, 0, { minuteTokens: 1000 }, new Date('2026-11-23T10:18:00Z'))).rejects.toEqual(new TokenRateLimitError(1000, 0, 1001, 'tenant'));
    expect(await item('rate#tpm#2026-11-23T10:18')).toBeUndefined();
  });
});
