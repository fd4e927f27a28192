import { beforeAll, describe, expect, it } from 'vitest';
import { runPreflight, tierPasses, type PreflightReport } from '../../lib/preflight/run.js';
import { configWith } from '../support/config-with.js';
import { saveDiskAnswers, useDiskAnswers } from './support/answer-store.js';
import { cachedBlueprints } from './support/cached-blueprints.js';
import { defaultPreflight } from './support/default-preflight.js';

// A tier with infrastructureBudget adds an AWS::Budgets::Budget to its blueprint: the account baseline's execution
// role must allow its handlers (budgets:ModifyBudget, ViewBudget and the tag actions on budget/tessera-*), and those of
// its alerts' SNS topic, topic policy and subscription (on tessera-* topics), or the tenant's create fails. A vpc tier (the tag-filtered budget in the workload account) and an account tier are checked.
// Registered by describeInfrastructureBudgetPreflight() in preflight.test.ts's process, after the default run.
const TIERS = ['professional', 'enterprise'];
let report: PreflightReport;

/** Registers the infrastructure budget's preflight suite in the calling test file (preflight.test.ts). */
export function describeInfrastructureBudgetPreflight(): void {
  describe('deploy preflight of tiers with an infrastructure budget', () => {
    beforeAll(async () => {
      await defaultPreflight(); // its memoized simulator answers first
      const budget = { monthlyLimitUsd: 5000, forecasted: true, subscriberEmails: ['platform-costs@your-company.com'] };
      const all = await cachedBlueprints(configWith({ tiers: Object.fromEntries(TIERS.map((t) => [t, { infrastructureBudget: budget }])) }));
      useDiskAnswers();
      report = await runPreflight({ ...all, tiers: all.tiers.filter((t) => TIERS.includes(t.tierName)) });
      saveDiskAnswers();
    }, 120_000);

    it.each(TIERS)('%s: checks the budget\'s handlers as the execution role and denies none', (tier) => {
      const result = report.tiers.find((t) => t.tierName === tier)!;
      const tenant = result.blueprints.find((b) => b.blueprint === `${tier}.template.json`)!;
      const budgetChecks = tenant.checks.filter((c) => c.type === 'AWS::Budgets::Budget');
      expect(budgetChecks.filter((c) => c.outcome === 'allowed').map((c) => `${c.handler} ${c.action}`).sort()).toEqual([
        'create budgets:ListTagsForResource', 'create budgets:ModifyBudget', 'create budgets:TagResource', 'create budgets:ViewBudget',
        'delete budgets:ModifyBudget',
        'update budgets:ListTagsForResource', 'update budgets:ModifyBudget', 'update budgets:TagResource', 'update budgets:UntagResource', 'update budgets:ViewBudget',
      ]);
      // On the budget's own ARN: global (no region), in the account the blueprint is deployed in.
      for (const c of budgetChecks.filter((x) => x.action.startsWith('budgets:'))) expect(c.resource).toMatch(/^arn:aws:budgets::\d{12}:budget\/tessera-[a-z0-9-]+-infrastructure-[0-9a-f]{8}$/);
      // billing:GetBillingViewData is for a budget over a billing view, which the blueprint does not set.
      expect(budgetChecks.filter((c) => c.action === 'billing:GetBillingViewData').map((c) => c.outcome)).toEqual(['not-exercised', 'not-exercised']);
      // Its alerts' topic, topic policy and subscription: on the topic's own ARN, in the blueprint's Region and account.
      const topicChecks = tenant.checks.filter((c) => c.type.startsWith('AWS::SNS::'));
      expect([...new Set(topicChecks.map((c) => c.type))].sort()).toEqual(['AWS::SNS::Subscription', 'AWS::SNS::Topic', 'AWS::SNS::TopicPolicy']);
      expect(topicChecks.filter((c) => c.outcome === 'allowed').map((c) => `${c.handler} ${c.action}`)).toEqual(expect.arrayContaining([
        'create sns:CreateTopic', 'create sns:SetTopicAttributes', 'create sns:Subscribe', 'delete sns:DeleteTopic', 'delete sns:Unsubscribe',
      ]));
      for (const c of topicChecks.filter((x) => x.action.startsWith('sns:'))) expect(c.resource).toMatch(/^arn:aws:sns:[a-z0-9-]+:\d{12}:tessera-[a-z0-9-]+-infrastructure-budget$/);
      const denied = tenant.checks.filter((c) => c.outcome === 'denied').map((c) => `${c.logicalId} ${c.action} on ${c.resource}`);
      expect(denied).toEqual([]);
      expect(tierPasses(result)).toBe(true);
    });
  });
}
