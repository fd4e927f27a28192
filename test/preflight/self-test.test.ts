import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate, CfnValue } from '../../lib/preflight/cfn-template.js';
import { loadBlueprints, type LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import { runPreflight } from '../../lib/preflight/run.js';
import { configWith } from '../support/synth.js';

// Self-test: a planted defect of each kind must be caught. Each mutation is applied to a copy of
// the real blueprint; the unmutated run of the same tier is the control (it must not show it).
let loaded: LoadedBlueprints;

beforeAll(() => {
  loaded = loadBlueprints(configWith());
}, 120_000);

const resourcesOf = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
type Statement = { Condition?: Record<string, Record<string, unknown>> };

describe('preflight self-test', () => {
  it('catches a key policy that lacks a handler\'s permission (the execution role\'s ViaService statement dropped)', async () => {
    const withoutViaService = (kind: string, _tier: string, t: CfnTemplate) => {
      if (kind !== 'tenant') return t;
      for (const key of resourcesOf(t, 'AWS::KMS::Key')) {
        const policy = key.Properties!.KeyPolicy as { Statement: Statement[] };
        policy.Statement = policy.Statement.filter((s) => !JSON.stringify(s.Condition ?? {}).includes('kms:ViaService'));
      }
      return t;
    };
    const control = await runPreflight(loaded, { onlyTiers: ['starter'] });
    const planted = await runPreflight(loaded, { onlyTiers: ['starter'], mutate: withoutViaService });
    const vaultKmsDenied = (r: typeof planted) => r.tiers[0].blueprints[0].checks.filter((c) => c.type === 'AWS::Backup::BackupVault' && c.handler === 'create' && c.action.startsWith('kms:') && c.outcome === 'denied');
    expect(vaultKmsDenied(control)).toEqual([]);
    expect(vaultKmsDenied(planted).map((c) => c.action)).toEqual(expect.arrayContaining(['kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt']));
  }, 60_000);

  it('catches a fixed physical name (two tenants\' backup vaults collide)', async () => {
    const fixedVaultName = (kind: string, _tier: string, t: CfnTemplate) => {
      if (kind === 'tenant') for (const v of resourcesOf(t, 'AWS::Backup::BackupVault')) (v.Properties as Record<string, CfnValue>).BackupVaultName = 'tessera-database-vault';
      return t;
    };
    const planted = await runPreflight(loaded, { onlyTiers: ['starter'], mutate: fixedVaultName });
    expect(planted.tiers[0].collisions).toEqual([expect.objectContaining({ type: 'AWS::Backup::BackupVault', name: 'tessera-database-vault', holders: expect.arrayContaining([expect.stringMatching(/^acme\//), expect.stringMatching(/^globex\//)]) })]);
  }, 60_000);

  it('catches a password-less user in a user group of engine valkey', async () => {
    const passwordlessValkey = (kind: string, _tier: string, t: CfnTemplate) => {
      if (kind !== 'tenant') return t;
      for (const g of resourcesOf(t, 'AWS::ElastiCache::UserGroup')) (g.Properties as Record<string, CfnValue>).Engine = 'valkey';
      for (const u of resourcesOf(t, 'AWS::ElastiCache::User')) {
        const props = u.Properties as Record<string, CfnValue>;
        if (props.UserName === 'default') props.AuthenticationMode = { Type: 'no-password-required' };
      }
      return t;
    };
    const planted = await runPreflight(loaded, { onlyTiers: ['starter'], mutate: passwordlessValkey });
    const rule = planted.tiers[0].rules.find((r) => r.rule.id === 'elasticache-valkey-user-group-auth');
    expect(rule?.violations).toEqual([expect.stringMatching(/engine valkey.*no-password-required/)]);
  }, 60_000);

  it('catches a database created with deletion protection on (a failed create could not roll it back)', async () => {
    const protectedAtCreate = (kind: string, _tier: string, t: CfnTemplate) => {
      if (kind !== 'tenant') return t;
      for (const db of resourcesOf(t, 'AWS::RDS::DBInstance')) (db.Properties as Record<string, CfnValue>).DeletionProtection = true;
      return t;
    };
    const rollsBack = (r: Awaited<ReturnType<typeof runPreflight>>) => r.tiers[0].rules.find((x) => x.rule.id === 'rds-create-rolls-back')?.violations;
    expect(rollsBack(await runPreflight(loaded, { onlyTiers: ['starter'] }))).toEqual([]);
    expect(rollsBack(await runPreflight(loaded, { onlyTiers: ['starter'], mutate: protectedAtCreate }))).toEqual([expect.stringMatching(/^DatabaseInstance\w+ is created with DeletionProtection on$/)]);
  }, 60_000);

  it('catches a quarantine SCP without the execution-role exemption (deploy denied, service roles denied)', async () => {
    const provisioningOnly = {
      Version: '2012-10-17' as const,
      Statement: [{ Sid: 'DenyAllButProvisioning', Effect: 'Deny', Action: '*', Resource: '*', Condition: { ArnNotLike: { 'aws:PrincipalArn': `arn:aws:iam::*:role/${loaded.config.roles.provisioningRoleName}` } } }],
    };
    const planted = await runPreflight(loaded, { onlyTiers: ['enterprise'], scpOverrides: { quarantine: provisioningOnly } });
    const tier = planted.tiers[0];
    expect(tier.blueprints[0].counts.denied).toBeGreaterThan(100);
    expect(tier.blueprints[0].checks.find((c) => c.outcome === 'denied')?.detail).toMatch(/TesseraQuarantine\/DenyAllButProvisioning|scp/);
    expect(tier.serviceRoles.denials.length).toBeGreaterThan(0);
  }, 60_000);

  it('reports a missing account baseline as a blocker with every permission denied', async () => {
    const planted = await runPreflight({ ...loaded, baseline: undefined }, { onlyTiers: ['starter'] });
    expect(planted.baselinePresent).toBe(false);
    expect(planted.tiers[0].blockers[0]).toMatch(/account baseline/);
    // Only what the tenant key policy grants the execution role by name remains allowed (a key policy alone admits a same-account principal).
    const allowed = planted.tiers[0].blueprints[0].checks.filter((c) => c.outcome === 'allowed');
    expect(allowed.every((c) => c.action.startsWith('kms:'))).toBe(true);
    expect(planted.tiers[0].blueprints[0].counts.denied).toBeGreaterThan(1000);
  }, 60_000);
});
