import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CognitoIdentityProviderClient, CreateUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateOrganizationCommand, EnableAWSServiceAccessCommand, EnablePolicyTypeCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateAccountAssignmentCommand, CreatePermissionSetCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../../lib/config/load-config.js';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { MotoServer } from './moto-server.js';

/**
 * A healthy estate for `tessera doctor` in moto (test/integration/doctor-moto.test.ts, and the README
 * transcript): an organization with SCPs and CloudTrail trusted access, an organization trail (multi-region, logging)
 * in the management account, CDK bootstrap version
 * parameters, the platform deploy role trusting the management account, TesseraProvisioning in the
 * workload account, provider secrets, base-model weights and images, a TesseraPlatform stack whose
 * TenantUserPoolId names a pool with custom:tenant_id, and the TesseraPlatformAdmin permission set
 * assigned on the platform account. Account ids of a made-up organization, never the placeholders.
 */

export const MANAGEMENT = '444444444444';
export const PLATFORM = '555555555555';
export const WORKLOAD = '666666666666';
export const REGION = 'us-east-1';
export const TRAIN_IMAGE = `${PLATFORM}.dkr.ecr.${REGION}.amazonaws.com/tessera-train:1.0`;
export const SERVE_IMAGE = `${PLATFORM}.dkr.ecr.${REGION}.amazonaws.com/tessera-serve:1.0`;
export const BUCKET = `acme-base-models-${PLATFORM}`;
export const POOL_NAME = 'tessera-tenants';
/** The organization trail of the estate's landing zone, in the management account, and its bucket. */
export const ORGANIZATION_TRAIL = 'aws-controltower-BaselineCloudTrail';
export const ORGANIZATION_TRAIL_BUCKET = `aws-controltower-logs-${MANAGEMENT}-${REGION}`;
export const trust = (account: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }] });
export interface Estate { config: PlatformConfig; configFile: string; creds: Record<string, AwsCredentialIdentity>; rootId: string; poolId: string; instanceArn: string; permissionSetArn: string }

async function as(moto: MotoServer, account: string): Promise<AwsCredentialIdentity> {
  const out = await new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
    .send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/estate-builder`, RoleSessionName: 'estate' }));
  return { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken };
}

/** A client of `C` on moto with `credentials`. */
export const estateClient = <T>(moto: MotoServer, C: new (c: object) => T, credentials: AwsCredentialIdentity): T => new C({ region: REGION, endpoint: moto.endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });

/** The config of the made-up organization, moto's organization and root ids filled in. */
export function estateConfig(organizationId: string, rootId: string, extra: Record<string, unknown> = {}): PlatformConfig {
  return loadConfig({
    overrides: {
      organization: { managementAccountId: MANAGEMENT, organizationId, rootId, accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' },
      platformAccountId: PLATFORM,
      workloadAccountId: WORKLOAD,
      fineTuning: { baseModels: [{ id: 'llama-3.1-8b-instruct', trainingImage: TRAIN_IMAGE, servingImage: SERVE_IMAGE, weightsS3Uri: `s3://${BUCKET}/llama-3.1-8b-instruct/`, inputPricePer1k: 0.0002, outputPricePer1k: 0.0002 }] },
      ...extra,
    },
  });
}

/** What a healthy estate has: organization with SCPs, bootstraps, provisioning role, secrets, weights, images, platform stack, pool, admins. */
export async function buildEstate(moto: MotoServer, dir: string, extra: Record<string, unknown> = {}): Promise<Estate> {
  const client = <T>(C: new (c: object) => T, credentials: AwsCredentialIdentity): T => estateClient(moto, C, credentials);
  const creds = { management: await as(moto, MANAGEMENT), platform: await as(moto, PLATFORM), workload: await as(moto, WORKLOAD) };
  const orgs = client(OrganizationsClient, creds.management);
  const org = (await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }))).Organization!;
  const rootId = (await orgs.send(new ListRootsCommand({}))).Roots![0].Id!;
  await orgs.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'SERVICE_CONTROL_POLICY' }));
  await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'cloudtrail.amazonaws.com' }));
  const config = estateConfig(org.Id!, rootId, extra);
  // The landing zone's organization trail (Control Tower's name), multi-region and logging: it covers the account tier's accounts.
  await client(S3Client, creds.management).send(new CreateBucketCommand({ Bucket: ORGANIZATION_TRAIL_BUCKET }));
  const trails = client(CloudTrailClient, creds.management);
  await trails.send(new CreateTrailCommand({ Name: ORGANIZATION_TRAIL, S3BucketName: ORGANIZATION_TRAIL_BUCKET, IsMultiRegionTrail: true, IsOrganizationTrail: true }));
  await trails.send(new StartLoggingCommand({ Name: ORGANIZATION_TRAIL }));

  for (const account of ['management', 'platform'] as const) {
    await client(SSMClient, creds[account]).send(new PutParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '30', Type: 'String' }));
  }
  await client(IAMClient, creds.platform).send(new CreateRoleCommand({ RoleName: `cdk-hnb659fds-deploy-role-${PLATFORM}-${REGION}`, AssumeRolePolicyDocument: trust(MANAGEMENT) }));
  await client(IAMClient, creds.workload).send(new CreateRoleCommand({ RoleName: 'TesseraProvisioning', AssumeRolePolicyDocument: trust(MANAGEMENT) }));

  const sm = client(SecretsManagerClient, creds.platform);
  for (const id of ['tessera/providers/openai', 'tessera/providers/huggingface']) await sm.send(new CreateSecretCommand({ Name: id, SecretString: 'sk-test' }));

  const s3 = client(S3Client, creds.platform);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'llama-3.1-8b-instruct/config.json', Body: '{}' }));
  const ecr = client(ECRClient, creds.platform);
  for (const repo of ['tessera-train', 'tessera-serve']) {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
    await ecr.send(new PutImageCommand({ repositoryName: repo, imageTag: '1.0', imageManifest: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest: `sha256:${'a'.repeat(64)}` }, layers: [] }) }));
  }

  const pool = await client(CognitoIdentityProviderClient, creds.platform).send(new CreateUserPoolCommand({ PoolName: POOL_NAME, Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false }] }));
  const poolId = pool.UserPool!.Id!;
  await client(CloudFormationClient, creds.platform).send(new CreateStackCommand({
    StackName: 'TesseraPlatform',
    TemplateBody: JSON.stringify({ Resources: { Marker: { Type: 'AWS::CloudFormation::WaitConditionHandle' } }, Outputs: { TenantUserPoolId: { Value: poolId } } }),
  }));

  const sso = client(SSOAdminClient, creds.management);
  const instanceArn = (await sso.send(new ListInstancesCommand({}))).Instances![0].InstanceArn!;
  const permissionSetArn = (await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'TesseraPlatformAdmin' }))).PermissionSet!.PermissionSetArn!;
  await sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn, TargetId: PLATFORM, TargetType: 'AWS_ACCOUNT', PrincipalType: 'USER', PrincipalId: 'u-alice' }));

  const configFile = join(dir, `acme-${Date.now()}.yaml`);
  writeFileSync(configFile, toYaml(configFileBody(config, extra)));
  return { config, configFile, creds, rootId, poolId, instanceArn, permissionSetArn };
}

/** The keys a platform engineer's file sets (the rest comes from the embedded default). */
export function configFileBody(config: PlatformConfig, extra: Record<string, unknown>): Record<string, unknown> {
  return { organization: config.organization, platformAccountId: PLATFORM, workloadAccountId: WORKLOAD, fineTuning: { baseModels: config.fineTuning.baseModels }, ...extra };
}

