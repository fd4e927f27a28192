import { beforeAll, describe, expect, it } from 'vitest';
import { priceTemplate } from '../../lib/cost/price-template.js';
import { loadPriceTable } from '../../lib/cost/price-table.js';
import { appTemplates, type AppTemplates } from '../support/default-app.js';
import { newStack, template } from '../support/synth.js';
import { TenantKey } from '../../constructs/tenant-key.js';
import { TenantInfrastructureBudget } from '../../constructs/tenant-infrastructure-budget.js';
import { InfrastructureBudgetConfigSchema } from '../../lib/config/infrastructure-budget.js';
import { ProviderSchemas } from '../../lib/preflight/provider-schemas.js';

/**
 * tiers.<tier>.infrastructureBudget: an AWS Budgets cost budget in each tenant's blueprint, over the tenant's own
 * account (account isolation) or the workload account's costs tagged with the tenant (vpc isolation).
 */
const emails = ['platform-costs@your-company.com', 'finops@your-company.com'];
const DR = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } as const;

let built: AppTemplates;
beforeAll(async () => {
  // GIVEN budgets on the vpc tier professional (with forecasts, and DR: it has a failover variant) and the account tier enterprise
  // WHEN the app is synthesized with the compliance packs
  built = await appTemplates({
    tiers: {
      professional: { infrastructureBudget: { monthlyLimitUsd: 2500, thresholdsPercent: [80, 100, 150], forecasted: true, subscriberEmails: emails }, disasterRecovery: DR },
      enterprise: { infrastructureBudget: { monthlyLimitUsd: 120000.5, subscriberEmails: [emails[0]] } },
    },
    platformDisasterRecovery: { region: 'us-west-2' },
  });
});

type Budget = { Properties: { Budget: Record<string, unknown>; NotificationsWithSubscribers: Array<{ Notification: Record<string, unknown>; Subscribers: unknown[] }> } };
const budgetsOf = (template: { findResources(type: string): Record<string, unknown> }) => Object.values(template.findResources('AWS::Budgets::Budget')) as Budget[];

describe('a tier\'s infrastructure budget', () => {
  it('account isolation: one monthly USD cost budget over the whole account, named after the tenant, unfiltered', () => {
    const [budget, ...more] = budgetsOf(built.blueprints.enterprise);
    expect(more).toEqual([]);
    expect(budget.Properties.Budget).toEqual({
      BudgetName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, expect.stringMatching(/^-infrastructure-[0-9a-f]{8}$/)]] },
      BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 120000.5, Unit: 'USD' },
    });
    // Tagged as every blueprint resource is (ResourceTags), so the budget itself is found by tenant.
    expect((budget.Properties as unknown as { ResourceTags: unknown[] }).ResourceTags).toEqual(expect.arrayContaining([{ Key: 'tessera:tenant-id', Value: { Ref: 'TenantId' } }, { Key: 'tessera:tier', Value: 'enterprise' }]));
    // The default thresholds, actual spend only, each mailing the platform's address and publishing to the alerts' topic.
    expect(budget.Properties.NotificationsWithSubscribers).toEqual([80, 100].map((threshold) => ({
      Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: threshold, ThresholdType: 'PERCENTAGE' },
      Subscribers: [{ SubscriptionType: 'EMAIL', Address: emails[0] }, { SubscriptionType: 'SNS', Address: { Ref: expect.stringMatching(/^InfrastructureBudgetAlerts/) } }],
    })));
  });

  it('vpc isolation: filtered to the workload account\'s costs tagged tessera:tenant-id = the tenant (a user-defined cost allocation tag)', () => {
    const [budget, ...more] = budgetsOf(built.blueprints.professional);
    expect(more).toEqual([]);
    expect(budget.Properties.Budget).toMatchObject({
      BudgetName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, expect.stringMatching(/^-infrastructure-[0-9a-f]{8}$/)]] },
      BudgetLimit: { Amount: 2500, Unit: 'USD' },
      CostFilters: { TagKeyValue: [{ 'Fn::Join': ['', ['user:tessera:tenant-id$', { Ref: 'TenantId' }]] }] },
    });
  });

  it('forecasted: an ACTUAL and a FORECASTED notification per threshold, every subscriber on each (6 of the 10 a budget takes)', () => {
    const [budget] = budgetsOf(built.blueprints.professional);
    expect(budget.Properties.NotificationsWithSubscribers.map((n) => `${n.Notification.NotificationType} > ${n.Notification.Threshold}%`)).toEqual([
      'ACTUAL > 80%', 'FORECASTED > 80%', 'ACTUAL > 100%', 'FORECASTED > 100%', 'ACTUAL > 150%', 'FORECASTED > 150%',
    ]);
    for (const n of budget.Properties.NotificationsWithSubscribers) {
      expect(n.Subscribers).toEqual([...emails.map((Address) => ({ SubscriptionType: 'EMAIL', Address })), { SubscriptionType: 'SNS', Address: { Ref: expect.stringMatching(/^InfrastructureBudgetAlerts/) } }]);
    }
  });

  it.each(['enterprise', 'professional'] as const)('%s: the alerts\' topic, encrypted with the tenant key, published to by this budget only, subscribed to the platform\'s queue', (tier) => {
    const t = built.blueprints[tier];
    const topics = t.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    const [topicId, topic] = Object.entries(topics)[0]! as [string, { Properties: Record<string, unknown> }];
    expect(topic.Properties).toMatchObject({
      TopicName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-infrastructure-budget']] },
      KmsMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      // SHA256withRSA: the platform's forwarder verifies SNS's signature and takes version 2 only.
      SignatureVersion: '2',
    });
    // arn:<partition>:budgets::<this account>:budget/tessera-<tenant>-infrastructure-<notifications key>: the budget's own name
    const nameSuffix = (budgetsOf(t)[0]!.Properties.Budget.BudgetName as { 'Fn::Join': [string, [string, unknown, string]] })['Fn::Join'][1][2];
    expect(nameSuffix).toMatch(/^-infrastructure-[0-9a-f]{8}$/);
    const budgetArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':budgets::', { Ref: 'AWS::AccountId' }, ':budget/tessera-', { Ref: 'TenantId' }, nameSuffix]] };
    const fromThisBudget = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': budgetArn } };
    // The topic policy: Budgets publishes, for this budget of this account only; nothing but TLS.
    const [policy, ...morePolicies] = Object.values(t.findResources('AWS::SNS::TopicPolicy')) as Array<{ Properties: { Topics: unknown[]; PolicyDocument: { Statement: Array<Record<string, unknown>> } } }>;
    expect(morePolicies).toEqual([]);
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const publish = policy.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow');
    expect(publish).toEqual([{ Sid: 'BudgetsPublishesThisBudgetsAlerts', Effect: 'Allow', Principal: { Service: 'budgets.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: topicId }, Condition: fromThisBudget }]);
    expect(policy.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Deny')).toEqual([expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    // The tenant key: Budgets makes data keys and decrypts, for this budget of this account only.
    const keyStatements = (Object.values(t.findResources('AWS::KMS::Key'))[0] as { Properties: { KeyPolicy: { Statement: Array<Record<string, unknown>> } } }).Properties.KeyPolicy.Statement;
    expect(keyStatements.filter((s) => JSON.stringify(s.Principal).includes('budgets.amazonaws.com'))).toEqual([{
      Sid: 'BudgetsEncryptsInfrastructureBudgetAlerts', Effect: 'Allow', Principal: { Service: 'budgets.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: fromThisBudget,
    }]);
    // The subscription: the topic owner's, to the platform's queue in its home Region (the blueprint is deployed with the platform's account id).
    expect(Object.values(t.findResources('AWS::SNS::Subscription'))).toEqual([expect.objectContaining({
      Properties: { TopicArn: { Ref: topicId }, Protocol: 'sqs', Endpoint: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:us-east-1:222222222222:tessera-infrastructure-budget-alerts']] } },
    })]);
    // The budget is created after the topic's policy: Budgets checks it may publish.
    const [budgetId] = Object.keys(t.findResources('AWS::Budgets::Budget'));
    expect(t.toJSON().Resources[budgetId!].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^InfrastructureBudgetAlertsPolicy/)]));
  });

  it('absent: no budget (starter); the failover variant makes none while its home blueprint has one (a budget name is unique per account), nor a topic or subscription', () => {
    expect(budgetsOf(built.blueprints.starter)).toEqual([]);
    expect(budgetsOf(built.blueprints.professional)).toHaveLength(1);
    expect(budgetsOf(built.failoverBlueprints.professional)).toEqual([]);
    expect(built.blueprints.starter.findResources('AWS::SNS::Topic')).toEqual({});
    expect(Object.keys(built.blueprints.professional.findResources('AWS::SNS::Subscription'))).toHaveLength(1);
    expect(built.failoverBlueprints.professional.findResources('AWS::SNS::Topic')).toEqual({});
  });

  it('the platform\'s side (Operations): the queue the topics deliver to, its forwarder, and an alarm on its dead-letter queue', () => {
    const ops = built.operations;
    const queues = ops.findResources('AWS::SQS::Queue');
    const byName = (name: string) => Object.entries(queues).find(([, q]) => (q as { Properties: { QueueName?: string } }).Properties.QueueName === name)?.[0];
    const queueId = byName('tessera-infrastructure-budget-alerts');
    const dlqId = byName('tessera-dlq-infrastructure-budget-alerts');
    expect(queueId).toBeDefined();
    expect(dlqId).toBeDefined();
    ops.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, BatchSize: 1 });
    // The platform monitoring pages on one message in the dead-letter queue, as for every platform DLQ.
    const alarms = Object.values(ops.findResources('AWS::CloudWatch::Alarm')).filter((a) => JSON.stringify(a).includes(`"${dlqId}"`));
    expect(alarms).toHaveLength(1);
    expect(JSON.stringify(alarms[0])).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('costs nothing in npm run cost (a budget without actions, its alerts\' topic and subscription) and is no unpriced resource', () => {
    expect(budgetsOf(built.blueprints.enterprise)).toHaveLength(1);
    expect(Object.keys(built.blueprints.enterprise.findResources('AWS::SNS::Subscription'))).toHaveLength(1);
    const cost = priceTemplate(built.blueprints.enterprise.toJSON() as Parameters<typeof priceTemplate>[0], loadPriceTable('us-east-1'));
    expect(cost.unpriced).toEqual([]);
  });

  it('has zero unacknowledged compliance findings with the budgets in', () => {
    expect(budgetsOf(built.blueprints.enterprise)).toHaveLength(1);
    const open = built.validationReport.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });
});

describe('a change of the budget\'s notifications', () => {
  // NotificationsWithSubscribers is create-only (AWS::Budgets::Budget: "Update requires: Replacement"), and CloudFormation
  // replaces a custom-named resource only under a new name: the budget's name carries a key of its notifications.
  const createOnly = (new ProviderSchemas().get('AWS::Budgets::Budget') as { createOnlyProperties?: string[] } | undefined)?.createOnlyProperties;
  const synthBudget = (budget: Record<string, unknown>) => {
    const stack = newStack();
    const key = new TenantKey(stack, 'Key', {
      tenantId: 'acme', keyUserArns: [], breakGlassRoleArn: 'arn:aws:iam::123456789012:role/tessera-acme-break-glass',
      provisioningRoleArn: 'arn:aws:iam::123456789012:role/TesseraProvisioning', deployerRoleArn: 'arn:aws:iam::123456789012:role/TesseraBlueprintExecution', deployerServices: [],
    });
    new TenantInfrastructureBudget(stack, 'InfrastructureBudget', {
      tenantId: 'acme', budget: InfrastructureBudgetConfigSchema.parse(budget), scope: 'tag', key, platformQueueArn: 'arn:aws:sqs:us-east-1:222222222222:tessera-infrastructure-budget-alerts',
    });
    const t = template(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: { Budget: { BudgetName: string }; NotificationsWithSubscribers: unknown } }> };
    const [b] = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Budgets::Budget');
    const policyArns = JSON.stringify(Object.values(t.Resources).filter((r) => r.Type === 'AWS::SNS::TopicPolicy' || r.Type === 'AWS::KMS::Key'))
      .match(/budget\/tessera-acme-[a-z0-9-]+/g);
    return { name: b!.Properties.Budget.BudgetName, notifications: b!.Properties.NotificationsWithSubscribers, policyArns };
  };
  const base = { monthlyLimitUsd: 1000, thresholdsPercent: [80, 100], forecasted: false, subscriberEmails: ['platform-costs@your-company.com'] };

  it('renames the budget when its notifications change (thresholds, forecasts, addresses), so CloudFormation can replace it; a new limit keeps the name (an in-place update)', () => {
    expect(createOnly).toEqual(expect.arrayContaining(['/properties/Budget/BudgetName', '/properties/NotificationsWithSubscribers']));
    const before = synthBudget(base);
    expect(before.name).toMatch(/^tessera-acme-infrastructure-[0-9a-f]{8}$/);
    // The topic's and the key's policies name this budget, by its new name.
    expect(before.policyArns).toEqual([`budget/${before.name}`, `budget/${before.name}`]);
    const changes = [
      { thresholdsPercent: [80, 100, 120] },
      { forecasted: true },
      { subscriberEmails: ['platform-costs@your-company.com', 'finops@your-company.com'] },
      { subscriberEmails: ['finops@your-company.com'] },
    ];
    const names = changes.map((change) => {
      const after = synthBudget({ ...base, ...change });
      expect(after.notifications).not.toEqual(before.notifications);
      expect(after.policyArns).toEqual([`budget/${after.name}`, `budget/${after.name}`]);
      return after.name;
    });
    expect(new Set([before.name, ...names]).size).toBe(1 + changes.length);
    const newLimit = synthBudget({ ...base, monthlyLimitUsd: 2500 });
    expect(newLimit.notifications).toEqual(before.notifications);
    expect(newLimit.name).toBe(before.name);
  });
});
