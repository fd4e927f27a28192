import { beforeAll, describe, expect, it } from 'vitest';
import { getTenant, listTenants } from '../../lambdas/shared/registry.js';
import { upgradeItems } from '../../lambdas/lifecycle/list-tier-tenants.js';
import { upgradeExecutionName } from '../../lib/upgrade-progress.js';

/** Who started the rolling upgrade, as POST /admin/upgrades records it (adminCaller). */
const OPS = 'admin:arn:aws:sts::111111111111:assumed-role/Ops/jane@example.com';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';
import type { Definition } from './support/workflow-runner.js';

/**
 * A rolling upgrade against changes made after it listed its tenants (found by the hostile lc, s12).
 * The upgrade's work list is written when it starts (List tier tenants), one item per ACTIVE tenant
 * of the tier, each carrying `change: { tier: <the upgrade's tier>, blueprintVersion, listedVersion }`.
 * A tenant an admin moves to another tier, or suspends, after the list was written (while its run
 * waits for the lease behind that change, or simply later in a list of thousands, 5 at a time) is
 * skipped by its run: nothing changes, its history says SKIPPED and why, and the child execution
 * SUCCEEDS (Step Functions counts failed children against the 10% tolerance). The child is the
 * synthesized Distributed Map's ItemProcessor, run with the real handlers on moto, as
 * test/infra/lifecycle-definitions.test.ts runs it.
 */
const lifecycle = useLifecyclePlatform();
const { api, settled, onboarded } = lifecycle;
let item: Definition;
beforeAll(() => {
  const { ProcessorConfig: _c, ...processor } = (lifecycle.platform.workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
  item = processor;
});

const childArn = (upgrade: string, tenantId: string) => `arn:aws:states:us-east-1:222222222222:execution:tessera-upgrade/${upgrade}:${tenantId}`;

describe('a rolling upgrade skips tenants changed since it listed them', () => {
  it('a tenant moved professional → business after the upgrade of professional listed it stays on business: its run is skipped, recorded SKIPPED, and succeeds', async () => {
    // GIVEN vandelay on professional, on an older blueprint version than the upgrade's
    const before = await onboarded('vandelay', 'professional');
    const target = before.blueprintVersion === '2.0.0' ? '1.0.0' : '2.0.0';
    // AND a rolling upgrade of professional to `target` lists it (List tier tenants' own function)
    const [listed] = upgradeItems(await listTenants({ tier: 'professional' }), { tier: 'professional', blueprintVersion: target, requestId: 'upgrade-pro-7', actor: OPS }).filter((i) => i.request.tenantId === 'vandelay');
    expect(listed.change).toMatchObject({ tier: 'professional', blueprintVersion: target, listedVersion: before.blueprintVersion, upgradeId: upgradeExecutionName('upgrade-pro-7'), actor: OPS });
    // WHEN an admin moves vandelay to business (PATCH), which completes before vandelay's run
    const patch = await api('PATCH', '/admin/tenants/vandelay', { tier: 'business' });
    expect(patch.status).toBe(202);
    expect((await settled(patch.body.executionArn)).status).toBe('SUCCEEDED');
    const changed = (await getTenant('vandelay'))!;
    expect(changed.tier).toBe('business');
    // (s31s) the change's history entry says which tier it moved from and to, at its endedAt: what the statements label months by
    expect(changed.executions.find((e) => e.executionArn === patch.body.executionArn)).toMatchObject({ kind: 'change', status: 'SUCCEEDED', tierChange: { from: 'professional', to: 'business' } });
    // AND then vandelay's run of the upgrade runs
    const executionArn = childArn('upgrade-pro-7', 'vandelay');
    const child = await lifecycle.platform.workflows.run(item, listed, { executionArn });
    // THEN the admin's tier change stands, the stack untouched by the upgrade
    const after = (await getTenant('vandelay'))!;
    expect(after).toMatchObject({ tier: 'business', blueprintVersion: changed.blueprintVersion, status: 'ACTIVE' });
    expect(after.lease).toBeUndefined();
    expect(after.failure).toBeUndefined();
    // AND the run succeeded as skipped (not counted against the tolerance), saying why
    expect(child.status).toBe('SUCCEEDED');
    expect(child.states).toEqual(expect.arrayContaining(['Skipped?', 'Skip recorded']));
    expect(child.states).not.toContain('Deploy account baseline');
    const reason = `tenant "vandelay" is on tier business since the upgrade of tier professional to ${target} listed it; the upgrade leaves it there (it upgrades tenants of tier professional only)`;
    expect(child.output).toEqual({ tenantId: 'vandelay', skipped: true, reason });
    // AND the registry's history says what happened and why: SKIPPED, not FAILED
    expect(after.executions.at(-1)).toMatchObject({ kind: 'upgrade', requestId: 'upgrade-pro-7-vandelay', executionArn, status: 'SKIPPED', reason });
    // AND (s31s) the upgrade's caller and id, so the history says who asked and which upgrade it was
    expect(after.executions.at(-1)).toMatchObject({ actor: OPS, upgradeId: upgradeExecutionName('upgrade-pro-7') });
    expect(after.updatedAt >= changed.updatedAt).toBe(true);
  }, 180_000);

  it('a tenant suspended after the upgrade listed it: its run is skipped (not a FAILED child that counts against the 10% tolerance), the tenant stays SUSPENDED', async () => {
    await onboarded('kramer', 'professional');
    const [listed] = upgradeItems(await listTenants({ tier: 'professional' }), { tier: 'professional', blueprintVersion: '2.0.0', requestId: 'upgrade-pro-8' }).filter((i) => i.request.tenantId === 'kramer');
    const suspend = await api('POST', '/admin/tenants/kramer/suspend');
    expect(suspend.status).toBe(202);
    expect((await settled(suspend.body.executionArn)).status).toBe('SUCCEEDED');
    const child = await lifecycle.platform.workflows.run(item, listed, { executionArn: childArn('upgrade-pro-8', 'kramer') });
    const after = (await getTenant('kramer'))!;
    expect(after).toMatchObject({ status: 'SUSPENDED', blueprintVersion: '1.0.0' });
    expect(after.failure).toBeUndefined();
    expect(child.status).toBe('SUCCEEDED');
    expect(child.output).toMatchObject({ tenantId: 'kramer', skipped: true, reason: expect.stringMatching(/^tenant "kramer" is SUSPENDED; the upgrade of tier professional to 2.0.0 leaves it as it is/) });
    expect(after.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SKIPPED', reason: expect.stringContaining('is SUSPENDED') });
  }, 180_000);
});
