import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TenantStorage } from '../../constructs/tenant-storage.js';
import { newStack, template } from '../support/synth.js';

const ROLE = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

function build() {
  const stack = newStack();
  const key = new kms.Key(stack, 'TenantKey');
  new TenantStorage(stack, 'Storage', {
    encryptionKey: key,
    tenantRoleArns: [ROLE('tessera-acme-workload'), ROLE('tessera-acme-admin')],
    breakGlassRoleArn: ROLE('tessera-acme-break-glass'),
    provisioningRoleArn: ROLE('TesseraProvisioning'),
    deployerRoleArn: ROLE('TesseraBlueprintExecution'),
    trainingDataExpiration: Duration.days(60),
  });
  return template(stack);
}

describe('TenantStorage', () => {
  it('encrypts with the tenant key and a bucket key, versions, blocks public access, enforces ownership, logs access', () => {
    const t = build();
    t.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantKey'), 'Arn'] } },
          }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^StorageAccessLogs') }, LogFilePrefix: 'tenant-bucket/' },
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('expires training data and noncurrent versions', () => {
    build().hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-training-data', Prefix: 'training-data/', ExpirationInDays: 60, Status: 'Enabled' }),
          Match.objectLike({ Id: 'expire-uploads', Prefix: 'training-data/files/uploads/', ExpirationInDays: 1, Status: 'Enabled' }),
          Match.objectLike({ Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ]),
      },
    });
  });

  it('denies object access to every principal but the tenant roles and break-glass, and insecure transport to all', () => {
    const t = build();
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement as any[]);
    const tenantPolicy = policies.find((s) => s.some((x) => x.Sid === 'DenyObjectAccessToAllButTenantRoles'))!;
    const deny = tenantPolicy.find((x) => x.Sid === 'DenyObjectAccessToAllButTenantRoles');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(deny.Action).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:ListBucketVersions']));
    const listing = tenantPolicy.find((x) => x.Sid === 'DenyListingToAllButTenantRolesAndDeployer');
    expect(listing.Action).toBe('s3:ListBucket');
    expect(listing.Condition.ArnNotLike['aws:PrincipalArn']).toContain(ROLE('TesseraBlueprintExecution'));
    expect(deny.Condition.ArnNotLike['aws:PrincipalArn'].sort()).toEqual(
      [ROLE('tessera-acme-workload'), ROLE('tessera-acme-admin'), ROLE('tessera-acme-break-glass')].sort(),
    );
    // Settings that can destroy data without touching an object: CloudFormation's deployer (as the blueprint says) and break-glass only.
    const settings = tenantPolicy.find((x) => x.Sid === 'DenyDataSettingsToAllButDeployer');
    expect(settings.Action).toEqual(expect.arrayContaining(['s3:PutLifecycleConfiguration', 's3:PutBucketVersioning', 's3:PutEncryptionConfiguration', 's3:PutReplicationConfiguration']));
    expect(settings.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([ROLE('TesseraBlueprintExecution'), ROLE('tessera-acme-break-glass')]);
    const policyChange = tenantPolicy.find((x) => x.Sid === 'DenyPolicyChangesToAllButDeployers');
    expect(policyChange.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([ROLE('TesseraProvisioning'), ROLE('TesseraBlueprintExecution'), ROLE('tessera-acme-break-glass')]);
    expect(tenantPolicy.some((x) => x.Effect === 'Deny' && x.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
    expect(tenantPolicy.some((x) => x.Effect === 'Deny' && x.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2)).toBe(true);
  });

  it('rejects a training prefix that is not a folder', () => {
    const stack = newStack();
    expect(() => new TenantStorage(stack, 'S', {
      encryptionKey: new kms.Key(stack, 'K'), tenantRoleArns: [], breakGlassRoleArn: ROLE('b'), provisioningRoleArn: ROLE('p'), deployerRoleArn: ROLE('d'), trainingDataPrefix: 'training',
    })).toThrow(/trainingDataPrefix must end with "\/", got "training"/);
  });
});
