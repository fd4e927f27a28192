import { Duration, Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALERT_EMAIL_ENV, BUDGET_ALERTS_ENV, MAIL_MARKER_PREFIX } from '../lambdas/inference/budget-alerts/environment.js';
import { BUDGET_THRESHOLD_EVENT } from '../lambdas/inference/budget-alerts/thresholds.js';
import { alertMailSenders } from '../lib/config/budget-alerts-config.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import { LIFECYCLE_EVENT_SOURCE } from '../lib/lifecycle-constants.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { ruleScopeFor } from './event-rule-home.js';
import { LambdaFunction } from './lambda-function.js';
import { PLATFORM_FUNCTIONS } from '../lib/lambda-concurrency.js';

export interface TenantBudgetAlertsProps {
  /** The platform config: each tier's `budgetAlerts` (lib/config/budget-alerts-config.ts). */
  readonly config: PlatformConfig;
  /** The platform bus the events go on. @default - none: no budget alerts (the router logs that they are off) */
  readonly eventBus?: events.IEventBus;
  /** The gateway functions that settle budgets and put the events (the router). */
  readonly gatewayFunctions: LambdaFunction[];
  /** The platform's Cognito pool of tenant users, whose `tenant-admin` members get the mail. @default - none (an external identity provider): no tier may mail its admins */
  readonly userPool?: cognito.IUserPool;
  /** The platform key: the mail Lambda's logs and dead-letter queue; the usage table is encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** The gateway's usage table (partition key `id`, TTL attribute `expiresAt`): the mail Lambda's once-per-address markers are items of it. */
  readonly usageTable: dynamodb.ITableV2;
}

/** Role of the budget alert mail Lambda. */
export const BUDGET_ALERT_EMAIL_ROLE_NAME = PLATFORM_FUNCTIONS.budgetAlertEmail.roleName;

/**
 * Tenant budget alerts in AWS (lambdas/inference/budget-alerts/):
 * - the gateway functions get the bus name and `events:PutEvents` on the bus for
 *   `Tenant Budget Threshold Reached` from `tessera.lifecycle` only (`events:detail-type` and
 *   `events:source`, every entry of the call). Their markers are usage-table items under
 *   `usage#<tenant>#`, written with UpdateItem as the tenant (TenantDataAccessRole's
 *   `UsageOwnCounters`): no grant here.
 * - when some tier sets `budgetAlerts.emailTenantAdmins`: a rule for those tiers' events, a small
 *   Lambda that mails the tenant's admins through SES v2 (ListUsersInGroup on the pool,
 *   `ses:SendEmail` only from the tiers' senders, PutItem and DeleteItem of the usage table's
 *   `alert-mail#*` items only (`dynamodb:LeadingKeys`), returning nothing, and the platform key only
 *   through DynamoDB for that table), and a dead-letter queue (platform key) for
 *   events whose mail failed after Lambda's two retries. EventBridge retries delivery for 6 hours.
 *   Nothing is created when no tier mails (the platform stack's resource count stays as it is).
 *
 * @throws Error when a tier mails its admins but there is no user pool (gateway.jwt names an external issuer)
 */
export class TenantBudgetAlerts extends Construct {
  /** The mail Lambda, when some tier mails its admins. */
  readonly emailFunction?: LambdaFunction;
  /** Events whose mail failed after Lambda's retries (alarm on its depth). */
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: TenantBudgetAlertsProps) {
    super(scope, id);
    const bus = props.eventBus;
    if (!bus) return;
    for (const fn of props.gatewayFunctions) {
      fn.function.addEnvironment(BUDGET_ALERTS_ENV.eventBus, bus.eventBusName);
      fn.addToPolicy(new iam.PolicyStatement({
        sid: 'BudgetThresholdEvents', actions: ['events:PutEvents'], resources: [bus.eventBusArn],
        // Multivalued keys (one value per entry of the call): every entry must match, and they must be present.
        conditions: {
          'ForAllValues:StringEquals': { 'events:source': [LIFECYCLE_EVENT_SOURCE], 'events:detail-type': [BUDGET_THRESHOLD_EVENT] },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      }));
    }

    const senders = alertMailSenders(props.config.tiers);
    const tiers = Object.keys(senders);
    if (!tiers.length) return;
    if (!props.userPool) {
      throw new Error(`TenantBudgetAlerts: tiers.${tiers[0]}.budgetAlerts.emailTenantAdmins is true, but the platform has no Cognito user pool (gateway.jwt names an external issuer), so it cannot find the tenant's admins: set emailTenantAdmins to false and subscribe your own mailer to "${BUDGET_THRESHOLD_EVENT}" events`);
    }
    const stack = Stack.of(this);

    // One dead-letter queue for the rule's delivery failures and the mail Lambda's failed runs.
    const deadLetters = new DeadLetterQueue(this, 'DeadLetters', {
      name: 'budget-alert-email', source: 'rule Thresholds to budget alert mail Lambda', encryptionKey: props.encryptionKey,
    });
    this.deadLetterQueue = deadLetters.queue;

    const fn = new LambdaFunction(this, 'Email', {
      handlerFile: 'inference/budget-alerts/email-handler', roleName: BUDGET_ALERT_EMAIL_ROLE_NAME, encryptionKey: props.encryptionKey,
      environment: { [ALERT_EMAIL_ENV.userPoolId]: props.userPool.userPoolId, [ALERT_EMAIL_ENV.senders]: JSON.stringify(senders), [ALERT_EMAIL_ENV.usageTable]: props.usageTable.tableName },
      memorySize: 256, timeout: Duration.seconds(30), reservedConcurrency: PLATFORM_FUNCTIONS.budgetAlertEmail.reservedConcurrency,
      invocation: 'by EventBridge, asynchronously: EventBridge retries delivery for 6 hours, Lambda retries a failed run twice, then its dead-letter queue keeps the event',
      outsideVpcReason: 'calls only the Cognito, SES and DynamoDB APIs over HTTPS; it reaches no resource inside a VPC.',
      asyncInvocation: { deadLetterQueue: deadLetters, retryAttempts: 2, maxEventAge: Duration.hours(6), reason: 'a threshold is mailed once per tenant and month (markers); six hours matches EventBridge\'s delivery window' },
    });
    fn.addToPolicy(new iam.PolicyStatement({ sid: 'TenantAdmins', actions: ['cognito-idp:ListUsersInGroup'], resources: [props.userPool.userPoolArn] }));
    // SES authorizes SendEmail on the sending identity: the address itself, or its domain when the domain is the verified identity.
    const addresses = [...new Set(Object.values(senders))];
    const identities = [...new Set(addresses.flatMap((a) => [a, a.split('@')[1]!]))].map((name) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'AlertMail', actions: ['ses:SendEmail'], resources: identities,
      conditions: { StringEquals: { 'ses:FromAddress': addresses } },
    }));
    // Once per admin and event (lambdas/inference/budget-alerts/mail-markers.ts): its own markers, no other usage item.
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'AlertMailMarkers', actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [props.usageTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${MAIL_MARKER_PREFIX}*`] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'UsageTableKeyThroughDynamoDB', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`,
          'kms:EncryptionContext:aws:dynamodb:tableName': props.usageTable.tableName,
          'kms:EncryptionContext:aws:dynamodb:subscriberId': stack.account,
        },
      },
    }));
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'DescribeKeyThroughDynamoDB', actions: ['kms:DescribeKey'], resources: [props.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    }));
    this.emailFunction = fn;

    new events.Rule(ruleScopeFor(this), 'Thresholds', {
      eventBus: bus,
      description: `${BUDGET_THRESHOLD_EVENT} of tenants whose tier mails its admins (${tiers.join(', ')})`,
      eventPattern: { source: [LIFECYCLE_EVENT_SOURCE], detailType: [BUDGET_THRESHOLD_EVENT], detail: { tier: tiers } },
      // Mail may wait, but not a day: 8 delivery tries over up to 6 hours, then the DLQ.
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: deadLetters.queue })],
    });
  }
}

