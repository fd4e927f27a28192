import {
  DeleteOrganizationalUnitCommand, ListOrganizationalUnitsForParentCommand, ListParentsCommand, ListRootsCommand, ListTagsForResourceCommand, MoveAccountCommand, OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { getTenant, listTenants } from '../../lambdas/shared/registry.js';
import { upgradeItems } from '../../lambdas/lifecycle/list-tier-tenants.js';
import type { Definition } from './support/workflow-runner.js';
import { configWith } from '../support/config-with.js';
import { inject, throttle } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/** The enterprise tier (account isolation) with a pool of its own, so a move between them changes nothing else. */
function enterpriseLike(pool: string) {
  const tier = structuredClone(DEFAULT_CONFIG.tiers.enterprise);
  tier.network.tenantCidrPool = pool;
  return tier;
}

// enterprise-2x: a tier whose OU the test deletes (as if the TesseraOrganization stack had not been deployed since it was added).
const local = useLocalLifecycle(configWith({ tiers: { 'enterprise-xl': enterpriseLike('10.112.0.0/12'), 'enterprise-2x': enterpriseLike('10.128.0.0/12') } }));

/**
 * session 46: an account tenant's tier change moves its AWS account into the new tier's OU (`tessera-<tier>`, *Move
 * account*, before the stacks); a repair puts back an account moved by hand. Before, the account stayed in the OU of
 * the tier it was onboarded on for good. Organizations on moto: OUs, ListParents and MoveAccount as AWS has them.
 */
describe('an account tenant\'s tier change moves its account to the new tier\'s OU (aws-local-stepfunctions + moto)', () => {
  const orgs = () => new OrganizationsClient({ credentials: local.fixture.management });
  const ouNamed = async (name: string) => {
    const root = (await orgs().send(new ListRootsCommand({}))).Roots![0].Id!;
    return (await orgs().send(new ListOrganizationalUnitsForParentCommand({ ParentId: root }))).OrganizationalUnits!.find((u) => u.Name === name)?.Id;
  };
  const parentOf = async (accountId: string) => (await orgs().send(new ListParentsCommand({ ChildId: accountId }))).Parents![0].Id;
  /** Counts the MoveAccount calls of the Lambdas' Organizations clients for `accountId`. */
  const countMoves = (accountId: string) => {
    let moves = 0;
    local.cleanups.push(inject('count-moves', (next, context) => async (args) => {
      if (context.commandName === 'MoveAccountCommand' && args.input.AccountId === accountId) moves += 1;
      return next(args);
    }));
    return () => moves;
  };

  it('moves the account from tessera-enterprise to tessera-enterprise-xl (contention retried); a replay and a repair move nothing more', async () => {
    // Its own tenant (`ouxl`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ouxl', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ouxl'))!.accountId!;
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise'));
    const moves = countMoves(accountId);
    // Organizations' contention ("try again later") on the first MoveAccount: the workflow's retry.
    const busy = throttle('MoveAccountCommand', 1, 'ConcurrentModificationException', (input) => input.AccountId === accountId);
    local.cleanups.push(busy.removed);
    const request = { request: { tenantId: 'ouxl', requestId: 'req-ouxl-xl' }, change: { tier: 'enterprise-xl' } };
    const run = await local.workflows.run('change', request);
    expect(run.error).toBeUndefined();
    expect(run.states).toContain('Move account');
    expect(run.states.indexOf('Move account')).toBeLessThan(run.states.indexOf('Deploy account baseline'));
    expect([busy.thrown(), moves()]).toEqual([1, 2]);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    expect(await getTenant('ouxl')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise-xl' });
    // The same request again: the tenant is on enterprise-xl, nothing to move.
    const replay = await local.workflows.run('change', request);
    expect(replay.error).toBeUndefined();
    expect(replay.states).not.toContain('Move account');
    // A repair runs Move account, which finds the account in its OU: no MoveAccount.
    const repaired = await local.workflows.run('change', { request: { tenantId: 'ouxl', requestId: 'req-ouxl-repair' }, change: { repair: true } });
    expect(repaired.error).toBeUndefined();
    expect(repaired.states).toContain('Move account');
    expect(moves()).toBe(2);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
  });

  it('a repair puts an account moved by hand back in its tier\'s OU', async () => {
    // Its own tenant (`ouhand`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ouhand', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ouhand'))!.accountId!;
    const enterprise = (await ouNamed('tessera-enterprise'))!;
    await orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: enterprise, DestinationParentId: (await ouNamed('tessera-starter'))! }));
    const repaired = await local.workflows.run('change', { request: { tenantId: 'ouhand', requestId: 'req-ouhand-repair' }, change: { repair: true } });
    expect(repaired.error).toBeUndefined();
    expect(await parentOf(accountId)).toBe(enterprise);
  });

  it('fails at Move account, recorded on the tenant, when the new tier\'s OU does not exist; the account and the stacks stay as they were', async () => {
    // Its own tenant (`ounone`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ounone', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ounone'))!.accountId!;
    await orgs().send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: (await ouNamed('tessera-enterprise-2x'))! }));
    const run = await local.workflows.run('change', { request: { tenantId: 'ounone', requestId: 'req-ounone-2x' }, change: { tier: 'enterprise-2x' } });
    expect(run.error?.message).toMatch(/AccountPlacement/);
    expect(run.states).not.toContain('Deploy account baseline');
    const record = (await getTenant('ounone'))!;
    expect(record).toMatchObject({
      status: 'ACTIVE', tier: 'enterprise',
      failure: { step: 'Move account', reason: expect.stringContaining('tier enterprise-2x\'s organizational unit tessera-enterprise-2x does not exist under the organization\'s root') },
    });
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise'));
  });

  /** The account's `tessera:tier` tag as Organizations lists it. */
  const tierTagOf = async (accountId: string) => (await orgs().send(new ListTagsForResourceCommand({ ResourceId: accountId }))).Tags!.find((t) => t.Key === 'tessera:tier')?.Value;

  // a tier change that failed after Move account left the account in the new tier's OU with the record on the old
  // tier (documented); the next change that succeeded (a tags change, a rolling upgrade's run) cleared the failure and
  // left the account there for good: only a repair, which nothing asked for any more, moved it back.
  it('a change after a tier change that failed at its stacks puts the account back in the recorded tier\'s OU', async () => {
    // Its own tenant (`oustay`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('oustay', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('oustay'))!.accountId!;
    // The new OU's SCP refuses the tier stack's change set (CloudFormation's AccessDenied): the change fails after Move account.
    local.cleanups.push(inject('scp-refuses-oustay', (next, context) => async (args) => {
      if (context.commandName === 'CreateChangeSetCommand' && args.input.StackName === 'tessera-oustay') {
        throw Object.assign(new Error('User: arn:aws:sts::' + accountId + ':assumed-role/tessera-deployer is not authorized to perform: cloudformation:CreateChangeSet with an explicit deny in a service control policy'),
          { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    }));
    const failed = await local.workflows.run('change', { request: { tenantId: 'oustay', requestId: 'req-oustay-xl' }, change: { tier: 'enterprise-xl' } });
    expect(failed.error?.message).toMatch(/AccessDenied/);
    expect(failed.states).toContain('Move account');
    // The failure says where the account is (tessera tenants show prints it): before, nothing did.
    expect(await getTenant('oustay')).toMatchObject({
      status: 'ACTIVE', tier: 'enterprise',
      failure: { step: 'Deploy blueprint', reason: expect.stringContaining(`account ${accountId} is in OU tessera-enterprise-xl (${await ouNamed('tessera-enterprise-xl')}), not tier enterprise's tessera-enterprise: the tenant's next change, upgrade run or repair puts it back`) },
    });
    // As documented: the account stays in the new tier's OU until the change is sent again or the tenant repaired.
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    local.cleanups.splice(0).forEach((undo) => undo());
    // The platform team changes the tenant's tags instead: the change succeeds, and the tenant is on tier enterprise in tessera-enterprise.
    const tags = await local.workflows.run('change', { request: { tenantId: 'oustay', requestId: 'req-oustay-tags' }, change: { tags: { CostCenter: '4711' } } });
    expect(tags.error).toBeUndefined();
    const record = (await getTenant('oustay'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'enterprise' });
    expect(record.failure).toBeUndefined();
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise'));
    expect(await tierTagOf(accountId)).toBe('enterprise');
  });

  // a tier change that failed at Tag account (after its stacks recorded the new tier) left `tessera:tier` on the old
  // tier; the same change sent again is `nothing_to_change`, and a later tags change put only the tenant's own tags.
  it('a change after a tier change that failed at Tag account puts tessera:tier to the recorded tier', async () => {
    // Its own tenant (`ouretag`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ouretag', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ouretag'))!.accountId!;
    local.cleanups.push(inject('tag-refused-ouretag', (next, context) => async (args) => {
      if (context.commandName === 'TagResourceCommand' && args.input.ResourceId === accountId) {
        throw Object.assign(new Error('You don\'t have permissions to access this resource.'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }));
    const failed = await local.workflows.run('change', { request: { tenantId: 'ouretag', requestId: 'req-ouretag-xl' }, change: { tier: 'enterprise-xl' } });
    expect(failed.error?.message).toMatch(/AccessDeniedException/);
    // The stacks stand on the new tier (recorded by their check), the account is in its OU, its tessera:tier not yet moved.
    expect(await getTenant('ouretag')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise-xl', failure: { step: 'Tag account' } });
    expect((await getTenant('ouretag'))!.failure!.reason).not.toMatch(/is in OU/);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    expect(await tierTagOf(accountId)).toBe('enterprise');
    local.cleanups.splice(0).forEach((undo) => undo());
    const tags = await local.workflows.run('change', { request: { tenantId: 'ouretag', requestId: 'req-ouretag-tags' }, change: { tags: { CostCenter: '4711' } } });
    expect(tags.error).toBeUndefined();
    expect(await tierTagOf(accountId)).toBe('enterprise-xl');
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
  });

  // replays and races at MoveAccount, as AWS answers them (organizations-emulation.ts: moto moves an account from
  // wherever it is, so neither a resent call nor a stale SourceParentId is refused there).
  it('a MoveAccount the SDK sends again after its answer was lost (DuplicateAccountException) counts as done', async () => {
    // Its own tenant (`oulost`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('oulost', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('oulost'))!.accountId!;
    const refusals: string[] = [];
    let resent = false;
    local.cleanups.push(inject('lost-answer-oulost', (next, context) => async (args) => {
      if (context.commandName !== 'MoveAccountCommand' || args.input.AccountId !== accountId || resent) return next(args);
      resent = true;
      await next(args); // took effect; its answer lost on the way back
      try {
        return await next(args);
      } catch (e) {
        refusals.push((e as Error).name);
        throw e;
      }
    }));
    const run = await local.workflows.run('change', { request: { tenantId: 'oulost', requestId: 'req-oulost-xl' }, change: { tier: 'enterprise-xl' } });
    expect(run.error).toBeUndefined();
    expect(refusals).toEqual(['DuplicateAccountException']);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    expect(await getTenant('oulost')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise-xl' });
  });

  it('an account someone moves between ListParents and MoveAccount (SourceParentNotFoundException) is moved again from where it went', async () => {
    // Its own tenant (`ourace`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ourace', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ourace'))!.accountId!;
    const [enterprise, starter] = [(await ouNamed('tessera-enterprise'))!, (await ouNamed('tessera-starter'))!];
    const sources: string[] = [];
    local.cleanups.push(inject('hand-move-ourace', (next, context) => async (args) => {
      if (context.commandName === 'MoveAccountCommand' && args.input.AccountId === accountId) {
        // A platform team's script puts the account in another OU just before the step's first call arrives.
        if (!sources.length) await orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: enterprise, DestinationParentId: starter }));
        sources.push(args.input.SourceParentId);
      }
      return next(args);
    }));
    const run = await local.workflows.run('change', { request: { tenantId: 'ourace', requestId: 'req-ourace-xl' }, change: { tier: 'enterprise-xl' } });
    expect(run.error).toBeUndefined();
    expect(sources).toEqual([enterprise, starter]);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
  });

  // conflicting requests. Held: the lease refuses the second change before Move account, a rolling upgrade's run
  // waiting behind the change is skipped once it sees the new tier, and back-to-back changes leave registry, OU and tag agreeing.
  it('two tier changes at once: the second is refused before Move account; a rolling upgrade\'s run waiting behind the first is skipped; back to back, registry, OU and tessera:tier agree', async () => {
    // Its own tenant (`outwo`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('outwo', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('outwo'))!.accountId!;
    const [listed] = upgradeItems(await listTenants({ tier: 'enterprise' }), { tier: 'enterprise', blueprintVersion: '2.0.0', requestId: 'upgrade-ent-outwo' })
      .filter((i) => i.request.tenantId === 'outwo');
    // The first change held at its tier stack (after Move account).
    let reached!: () => void;
    let release!: () => void;
    const atStack = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    local.workflows.wrap = (name, handler) => async (event: any) => {
      if (name === 'deploy-blueprint' && event.blueprint === 'tenant' && event.request?.tenantId === 'outwo' && event.change?.tier === 'enterprise-xl') {
        reached();
        await released;
      }
      return handler(event);
    };
    const first = local.workflows.run('change', { request: { tenantId: 'outwo', requestId: 'req-outwo-xl' }, change: { tier: 'enterprise-xl' } });
    await atStack;
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    const second = await local.workflows.run('change', { request: { tenantId: 'outwo', requestId: 'req-outwo-2x' }, change: { tier: 'enterprise-2x' } });
    expect(second.error?.message).toMatch(/TenantBusy/);
    expect(second.states).not.toContain('Move account');
    // A rolling upgrade of tier enterprise listed the tenant before the change: its run waits for the lease.
    const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    const upgrade = local.workflows.run(item, listed, { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/upgrade-ent-outwo:outwo' });
    release();
    expect((await first).error).toBeUndefined();
    const run = await upgrade;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ tenantId: 'outwo', skipped: true, reason: expect.stringContaining('is on tier enterprise-xl since') });
    expect(await getTenant('outwo')).toMatchObject({ status: 'ACTIVE', tier: 'enterprise-xl', blueprintVersion: '1.0.0' });
    expect([await parentOf(accountId), await tierTagOf(accountId)]).toEqual([await ouNamed('tessera-enterprise-xl'), 'enterprise-xl']);
    // Back to back: and back to enterprise.
    const back = await local.workflows.run('change', { request: { tenantId: 'outwo', requestId: 'req-outwo-back' }, change: { tier: 'enterprise' } });
    expect(back.error).toBeUndefined();
    expect((await getTenant('outwo'))!.tier).toBe('enterprise');
    expect([await parentOf(accountId), await tierTagOf(accountId)]).toEqual([await ouNamed('tessera-enterprise'), 'enterprise']);
  });

  // a rolling upgrade's run had neither Move account nor Tag account: after a tier change that failed at its stacks
  // it upgraded the tenant, cleared the failure and left the account in the other tier's OU for good.
  it('a rolling upgrade\'s run after a tier change that failed at its stacks puts the account back in its tier\'s OU', async () => {
    // Its own tenant (`ouupg`, no other test uses it).
    expect((await local.workflows.run('onboard', onboardRequest('ouupg', 'enterprise'))).error).toBeUndefined();
    const accountId = (await getTenant('ouupg'))!.accountId!;
    local.cleanups.push(inject('scp-refuses-ouupg', (next, context) => async (args) => {
      if (context.commandName === 'CreateChangeSetCommand' && args.input.StackName === 'tessera-ouupg') {
        throw Object.assign(new Error('not authorized to perform: cloudformation:CreateChangeSet with an explicit deny in a service control policy'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    }));
    const failed = await local.workflows.run('change', { request: { tenantId: 'ouupg', requestId: 'req-ouupg-xl' }, change: { tier: 'enterprise-xl' } });
    expect(failed.error?.message).toMatch(/AccessDenied/);
    expect(await parentOf(accountId)).toBe(await ouNamed('tessera-enterprise-xl'));
    local.cleanups.splice(0).forEach((undo) => undo());
    // The platform's rolling upgrade of tier enterprise to 2.0.0 runs the tenant.
    const [listed] = upgradeItems(await listTenants({ tier: 'enterprise' }), { tier: 'enterprise', blueprintVersion: '2.0.0', requestId: 'upgrade-ent-ouupg' })
      .filter((i) => i.request.tenantId === 'ouupg');
    const { ProcessorConfig: _c, ...item } = (local.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
    const run = await local.workflows.run(item, listed, { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/upgrade-ent-ouupg:ouupg' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('Move account');
    const record = (await getTenant('ouupg'))!;
    expect(record).toMatchObject({ status: 'ACTIVE', tier: 'enterprise', blueprintVersion: '2.0.0' });
    expect(record.failure).toBeUndefined();
    expect([await parentOf(accountId), await tierTagOf(accountId)]).toEqual([await ouNamed('tessera-enterprise'), 'enterprise']);
  });
});

