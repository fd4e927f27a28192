import { Fn } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';
import type { InfrastructureBudgetConfig } from '../lib/config/infrastructure-budget.js';
import { TENANT_ID_TAG } from '../lib/tenant-naming.js';

export interface TenantInfrastructureBudgetProps {
  /** The tenant id (the blueprint's `TenantId` parameter). */
  readonly tenantId: string;
  /** The tier's `infrastructureBudget` (lib/config/infrastructure-budget.ts). */
  readonly budget: InfrastructureBudgetConfig;
  /**
   * Whose cost the budget counts: `account`, every cost of the account the blueprint is deployed in (the tenant's
   * own); `tag`, the costs of the account that carry the tenant's `tessera:tenant-id` cost allocation tag (the
   * shared workload account of a vpc tier).
   */
  readonly scope: 'account' | 'tag';
}

/**
 * The tenant's AWS Budgets cost budget `tessera-<tenant>-infrastructure` (AWS::Budgets::Budget): MONTHLY, limit
 * `monthlyLimitUsd` USD, Budgets' default cost types (unblended, tax, support, subscriptions, refunds and credits).
 * One notification per threshold, `GREATER_THAN` the percent of the limit for `ACTUAL` spend, and with `forecasted`
 * one more for `FORECASTED` spend, each mailing every `subscriberEmails` address (EMAIL subscribers: AWS sends
 * each address a message when the threshold is passed, once per budget period).
 *
 * `scope: 'tag'` filters the budget with `CostFilters.TagKeyValue` `user:tessera:tenant-id$<tenant>` (the form Budgets
 * takes for a user-defined cost allocation tag); AWS counts the tag only once it is activated as a cost allocation tag
 * in the payer account, and only for costs incurred after that (docs/operations.md, "Activate the tessera:tenant-id
 * cost-allocation tag"; `tessera doctor` line `cost-allocation-tag`). Until then the budget sees $0.
 *
 * Budgets are global and their names unique per account: the blueprint's failover variant makes none (the home
 * stack's stays). A budget without actions costs nothing (AWS Price List, offer AWSBudgets: `BudgetsUsage` $0.00 per
 * budget-day; only action-enabled budgets, which this is not, are charged), nor does its email.
 * Sources: AWS::Budgets::Budget, BudgetData, NotificationWithSubscribers (CloudFormation Template Reference).
 */
export class TenantInfrastructureBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: TenantInfrastructureBudgetProps) {
    super(scope, id);
    const { budget } = props;
    const types = budget.forecasted ? ['ACTUAL', 'FORECASTED'] : ['ACTUAL'];
    const subscribers = budget.subscriberEmails.map((address) => ({ subscriptionType: 'EMAIL', address }));
    this.budget = new budgets.CfnBudget(this, 'Resource', {
      budget: {
        budgetName: Fn.join('', ['tessera-', props.tenantId, '-infrastructure']),
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: budget.monthlyLimitUsd, unit: 'USD' },
        costFilters: props.scope === 'tag' ? { TagKeyValue: [Fn.join('', [`user:${TENANT_ID_TAG}$`, props.tenantId])] } : undefined,
      },
      notificationsWithSubscribers: budget.thresholdsPercent.flatMap((threshold) => types.map((notificationType) => ({
        notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
        subscribers,
      }))),
    });
  }
}
