import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { configWith } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { EXECUTION_ARN, sameNetworkConfig, setLifecycleEnv, state, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  s3.reset();
  sfn.reset();
});

const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
const changeState = (change: Record<string, unknown>) => state('acme', { change, kind: 'change' });

/**
 * The catalog answers every HeadObject (`missing` keys NotFound); the first one, made after *Begin change* read the record and
 * before it takes the lease (the window the race needs: its catalog reads), lets `meanwhile` end another operation first.
 */
function catalogWhile(meanwhile: () => void, missing: readonly string[] = []): void {
  let first = true;
  s3.on(HeadObjectCommand).callsFake((input: { Key?: string }) => {
    if (first) {
      first = false;
      meanwhile();
    }
    if (missing.includes(input.Key ?? '')) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return {};
  });
}

/** Another operation (an admin's tier change) ended between *Begin change*'s read and its lease: the record as it left it. */
const endedMeanwhile = (changes: Partial<TenantRecord>) => () => {
  const now = records.get('acme')!;
  records.set('acme', { ...now, ...changes, updatedAt: '2026-12-07T12:00:00.000Z' });
};

// s48: the tier, previousTier, moveAccount and tagAccount came from the read before the lease. A tags-only change read the
// tenant on starter while a tier change to professional held it, took the lease once that ended, and deployed starter again
// (silently reverting the tier change) and recorded it.
describe('Begin change decides on the record the lease returned', () => {
  it('a change naming no tier deploys the tier another operation left between the read and the lease, with that tier as previousTier', async () => {
    // GIVEN acme on starter, a tags-only change started from the console; the tier change to professional ends meanwhile
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    catalogWhile(endedMeanwhile({ tier: 'professional' }));
    // WHEN
    const out = await begin(changeState({ tags: { CostCenter: '4711' } }));
    // THEN professional is deployed again as it is (was: tier starter, previousTier starter: the tier change reverted)
    expect(out).toMatchObject({ tier: 'professional', previousTier: 'professional', blueprintVersion: '1.0.0', tags: { CostCenter: '4711' } });
    expect(records.get('acme')).toMatchObject({ tier: 'professional', status: 'UPDATING', lease: { kind: 'change', executionArn: EXECUTION_ARN } });
    // AND the catalog was read again for the tier the lease returned
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toContain('blueprints/1.0.0/professional.template.json');
  });

  it('an account tenant already moved to the asked tier meanwhile is neither moved nor retagged, and its previousTier is that tier', async () => {
    const xl = structuredClone(configWith().tiers.enterprise);
    xl.network.tenantCidrPool = '10.112.0.0/12';
    useConfig(configWith({ tiers: { 'enterprise-xl': xl } }));
    const acct = { isolation: 'account' as const, accountId: '444444444444', vpcCidr: '10.96.0.0/18', blueprintVersion: '1.0.0' };
    records.set('acme', tenant({ ...acct, tier: 'enterprise', status: 'ACTIVE' }));
    // GIVEN the admin API's change to enterprise-xl ended between the read and the lease of a console change to enterprise-xl
    catalogWhile(endedMeanwhile({ tier: 'enterprise-xl' }));
    const out = await begin(changeState({ tier: 'enterprise-xl' }));
    // THEN nothing to move or retag (was: previousTier enterprise, moveAccount and tagAccount, from the read before the lease)
    expect(out).toMatchObject({ tier: 'enterprise-xl', previousTier: 'enterprise-xl' });
    expect(out).not.toHaveProperty('moveAccount');
    expect(out).not.toHaveProperty('tagAccount');
  });

  it('refuses with ChangeRefused (recorded by Record failure), never a deploy of the tier read before, when the tier the lease returned is not published at the version', async () => {
    // GIVEN acme on starter at 3.0.0 (newer than the platform's 1.0.0), whose catalog lacks professional; a tags-only change
    // (which keeps the tenant's version) reads starter, and a change to professional ends meanwhile
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' }));
    catalogWhile(endedMeanwhile({ tier: 'professional' }), ['blueprints/3.0.0/professional.template.json']);
    // WHEN / THEN refused after the lease, terminal, naming the tier the lease returned (was: starter deployed at 3.0.0)
    await expect(begin(changeState({ tags: { CostCenter: '4711' } }))).rejects.toMatchObject({
      name: 'ChangeRefused', message: expect.stringMatching(/^tier professional is not published at blueprint version 3\.0\.0.*blueprints\/3\.0\.0\/professional\.template\.json \(NotFound\)/),
    });
    expect(records.get('acme')).toMatchObject({ tier: 'professional', lease: { executionArn: EXECUTION_ARN } });
  });

  it('refuses a migration only the record the lease returned shows with ChangeRefused (its isolation)', async () => {
    // GIVEN acme on starter (10.64.0.0/22), a change to professional (same network cut as starter: sameNetworkConfig)
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    // AND meanwhile another operation left the tenant on enterprise (account isolation: moving from it is a migration)
    catalogWhile(endedMeanwhile({ tier: 'enterprise', isolation: 'account', accountId: '444444444444' }));
    await expect(begin(changeState({ tier: 'professional' }))).rejects.toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/isolates by vpc, tenant acme by account/) });
  });

  it('reads the catalog once when nothing changed between the read and the lease', async () => {
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    catalogWhile(() => undefined);
    await expect(begin(changeState({ tier: 'professional' }))).resolves.toMatchObject({ tier: 'professional', previousTier: 'starter' });
    const keys = s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys.filter((k) => k === 'blueprints/1.0.0/professional.template.json')).toHaveLength(1);
  });
});
