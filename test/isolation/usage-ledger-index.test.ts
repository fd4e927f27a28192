import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStore, ownLedgerItem, usageIds } from '../../lambdas/inference/stores/dynamodb-store.js';

/**
 * The usage ledger's `model-usage` index is keyed by an attribute (`ledgerMonth`), not by the table's key: an item is in
 * a tenant's partition of the index because of a value its writer set. The tenant-data role lets a session of tenant A
 * write its own `usage#A#…` items only (`dynamodb:LeadingKeys` is the table's key on UpdateItem), and IAM has no
 * condition on an attribute's value, so A's session can UpdateItem its own ledger item with `ledgerMonth` =
 * `usage#B#model#<month>` (test/isolation/platform-data.test.ts shows IAM allows it). Without a check on the read side
 * that item is B's usage: in B's `GET /v1/usage?group_by=model` and in B's monthly statement (the statements Lambda reads
 * the ledger with DynamoDbStore.modelUsage and an unscoped client). Tenants `acme` and `acme-2` share a prefix.
 */
const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const store = new DynamoDbStore('tenants', 'usage', async () => doc);

/** A ledger item as the settle writes it (DynamoDbStore ledgerUpdate), with `ledgerMonth` as its writer set it. */
const ledgerItem = (tenant: string, day: string, model: string, costNanos: number, ledgerMonth = usageIds.modelMonth(tenant, day.slice(0, 7))) => ({
  id: usageIds.modelDay(tenant, day, model), day, model, ledgerMonth, ledgerDay: `${day}#${model}`,
  requests: 1, promptTokens: 10, completionTokens: 5, costNanos, reportedRequests: 1, reportedTokens: 15, estimatedTokens: 15,
});

beforeEach(() => ddb.reset());

describe('the usage ledger index: an item another tenant moved into a tenant\'s partition is not that tenant\'s', () => {
  it('acme-2\'s own ledger item with ledgerMonth set to acme\'s month is left out of acme\'s month (usage and statements)', async () => {
    const own = ledgerItem('acme', '2026-11-23', 'openai/gpt-4o-mini', 1_500_000);
    const planted = ledgerItem('acme-2', '2026-11-23', 'openai/gpt-4o-mini', 9_000_000_000_000, usageIds.modelMonth('acme', '2026-11'));
    // The index answers what is in the partition: both items (the planted one's ledgerMonth is acme's).
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'usage#acme#model#2026-11' } }).resolves({ Items: [own, planted] });
    const rows = await store.modelUsage('acme', '2026-11');
    expect(rows.map((r) => [r.day, r.model, r.requests, r.costUsd])).toEqual([['2026-11-23', 'openai/gpt-4o-mini', 1, 0.0015]]);
  });

  it('an item of the tenant\'s own whose day or model is not the one its key was written for, or of another month, is left out too', async () => {
    const own = ledgerItem('acme', '2026-11-23', 'openai/gpt-4o-mini', 1_500_000);
    const otherDay = { ...ledgerItem('acme', '2026-11-24', 'openai/gpt-4o-mini', 1), day: '2026-11-25' };
    const otherModel = { ...ledgerItem('acme', '2026-11-24', 'openai/gpt-4o-mini', 1), model: 'openai/gpt-5.4-mini' };
    const otherMonth = ledgerItem('acme', '2026-10-31', 'openai/gpt-4o-mini', 1, usageIds.modelMonth('acme', '2026-11'));
    ddb.on(QueryCommand).resolves({ Items: [own, otherDay, otherModel, otherMonth] });
    expect((await store.modelUsage('acme', '2026-11')).map((r) => r.day)).toEqual(['2026-11-23']);
  });

  it('ownLedgerItem: the table key decides, a prefix-sharing tenant\'s key is not the tenant\'s', () => {
    const item = ledgerItem('acme-2', '2026-11-23', 'bedrock/amazon.nova-lite', 1);
    expect(ownLedgerItem(item, 'acme-2', '2026-11')).toBe(true);
    expect(ownLedgerItem(item, 'acme', '2026-11')).toBe(false);
    expect(ownLedgerItem({ ...item, id: undefined }, 'acme-2', '2026-11')).toBe(false);
    expect(ownLedgerItem(item, 'acme-2', '2026-12')).toBe(false);
  });
});
