import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TenantRecord } from '../../../lib/tenant-record.js';
import { isTenantId, type TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { BudgetExhaustedError, periods, windows, type BudgetLimits, type GatewayStore, type Reservation, type UsageSummary } from './gateway-store.js';

const MICRO = 1_000_000; // costs are counted in micro-dollars: DynamoDB adds integers exactly

/**
 * Registry reads and usage counters in DynamoDB. A reservation is one transaction of conditional
 * ADDs on the day and month items, each conditioned on `committed <= limit - n` (committed =
 * used + reserved): it lands whole or not at all, so concurrent Lambdas can never overspend.
 *
 * Every call acts for one tenant with that tenant's client (`docFor(tenantId)`): in the Lambdas, a
 * session of the tenant-data role tagged with the tenant, which reaches only that tenant's items
 * (registry `tenantId`, usage `rate#<tenant>#…` and `usage#<tenant>#…`).
 */
export class DynamoDbStore implements GatewayStore {
  constructor(private readonly registryTable: string, private readonly usageTable: string, private readonly docFor: TenantDocumentClient) {}

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    // An id no tenant can have (from a verified token all the same) names no item: no session is asked for it.
    if (!isTenantId(tenantId)) return undefined;
    const doc = await this.docFor(tenantId);
    const out = await doc.send(new GetCommand({ TableName: this.registryTable, Key: { tenantId } }));
    return out.Item ? TenantRecord.parse(out.Item) : undefined;
  }

  async countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date) {
    const w = windows(now);
    const items = (['minute', 'hour', 'day'] as const).map((window) => ({ window, id: `rate#${tenantId}#${w[window]}`, limit: limits[window] }));
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new TransactWriteCommand({
        TransactItems: items.map((i) => ({
          Update: {
            TableName: this.usageTable, Key: { id: i.id },
            UpdateExpression: 'ADD #c :one SET expiresAt = if_not_exists(expiresAt, :ttl)',
            ConditionExpression: 'attribute_not_exists(#c) OR #c < :limit',
            ExpressionAttributeNames: { '#c': 'count' },
            ExpressionAttributeValues: { ':one': 1, ':limit': i.limit, ':ttl': Math.floor(now.getTime() / 1000) + 2 * 86400 },
          },
        })),
      }));
      return { ok: true as const };
    } catch (e) {
      const failed = this.failedIndex(e);
      if (failed === undefined) throw e;
      return { ok: false as const, window: items[failed].window, limit: items[failed].limit };
    }
  }

  async reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date): Promise<Reservation> {
    const { day, month } = periods(now);
    const cost = Math.round(costUsd * MICRO);
    const checks: Array<{ id: string; conditions: string[]; values: Record<string, number>; budget?: BudgetExhaustedError }> = [
      { id: `usage#${tenantId}#${day}`, conditions: [], values: {} },
      { id: `usage#${tenantId}#${month}`, conditions: [], values: {} },
    ];
    const budgets: BudgetExhaustedError[][] = [[], []];
    if (limits.dayTokens !== undefined) {
      checks[0].conditions.push('(attribute_not_exists(tokens) OR tokens <= :maxTokens)');
      checks[0].values[':maxTokens'] = limits.dayTokens - tokens;
      budgets[0].push(new BudgetExhaustedError('daily token budget', limits.dayTokens));
    }
    if (limits.monthTokens !== undefined) {
      checks[1].conditions.push('(attribute_not_exists(tokens) OR tokens <= :maxTokens)');
      checks[1].values[':maxTokens'] = limits.monthTokens - tokens;
      budgets[1].push(new BudgetExhaustedError('monthly token budget', limits.monthTokens));
    }
    if (limits.monthCostUsd !== undefined) {
      checks[1].conditions.push('(attribute_not_exists(costMicros) OR costMicros <= :maxCost)');
      checks[1].values[':maxCost'] = Math.round(limits.monthCostUsd * MICRO) - cost;
      budgets[1].push(new BudgetExhaustedError('monthly cost budget', limits.monthCostUsd));
    }
    // A reservation larger than the whole budget can never fit.
    for (const [i, c] of checks.entries()) {
      if (Object.values(c.values).some((v) => v < 0)) throw budgets[i][Object.values(c.values).findIndex((v) => v < 0)];
    }
    const doc = await this.docFor(tenantId);
    try {
      await doc.send(new TransactWriteCommand({
        TransactItems: checks.map((c) => ({
          Update: {
            TableName: this.usageTable, Key: { id: c.id },
            UpdateExpression: 'ADD tokens :t, costMicros :c, requests :one',
            ConditionExpression: c.conditions.length ? c.conditions.join(' AND ') : undefined,
            ExpressionAttributeValues: { ':t': tokens, ':c': cost, ':one': 1, ...c.values },
          },
        })),
      }));
    } catch (e) {
      const failed = this.failedIndex(e);
      if (failed === undefined) throw e;
      throw await this.whichBudget(tenantId, checks[failed].id, budgets[failed], tokens, cost);
    }
    return { tenantId, day, month, tokens, costUsd };
  }

  async settle(r: Reservation, tokens: number, costUsd: number): Promise<void> {
    const delta = { t: tokens - r.tokens, c: Math.round(costUsd * MICRO) - Math.round(r.costUsd * MICRO) };
    const doc = await this.docFor(r.tenantId);
    for (const id of [`usage#${r.tenantId}#${r.day}`, `usage#${r.tenantId}#${r.month}`]) {
      await doc.send(new UpdateCommand({ TableName: this.usageTable, Key: { id }, UpdateExpression: 'ADD tokens :t, costMicros :c', ExpressionAttributeValues: { ':t': delta.t, ':c': delta.c } }));
    }
  }

  async usage(tenantId: string, now: Date): Promise<UsageSummary> {
    const { day, month } = periods(now);
    const doc = await this.docFor(tenantId);
    const read = async (id: string) => {
      const out = await doc.send(new GetCommand({ TableName: this.usageTable, Key: { id }, ConsistentRead: true }));
      return { tokens: Number(out.Item?.tokens ?? 0), costUsd: Number(out.Item?.costMicros ?? 0) / MICRO, requests: Number(out.Item?.requests ?? 0) };
    };
    return { day: await read(`usage#${tenantId}#${day}`), month: await read(`usage#${tenantId}#${month}`) };
  }

  private failedIndex(e: unknown): number | undefined {
    if (e instanceof TransactionCanceledException) {
      const i = (e.CancellationReasons ?? []).findIndex((r) => r.Code === 'ConditionalCheckFailed');
      return i >= 0 ? i : undefined;
    }
    if (e instanceof ConditionalCheckFailedException) return 0;
    return undefined;
  }

  /** Which of the item's budgets the reservation would break (read after the refusal). */
  private async whichBudget(tenantId: string, id: string, candidates: BudgetExhaustedError[], tokens: number, cost: number): Promise<BudgetExhaustedError> {
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.usageTable, Key: { id }, ConsistentRead: true }));
    for (const b of candidates) {
      const used = b.budget === 'monthly cost budget' ? Number(out.Item?.costMicros ?? 0) + cost : Number(out.Item?.tokens ?? 0) + tokens;
      const limit = b.budget === 'monthly cost budget' ? b.limit * MICRO : b.limit;
      if (used > limit) return b;
    }
    return candidates[0];
  }
}
