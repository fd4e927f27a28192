import { Aws, CfnResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PLATFORM_ROLE_NAMES, TRAINING_FILES_PREFIX } from '../lib/fine-tuning.js';
import { roleArn, tenantNamespace, tenantRoleName, TENANT_ID_TAG } from '../lib/tenant-naming.js';

export type WorkloadTrust =
  /** Pods of the tenant's dedicated cluster, through EKS Pod Identity in this account. */
  | { readonly kind: 'pod-identity' }
  /** Pods of the tenant's namespace on the platform's shared cluster, chained through the bridge role. */
  | { readonly kind: 'shared-cluster-bridge'; readonly platformAccountId: string }
  /** No compute: no workload role. */
  | { readonly kind: 'none' };

export interface TenantRolesProps {
  readonly tenantId: string;
  /** The platform account: tenant admins and break-glass sessions come from there. */
  readonly platformAccountId: string;
  /**
   * Platform-account role names (with path, `*`/`?` wildcards) whose sessions tagged with the tenant
   * may assume the admin role (`roles.tenantAdminRoleNamePatterns`).
   */
  readonly adminRoleNamePatterns: readonly string[];
  /** Name of the platform's break-glass role, which may assume the tenant's break-glass role. */
  readonly platformBreakGlassRoleName: string;
  /** Name of the provisioning role of this account, which may assume break-glass for the offboarding export. */
  readonly provisioningRoleName: string;
  /** Who runs the tenant's workloads. */
  readonly workloadTrust: WorkloadTrust;
  /**
   * Whether SageMaker training jobs run for this tenant.
   * @default false - no training role
   */
  readonly training?: boolean;
  /**
   * Whether the roles already exist in the account and are imported by name (`iam.Role.fromRoleName`,
   * mutable) instead of created: the failover variant of the blueprint (lib/tenant-failover-stack.ts),
   * deployed in the DR region while the home region's stack still owns them. IAM is a global service, so
   * the home stack's roles keep their names, trusts and policies through a regional outage; a second
   * create of the same names fails with `EntityAlreadyExists` ("already exists").
   * Source: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName: "IAM user, group,
   * role, and policy names must be unique within the account"; IAM has no Region in its names or ARNs).
   * @default false - the roles are created, with their trusts
   */
  readonly existing?: boolean;
}

/**
 * The tenant's IAM roles, with fixed names so that the key policy, the bucket policy, the
 * workflow and the gateway can name them before they exist. Permission policies are attached
 * by the data-store constructs (see `TenantBlueprint`), which keeps each grant beside its resource.
 * With `existing`, the same roles are imported by name (no AWS::IAM::Role in the template): the
 * policies the data-store constructs attach then land on the home stack's roles, beside theirs.
 */
export class TenantRoles extends Construct {
  /** Runs the tenant's pods; absent without compute. */
  readonly workload?: iam.IRole;
  /** The tenant's own administrators (platform IdP sessions tagged with the tenant id). */
  readonly admin: iam.IRole;
  /** SageMaker training jobs; absent when training is off. */
  readonly training?: iam.IRole;
  /** Assumed by the platform's fine-tuning Lambdas to start, stop and deploy this tenant's jobs; reads no data. */
  readonly trainingLauncher?: iam.IRole;
  /**
   * Assumed by the fine-tuning API Lambda to serve OpenAI's Files API: reads, writes, lists and deletes
   * the objects under `training-data/files/` of the tenant bucket, and nothing else of the tenant's data.
   */
  readonly trainingFiles?: iam.IRole;
  /** Assumed by the gateway's router to invoke this tenant's fine-tuned model endpoints. */
  readonly modelInvoker?: iam.IRole;
  /**
   * Assumed by the gateway's router to keep this tenant's vector stores (OpenAI's Vector Stores API): the indexes of the
   * tenant's vector bucket only (constructs/tenant-vector-bucket.ts), in every tier.
   */
  readonly vectorStore: iam.IRole;
  /** Audited break-glass path for platform admins. */
  readonly breakGlass: iam.IRole;
  /** Condition every workload permission carries: the session belongs to the tenant's namespace. */
  readonly workloadSessionCondition: Record<string, Record<string, string>>;

  constructor(scope: Construct, id: string, props: TenantRolesProps) {
    super(scope, id);
    const name = (purpose: Parameters<typeof tenantRoleName>[1]) => tenantRoleName(props.tenantId, purpose);
    const platformRoot = new iam.AccountPrincipal(props.platformAccountId);
    this.workloadSessionCondition = { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': tenantNamespace(props.tenantId) } };
    // A role of the tenant: created, or (existing) imported by its name; mutable, so grants become policies of this stack.
    const role = (id: string, roleProps: iam.RoleProps & { roleName: string }): iam.IRole =>
      props.existing ? iam.Role.fromRoleName(this, id, roleProps.roleName, { mutable: true }) : new iam.Role(this, id, roleProps);

    if (props.workloadTrust.kind !== 'none') {
      this.workload = role('Workload', {
        roleName: name('workload'),
        description: 'Tessera tenant workloads (EKS Pod Identity); every permission requires the tenant namespace session tag',
        assumedBy: this.workloadPrincipal(props.workloadTrust, props.tenantId),
        maxSessionDuration: Duration.hours(1),
      });
    }

    this.admin = role('Admin', {
      roleName: name('admin'),
      description: 'Tessera tenant administrators, signed in through the platform identity provider',
      // The tag and the principal: a platform principal that could set the tag on itself is not an admin.
      assumedBy: platformRoot.withConditions({
        StringEquals: { [`aws:PrincipalTag/${TENANT_ID_TAG}`]: props.tenantId },
        ArnLike: { 'aws:PrincipalArn': props.adminRoleNamePatterns.map((p) => `arn:${Aws.PARTITION}:iam::${props.platformAccountId}:role/${p}`) },
      }),
      maxSessionDuration: Duration.hours(4),
    });

    // A platform Lambda's session tagged with this tenant: the only way the platform's functions act in the tenant's account.
    const platformRole = (...names: string[]) => new iam.PrincipalWithConditions(platformRoot, {
      ArnEquals: { 'aws:PrincipalArn': names.map((n) => roleArn(Aws.PARTITION, props.platformAccountId, n)) },
      StringEquals: { [`aws:RequestTag/${TENANT_ID_TAG}`]: props.tenantId },
    });
    this.vectorStore = role('VectorStore', {
      roleName: name('vector-store'),
      description: 'Tessera gateway router: this tenant\'s vector stores, the indexes of its vector bucket only',
      assumedBy: new iam.SessionTagsPrincipal(platformRole(PLATFORM_ROLE_NAMES.router)),
      maxSessionDuration: Duration.hours(1),
    });

    if (props.training) {
      this.training = role('Training', {
        roleName: name('training'),
        description: 'Tessera tenant SageMaker training jobs',
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com').withConditions({
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        }),
        maxSessionDuration: Duration.hours(12),
      });
      this.trainingLauncher = role('TrainingLauncher', {
        roleName: name('training-launcher'),
        description: 'Tessera fine-tuning Lambdas: start, stop and deploy this tenant\'s SageMaker jobs with its own role, key and network',
        assumedBy: new iam.SessionTagsPrincipal(platformRole(PLATFORM_ROLE_NAMES.fineTuningApi, PLATFORM_ROLE_NAMES.fineTuningEvents)),
        maxSessionDuration: Duration.hours(1),
      });
      // The Files API (POST/GET/DELETE /v1/files): the API Lambda only; the events Lambda never touches files.
      this.trainingFiles = role('TrainingFiles', {
        roleName: name('training-files'),
        description: 'Tessera fine-tuning API Lambda: the Files API\'s objects under training-data/files/ of this tenant\'s bucket, nothing else',
        assumedBy: new iam.SessionTagsPrincipal(platformRole(PLATFORM_ROLE_NAMES.fineTuningApi)),
        maxSessionDuration: Duration.hours(1),
      });
      this.modelInvoker = role('ModelInvoker', {
        roleName: name('model-invoker'),
        description: 'Tessera gateway router: invokes this tenant\'s fine-tuned model endpoints',
        assumedBy: new iam.SessionTagsPrincipal(platformRole(PLATFORM_ROLE_NAMES.router)),
        maxSessionDuration: Duration.hours(1),
      });
    }

    // Only the platform's break-glass role may assume it, and only with a SourceIdentity naming
    // the human: CloudTrail then records who, in every account the session touches.
    this.breakGlass = role('BreakGlass', {
      roleName: name('break-glass'),
      description: 'Tessera audited break-glass access to the tenant data; requires sts:SourceIdentity',
      assumedBy: new iam.PrincipalWithConditions(platformRoot, {
        ArnEquals: { 'aws:PrincipalArn': roleArn(Aws.PARTITION, props.platformAccountId, props.platformBreakGlassRoleName) },
        StringLike: { 'sts:SourceIdentity': '?*' },
      }),
      maxSessionDuration: Duration.hours(1),
    });
    if (!(this.breakGlass instanceof iam.Role)) return; // imported: its trust is the home stack's
    // The offboarding export reaches the data the same audited way, as SourceIdentity tessera-offboarding-<tenant>.
    this.breakGlass.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        sid: 'OffboardingExport',
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        principals: [new iam.AccountPrincipal(Aws.ACCOUNT_ID)],
        conditions: {
          ArnEquals: { 'aws:PrincipalArn': roleArn(Aws.PARTITION, Aws.ACCOUNT_ID, props.provisioningRoleName) },
          StringEquals: { 'sts:SourceIdentity': `tessera-offboarding-${props.tenantId}` },
        },
      }),
    );
    this.breakGlass.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:SetSourceIdentity'],
        principals: [platformRoot],
        conditions: { ArnEquals: { 'aws:PrincipalArn': roleArn(Aws.PARTITION, props.platformAccountId, props.platformBreakGlassRoleName) } },
      }),
    );
  }

  /** Every role of the tenant, for the key and bucket policies. */
  get all(): iam.IRole[] {
    return [this.workload, this.admin, this.training, this.trainingLauncher, this.trainingFiles, this.modelInvoker, this.vectorStore, this.breakGlass].filter((r): r is iam.IRole => r !== undefined);
  }

  /** Tenant roles that use the tenant's data and key (not break-glass, not the platform's launcher and invoker). */
  get tenantUseRoles(): iam.IRole[] {
    return [this.workload, this.admin, this.training].filter((r): r is iam.IRole => r !== undefined);
  }

  /**
   * Roles the bucket policy admits to one prefix of the tenant bucket only, with the prefix (the bucket
   * policy denies them every other key and listing; the key policy lets them use the key only through S3,
   * for that bucket): the training-files role on `training-data/files/`.
   */
  get prefixRoles(): Array<{ readonly role: iam.IRole; readonly prefix: string; readonly sid: string }> {
    return this.trainingFiles ? [{ role: this.trainingFiles, prefix: TRAINING_FILES_PREFIX, sid: 'TrainingFiles' }] : [];
  }

  /** Role resources, so that the key can be created after them (KMS rejects policies naming missing principals); none when imported. */
  get roleResources(): CfnResource[] {
    return this.all.filter((r): r is iam.Role => r instanceof iam.Role).map((r) => r.node.defaultChild as CfnResource);
  }

  private workloadPrincipal(trust: Exclude<WorkloadTrust, { kind: 'none' }>, tenantId: string): iam.IPrincipal {
    if (trust.kind === 'pod-identity') {
      return new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } }),
      );
    }
    // The bridge role is created later, by the namespace blueprint in the platform account; naming
    // it in a condition rather than as the principal lets this role exist first.
    const bridge = roleArn(Aws.PARTITION, trust.platformAccountId, tenantRoleName(tenantId, 'pod-bridge'));
    return new iam.SessionTagsPrincipal(
      new iam.AccountPrincipal(trust.platformAccountId).withConditions({
        ArnEquals: { 'aws:PrincipalArn': bridge },
        StringEquals: { 'aws:RequestTag/kubernetes-namespace': tenantNamespace(tenantId) },
      }),
    );
  }
}
