/**
 * Each tenant's Amazon S3 Vectors bucket (`tessera-<tenant>-vectors`, constructs/tenant-vector-bucket.ts) in the
 * cross-tenant check (lib/preflight/isolation/attempts.ts): every S3 Vectors action on the other tenant's vector bucket
 * and its indexes, from every principal of the tenant, the router's session of its vector-store role (tagged with its
 * own tenant) among them, for two tenants whose ids collide by prefix (`acme`, `acme-2`): side by side in the shared
 * workload account (professional: VPC isolation, the pooled tiers) and in accounts of their own (enterprise). None is
 * allowed; nor may any create an index in its own vector bucket under the other tenant's key, or with SSE-S3 (CreateIndex's
 * `s3vectors:kmsKeyArn` and `s3vectors:sseType`). The check fails when the vector-store role's policy is widened to every
 * bucket (and, across accounts, when the victim's bucket also has a policy letting other accounts in), and when its
 * CreateIndex loses its key conditions. The whole matrix, every tier:
 * cross-tenant-tiers.test.ts and cross-tenant-shapes.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { attemptsOn } from '../../lib/preflight/isolation/attempts.js';
import { checkIsolation } from '../../lib/preflight/isolation/check.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { TENANT_ID_TAG, tenantRoleName, tenantVectorBucketName } from '../../lib/tenant-naming.js';
import { saveDiskAnswers, useDiskAnswers } from '../preflight/support/answer-store.js';
import { cachedBlueprints, shapesConfig, TENANTS } from './support/cross-tenant.js';

const BUCKET_ACTIONS = ['s3vectors:GetVectorBucket', 's3vectors:DeleteVectorBucket', 's3vectors:PutVectorBucketPolicy', 's3vectors:ListIndexes'];
const INDEX_ACTIONS = ['s3vectors:QueryVectors', 's3vectors:GetVectors', 's3vectors:PutVectors', 's3vectors:DeleteVectors', 's3vectors:ListVectors', 's3vectors:GetIndex', 's3vectors:CreateIndex', 's3vectors:DeleteIndex'];

let loaded: LoadedBlueprints;
beforeAll(async () => {
  loaded = await cachedBlueprints(shapesConfig);
}, 600_000);

/** `loaded` with tier `tierName`'s blueprint changed by `plant` (a copy). */
function planted(tierName: string, plant: (t: CfnTemplate) => void): LoadedBlueprints {
  return { ...loaded, tiers: loaded.tiers.map((t) => {
    if (t.tierName !== tierName) return t;
    const tenant = structuredClone(t.tenant);
    plant(tenant);
    return { ...t, tenant };
  }) };
}

/**
 * The vector-store role's managed policy in a tier blueprint, its index statement's resource set to `*` and its actions to
 * `s3vectors:*` (which holds CreateIndex without its key conditions too: those attempts, on the attacker's own bucket,
 * are told apart by `ownBucket`).
 */
function widenVectorStorePolicy(t: CfnTemplate): void {
  const policy = Object.values(t.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties).includes('VectorStoreIndexes'))!;
  const statements = (policy.Properties as { PolicyDocument: { Statement: Array<{ Sid?: string; Action: unknown; Resource: unknown }> } }).PolicyDocument.Statement;
  const indexes = statements.find((st) => st.Sid === 'VectorStoreIndexes')!;
  indexes.Action = 's3vectors:*';
  indexes.Resource = '*';
}

/** The vector-store role's CreateIndex statement in a tier blueprint without its conditions (any encryption, any key). */
function unconditionCreateIndex(t: CfnTemplate): void {
  const policy = Object.values(t.Resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties).includes('VectorStoreCreateIndexWithTenantKey'))!;
  const statements = (policy.Properties as { PolicyDocument: { Statement: Array<{ Sid?: string; Condition?: unknown }> } }).PolicyDocument.Statement;
  delete statements.find((st) => st.Sid === 'VectorStoreCreateIndexWithTenantKey')!.Condition;
}

/** A finding of the attacker's own vector bucket (CreateIndex under another key: ownIndexUnderOtherKeys in attempts.ts). */
const ownBucket = (f: { attempt: string }) => f.attempt.includes('(own bucket');

/**
 * Both directions of tier `tierName` of `l`. A control run (the blueprints as built, `control`) answers from the
 * simulator's answers kept on disk and adds its new ones (../preflight/support/answer-store.ts), each tier's; a
 * planted defect's run is simulated, as the store's other users do.
 */
async function bothWays(l: LoadedBlueprints, tierName: string, control = false) {
  if (control) useDiskAnswers();
  const [a, b] = tierEstates(l, l.tiers.find((t) => t.tierName === tierName)!, TENANTS);
  const opts = { organizationId: l.config.organization.organizationId };
  const out = [await checkIsolation(a, b, opts), await checkIsolation(b, a, opts)];
  if (control) saveDiskAnswers();
  return out;
}

describe.each([
  ['professional', 'side by side in the shared workload account (pooled)'],
  ['enterprise', 'each in an account of its own'],
])('the %s tier: tenants acme and acme-2 %s', (tierName) => {
  it('tries every S3 Vectors action on the other tenant\'s vector bucket and its indexes, from every principal', () => {
    const tier = loaded.tiers.find((t) => t.tierName === tierName)!;
    for (const [attacker, victim] of [tierEstates(loaded, tier, TENANTS), tierEstates(loaded, tier, TENANTS).reverse()]) {
      const bucket = `arn:aws:s3vectors:${victim.region}:${victim.account}:bucket/${tenantVectorBucketName(victim.tenantId)}`;
      const attempts = attemptsOn(victim, attacker);
      for (const action of BUCKET_ACTIONS) {
        expect(attempts.filter((a) => a.action === action && a.resource === bucket), `${action} ${bucket}`).toHaveLength(1);
      }
      for (const action of INDEX_ACTIONS) {
        expect(attempts.filter((a) => a.action === action && a.resource.startsWith(`${bucket}/index/vs-`)).length, `${action} ${bucket}/index/*`).toBeGreaterThan(0);
      }
      // With the bucket's tags as S3 Vectors sets them, and the victim's key through S3 Vectors.
      expect(attempts.find((a) => a.action === 's3vectors:QueryVectors')!.context).toMatchObject({ [`aws:ResourceTag/${TENANT_ID_TAG}`]: victim.tenantId, [`s3vectors:VectorBucketTag/${TENANT_ID_TAG}`]: victim.tenantId });
      expect(attempts.some((a) => a.action === 'kms:Decrypt' && a.resource === victim.keyArn && a.context['kms:ViaService'] === `s3vectors.${victim.region}.amazonaws.com`)).toBe(true);
      // In the attacker's own vector bucket: CreateIndex under the victim's key, and with SSE-S3.
      const own = `arn:aws:s3vectors:${attacker.region}:${attacker.account}:bucket/${tenantVectorBucketName(attacker.tenantId)}/index/`;
      const creates = attempts.filter((a) => a.action === 's3vectors:CreateIndex' && a.resource.startsWith(own));
      expect(creates.map((a) => [a.resourceAccount, a.context['s3vectors:sseType'], a.context['s3vectors:kmsKeyArn']])).toEqual([
        [attacker.account, 'aws:kms', victim.keyArn], [attacker.account, 'AES256', undefined],
      ]);
      expect(victim.keyArn).not.toBe(attacker.keyArn);
      // Among the attacker's principals, the router's session of its vector-store role, tagged with the attacker's tenant.
      const router = attacker.principals.find((p) => p.roleName === tenantRoleName(attacker.tenantId, 'vector-store'))!;
      expect(router.tags[TENANT_ID_TAG]).toBe(attacker.tenantId);
    }
  });

  it('allows no principal any S3 Vectors action on the other tenant\'s vector bucket, nor its key through S3 Vectors', async () => {
    const [a, b] = tierEstates(loaded, loaded.tiers.find((t) => t.tierName === tierName)!, TENANTS);
    expect(attemptsOn(b, a).filter((x) => x.action.startsWith('s3vectors:')).length).toBeGreaterThanOrEqual(BUCKET_ACTIONS.length + INDEX_ACTIONS.length);
    for (const r of await bothWays(loaded, tierName, true)) {
      expect(r.errors.filter((f) => /s3vectors/.test(f.attempt))).toEqual([]);
      expect(r.allowed.filter((f) => /s3vectors/.test(f.attempt))).toEqual([]);
      expect(r.controlsDenied).toEqual([]);
    }
  }, 300_000);
});

describe.each(['professional', 'enterprise'])('the %s tier: an index of one\'s own vector bucket under another key', (tierName) => {
  it('is denied to every principal, the vector-store role among them, under the other tenant\'s key and with SSE-S3; allowed under its own key (the positive control)', async () => {
    for (const r of await bothWays(loaded, tierName, true)) {
      // WHEN the CreateIndex attempts on the attacker's own bucket are evaluated
      // THEN none is allowed, and the vector-store role's CreateIndex under its own key (its control) is
      expect(r.allowed.filter((f) => f.attempt.startsWith('s3vectors:CreateIndex') && f.attempt.includes('(own bucket'))).toEqual([]);
      expect(r.errors).toEqual([]);
      expect(r.controlsDenied).toEqual([]);
    }
  }, 300_000);

  it('fails when the vector-store role\'s CreateIndex loses its key conditions: the role then creates both', async () => {
    const [r] = await bothWays(planted(tierName, unconditionCreateIndex), tierName);
    const role = tenantRoleName(TENANTS[0], 'vector-store');
    expect(r.allowed.filter((f) => f.principal === role).map((f) => f.attempt.replace(/^s3vectors:CreateIndex \S+ /, '')).sort()).toEqual([
      `(own bucket, SSE-S3 (AES256))`, `(own bucket, under ${TENANTS[1]}'s key)`,
    ]);
    expect(r.allowed.every((f) => f.principal === role)).toBe(true);
  }, 300_000);
});

describe('the check can fail', () => {
  it('pooled (professional): the vector-store role widened to every bucket reaches the other tenant\'s indexes and bucket', async () => {
    const [r] = await bothWays(planted('professional', widenVectorStorePolicy), 'professional');
    const role = tenantRoleName(TENANTS[0], 'vector-store');
    const bucket = `bucket/${tenantVectorBucketName(TENANTS[1])}`;
    const found = r.allowed.filter((f) => f.principal === role).map((f) => f.attempt.split(' ')[0]);
    for (const action of [...BUCKET_ACTIONS, ...INDEX_ACTIONS]) expect(found, action).toContain(action);
    expect(r.allowed.every((f) => f.principal === role && (f.attempt.includes(bucket) || ownBucket(f)))).toBe(true);
  }, 300_000);

  it('account per tenant (enterprise): the widened role is stopped at the account boundary, until the other tenant\'s bucket has a policy letting other accounts in', async () => {
    const [widened] = await bothWays(planted('enterprise', widenVectorStorePolicy), 'enterprise');
    expect(widened.allowed.filter((f) => !ownBucket(f))).toEqual([]);
    const open = planted('enterprise', (t) => {
      widenVectorStorePolicy(t);
      const [id, bucket] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::S3Vectors::VectorBucket')!;
      t.Resources.PlantedVectorBucketPolicy = {
        Type: 'AWS::S3Vectors::VectorBucketPolicy',
        Properties: {
          VectorBucketName: (bucket.Properties as { VectorBucketName: unknown }).VectorBucketName,
          Policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3vectors:*', Resource: '*' }] },
        },
        DependsOn: [id],
      } as never;
    });
    const [r] = await bothWays(open, 'enterprise');
    const role = tenantRoleName(TENANTS[0], 'vector-store');
    const found = r.allowed.filter((f) => f.principal === role).map((f) => f.attempt.split(' ')[0]);
    for (const action of INDEX_ACTIONS) expect(found, action).toContain(action);
  }, 300_000);
});
