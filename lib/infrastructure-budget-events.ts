import { z } from 'zod';
import { LIFECYCLE_EVENTS, TenantId } from './tenant-record.js';

/**
 * Forwarding a tenant's AWS Budgets infrastructure budget alerts to the platform bus: the names both sides agree on
 * (the tenant blueprint's topic and subscription, constructs/tenant-infrastructure-budget.ts; the platform's queue
 * and forwarder, constructs/infrastructure-budget-events.ts) and the event the forwarder puts.
 *
 * AWS Budgets notifies only an SNS topic in the budget's own account ("Amazon SNS topics must be in the same account
 * as the Budgets you're configuring. Cross-account Amazon SNS isn't supported": Cost Management User Guide, "Creating
 * an Amazon SNS topic for budget notifications") and sends no EventBridge event, so each tenant stack has a topic
 * that the platform's queue is subscribed to.
 */

/** Detail type of the event on the platform bus (source `tessera.lifecycle`). */
export const INFRASTRUCTURE_BUDGET_EXCEEDED = LIFECYCLE_EVENTS.infrastructureBudgetExceeded;

/** The budget's SNS topic in the budget's account: `tessera-<tenant>-infrastructure-budget`. */
export const infrastructureBudgetTopicName = (tenantId: string) => `tessera-${tenantId}-infrastructure-budget`;

/** The platform account's queue every tenant's budget topic delivers to (fixed, so that the blueprint names it). */
export const INFRASTRUCTURE_BUDGET_QUEUE_NAME = 'tessera-infrastructure-budget-alerts';

/** The platform queue's ARN: the tenant blueprint's subscription endpoint (`partition` may be a token, e.g. `Aws.PARTITION`). */
export const infrastructureBudgetQueueArn = (partition: string, region: string, platformAccountId: string) =>
  `arn:${partition}:sqs:${region}:${platformAccountId}:${INFRASTRUCTURE_BUDGET_QUEUE_NAME}`;

/**
 * `detail` of {@link INFRASTRUCTURE_BUDGET_EXCEEDED}:
 * - `tenantId`, `tier` (the registry's), `accountId` (the budget's account: the tenant's own, or the workload account);
 * - `budgetName` (`tessera-<tenant>-infrastructure`), `notificationType` `ACTUAL` (spent) or `FORECASTED` (AWS's
 *   forecast of the month);
 * - `thresholdPercent`: the notification's threshold, percent of `limit` (from the alert's amount, two decimals);
 * - `amount`: the actual or forecasted cost, `limit`: the budget's monthly limit, both in `currency` (`USD`, the unit
 *   the blueprint gives the budget);
 * - `at`: when SNS took the alert (ISO 8601), `messageId`: SNS's id (the same alert delivered twice has the same one).
 */
export const InfrastructureBudgetExceededDetail = z.strictObject({
  tenantId: TenantId,
  tier: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  budgetName: z.string().min(1),
  notificationType: z.enum(['ACTUAL', 'FORECASTED']),
  thresholdPercent: z.number().positive(),
  amount: z.number().nonnegative(),
  limit: z.number().positive(),
  currency: z.literal('USD'),
  at: z.iso.datetime(),
  messageId: z.string().min(1),
});
export type InfrastructureBudgetExceededDetail = z.infer<typeof InfrastructureBudgetExceededDetail>;

/** What an AWS Budgets alert's text says (see {@link parseBudgetAlert}). */
export interface BudgetAlert {
  accountId: string;
  budgetName: string;
  notificationType: 'ACTUAL' | 'FORECASTED';
  /** The threshold as an amount of `currency` (the text gives the amount, not the percent). */
  thresholdAmount: number;
  amount: number;
  limit: number;
  currency: 'USD';
}

const USD = /^\$([0-9][0-9,]*(?:\.[0-9]+)?)$/;

/** `$1,234.50` as 1234.5; throws naming `field` for anything else (another currency: the budget's unit is USD). */
function usd(field: string, value: string | undefined): number {
  const m = value === undefined ? null : USD.exec(value.trim());
  if (!m) throw new Error(`budget alert: "${field}" is ${value === undefined ? 'missing' : JSON.stringify(value)}, not a USD amount like $80.00`);
  return Number(m[1]!.replace(/,/g, ''));
}

/**
 * Reads an AWS Budgets notification's text (what Budgets publishes to the topic: a mail-like message whose lines
 * `AWS Account <id>`, `Budget Name: …`, `Budgeted Amount: $…`, `Alert Type: ACTUAL|FORECASTED`, `Alert Threshold: > $…`
 * and `<ACTUAL|FORECASTED> Amount: $…` carry the alert).
 * @throws Error naming the line that is missing or malformed
 */
export function parseBudgetAlert(text: string): BudgetAlert {
  const line = (label: string): string | undefined => {
    const m = new RegExp(`^\\s*${label}:\\s*(.+?)\\s*$`, 'm').exec(text);
    return m?.[1];
  };
  const account = /^\s*AWS Account\s+(\d{12})\s*$/m.exec(text)?.[1];
  if (!account) throw new Error('budget alert: no "AWS Account <12 digits>" line');
  const budgetName = line('Budget Name');
  if (!budgetName) throw new Error('budget alert: no "Budget Name:" line');
  const type = line('Alert Type');
  if (type !== 'ACTUAL' && type !== 'FORECASTED') throw new Error(`budget alert: "Alert Type" is ${JSON.stringify(type ?? null)}, not ACTUAL or FORECASTED`);
  const threshold = line('Alert Threshold');
  return {
    accountId: account,
    budgetName,
    notificationType: type,
    thresholdAmount: usd('Alert Threshold', threshold?.replace(/^>\s*/, '')),
    amount: usd(`${type} Amount`, line(`${type} Amount`)),
    limit: usd('Budgeted Amount', line('Budgeted Amount')),
    currency: 'USD',
  };
}

/** The tenant of a budget topic ARN `arn:<partition>:sns:<region>:<account>:tessera-<tenant>-infrastructure-budget`, and its account and region; undefined for any other. */
export function budgetTopicOwner(topicArn: string): { tenantId: string; accountId: string; region: string } | undefined {
  const m = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):tessera-([a-z0-9-]+)-infrastructure-budget$/.exec(topicArn);
  return m ? { region: m[1]!, accountId: m[2]!, tenantId: m[3]! } : undefined;
}
