import { Aws, Fn } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { budgetNotificationsKey, infrastructureBudgetName, type InfrastructureBudgetConfig } from '../lib/config/infrastructure-budget.js';
import { infrastructureBudgetTopicName } from '../lib/infrastructure-budget-events.js';
import { TENANT_ID_TAG } from '../lib/tenant-naming.js';
import type { TenantKey } from './tenant-key.js';

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
  /** The tenant key: encrypts the alerts' topic; its policy gains `BudgetsEncryptsInfrastructureBudgetAlerts`. */
  readonly key: TenantKey;
  /**
   * The platform's queue the topic delivers to (`tessera-infrastructure-budget-alerts` in the platform account's home
   * Region: lib/infrastructure-budget-events.ts infrastructureBudgetQueueArn), where the forwarder puts
   * `Tenant Infrastructure Budget Exceeded` on the platform bus (constructs/infrastructure-budget-events.ts).
   */
  readonly platformQueueArn: string;
}

/**
 * The tenant's AWS Budgets cost budget `tessera-<tenant>-infrastructure-<notifications key>` (AWS::Budgets::Budget; the
 * key, 8 hex digits of a hash of its notifications, renames it when they change, so that CloudFormation can replace it:
 * lib/config/infrastructure-budget.ts infrastructureBudgetName): MONTHLY, limit
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
 * budget-day; only action-enabled budgets, which this is not, are charged), nor does its email; the topic bills requests only.
 * Every notification also publishes to the topic `tessera-<tenant>-infrastructure-budget` in the budget's account
 * (Budgets notifies an SNS topic of its own account only, and sends no EventBridge event), encrypted with the tenant
 * key and subscribed to the platform's queue (`platformQueueArn`): the platform forwards each alert to its bus as
 * `Tenant Infrastructure Budget Exceeded` (lambdas/budgets/infrastructure-budget-events.ts). The topic's policy lets
 * only `budgets.amazonaws.com` publish, for this budget of this account (`aws:SourceAccount`, `aws:SourceArn`), over
 * TLS; the key's statement lets Budgets make data keys and decrypt under the same conditions (Cost Management User
 * Guide, "Creating an Amazon SNS topic for budget notifications" and "Securing your Amazon SNS topic": Budgets needs
 * kms:GenerateDataKey* and kms:Decrypt to publish to an encrypted topic). The subscription is the topic owner's, to a
 * queue of another account: SNS sends the queue a confirmation first, which the platform's forwarder confirms. The topic
 * signs its messages with `SignatureVersion` 2 (SHA256withRSA), the only one the forwarder, which verifies each
 * signature, accepts.
 * Sources: AWS::Budgets::Budget, BudgetData, NotificationWithSubscribers, AWS::SNS::Topic, AWS::SNS::Subscription
 * (CloudFormation Template Reference).
 */
export class TenantInfrastructureBudget extends Construct {
  readonly budget: budgets.CfnBudget;
  /** The alerts' topic, `tessera-<tenant>-infrastructure-budget`. */
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: TenantInfrastructureBudgetProps) {
    super(scope, id);
    const { budget } = props;
    // The notifications, with the topic's address left as a placeholder: their key is part of the budget's name, which
    // changes with them (NotificationsWithSubscribers is create-only: lib/config/infrastructure-budget.ts infrastructureBudgetName).
    const types = budget.forecasted ? ['ACTUAL', 'FORECASTED'] : ['ACTUAL'];
    const notificationsTo = (topicArn: string) => {
      const subscribers = [
        ...budget.subscriberEmails.map((address) => ({ subscriptionType: 'EMAIL', address })),
        { subscriptionType: 'SNS', address: topicArn },
      ];
      return budget.thresholdsPercent.flatMap((threshold) => types.map((notificationType) => ({
        notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
        subscribers,
      })));
    };
    const budgetName = infrastructureBudgetName(props.tenantId, budgetNotificationsKey(notificationsTo('<topic>')));
    const budgetArn = Fn.join('', [`arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:budget/`, budgetName]);
    // The confused-deputy guard AWS gives for both the topic policy and the key policy: this account's budget only.
    const fromThisBudget = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': budgetArn } };
    props.key.allowServicePrincipal('BudgetsEncryptsInfrastructureBudgetAlerts', 'budgets.amazonaws.com', ['kms:GenerateDataKey*', 'kms:Decrypt'], fromThisBudget);
    this.topic = new sns.Topic(this, 'Alerts', {
      topicName: infrastructureBudgetTopicName(props.tenantId),
      displayName: 'Tessera infrastructure budget',
      masterKey: props.key.key,
      enforceSSL: true,
      // SHA256withRSA rather than SNS's default SHA1withRSA: the platform's forwarder verifies the signature of each
      // message and takes version 2 only (lambdas/budgets/infrastructure-budget-events.ts).
      signatureVersion: '2',
    });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'BudgetsPublishesThisBudgetsAlerts', principals: [new iam.ServicePrincipal('budgets.amazonaws.com')], actions: ['sns:Publish'],
      resources: [this.topic.topicArn], conditions: fromThisBudget,
    }));
    // The topic owner subscribes the platform's queue (raw delivery off: the forwarder reads SNS's envelope).
    new sns.CfnSubscription(this, 'PlatformQueue', { topicArn: this.topic.topicArn, protocol: 'sqs', endpoint: props.platformQueueArn });
    this.budget = new budgets.CfnBudget(this, 'Resource', {
      budget: {
        budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: budget.monthlyLimitUsd, unit: 'USD' },
        costFilters: props.scope === 'tag' ? { TagKeyValue: [Fn.join('', [`user:${TENANT_ID_TAG}$`, props.tenantId])] } : undefined,
      },
      notificationsWithSubscribers: notificationsTo(this.topic.topicArn),
    });
    // Budgets checks that it may publish to the topic when the budget names it: the policy (and key) first.
    const policy = this.topic.node.tryFindChild('Policy');
    if (policy) this.budget.node.addDependency(policy);
  }
}
