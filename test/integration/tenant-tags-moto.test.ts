import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListTagsForResourceCommand, OrganizationsClient, TagResourceCommand } from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { inject, throttle } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/** `enterprise-xl`: the enterprise tier (account isolation) with a pool of its own, so a move between them changes nothing else. */
function enterpriseXl() {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.enterprise);
  tier.network.tenantCidrPool = '10.112.0.0/12';
  return tier;
}

const local = useLocalLifecycle(configWith({ tiers: { 'enterprise-xl': enterpriseXl() } }));

/**
 * A tenant's own tags (lib/tenant-tags.ts) through a whole onboarding on moto: recorded, on the account Organizations
 * made (CreateAccount Tags), on the tenant stack (stack Tags, which CloudFormation propagates to its resources) beside
 * Tessera's `tessera:*` tags, and carried by `Tenant Activated`. Tenant id `tagco`: no other test uses it.
 */
describe('tenant tags (aws-local-stepfunctions + moto)', () => {
  it('onboards an account-isolated tenant with tags: on its record, its account, its stack and its Tenant Activated event', async () => {
    const tags = { CostCenter: '4711', Owner: 'team-x' };
    const run = await local.workflows.run('onboard', onboardRequest('tagco', 'enterprise', { tags }));
    expect(run.error).toBeUndefined();
    const record = await getTenant('tagco');
    expect(record).toMatchObject({ status: 'ACTIVE', isolation: 'account', tags });
    // The account: Tessera's tags and the tenant's, as Organizations answers them.
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const accountTags = (await orgs.send(new ListTagsForResourceCommand({ ResourceId: record!.accountId! }))).Tags!;
    expect(Object.fromEntries(accountTags.map((t) => [t.Key, t.Value]))).toEqual({ 'tessera:tenant-id': 'tagco', 'tessera:tier': 'enterprise', ...tags });
    // The tenant stack: after its create and the update that protects the database (the change set keeps the tags).
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(record!.accountId!) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-tagco' }))).Stacks![0];
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    const stackTags = Object.fromEntries(stack.Tags!.map((t) => [t.Key, t.Value]));
    expect(stackTags).toMatchObject({ 'tessera:tenant-id': 'tagco', 'tessera:tier': 'enterprise', 'tessera:request-id': 'req-tagco-0001', ...tags });
    const activated = (await local.fixture.events()).find((e) => e.detail.tenantId === 'tagco' && e.detailType === 'Tenant Activated');
    expect(activated?.detail).toMatchObject({ tenantId: 'tagco', tags });
  });

  it('refuses a reserved key at Validate request, before anything is registered', async () => {
    const run = await local.workflows.run('onboard', onboardRequest('tagbad', 'starter', { tags: { 'aws:cost': '1' } }));
    expect(run.error?.message).toMatch(/InvalidRequest/);
    expect(await getTenant('tagbad')).toBeUndefined();
    const failed = (await local.fixture.events()).find((e) => e.detail.tenantId === 'tagbad');
    expect(failed?.detail.reason).toMatch(/tags\.aws:cost = "1": Invalid key "aws:cost": is reserved: keys starting "aws:"/);
  });
});

/**
 * Changing a tenant's tags after onboarding (session 45): a VPC tenant (`tagvpc`, starter: shared compute, so a namespace stack
 * too; no other test uses the id) onboarded with two tags, then a change that alters one and removes the other, then
 * one that removes the last. Each change keeps the tier and version and puts the new set on the tenant and namespace stacks.
 * An account tenant (`tagacct`): its AWS account's tags as Organizations lists them after the change.
 * An account tenant moved to another account tier (`tiertag`, session 46): its account's `tessera:tier`.
 */
describe('changing a tenant\'s tags (aws-local-stepfunctions + moto)', () => {
  const stackTagsOf = async (credentials: Awaited<ReturnType<typeof local.fixture.as>>, name: string) => {
    const stack = (await new CloudFormationClient({ credentials }).send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
    return Object.fromEntries(stack.Tags!.filter((t) => !t.Key!.startsWith('tessera:')).map((t) => [t.Key, t.Value]));
  };

  it('changes one tag and removes another on the stacks, records them and announces them; then removes the last', async () => {
    const onboarded = await local.workflows.run('onboard', onboardRequest('tagvpc', 'starter', { tags: { CostCenter: '4711', Owner: 'team-x' } }));
    expect(onboarded.error).toBeUndefined();
    const before = (await getTenant('tagvpc'))!;
    expect(before).toMatchObject({ status: 'ACTIVE', isolation: 'vpc' });
    const workload = await local.fixture.as(before.accountId!);
    expect(await stackTagsOf(workload, 'tessera-tagvpc')).toEqual({ CostCenter: '4711', Owner: 'team-x' });

    const changed = await local.workflows.run('change', { request: { tenantId: 'tagvpc', requestId: 'req-tagvpc-tags-1' }, change: { tags: { CostCenter: '4712' } } });
    expect(changed.error).toBeUndefined();
    const after = (await getTenant('tagvpc'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'starter', blueprintVersion: before.blueprintVersion, tags: { CostCenter: '4712' } });
    expect(after.executions.at(-1)).toMatchObject({ kind: 'change', status: 'SUCCEEDED' });
    expect(await stackTagsOf(workload, 'tessera-tagvpc')).toEqual({ CostCenter: '4712' });
    expect(await stackTagsOf(local.fixture.platform, 'tessera-tagvpc-namespace')).toEqual({ CostCenter: '4712' });
    const announced = (await local.fixture.events()).filter((e) => e.detail.tenantId === 'tagvpc' && e.detailType === 'Tenant Changed');
    expect(announced.at(-1)?.detail).toMatchObject({ tier: 'starter', tags: { CostCenter: '4712' } });

    const cleared = await local.workflows.run('change', { request: { tenantId: 'tagvpc', requestId: 'req-tagvpc-tags-2' }, change: { tags: {} } });
    expect(cleared.error).toBeUndefined();
    expect((await getTenant('tagvpc'))!.tags).toBeUndefined();
    expect(await stackTagsOf(workload, 'tessera-tagvpc')).toEqual({});
  });

  it('retags an account tenant\'s AWS account too (Tag account): one tag changed, one removed, Tessera\'s kept', async () => {
    // Its own tenant (`tagacct`, no other test uses it): this block runs alone too (-t).
    expect((await local.workflows.run('onboard', onboardRequest('tagacct', 'enterprise', { tags: { CostCenter: '4711', Owner: 'team-x' } }))).error).toBeUndefined();
    const run = await local.workflows.run('change', { request: { tenantId: 'tagacct', requestId: 'req-tagacct-tags-1' }, change: { tags: { CostCenter: '4712', Project: 'llm' } } });
    expect(run.error).toBeUndefined();
    const record = (await getTenant('tagacct'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'enterprise', tags: { CostCenter: '4712', Project: 'llm' } });
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const accountTags = (await orgs.send(new ListTagsForResourceCommand({ ResourceId: record.accountId! }))).Tags!;
    expect(Object.fromEntries(accountTags.map((t) => [t.Key, t.Value]))).toEqual({ 'tessera:tenant-id': 'tagacct', 'tessera:tier': 'enterprise', CostCenter: '4712', Project: 'llm' });
    expect(await stackTagsOf(await local.fixture.as(record.accountId!), 'tessera-tagacct')).toEqual({ CostCenter: '4712', Project: 'llm' });
  });

  // session 46: a fault at Tag account. Its own tenant (`tagfault`, no other test uses it).
  it('a TagResource refused at Tag account leaves the record on the tags the account carries; the same tags sent again put them on it', async () => {
    expect((await local.workflows.run('onboard', onboardRequest('tagfault', 'enterprise', { tags: { CostCenter: '4711', Owner: 'team-x' } }))).error).toBeUndefined();
    const accountId = (await getTenant('tagfault'))!.accountId!;
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const ownAccountTags = async () => Object.fromEntries((await orgs.send(new ListTagsForResourceCommand({ ResourceId: accountId }))).Tags!
      .filter((t) => !t.Key!.startsWith('tessera:')).map((t) => [t.Key, t.Value]));
    // Organizations refuses the TagResource as it does an account past 50 tags (moto does not count them).
    local.cleanups.push(inject('tagfault-limit', (next, context) => async (args) => {
      if (context.commandName === 'TagResourceCommand' && args.input.ResourceId === accountId) {
        throw Object.assign(new Error('You have exceeded the allowed number of tags for this resource.'), { name: 'ConstraintViolationException', Reason: 'MAX_TAG_LIMIT_EXCEEDED', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }));
    const failed = await local.workflows.run('change', { request: { tenantId: 'tagfault', requestId: 'req-tagfault-tags-1' }, change: { tags: { CostCenter: '4712' } } });
    expect(failed.error?.message).toMatch(/ConstraintViolationException/);
    const record = (await getTenant('tagfault'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', failure: { step: 'Tag account' } });
    // UntagResource of Owner went through, TagResource did not: the record names what the account carries, no more.
    expect(await ownAccountTags()).toEqual({ CostCenter: '4711' });
    expect(record.tags).toEqual({ CostCenter: '4711' });
    expect(await stackTagsOf(await local.fixture.as(accountId), 'tessera-tagfault')).toEqual({ CostCenter: '4712' });
    // The fault gone, the same tags sent again (a new request) reach the account and the record.
    local.cleanups.splice(0).forEach((undo) => undo());
    const again = await local.workflows.run('change', { request: { tenantId: 'tagfault', requestId: 'req-tagfault-tags-2' }, change: { tags: { CostCenter: '4712' } } });
    expect(again.error).toBeUndefined();
    expect((await getTenant('tagfault'))!.tags).toEqual({ CostCenter: '4712' });
    expect(await ownAccountTags()).toEqual({ CostCenter: '4712' });
  });

  it('Organizations\' throttling and contention at Tag account are retried by the workflow (TooManyRequestsException, ConcurrentModificationException)', async () => {
    // Its own tenant (`tagretry`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('tagretry', 'enterprise', { tags: { CostCenter: '4711', Owner: 'team-x' } }))).error).toBeUndefined();
    const accountId = (await getTenant('tagretry'))!.accountId!;
    const untag = throttle('UntagResourceCommand', 1, 'ConcurrentModificationException', (input) => input.ResourceId === accountId);
    const tag = throttle('TagResourceCommand', 2, 'TooManyRequestsException', (input) => input.ResourceId === accountId);
    local.cleanups.push(untag.removed, tag.removed);
    const run = await local.workflows.run('change', { request: { tenantId: 'tagretry', requestId: 'req-tagretry-tags-1' }, change: { tags: { CostCenter: '4712' } } });
    expect(run.error).toBeUndefined();
    expect([untag.thrown(), tag.thrown()]).toEqual([1, 2]);
    expect((await getTenant('tagretry'))).toMatchObject({ status: 'ACTIVE', tags: { CostCenter: '4712' } });
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const accountTags = (await orgs.send(new ListTagsForResourceCommand({ ResourceId: accountId }))).Tags!;
    expect(Object.fromEntries(accountTags.filter((t) => !t.Key!.startsWith('tessera:')).map((t) => [t.Key, t.Value]))).toEqual({ CostCenter: '4712' });
  });

  // session 46: before, only a tags change reached Tag account, and the account kept the tier of its onboarding for good.
  it('an account tenant\'s tier change moves tessera:tier on its account to the new tier (Tag account), its own tags untouched; a repair puts them back', async () => {
    // Its own tenant (`tiertag`, no other test uses it).
    const tags = { CostCenter: '4711' };
    expect((await local.workflows.run('onboard', onboardRequest('tiertag', 'enterprise', { tags }))).error).toBeUndefined();
    const accountId = (await getTenant('tiertag'))!.accountId!;
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const accountTags = async () => Object.fromEntries((await orgs.send(new ListTagsForResourceCommand({ ResourceId: accountId }))).Tags!.map((t) => [t.Key, t.Value]));
    expect(await accountTags()).toEqual({ 'tessera:tenant-id': 'tiertag', 'tessera:tier': 'enterprise', ...tags });
    const run = await local.workflows.run('change', { request: { tenantId: 'tiertag', requestId: 'req-tiertag-xl' }, change: { tier: 'enterprise-xl' } });
    expect(run.error).toBeUndefined();
    expect(run.states).toContain('Tag account');
    expect(await getTenant('tiertag')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise-xl', tags });
    expect(await accountTags()).toEqual({ 'tessera:tenant-id': 'tiertag', 'tessera:tier': 'enterprise-xl', ...tags });
    // An account moved before this fix (or retagged by hand): a repair puts its tier and its own tags back, removing nothing.
    await orgs.send(new TagResourceCommand({ ResourceId: accountId, Tags: [{ Key: 'tessera:tier', Value: 'enterprise' }, { Key: 'CostCenter', Value: 'by-hand' }, { Key: 'OtherTool', Value: 'x' }] }));
    const repaired = await local.workflows.run('change', { request: { tenantId: 'tiertag', requestId: 'req-tiertag-repair' }, change: { repair: true } });
    expect(repaired.error).toBeUndefined();
    expect(await accountTags()).toEqual({ 'tessera:tenant-id': 'tiertag', 'tessera:tier': 'enterprise-xl', ...tags, OtherTool: 'x' });
  });
});
