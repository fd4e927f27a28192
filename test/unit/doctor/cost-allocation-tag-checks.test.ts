import { CostExplorerClient, CostExplorerServiceException, ListCostAllocationTagsCommand } from '@aws-sdk/client-cost-explorer';
import { beforeEach, describe, expect, it } from 'vitest';
import { costAllocationTagChecks } from '../../../lib/cli/doctor/cost-allocation-tag-checks.js';
import { mockStrict } from '../../support/strict-mock.js';
import { awsError, MANAGEMENT, mockSts, testConfig, testContext } from './support.js';

const ce = mockStrict(CostExplorerClient, 'ce', CostExplorerServiceException);
const BUDGET = { monthlyLimitUsd: 5000, subscriberEmails: ['platform-costs@your-company.com'] };
const budgeted = (tiers: Record<string, unknown> = { professional: { infrastructureBudget: BUDGET } }) => testConfig({ tiers });
const ACTIVATE = `in account ${MANAGEMENT}: aws ce update-cost-allocation-tags-status --region us-east-1 --cost-allocation-tags-status TagKey=tessera:tenant-id,Status=Active (or Billing and Cost Management → Cost allocation tags → User-defined → tessera:tenant-id → Activate)`;

beforeEach(() => {
  ce.reset();
  mockSts();
});

describe('cost allocation tag tessera:tenant-id (a vpc tier\'s infrastructure budget)', () => {
  it('makes no Cost Explorer call and passes when no vpc tier sets infrastructureBudget (an account tier\'s budget needs no tag)', async () => {
    const lines = await costAllocationTagChecks(testContext(budgeted({ enterprise: { infrastructureBudget: BUDGET } })));
    expect(lines).toEqual([{ id: 'cost-allocation-tag', title: 'Cost allocation tag tessera:tenant-id', status: 'pass', detail: 'no vpc tier sets infrastructureBudget: no budget filters by the tag, no Cost Explorer call made', account: MANAGEMENT, region: 'us-east-1' }]);
    expect(ce.calls()).toHaveLength(0);
  });

  it('passes an Active tag, read in the management account at Cost Explorer\'s us-east-1 endpoint', async () => {
    ce.on(ListCostAllocationTagsCommand, { TagKeys: ['tessera:tenant-id'], Type: 'UserDefined' }).resolves({ CostAllocationTags: [{ TagKey: 'tessera:tenant-id', Type: 'UserDefined', Status: 'Active' }] });
    const [line] = await costAllocationTagChecks(testContext(budgeted()));
    expect(line).toMatchObject({ status: 'pass', detail: 'Active in the management account (the infrastructure budget of tier professional counts only costs tagged tessera:tenant-id)', account: MANAGEMENT, region: 'us-east-1' });
    expect(await ce.commandCalls(ListCostAllocationTagsCommand)[0].thisValue.config.region()).toBe('us-east-1');
  });

  it('warns of an Inactive tag with the command that activates it', async () => {
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [{ TagKey: 'tessera:tenant-id', Type: 'UserDefined', Status: 'Inactive' }] });
    const [line] = await costAllocationTagChecks(testContext(budgeted({ starter: { infrastructureBudget: BUDGET }, professional: { infrastructureBudget: BUDGET } })));
    expect(line).toMatchObject({
      status: 'warn',
      detail: 'Inactive: the infrastructure budget of tiers starter, professional counts only costs tagged tessera:tenant-id, so its budgets see $0 until it is activated (and then only costs from then on)',
      fix: ACTIVATE,
    });
  });

  it('warns of a tag Billing does not list yet (no tagged usage reported), naming how to look and then activate', async () => {
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [] });
    const [line] = await costAllocationTagChecks(testContext(budgeted()));
    expect(line.status).toBe('warn');
    expect(line.detail).toMatch(/^not listed yet: Billing lists a tag key once a resource carrying it has reported usage/);
    expect(line.fix).toBe(`once listed (in account ${MANAGEMENT}: aws ce list-cost-allocation-tags --region us-east-1 --tag-keys tessera:tenant-id --type UserDefined), ${ACTIVATE}`);
  });

  it('fails a refused call with the grant it needs', async () => {
    ce.on(ListCostAllocationTagsCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ce:ListCostAllocationTags', 400));
    const [line] = await costAllocationTagChecks(testContext(budgeted()));
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/ce:ListCostAllocationTags/);
    expect(line.fix).toMatch(/^grant ce:ListCostAllocationTags to /);
  });
});
