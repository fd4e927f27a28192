import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TenantKeyProps {
  /** Tenant id (a string or a CloudFormation token); used in the alias and the log-group condition. */
  readonly tenantId: string;
  /** ARNs of the tenant's own roles: the only principals allowed to encrypt and decrypt. */
  readonly keyUserArns: string[];
  /** ARN of the audited break-glass role, which may also use the key. */
  readonly breakGlassRoleArn: string;
  /** ARN of the platform's provisioning role: administers the key, never decrypts. */
  readonly provisioningRoleArn: string;
  /**
   * ARN of the principal that creates the key and the resources under it: the account's blueprint
   * execution role (CloudFormation's service role). It administers the key (KMS refuses a key policy
   * that would lock its creator out of kms:PutKeyPolicy) and uses it only through `deployerServices`.
   */
  readonly deployerRoleArn: string;
  /**
   * Services that create resources under the key on the deployer's behalf (grants, data keys), e.g.
   * `backup`, `rds`: the deployer's cryptographic use of the key is allowed only through them
   * (`kms:ViaService` = `<service>.<region>.amazonaws.com`), never directly.
   */
  readonly deployerServices: readonly string[];
  /**
   * Log-group name prefixes whose log groups CloudWatch Logs may encrypt with the key.
   * @default - no CloudWatch Logs access
   */
  readonly logGroupPrefixes?: string[];
  /**
   * Days the key waits in PendingDeletion after ScheduleKeyDeletion.
   * @default 30
   */
  readonly pendingWindow?: Duration;
}

/** What the administering principals (provisioning, deployer) may do with a tenant key: everything but use it. */
export const ADMIN_ACTIONS = [
  'kms:CreateAlias', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*',
  'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource',
  'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:RotateKeyOnDemand',
];
/** Cryptographic use of a tenant key by the tenant's roles. */
export const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

/**
 * The tenant's customer-managed KMS key: every tenant data store is encrypted with it.
 *
 * The key policy is written out in full instead of starting from CDK's default, because the
 * default trusts the whole account (`kms:*` for the account root); in the shared workload
 * account that would let any IAM principal with a broad identity policy decrypt any tenant's data.
 */
export class TenantKey extends Construct {
  readonly key: kms.IKey;
  readonly keyArn: string;
  private readonly policy: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: TenantKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const provisioning = new iam.ArnPrincipal(props.provisioningRoleArn);
    const deployer = new iam.ArnPrincipal(props.deployerRoleArn);
    const viaDeployerServices = { 'kms:ViaService': props.deployerServices.map((s) => `${s}.${Aws.REGION}.amazonaws.com`) };
    const users = [...props.keyUserArns, props.breakGlassRoleArn].map((arn) => new iam.ArnPrincipal(arn));

    const statements = [
      new iam.PolicyStatement({
        sid: 'ProvisioningRoleAdministersOnly',
        principals: [provisioning],
        actions: ADMIN_ACTIONS,
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        // Creating RDS, ElastiCache, EKS and Secrets Manager resources on the key needs grants;
        // only grants for AWS resources, so the provisioning role cannot grant itself decrypt.
        sid: 'ProvisioningRoleGrantsToAwsServicesOnly',
        principals: [provisioning],
        actions: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
        resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'DeployerAdministers',
        principals: [deployer],
        actions: ADMIN_ACTIONS,
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        // What the create handlers of the Backup vault, database, cache and cluster need of the
        // caller (CloudFormation resource provider schemas): grants for AWS resources, data keys
        // and decrypt — each only through one of those services, so the deployer never decrypts.
        sid: 'DeployerCreatesResourcesThroughServices',
        principals: [deployer],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:RetireGrant'],
        resources: ['*'],
        conditions: { StringEquals: viaDeployerServices },
      }),
      new iam.PolicyStatement({
        sid: 'DeployerGrantsToServices',
        principals: [deployer],
        actions: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
        resources: ['*'],
        conditions: { StringEquals: viaDeployerServices, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'TenantRolesUseKey',
        principals: users,
        actions: USE_ACTIONS,
        resources: ['*'],
      }),
    ];
    if (props.logGroupPrefixes?.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'CloudWatchLogsEncryptsTenantLogGroups',
          principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
          actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': props.logGroupPrefixes.map((prefix) =>
                stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
              ),
            },
          },
        }),
      );
    }

    this.policy = new iam.PolicyDocument({ statements });
    const cfnKey = new kms.CfnKey(this, 'Resource', {
      description: `Tessera tenant ${props.tenantId}: encrypts every data store of the tenant`,
      enableKeyRotation: true,
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      pendingWindowInDays: (props.pendingWindow ?? Duration.days(30)).toDays(),
      keyPolicy: this.policy,
    });
    cfnKey.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new kms.CfnAlias(this, 'Alias', { aliasName: `alias/tessera/${props.tenantId}`, targetKeyId: cfnKey.attrArn });

    // An imported reference: grants made through it touch identity policies only, so the key
    // policy stays exactly what this construct writes.
    this.key = kms.Key.fromKeyArn(this, 'Reference', cfnKey.attrArn);
    this.keyArn = cfnKey.attrArn;
  }

  /**
   * Lets one role use the key only as far as its identity policies also allow it: the statement names
   * the account (which makes KMS require an identity policy allowing the request too) and only `role`
   * (`aws:PrincipalArn`), so no other principal of the account gains anything. For a condition the key
   * policy cannot state, such as one naming a resource created after the key (the bucket it encrypts).
   * Source: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
   */
  allowThroughIdentityPolicy(sid: string, role: iam.IRole, actions: string[], conditions: Record<string, Record<string, unknown>> = {}): void {
    this.policy.addStatements(new iam.PolicyStatement({
      sid, principals: [new iam.AccountRootPrincipal()], actions, resources: ['*'],
      conditions: { ...conditions, ArnEquals: { ...(conditions.ArnEquals ?? {}), 'aws:PrincipalArn': role.roleArn } },
    }));
  }

  /**
   * Lets an AWS service principal (e.g. `indexing.s3vectors.amazonaws.com`) use the key, under `conditions` (which should
   * name this account, `aws:SourceAccount`, and the resource the service acts for, `aws:SourceArn`: the confused-deputy guard).
   */
  allowServicePrincipal(sid: string, service: string, actions: string[], conditions: Record<string, Record<string, unknown>>): void {
    this.policy.addStatements(new iam.PolicyStatement({ sid, principals: [new iam.ServicePrincipal(service)], actions, resources: ['*'], conditions }));
  }

  /** Lets an AWS service role of the tenant (e.g. the EKS cluster role) use the key. */
  allowServiceRole(sid: string, role: iam.IRole, actions: string[] = USE_ACTIONS, conditions?: Record<string, unknown>): void {
    this.policy.addStatements(new iam.PolicyStatement({ sid, principals: [new iam.ArnPrincipal(role.roleArn)], actions, resources: ['*'], conditions }));
  }
}
