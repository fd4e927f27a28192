import { z } from 'zod';

/** The thresholds every tier gets unless it says otherwise: percent of each budget. */
export const DEFAULT_BUDGET_ALERT_THRESHOLDS = [50, 80, 100] as const;

/**
 * A tier's budget alerts (`tiers.<tier>.budgetAlerts`): when a tenant, or one of its users or keys,
 * reaches one of `thresholdsPercent` of a token or cost budget, the gateway puts one
 * `Tenant Budget Threshold Reached` event on the platform bus per threshold per period
 * (lambdas/inference/budget-alerts/).
 *
 * - `thresholdsPercent`: whole percents from 1 to 100, ascending, each once. @default [50, 80, 100].
 *   `[]` turns the tier's alerts off.
 * - `emailTenantAdmins`: also mail the tenant's admins (its Cognito users in the `tenant-admin`
 *   group) through SES. @default false
 * - `senderEmail`: the SES-verified address the mail comes from; required with `emailTenantAdmins`.
 */
export const BudgetAlertsConfigSchema = z
  .strictObject({
    thresholdsPercent: z.array(z.number().int('must be whole percents').min(1).max(100)).default([...DEFAULT_BUDGET_ALERT_THRESHOLDS]),
    emailTenantAdmins: z.boolean().default(false),
    senderEmail: z.email().optional(),
  })
  .superRefine((b, ctx) => {
    b.thresholdsPercent.forEach((p, i) => {
      if (i > 0 && p <= b.thresholdsPercent[i - 1]!) {
        ctx.addIssue({ code: 'custom', path: ['thresholdsPercent', i], message: `is ${p}, not above the one before it (${b.thresholdsPercent[i - 1]}): list the thresholds ascending, each once, e.g. [50, 80, 100]` });
      }
    });
    if (b.emailTenantAdmins && !b.senderEmail) {
      ctx.addIssue({ code: 'custom', path: ['senderEmail'], message: 'is required when emailTenantAdmins is true: the address the alert mail comes from, verified in SES in the home region (the address or its domain), e.g. alerts@mail.your-company.com with your own domain' });
    }
  });
export type BudgetAlertsConfig = z.infer<typeof BudgetAlertsConfigSchema>;

/** A tier's budget alerts with the defaults filled in (the tier's `budgetAlerts` may be absent). */
export const budgetAlertsOf = (tier: { budgetAlerts?: BudgetAlertsConfig }): BudgetAlertsConfig =>
  tier.budgetAlerts ?? { thresholdsPercent: [...DEFAULT_BUDGET_ALERT_THRESHOLDS], emailTenantAdmins: false };

/**
 * The tiers that mail their tenant admins, each with its sender (`budgetAlerts.senderEmail`, which
 * the schema requires with `emailTenantAdmins`): tier name → address, in config order; empty when no
 * tier mails. Read by the mail construct (constructs/tenant-budget-alerts.ts) and `tessera doctor`.
 */
export function alertMailSenders(tiers: Readonly<Record<string, { budgetAlerts?: BudgetAlertsConfig }>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tiers).flatMap(([tier, t]) => {
    const b = budgetAlertsOf(t);
    return b.emailTenantAdmins && b.senderEmail ? [[tier, b.senderEmail]] : [];
  }));
}
