import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { isStatefulType } from '../../lib/stateful-resources.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';

let built: DefaultAppTemplates;
beforeAll(() => {
  built = defaultAppTemplates();
});

const t = (tier: string): Template => built.blueprints[tier];
const arnOf = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3vectors:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:bucket/tessera-`, { Ref: 'TenantId' }, `-vectors${suffix}`]] });
const keyLogicalId = (template: Template) => Object.keys(template.findResources('AWS::KMS::Key'))[0];
const roleId = (template: Template, purpose: string) => Object.entries(template.findResources('AWS::IAM::Role'))
  .find(([, r]) => JSON.stringify(r.Properties.RoleName).includes(`-${purpose}`))![0];

describe.each(['starter', 'professional', 'enterprise'])('the %s blueprint\'s vector bucket', (tier) => {
  it('is tessera-<tenant>-vectors, SSE-KMS with the tenant key, tagged with the tenant, retained', () => {
    const template = t(tier);
    const buckets = template.findResources('AWS::S3Vectors::VectorBucket');
    expect(Object.values(buckets)).toHaveLength(1);
    const [bucket] = Object.values(buckets);
    expect(bucket.Properties).toEqual({
      VectorBucketName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-vectors']] },
      EncryptionConfiguration: { SseType: 'aws:kms', KmsKeyArn: { 'Fn::GetAtt': [keyLogicalId(template), 'Arn'] } },
      Tags: [{ Key: 'tessera:tenant-id', Value: { Ref: 'TenantId' } }, { Key: 'tessera:tier', Value: tier }],
    });
    // RetainExceptOnCreate (lib/retain-except-on-create.ts) on deletion, Retain on replacement: like the other data stores.
    expect(bucket.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  it('grants the vector-store role the index actions on this bucket\'s indexes only, CreateIndex under the tenant key only, and the key through S3 Vectors only', () => {
    const template = t(tier);
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('s3vectors:'));
    expect(policies).toHaveLength(1);
    const [policy] = policies;
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId(template, 'vector-store') }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'VectorStoreIndexes', Effect: 'Allow',
        Action: ['s3vectors:DeleteIndex', 's3vectors:DeleteVectors', 's3vectors:GetIndex', 's3vectors:GetVectors', 's3vectors:PutVectors', 's3vectors:QueryVectors'],
        Resource: arnOf('/index/*'),
      },
      {
        // CreateIndex's own condition keys (its request's encryptionConfiguration): SSE-KMS, this tenant's key.
        Sid: 'VectorStoreCreateIndexWithTenantKey', Effect: 'Allow', Action: 's3vectors:CreateIndex', Resource: arnOf('/index/*'),
        Condition: { StringEquals: { 's3vectors:sseType': 'aws:kms' }, ArnEquals: { 's3vectors:kmsKeyArn': { 'Fn::GetAtt': [keyLogicalId(template), 'Arn'] } } },
      },
      {
        Sid: 'TenantKeyThroughS3Vectors', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [keyLogicalId(template), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3vectors.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
    ]);
    // No statement anywhere in the blueprint grants s3vectors on `*` or on another bucket.
    const all = JSON.stringify(template.toJSON());
    expect(all).not.toMatch(/"s3vectors:\*"/);
  });

  it('lets the S3 Vectors indexing service decrypt for this bucket only, and the vector-store role only through S3 Vectors', () => {
    const template = t(tier);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'S3VectorsIndexingDecrypts', Effect: 'Allow', Principal: { Service: 'indexing.s3vectors.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': [arnOf(''), arnOf('/*')] },
              'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['aws:s3vectors:arn', 'aws:s3vectors:resource-id'] },
            },
          },
          Match.objectLike({
            Sid: 'VectorStoreThroughS3Vectors', Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: {
              StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3vectors.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
              ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleId(template, 'vector-store'), 'Arn'] } },
            },
          }),
        ]),
      },
    });
  });

  it('has a vector-store role only the platform\'s router, tagged with this tenant, may assume', () => {
    const template = t(tier);
    const role = template.findResources('AWS::IAM::Role')[roleId(template, 'vector-store')];
    const trust = JSON.stringify(role.Properties.AssumeRolePolicyDocument);
    expect(trust).toContain('tessera-gateway-router');
    expect(trust).toContain('aws:RequestTag/tessera:tenant-id');
    expect(role.Properties.AssumeRolePolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
  });
});

it('the change-set guard treats a vector bucket as stateful (its replacement or removal is refused)', () => {
  expect(isStatefulType('AWS::S3Vectors::VectorBucket')).toBe(true);
});

it('the router may assume tenants\' vector-store roles in this organization only', () => {
  const policies = Object.values(built.functionPolicies.findResources('AWS::IAM::ManagedPolicy'));
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Sid?: string }>).filter((s) => s.Sid === 'TenantVectorStores');
  expect(statements).toEqual([{
    Sid: 'TenantVectorStores', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'],
    Resource: 'arn:aws:iam::*:role/tessera-*-vector-store',
    Condition: { StringEquals: { 'aws:ResourceOrgID': expect.any(String) } },
  }]);
});
