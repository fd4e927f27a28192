import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Notifications AWS Budgets keeps per budget: "A budget can have up to ten notifications" (AWS Budgets API
 * Reference, data type Notification; https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html).
 */
export const MAX_BUDGET_NOTIFICATIONS = 10;

/**
 * Email subscribers AWS Budgets takes per notification: "A notification can have one SNS subscriber and up to 10
 * email subscribers" (AWS::Budgets::Budget NotificationWithSubscribers; API data type NotificationWithSubscribers).
 */
export const MAX_BUDGET_EMAIL_SUBSCRIBERS = 10;

/**
 * The `Threshold` range of a notification in CloudFormation: AWS::Budgets::Budget's resource provider schema gives
 * Notification.Threshold minimum 0.1 and maximum 1000000000 (narrower than the Budgets API's 0 to 40000000000; the
 * blueprint deploys through CloudFormation, so its range applies).
 */
export const MIN_BUDGET_THRESHOLD = 0.1;
export const MAX_BUDGET_THRESHOLD = 1_000_000_000;

/** The thresholds a tier's infrastructure budget notifies at unless it says otherwise: percent of `monthlyLimitUsd`. */
export const DEFAULT_INFRASTRUCTURE_BUDGET_THRESHOLDS = [80, 100] as const;

/**
 * A tier's infrastructure budget (`tiers.<tier>.infrastructureBudget`): an AWS Budgets cost budget per tenant over what
 * its AWS resources cost, beside the gateway's token budgets (`budgetAlerts`, which cover gateway spend only). The tier
 * blueprint holds it (constructs/tenant-infrastructure-budget.ts): for an account-isolation tier it covers the whole
 * cost of the tenant's own account; for a vpc tier, the workload account's cost that carries the tenant's
 * `tessera:tenant-id` cost allocation tag (a tag AWS counts only once activated in the payer account: `tessera doctor`
 * checks it). Absent: no budget.
 *
 * - `monthlyLimitUsd`: the budget's monthly limit (`BudgetLimit`, unit USD), more than 0, in whole cents.
 * - `thresholdsPercent`: percents of the limit at which AWS Budgets mails `subscriberEmails`, each a notification
 *   `GREATER_THAN` with `ThresholdType` PERCENTAGE: ascending, each once, from {@link MIN_BUDGET_THRESHOLD} to
 *   {@link MAX_BUDGET_THRESHOLD} (120 says "20% over"). @default [80, 100]
 * - `forecasted`: also notify when AWS forecasts the month's cost above each threshold (a `FORECASTED` notification
 *   per threshold beside the `ACTUAL` one; AWS forecasts only after about five weeks of usage data). @default false
 * - `subscriberEmails`: the platform team's addresses AWS Budgets mails (1 to 10 EMAIL subscribers, each once).
 *
 * A budget has at most {@link MAX_BUDGET_NOTIFICATIONS} notifications: thresholds × (2 with `forecasted`, else 1).
 * Sources: AWS::Budgets::Budget (CloudFormation Template Reference, and its resource provider schema as cfn-lint ships it); AWS Budgets API Reference, Budget, Spend,
 * Notification, NotificationWithSubscribers.
 */
export const InfrastructureBudgetConfigSchema = z
  .strictObject({
    monthlyLimitUsd: z.number().positive('must be more than 0: the budget\'s monthly limit in USD').refine(
      // At least one cent: under a millionth of a cent the tolerance alone took 0.000000001 (rendered 1e-9, no cent at all).
      (v) => Number.isFinite(v) && Math.round(v * 100) >= 1 && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6,
      'must be in whole cents (at most two decimals), e.g. 25000 or 1234.50',
    ),
    thresholdsPercent: z.array(z.number()
      .min(MIN_BUDGET_THRESHOLD, `must be at least ${MIN_BUDGET_THRESHOLD}: a percent of monthlyLimitUsd, e.g. 80 (AWS::Budgets::Budget's smallest Threshold)`)
      .max(MAX_BUDGET_THRESHOLD, `must be at most ${MAX_BUDGET_THRESHOLD} (AWS::Budgets::Budget's largest Threshold)`))
      .min(1, 'must list at least one threshold, e.g. [80, 100]; leave infrastructureBudget out for no budget')
      .default([...DEFAULT_INFRASTRUCTURE_BUDGET_THRESHOLDS]),
    forecasted: z.boolean().default(false),
    subscriberEmails: z.array(z.email('must be an email address, e.g. platform-costs@your-company.com'))
      .min(1, 'must list at least one address: AWS Budgets needs a subscriber for each notification')
      .max(MAX_BUDGET_EMAIL_SUBSCRIBERS, `must list at most ${MAX_BUDGET_EMAIL_SUBSCRIBERS} addresses (AWS Budgets takes 10 email subscribers per notification): use a list address`),
  })
  .superRefine((b, ctx) => {
    b.thresholdsPercent.forEach((p, i) => {
      if (i > 0 && p <= b.thresholdsPercent[i - 1]!) {
        ctx.addIssue({ code: 'custom', path: ['thresholdsPercent', i], message: `is ${p}, not above the one before it (${b.thresholdsPercent[i - 1]}): list the thresholds ascending, each once, e.g. [80, 100]` });
      }
    });
    const notifications = b.thresholdsPercent.length * (b.forecasted ? 2 : 1);
    if (notifications > MAX_BUDGET_NOTIFICATIONS) {
      ctx.addIssue({
        code: 'custom', path: ['thresholdsPercent'],
        message: `makes ${notifications} notifications (${b.thresholdsPercent.length} thresholds${b.forecasted ? ', each ACTUAL and FORECASTED' : ''}), more than the ${MAX_BUDGET_NOTIFICATIONS} AWS Budgets keeps per budget: list at most ${b.forecasted ? MAX_BUDGET_NOTIFICATIONS / 2 : MAX_BUDGET_NOTIFICATIONS} thresholds${b.forecasted ? ' or set forecasted: false' : ''}`,
      });
    }
    b.subscriberEmails.forEach((address, i) => {
      const first = b.subscriberEmails.findIndex((a) => a.toLowerCase() === address.toLowerCase());
      if (first !== i) ctx.addIssue({ code: 'custom', path: ['subscriberEmails', i], message: `repeats ${address} (entry ${first}): list each address once` });
    });
  });
export type InfrastructureBudgetConfig = z.infer<typeof InfrastructureBudgetConfigSchema>;

/**
 * The budget's name for a tenant: `tessera-<tenant>-infrastructure-<notificationsKey>` (a Budgets name is unique per
 * account: in the workload account one per vpc tenant). `notificationsKey` is {@link budgetNotificationsKey} of the
 * budget's `NotificationsWithSubscribers`, so the name changes exactly when they do: that property is create-only
 * (AWS::Budgets::Budget, NotificationWithSubscribers: "Update requires: Replacement"; `createOnlyProperties` of its
 * resource provider schema), and CloudFormation replaces a custom-named resource only under a new name ("You can't
 * perform an update that causes a custom-named resource to be replaced. If you must replace the resource, specify a
 * new name": CloudFormation Template Reference, "CloudFormation resource custom naming"). Under one fixed name a change
 * of `thresholdsPercent`, `forecasted` or `subscriberEmails` (a config change rolled out by an upgrade, or a move to a
 * tier whose budget notifies otherwise) failed the tenant stack's update. Tenant ids are 3-24 characters, so the name
 * stays within Budgets' 100.
 */
export const infrastructureBudgetName = (tenantId: string, notificationsKey: string) => `tessera-${tenantId}-infrastructure-${notificationsKey}`;

/** Hex digits of {@link budgetNotificationsKey}. */
export const BUDGET_NOTIFICATIONS_KEY_LENGTH = 8;

/**
 * The first {@link BUDGET_NOTIFICATIONS_KEY_LENGTH} hex digits of SHA-256 over `notifications` as JSON: the budget's
 * `NotificationsWithSubscribers` as the blueprint renders them (the topic's address, the same for every budget of a
 * tenant's stack, left as a placeholder by the caller). Equal notifications give the same key, so a change of the limit
 * alone (an in-place update) keeps the name.
 */
export function budgetNotificationsKey(notifications: unknown): string {
  return createHash('sha256').update(JSON.stringify(notifications)).digest('hex').slice(0, BUDGET_NOTIFICATIONS_KEY_LENGTH);
}

/**
 * Whether `name` is the infrastructure budget of `tenantId`: {@link infrastructureBudgetName} with any notifications key,
 * or `tessera-<tenant>-infrastructure`, the name of budgets deployed by blueprints before the key (until the tenant's
 * stack is upgraded, when CloudFormation replaces the budget under its keyed name).
 */
export function isInfrastructureBudgetName(tenantId: string, name: string): boolean {
  const prefix = `tessera-${tenantId}-infrastructure`;
  return name === prefix || new RegExp(`^-[0-9a-f]{${BUDGET_NOTIFICATIONS_KEY_LENGTH}}$`).test(name.startsWith(prefix) ? name.slice(prefix.length) : '');
}
