/**
 * The tenant role `training-files` (OpenAI's Files API: the fine-tuning API Lambda assumes it to keep a
 * tenant's uploads under `training-data/files/` of its bucket), through the IAM simulator
 * (lib/preflight/iam-eval.ts), for two tenants whose ids collide by prefix (`acme`, `acme-2`): side by
 * side in the shared workload account (professional: VPC isolation) and in accounts of their own
 * (enterprise). Each tenant's session tries the other's uploads, listings and key (denied); on its own
 * tenant it does what the Files API does (allowed) and nothing else of the tenant's data (denied), and
 * the bucket and key policies hold that even against an identity policy granting everything.
 * The principals are the cross-tenant check's (lib/preflight/isolation/estate.ts), whose KMS
 * encryption-context conditions the simulator cannot evaluate: the last two tests hold them as written, the second
 * also the key's one other deferral to an identity policy, the vector-store role's (through S3 Vectors, its own vector
 * bucket's indexes).
 */
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROLE_NAMES, TRAINING_FILES_PREFIX, TRAINING_UPLOADS_PREFIX } from '../../lib/fine-tuning.js';
import { evaluate, type EvalResult, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import type { TenantEstate, TenantPrincipal } from '../../lib/preflight/isolation/estate.js';
import { tierEstates } from '../../lib/preflight/isolation/tier-estates.js';
import { roleArn, TENANT_ID_TAG, tenantRoleName, tenantVectorBucketName } from '../../lib/tenant-naming.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { configWith } from '../support/config-with.js';

const TENANTS = ['acme', 'acme-2'];
const FILE = 'file-0196f3a2b4c8d0e1f2a3b4c5';
const UPLOAD = 'upload_0196f3a2b4c8d0e1f2a3b4c5';
const ORG = 'o-exampleorg1';

interface Side {
  e: TenantEstate;
  files: TenantPrincipal;
  bucketArn: string;
  bucketPolicy: PolicyJson;
  keyArn: string;
  keyPolicy: PolicyJson;
}

function side(e: TenantEstate): Side {
  const files = e.principals.find((p) => p.roleName === tenantRoleName(e.tenantId, 'training-files'));
  if (!files) throw new Error(`${e.tenantId}: no training-files principal`);
  const res = Object.values(e.tenant.resources);
  const bucket = res.find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('StorageBucket'))!;
  const bucketPolicy = res.find((r) => r.type === 'AWS::S3::BucketPolicy' && r.props.Bucket === bucket.physicalId)!.props.PolicyDocument as PolicyJson;
  const key = res.find((r) => r.type === 'AWS::KMS::Key')!;
  return { e, files, bucketArn: bucket.arn, bucketPolicy, keyArn: key.arn, keyPolicy: key.props.KeyPolicy as PolicyJson };
}

interface Statement { Sid?: string; Action: unknown; Resource?: unknown; Principal?: { AWS?: unknown }; Condition?: Record<string, Record<string, unknown>> }
/** `of`'s tenant role `purpose`, as the cross-tenant check sees it. */
function principal(of: Side, purpose: 'vector-store'): TenantPrincipal {
  const found = of.e.principals.find((p) => p.roleName === tenantRoleName(of.e.tenantId, purpose));
  if (!found) throw new Error(`${of.e.tenantId}: no ${purpose} principal`);
  return found;
}
/** The statements of the managed policies attached to `p`'s role, as synthesized (the principal's own copies have conditions dropped). */
const policyStatements = (of: Side, p: TenantPrincipal): Statement[] => Object.values(of.e.tenant.resources)
  .filter((r) => r.type === 'AWS::IAM::ManagedPolicy' && ((r.props.Roles as unknown[] | undefined) ?? []).includes(p.resource.physicalId))
  .flatMap((r) => [(r.props.PolicyDocument as { Statement: unknown }).Statement].flat() as Statement[]);
/** The key policy's statements whose principal is the account (root): each defers to an identity policy. */
const rootStatements = (of: Side): Statement[] => ([of.keyPolicy.Statement].flat() as Statement[]).filter((st) => JSON.stringify(st.Principal ?? {}).endsWith(':root"}'));

type Context = Record<string, string | string[]>;
interface Request { action: string; resource: string; policy: PolicyJson; context?: Context }

/** A request of `who`'s session (the context check.ts gives it) on `on`'s resource. */
async function run(who: Side, on: Side, r: Request, identityPolicies: SimulationIdentityPolicy[] = who.files.identityPolicies): Promise<EvalResult> {
  const p = who.files;
  return evaluate({
    principalArn: p.arn, action: r.action, resource: r.resource, resourceAccount: on.e.account, identityPolicies, scps: p.scps, resourcePolicy: r.policy,
    context: {
      'aws:PrincipalArn': p.arn, 'aws:PrincipalAccount': p.account, 'aws:PrincipalOrgID': ORG, 'aws:PrincipalType': 'AssumedRole',
      'aws:PrincipalIsAWSService': 'false', 'aws:RequestedRegion': who.e.region, 'aws:SecureTransport': 'true', 'aws:ViaAWSService': 'false',
      'aws:ResourceAccount': on.e.account, ...Object.fromEntries(Object.entries(p.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])), ...r.context,
    },
  });
}
const label = (r: Request) => `${r.action} ${r.resource} ${JSON.stringify(r.context ?? {})}`;
async function expectAll(who: Side, on: Side, requests: Request[], allowed: boolean, identityPolicies?: SimulationIdentityPolicy[]) {
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) {
    const result = await run(who, on, r, identityPolicies);
    expect(result.result.startsWith('error'), `${label(r)}: ${result.result}`).toBe(false);
    expect(result.allowed, `${who.files.roleName} ${label(r)}: ${result.result} (${result.blockedBy.join(', ')})`).toBe(allowed);
  }
}

/** What the Files API sends S3 (and S3 KMS) for `of`'s bucket: objects and listings under training-data/files/, the key through S3. */
const s3Ctx = (of: Side): Context => ({ 's3:TlsVersion': '1.3', 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': of.keyArn });
const objects = (of: Side, key: string, actions = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']): Request[] =>
  actions.map((action) => ({ action, resource: `${of.bucketArn}/${key}`, policy: of.bucketPolicy, context: s3Ctx(of) }));
const listing = (of: Side, prefix?: string): Request => ({ action: 's3:ListBucket', resource: of.bucketArn, policy: of.bucketPolicy, context: { ...s3Ctx(of), ...(prefix === undefined ? {} : { 's3:prefix': prefix }) } });
const keyUse = (of: Side, actions: string[], context: Context): Request[] => actions.map((action) => ({ action, resource: of.keyArn, policy: of.keyPolicy, context }));
const viaS3 = (of: Side, bucketArn = of.bucketArn): Context => ({ 'kms:ViaService': `s3.${of.e.region}.amazonaws.com`, 'kms:CallerAccount': of.e.account, 'kms:EncryptionContext:aws:s3:arn': bucketArn });
const filesApi = (of: Side): Request[] => [
  ...objects(of, `${TRAINING_FILES_PREFIX}${FILE}/train.jsonl`),
  listing(of, TRAINING_FILES_PREFIX), listing(of, `${TRAINING_FILES_PREFIX}${FILE}/`),
  ...keyUse(of, ['kms:GenerateDataKey', 'kms:Decrypt'], viaS3(of)),
  // The Uploads API: an upload's record and parts, their listing, and the abort of a refused assembly's multipart upload.
  ...objects(of, `${TRAINING_UPLOADS_PREFIX}${UPLOAD}/upload.json`), ...objects(of, `${TRAINING_UPLOADS_PREFIX}${UPLOAD}/parts/part_000000000000000000000001`),
  ...objects(of, `${TRAINING_FILES_PREFIX}${FILE}/train.jsonl`, ['s3:AbortMultipartUpload']),
  listing(of, `${TRAINING_UPLOADS_PREFIX}${UPLOAD}/parts/`),
];
/** An identity policy granting everything on S3 and KMS: what the bucket and key policies must hold against. */
const EVERYTHING: SimulationIdentityPolicy[] = [{ name: 'PlantedEverything', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }] } }];

describe.each([
  ['professional', 'side by side in the shared workload account'],
  ['enterprise', 'each in an account of its own'],
])('the %s tier: tenants acme and acme-2 %s', (tierName) => {
  let a: Side;
  let b: Side;
  beforeAll(async () => {
    const loaded = await cachedBlueprints(configWith());
    const tier = loaded.tiers.find((t) => t.tierName === tierName)!;
    expect(tier.tier.training.enabled).toBe(true);
    [a, b] = tierEstates(loaded, tier, TENANTS).map(side);
    expect(a.bucketArn).not.toBe(b.bucketArn);
  }, 240_000);

  it('each tenant\'s training-files session reaches none of the other\'s uploads, listings or key (both ways)', async () => {
    for (const [who, victim] of [[a, b], [b, a]] as const) {
      await expectAll(who, victim, [
        ...filesApi(victim),
        ...objects(victim, `${TRAINING_FILES_PREFIX}${FILE}/train.jsonl`, ['s3:GetObjectVersion', 's3:DeleteObjectVersion', 's3:PutObjectAcl']),
        listing(victim), listing(victim, ''),
        // The victim's key for the attacker's own bucket (its context), and directly.
        ...keyUse(victim, ['kms:GenerateDataKey', 'kms:Decrypt'], viaS3(victim, who.bucketArn)),
        ...keyUse(victim, ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:CreateGrant'], {}),
      ], false);
    }
  });

  it('does what the Files API does on its own tenant: Put, Get, Delete under training-data/files/, lists it, uses the key through S3', async () => {
    for (const own of [a, b]) await expectAll(own, own, filesApi(own), true);
  });

  it('reaches nothing else of its own tenant: the rest of training-data/, models/, checkpoints/, other objects, versions, a wider listing, other key use', async () => {
    for (const own of [a, b]) {
      await expectAll(own, own, [
        ...objects(own, 'training-data/other.jsonl'), ...objects(own, 'training-data/files'), ...objects(own, 'models/x'), ...objects(own, 'checkpoints/step-1'), ...objects(own, 'data/report.parquet'),
        ...objects(own, `${TRAINING_FILES_PREFIX}${FILE}/train.jsonl`, ['s3:GetObjectVersion', 's3:DeleteObjectVersion', 's3:PutObjectAcl', 's3:RestoreObject']),
        listing(own), listing(own, ''), listing(own, 'training-data/'), listing(own, 'models/'), listing(own, 'training-data/files'),
        { action: 's3:ListBucketVersions', resource: own.bucketArn, policy: own.bucketPolicy, context: { ...s3Ctx(own), 's3:prefix': TRAINING_FILES_PREFIX } },
        ...keyUse(own, ['kms:GenerateDataKey', 'kms:Decrypt'], {}),
        ...['sagemaker', 'rds', 'secretsmanager'].flatMap((svc) => keyUse(own, ['kms:GenerateDataKey', 'kms:Decrypt'], { 'kms:ViaService': `${svc}.${own.e.region}.amazonaws.com` })),
        ...keyUse(own, ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'], viaS3(own)),
      ], false);
    }
  });

  it('the bucket and key policies alone confine it: with an identity policy granting s3:* and kms:*, still only training-data/files/ and the key through S3', async () => {
    for (const own of [a, b]) {
      await expectAll(own, own, filesApi(own), true, EVERYTHING);
      await expectAll(own, own, [
        ...objects(own, 'training-data/other.jsonl'), ...objects(own, 'models/x'), ...objects(own, 'data/report.parquet'),
        listing(own), listing(own, 'training-data/'), listing(own, 'models/'),
        { action: 's3:ListBucketVersions', resource: own.bucketArn, policy: own.bucketPolicy, context: s3Ctx(own) },
        { action: 's3:PutLifecycleConfiguration', resource: own.bucketArn, policy: own.bucketPolicy, context: s3Ctx(own) },
        { action: 's3:PutBucketPolicy', resource: own.bucketArn, policy: own.bucketPolicy, context: s3Ctx(own) },
        ...keyUse(own, ['kms:GenerateDataKey', 'kms:Decrypt'], {}),
        ...keyUse(own, ['kms:Decrypt'], { 'kms:ViaService': `sagemaker.${own.e.region}.amazonaws.com` }),
        ...keyUse(own, ['kms:Encrypt', 'kms:CreateGrant', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'], viaS3(own)),
      ], false, EVERYTHING);
    }
  });

  it('is assumed only by the platform\'s fine-tuning API Lambda, tagged with its own tenant', async () => {
    for (const own of [a, b]) {
      const trust = own.files.resource.props.AssumeRolePolicyDocument as PolicyJson;
      const platform = own.e.platformAccount;
      const assume = async (roleName: string, tenantTag: string) => (await evaluate({
        principalArn: roleArn('aws', platform, roleName), action: 'sts:AssumeRole', resource: own.files.arn, resourceAccount: own.e.account,
        identityPolicies: [{ name: 'AssumeAnything', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: '*' }] } }],
        scps: [], resourcePolicy: trust,
        context: {
          'aws:PrincipalArn': roleArn('aws', platform, roleName), 'aws:PrincipalAccount': platform, 'aws:PrincipalOrgID': ORG, 'aws:PrincipalType': 'AssumedRole',
          'aws:RequestedRegion': own.e.region, 'aws:SecureTransport': 'true', [`aws:RequestTag/${TENANT_ID_TAG}`]: tenantTag, 'aws:TagKeys': [TENANT_ID_TAG],
        },
      })).allowed;
      const other = own === a ? b.e.tenantId : a.e.tenantId;
      expect(await assume(PLATFORM_ROLE_NAMES.fineTuningApi, own.e.tenantId)).toBe(true);
      expect(await assume(PLATFORM_ROLE_NAMES.fineTuningApi, other)).toBe(false);
      // The events Lambda never touches files; the router and any other platform role neither.
      for (const roleName of [PLATFORM_ROLE_NAMES.fineTuningEvents, PLATFORM_ROLE_NAMES.router, 'tessera-impostor']) expect(await assume(roleName, own.e.tenantId), roleName).toBe(false);
      expect(own.files.resource.props.MaxSessionDuration).toBe(3600);
    }
  });

  it('names its own bucket as the encryption context, and the key defers to that (conditions the simulator cannot evaluate, as written)', () => {
    for (const [own, other] of [[a, b], [b, a]] as const) {
      // The role's policies as synthesized (the principal's own copies have these conditions dropped).
      const statements = policyStatements(own, own.files);
      const kms = statements.filter((st) => JSON.stringify(st.Action).includes('kms:'));
      expect(kms).toHaveLength(1);
      expect(kms[0].Condition).toEqual({ StringEquals: { 'kms:ViaService': `s3.${own.e.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': own.bucketArn } });
      expect(own.bucketArn).not.toBe(other.bucketArn);
      // The key policy defers to identity policies for this role only through S3: KMS then needs the identity policy above as well.
      const root = rootStatements(own);
      expect(root.map((st) => st.Sid)).toContain('TrainingFilesThroughS3');
      expect(root.find((st) => st.Sid === 'TrainingFilesThroughS3')!.Condition).toEqual({ StringEquals: { 'kms:ViaService': `s3.${own.e.region}.amazonaws.com` }, ArnEquals: { 'aws:PrincipalArn': own.files.arn } });
    }
  });

  it('defers the key to no other identity policy than the vector-store role\'s, through S3 Vectors, whose own policy names its own vector bucket (as written)', () => {
    for (const [own, other] of [[a, b], [b, a]] as const) {
      // The key policy's statements for the account (root): one per role, each pinned to its role and its service. The
      // vector-store role's (constructs/tenant-vector-bucket.ts) is the only other: nobody else's identity policy is enough.
      const root = rootStatements(own);
      expect(root.map((st) => st.Sid).sort()).toEqual(['TrainingFilesThroughS3', 'VectorStoreThroughS3Vectors']);
      const vectorStore = principal(own, 'vector-store');
      expect(root.find((st) => st.Sid === 'VectorStoreThroughS3Vectors')!.Condition)
        .toEqual({ StringEquals: { 'kms:ViaService': `s3vectors.${own.e.region}.amazonaws.com` }, ArnEquals: { 'aws:PrincipalArn': vectorStore.arn } });
      // Its bucket is its condition the way S3 Vectors allows: the index actions name its own vector bucket's indexes,
      // the key only through S3 Vectors (S3 Vectors has no encryption-context condition key of the S3 kind to name it by).
      const vectorBucketArn = (e: TenantEstate) => `arn:${e.partition}:s3vectors:${e.region}:${e.account}:bucket/${tenantVectorBucketName(e.tenantId)}`;
      expect(vectorBucketArn(own.e)).not.toBe(vectorBucketArn(other.e));
      expect(policyStatements(own, vectorStore).map((st) => ({ Sid: st.Sid, Resource: st.Resource, Condition: st.Condition }))).toEqual([
        { Sid: 'VectorStoreIndexes', Resource: `${vectorBucketArn(own.e)}/index/*`, Condition: undefined },
        { Sid: 'VectorStoreCreateIndexWithTenantKey', Resource: `${vectorBucketArn(own.e)}/index/*`, Condition: { StringEquals: { 's3vectors:sseType': 'aws:kms' }, ArnEquals: { 's3vectors:kmsKeyArn': own.keyArn } } },
        { Sid: 'TenantKeyThroughS3Vectors', Resource: own.keyArn, Condition: { StringEquals: { 'kms:ViaService': `s3vectors.${own.e.region}.amazonaws.com` } } },
      ]);
    }
  });
});
