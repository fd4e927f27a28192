import { z } from 'zod';
import { IDENTITY_CENTER_TENANT_ADMIN_ROLES } from '../tenant-naming.js';
import { computeSubnetProblem, SHARED_CLUSTER_VPC_ENDPOINTS, tierVpcEndpoints } from '../vpc-layout.js';
import { tenPercentAboveGiB } from '../rds-storage.js';
import { AccountCustomizationSchema, AccountCustomizationsRoleSchema } from './account-customizations.js';
import { AlternateContactsSchema } from './alternate-contacts.js';
import { AuditDataEventsSchema } from './audit-data-events.js';
import { BudgetAlertsConfigSchema } from './budget-alerts-config.js';
import { checkUserPoolEmail, IdentityConfigSchema } from './user-pool-email.js';
import { InfrastructureBudgetConfigSchema } from './infrastructure-budget.js';
import { checkDisasterRecoveryRegions, DisasterRecoveryConfigSchema, noneOrTarget } from './disaster-recovery.js';
import { checkModelAliases, checkTierModelsAreNotAliases, ModelAliasName } from './model-aliases.js';
import { checkTierModelsAreInCatalog } from './tier-models.js';
import { cidrSyntaxProblem, overlaps, parseCidr, vpcCidrProblem, type Ipv4Range } from './cidr.js';
import { DISJOINT, TIER_NAME_RULE } from './config-rules.js';
import { regionProblem } from './region.js';
import { foundationModelId } from '../bedrock-models.js';
import { checkWorkloadAccountIsNotManagement } from './management-account.js';
import { checkSharedClusterServiceRange } from './eks-service-range.js';
import { checkSharedTierGpus } from './shared-gpu-quota.js';
import { accountEmailTemplateProblem } from '../tenant-account-email.js';
import { checkBlueprintFileNames } from './blueprint-file-names.js';
import { MAX_SAGEMAKER_IMAGE_CHARS, MAX_SAGEMAKER_S3_URI_CHARS } from '../sagemaker-limits.js';
import { MAX_TRAINING_RUNTIME_HOURS } from '../sagemaker-stopping-condition.js';
import {
  cacheNodeTypeProblem,
  dbInstanceClassProblem,
  gpuInstanceTypeProblem,
  sageMakerEndpointInstanceTypeProblem,
  sageMakerTrainingInstanceTypeProblem,
  systemNodeInstanceTypeProblem,
} from './instance-catalog.js';

/**
 * The largest `gateway.maxRequestBytes` taken: a body under it always reaches the router Lambda on AWS. API Gateway (REST,
 * Lambda proxy integration) hands the router one JSON event, and Lambda takes a synchronous invocation's request payload up
 * to 6,291,456 bytes (6 MiB, "Lambda quotas"; RequestEntityTooLargeException past it), the whole event counted:
 * - the body as a JSON string: a well-formed JSON body escapes to at most 3 times its bytes (`"`, `\`, a tab or a line
 *   break: 2 bytes for 1; a non-ASCII character, if written as `\uXXXX`: 6 bytes for 2, 6 for 3, 12 for 4); a body of
 *   a binary media type (multipart/form-data, application/binary: routes.ts BINARY_MEDIA_TYPES, whatever the route) is
 *   base64, 4/3 of its bytes;
 * - the rest: the headers twice (`headers` and `multiValueHeaders`; API Gateway takes 10,240 bytes of request line and
 *   headers), each escaped at most 6 times, the path, the query and `requestContext` with the authorizer's context:
 *   under 128 KiB (131,072 bytes).
 * 3 × 2,000,000 + 131,072 = 6,131,072 ≤ 6,291,456. Until 2026-12-07 the schema took up to 6,000,000: a JSON body of
 * that size with some 290,000 characters to escape (the quotes of a JSON document sent as a string, the line breaks of a
 * pasted file) did not reach Lambda, and the caller got API Gateway's 413 where the gateway's own answer was due.
 * A body that is not JSON (raw control characters, escaped as 6 bytes each) can still be past Lambda's limit under any
 * maximum (1 MiB of them is 6,291,456 bytes): API Gateway answers it with the OpenAI-shaped 413 `request_too_large` of
 * its gateway responses (lambdas/inference/gateway-responses.ts).
 */
export const MAX_REQUEST_BYTES_LIMIT = 2_000_000;

/**
 * The platform configuration: one schema, used by the CDK app, the Lambdas and the CLI.
 * Every refinement reports the path of the bad key so that `formatConfigError` can name it
 * together with the value that was given.
 */

const iamRoleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-, without a path');
const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id, quoted in YAML ("012345678901")');
/** A region of the aws partition (regionProblem: another partition's is refused naming it). */
const region = z.string().check((c) => {
  const problem = regionProblem(c.value);
  if (problem) c.issues.push({ code: 'custom', message: problem, input: c.value });
});
export { DISJOINT, TIER_NAME_RULE };
/**
 * An OU name TesseraOrganization gives `CreateOrganizationalUnit` under the organization root: 1-128 characters of the
 * ASCII range (the API's `Name` constraints, AWS Organizations API Reference, CreateOrganizationalUnit /
 * UpdateOrganizationalUnit). A name, not a path: Tessera creates the OU directly under `organization.rootId`, so
 * `Security/Quarantine` (Landing Zone Accelerator's way of naming a nested OU) would become one OU of that literal
 * name beside Security, not one inside it; refused.
 */
const ouName = z.string()
  .min(1, 'must not be empty: the name of an OU Tessera creates under organization.rootId')
  .max(128, 'must be at most 128 characters (Organizations CreateOrganizationalUnit refuses a longer Name)')
  // eslint-disable-next-line no-control-regex
  .refine((v) => /^[\x00-\x7f]*$/.test(v), 'must be ASCII: Organizations CreateOrganizationalUnit refuses a Name with other characters')
  .refine((v) => !v.includes('/'), 'is a name, not an OU path: Tessera creates this OU directly under organization.rootId (a nested OU such as Security/Quarantine is not supported): write a name without "/"');
const tierName = z.string().regex(/^[a-z][a-z0-9-]{0,29}[a-z0-9]$/, `is not a valid tier name: ${TIER_NAME_RULE}`);
const cidr = z.string().superRefine((v, ctx) => {
  const problem = cidrSyntaxProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const port = z.number().int().min(1150, 'must be a port from 1150 to 65535 (the range RDS accepts)').max(65535, 'must be a port from 1150 to 65535');
const nonDefaultPort = (engineDefault: number, engine: string) =>
  port.refine((p) => p !== engineDefault, `must not be ${engine}'s default port ${engineDefault} (a default port is the first one scanned)`);

function catalogChecked(problem: (v: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const why = problem(value);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
}

/**
 * The smallest `maxAllocatedStorageGiB` RDS accepts for `allocatedGiB`: the maximum storage
 * threshold must be at least 10% greater than the allocated storage (1,000 GiB allocated: 1,100 at
 * least), else CreateDBInstance fails with "Invalid max storage size". Source: RDS User Guide,
 * "Managing capacity automatically with Amazon RDS storage autoscaling"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html).
 * Whole GiB, so 10% above is rounded up (20 allocated: 22).
 */
export function minMaxAllocatedStorageGiB(allocatedGiB: number): number {
  return tenPercentAboveGiB(allocatedGiB);
}

/**
 * The retention periods CloudWatch Logs accepts, in days: PutRetentionPolicy (and
 * AWS::Logs::LogGroup RetentionInDays) refuses any other number. Source: CloudWatch Logs API
 * Reference, PutRetentionPolicy, `retentionInDays`
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** A number of days that becomes a CloudWatch Logs retention: one of LOG_RETENTION_DAYS. */
const logRetentionDays = z.number().int().superRefine((days, ctx) => {
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(days)) return;
  const below = LOG_RETENTION_DAYS.filter((d) => d < days).at(-1);
  const above = LOG_RETENTION_DAYS.find((d) => d > days);
  const nearest = [below, above].filter((d) => d !== undefined).join(' or ');
  ctx.addIssue({
    code: 'custom',
    message: `${days} days is not a retention CloudWatch Logs accepts (PutRetentionPolicy takes only ${LOG_RETENTION_DAYS.join(', ')}): use ${nearest}`,
  });
});

export const GPU_AMI_TYPES = ['BOTTLEROCKET_x86_64_NVIDIA', 'AL2023_x86_64_NVIDIA'] as const;

/**
 * The most instance types a managed node group takes: CreateNodegroup's `instanceTypes` is "0-20 instance types"
 * (EKS API Reference, CreateNodegroup, https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html).
 * CloudFormation's AWS::EKS::Nodegroup schema sets no maxItems, so only the create would fail.
 */
export const MAX_NODEGROUP_INSTANCE_TYPES = 20;

/** RDS for PostgreSQL's largest storage, GiB: 64 TiB (CreateDBInstance AllocatedStorage and MaxAllocatedStorage, gp3). */
export const MAX_RDS_STORAGE_GIB = 65536;

/**
 * The largest `allocatedStorageGiB` whose autoscaling ceiling (at least 10% above it, minMaxAllocatedStorageGiB) is
 * still within {@link MAX_RDS_STORAGE_GIB}: 59,578 GiB (59,578 × 1.1 = 65,535.8, rounded up to 65,536).
 */
export const MAX_AUTOSCALED_ALLOCATED_GIB = Math.floor((MAX_RDS_STORAGE_GIB * 10) / 11);

interface Scaling { minSize: number; maxSize: number; desiredSize?: number }

function checkScaling(s: Scaling, ctx: z.RefinementCtx): void {
  if (s.minSize > s.maxSize) {
    ctx.addIssue({ code: 'custom', path: ['minSize'], message: `must not exceed maxSize (${s.maxSize}): lower minSize or raise maxSize` });
  }
  if (s.desiredSize !== undefined && (s.desiredSize < s.minSize || s.desiredSize > s.maxSize)) {
    ctx.addIssue({ code: 'custom', path: ['desiredSize'], message: `must lie between minSize (${s.minSize}) and maxSize (${s.maxSize}); leave it out to start at minSize` });
  }
}

/** Node group sizes; a strict object cannot be an intersection, so each group spreads this shape. */
const scalingShape = (minMaxSize: number) => ({
  minSize: z.number().int().min(0).max(100),
  maxSize: z.number().int().min(minMaxSize).max(100),
  desiredSize: z.number().int().min(0).max(100).optional(),
});

/**
 * A GPU node group. `maxSize: 0` (with `minSize: 0`) means no GPUs: a dedicated tier's blueprint then
 * has no GPU node group (its `GpuNodesMinSize`/`GpuNodesDesiredSize` parameters stay, fixed at 0).
 */
export const GpuNodeGroupConfigSchema = z
  .strictObject({
    ...scalingShape(0),
    /**
     * Bottlerocket NVIDIA ships the NVIDIA device plugin; AL2023 NVIDIA needs it installed (EKS User Guide,
     * "Install Kubernetes device plugin for GPUs"), which nothing here can do: config validation refuses
     * AL2023 NVIDIA for any GPU node group that can have nodes (the shared cluster's and dedicated tiers').
     */
    amiType: z.enum(GPU_AMI_TYPES),
    /**
     * The node group's instance types, each once (a repeat is a typo for another type, or nothing), at most
     * {@link MAX_NODEGROUP_INSTANCE_TYPES}.
     */
    instanceTypes: z.array(catalogChecked(gpuInstanceTypeProblem)).min(1)
      .max(MAX_NODEGROUP_INSTANCE_TYPES, `must list at most ${MAX_NODEGROUP_INSTANCE_TYPES} instance types: EKS CreateNodegroup takes 0-20 instanceTypes (EKS API Reference, CreateNodegroup); the list is a priority order, so keep the first ${MAX_NODEGROUP_INSTANCE_TYPES}`)
      .check((c) => {
      c.value.forEach((type, i) => {
        const first = c.value.indexOf(type);
        if (first !== i) c.issues.push({ code: 'custom', path: [i], message: `repeats ${type} (entry ${first}): list each instance type once`, input: c.value });
      });
    }),
    diskSizeGiB: z.number().int().min(50).max(16384),
  })
  .superRefine(checkScaling);

/**
 * A system node group must start with a node: it is where CoreDNS runs (two replicas, deployed "when you launch an
 * Amazon EKS cluster with at least one node": EKS User Guide, "Manage CoreDNS",
 * https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html), every tenant CPU pod (the GPU nodes are
 * tainted) and the Cluster Autoscaler itself (constructs/cluster-autoscaler.ts: on the system nodes, on the shared cluster
 * and on a dedicated one). The autoscaler cannot bring up the node it would run on: EKS creates the group at `desiredSize`
 * (CreateNodegroup scalingConfig, constructs/kubernetes-cluster.ts: `desiredSize`, else `minSize`), so a group starting at
 * 0 stays at 0, every pod Pending and no name resolved in the cluster.
 */
function checkSystemNodesStart(s: Scaling, ctx: z.RefinementCtx): void {
  if ((s.desiredSize ?? s.minSize) >= 1) return;
  const key = s.desiredSize === undefined ? 'minSize' : 'desiredSize';
  ctx.addIssue({
    code: 'custom',
    path: [key],
    message: `starts the system node group with 0 nodes (desiredSize, else minSize, is the node count the group starts with, and nothing brings up its first node: the Cluster Autoscaler runs on these nodes itself), so CoreDNS and every CPU pod would stay Pending: set ${key} to at least 1 (the default is 2, one per zone)`,
  });
}

const systemNodesSchema = z
  .strictObject({
    ...scalingShape(1),
    /** x86_64 only: the group runs the AL2023 x86_64 AMI (systemNodeInstanceTypeProblem says why). */
    instanceType: catalogChecked(systemNodeInstanceTypeProblem),
  })
  .superRefine(checkScaling)
  .superRefine(checkSystemNodesStart);

/**
 * EKS Kubernetes versions a cluster may run. 1.35 is the default: EKS released it on 2026-01-28 and its
 * standard support runs to 2027-03-27 (14 months); 1.34's ended 2026-12-02 and 1.33's 2026-07-29, and a
 * cluster past standard support is billed extended support
 * (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html). 1.36 is not offered: the
 * shared cluster's kubectl layer is @aws-cdk/lambda-layer-kubectl-v34 (the only one installed), and
 * kubectl is supported within one minor version of the API server, so 1.35 is as far as it reaches.
 * A running cluster moves one minor version per deploy (lambdas/lifecycle/version-change.ts).
 */
const kubernetesVersion = z.enum(['1.33', '1.34', '1.35']);
/** The Kubernetes minor versions the config offers (each needs a Cluster Autoscaler image: lib/cluster-autoscaler.ts). */
export const KUBERNETES_VERSIONS: readonly string[] = kubernetesVersion.options;

const computeSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('none') }),
  z.strictObject({
    mode: z.literal('shared'),
    /** ResourceQuota of the tenant's namespace on the platform's shared cluster. */
    quota: z.strictObject({
      cpu: z.number().positive(),
      memoryGiB: z.number().positive(),
      gpus: z.number().int().min(0),
      pods: z.number().int().min(1),
    }),
  }),
  z.strictObject({
    mode: z.literal('dedicated'),
    kubernetesVersion,
    systemNodes: systemNodesSchema,
    gpu: GpuNodeGroupConfigSchema,
  }),
]);

export const PROVIDERS = ['bedrock', 'openai', 'huggingface', 'sagemaker', 'openai-compatible'] as const;

export const TierConfigSchema = z
  .strictObject({
    /** `account`: the tenant gets an AWS account of its own; `vpc`: a VPC of its own in the workload account. */
    isolation: z.enum(['account', 'vpc']),
    network: z.strictObject({
      /** Each tenant's VPC is carved from this pool by the onboarding workflow, so tenant VPCs never overlap. */
      tenantCidrPool: cidr,
      /** Each compute subnet must hold the tier's interface endpoints, EKS's addresses and a node (lib/vpc-layout.ts). */
      tenantVpcPrefixLength: z.number().int().min(16).max(24),
      maxAzs: z.number().int().min(2).max(3),
      /** NAT gateways are created only when tenant workloads need to reach the internet. */
      internetEgress: z.boolean(),
    }),
    database: z.strictObject({
      engineMajorVersion: z.enum(['16', '17']),
      instanceClass: catalogChecked(dbInstanceClassProblem),
      allocatedStorageGiB: z.number().int().min(20).max(MAX_RDS_STORAGE_GIB),
      /** Storage autoscaling ceiling: at least 10% above allocatedStorageGiB (minMaxAllocatedStorageGiB). */
      maxAllocatedStorageGiB: z.number().int().min(20).max(MAX_RDS_STORAGE_GIB),
      multiAz: z.boolean(),
      backupRetentionDays: z.number().int().min(1).max(35),
      port: nonDefaultPort(5432, 'PostgreSQL'),
    }),
    cache: z.strictObject({
      nodeType: catalogChecked(cacheNodeTypeProblem),
      replicasPerShard: z.number().int().min(0).max(5),
      multiAz: z.boolean(),
      snapshotRetentionDays: z.number().int().min(1).max(35),
      port: nonDefaultPort(6379, 'Valkey'),
    }),
    compute: computeSchema,
    limits: z.strictObject({
      requestsPerMinute: z.number().int().positive(),
      requestsPerHour: z.number().int().positive(),
      requestsPerDay: z.number().int().positive(),
      tokensPerDay: z.number().int().positive(),
      /**
       * Tokens a tenant's requests may use in one UTC minute (OpenAI's TPM): a request is admitted while the minute's
       * tokens plus its reservation (input estimate + completion limit) stay within it, and corrected to its real usage
       * when it settles (docs/gateway.md "Tokens per minute"). At most `tokensPerDay`.
       * @default - no tokens-per-minute limit
       */
      tokensPerMinute: z.number().int().positive().optional(),
    }),
    models: z.strictObject({
      providers: z.array(z.enum(PROVIDERS)).min(1),
      /** Model ids the tier may call; `*` allows every model of the allowed providers. */
      allowed: z.array(z.string().min(1)).min(1),
    }),
    training: z.strictObject({
      enabled: z.boolean(),
      /**
       * Fine-tuning jobs a tenant runs at once (fine-tuning-service.ts).
       * @default 1 - so that a tier that trains nothing is `training: { enabled: false }` alone (until 2026-12-07 this key and
       * `instanceTypes` were required whatever `enabled` said)
       */
      maxConcurrentJobs: z.number().int().min(0).default(1),
      /**
       * Fine-tuned models a tenant keeps deployed at once: jobs that succeeded whose model was not deleted, plus active jobs
       * (each deploys an always-on SageMaker endpoint, billed hourly until `DELETE /v1/models/{model}`). A create beyond it is
       * a 409 `deployed_model_limit` (fine-tuning-service.ts). Lowering it undeploys nothing: creates are refused until under it.
       * @default 2 - one model in use and one candidate being trained or evaluated beside it (about USD 1,000/month each on
       * an ml.g5.xlarge or ml.g5.2xlarge endpoint, us-east-1 on demand)
       */
      maxDeployedModels: z.number().int().min(1).default(2),
      /**
       * Training instance types a job may ask for; the first is the default.
       * @default [] - none, which `enabled: true` refuses (the refinement below names the key)
       */
      instanceTypes: z.array(catalogChecked(sageMakerTrainingInstanceTypeProblem)).default([]),
      /** Instance types the endpoint of a fine-tuned model runs on; the first is used. */
      endpointInstanceTypes: z.array(catalogChecked(sageMakerEndpointInstanceTypeProblem)).default([]),
      /** Base models of `fineTuning.baseModels` the tier may fine-tune; `*` allows all. */
      baseModels: z.array(z.string().min(1)).default(['*']),
      /** Managed spot training, with checkpoints in the tenant bucket. */
      spot: z.boolean().default(false),
      /**
       * StoppingCondition.MaxRuntimeInSeconds, in hours (SageMaker's maximum: 28 days, 672); with spot, MaxWaitTimeInSeconds
       * is twice that up to 28 days and never less than it (lib/sagemaker-stopping-condition.ts).
       */
      maxRuntimeHours: z.number().int().min(1).max(MAX_TRAINING_RUNTIME_HOURS).default(24),
      /** Objects under the training-data prefix of the tenant bucket expire after this many days. */
      dataRetentionDays: z.number().int().min(1).max(3650).default(30),
    }),
    /** Budget alert thresholds and mail (lib/config/budget-alerts-config.ts). @default - absent: thresholds [50, 80, 100], no mail (budgetAlertsOf) */
    budgetAlerts: BudgetAlertsConfigSchema.optional(),
    /** An AWS Budgets cost budget per tenant over its AWS infrastructure (lib/config/infrastructure-budget.ts). @default - absent: no budget */
    infrastructureBudget: InfrastructureBudgetConfigSchema.optional(),
    /** Disaster recovery (lib/config/disaster-recovery.ts): `none` or `{ region, rpoHours, rtoHours }`. @default - absent: 'none' (disasterRecoveryOf) */
    disasterRecovery: DisasterRecoveryConfigSchema.optional(),
    /**
     * The platform team's own per-account baseline (lib/config/account-customizations.ts): CloudFormation templates,
     * each deployed as stack `tessera-<tenant>-custom-<name>` in every tenant account of the tier after its blueprint,
     * re-applied by a change or rolling upgrade and deleted at offboarding. `account` isolation only. Templates are
     * read and checked at synth (lib/config/customization-templates.ts). @default - none
     */
    accountCustomizations: z.array(AccountCustomizationSchema).optional(),
    /**
     * What the tier's customization stacks may create: the managed policies of their CloudFormation service role
     * `tessera-account-customizations` in each tenant account (lib/config/account-customizations.ts), under a permissions
     * boundary that denies Tessera's own resources. Required with `accountCustomizations`. @default - none: no such role
     */
    accountCustomizationsRole: AccountCustomizationsRoleSchema.optional(),
    /**
     * Delete the default VPC of every region enabled in each new tenant account (AFT's feature option
     * `aft_feature_delete_default_vpcs_enabled`, LZA's `defaultVpc.delete`): its internet gateway, its default subnets,
     * then the VPC (EC2 DeleteVpc wants every gateway and subnet gone first), at onboarding, before the account's network
     * is allocated (lambdas/lifecycle/delete-default-vpcs.ts). A default VPC in use (a network interface in it) is kept
     * and recorded. `account` isolation only. @default false - the default VPCs stay, as CreateAccount makes them
     */
    deleteDefaultVpcs: z.boolean().optional(),
    /**
     * Turn on EBS encryption by default in each new tenant account (LZA's `ebsDefaultVolumeEncryption`, the Config rule
     * `ec2-ebs-encryption-by-default`), in every region enabled in it that is in `allowedRegions` (a per-Region setting
     * no CloudFormation resource sets), at onboarding, before the blueprints make any volume
     * (lambdas/lifecycle/enable-ebs-encryption.ts). The default KMS key stays the account's `alias/aws/ebs`.
     * `account` isolation only. @default false - EBS encryption by default stays as the account has it (off in a new one)
     */
    ebsEncryptionByDefault: z.boolean().optional(),
    /**
     * Turn on S3 Block Public Access for the whole of each new tenant account (LZA's `s3PublicAccessBlock`, S3 Control's
     * PutPublicAccessBlock with the account's id; Security Hub's S3.1, the Config rule
     * `s3-account-level-public-access-blocks-periodic`): all four settings, BlockPublicAcls, IgnorePublicAcls,
     * BlockPublicPolicy and RestrictPublicBuckets, at onboarding, before the blueprints make any bucket
     * (lambdas/lifecycle/set-s3-public-access-block.ts). One setting per account, for every region.
     * `account` isolation only. @default false - the account's settings stay as AWS makes them (none at account level)
     */
    s3PublicAccessBlock: z.boolean().optional(),
    /**
     * The BILLING, OPERATIONS and SECURITY alternate contacts of each new tenant account (AFT's `alternate_contact`, LZA's
     * account alternate contacts), each `{ name, title, emailAddress, phoneNumber }` under PutAlternateContact's rules
     * (lib/config/alternate-contacts.ts), set at onboarding from the management account (AccountId; trusted access for
     * account.amazonaws.com) by lambdas/lifecycle/set-alternate-contacts.ts. `account` isolation only.
     * @default - none: the account has no alternate contacts, as CreateAccount makes it (AWS writes to the root email only)
     */
    alternateContacts: AlternateContactsSchema.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.alternateContacts && t.isolation !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['alternateContacts'],
        message: 'applies only to an "account" isolation tier: a "vpc" tier\'s tenants share the workload account, whose alternate contacts are the platform team\'s to set (aws account put-alternate-contact there), not one tenant\'s onboarding',
      });
    }
    if (t.deleteDefaultVpcs && t.isolation !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['deleteDefaultVpcs'],
        message: 'applies only to an "account" isolation tier: a "vpc" tier\'s tenants share the workload account, whose default VPCs are the platform team\'s to delete (aws ec2 delete-vpc there), not one tenant\'s onboarding',
      });
    }
    if (t.s3PublicAccessBlock && t.isolation !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['s3PublicAccessBlock'],
        message: 'applies only to an "account" isolation tier: a "vpc" tier\'s tenants share the workload account, whose S3 Block Public Access is the platform team\'s to set (aws s3control put-public-access-block --account-id <id> there), not one tenant\'s onboarding',
      });
    }
    if (t.ebsEncryptionByDefault && t.isolation !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['ebsEncryptionByDefault'],
        message: 'applies only to an "account" isolation tier: a "vpc" tier\'s tenants share the workload account, whose EBS encryption by default is the platform team\'s to set (aws ec2 enable-ebs-encryption-by-default there), not one tenant\'s onboarding',
      });
    }
    if (t.accountCustomizations?.length && t.isolation !== 'account') {
      ctx.addIssue({
        code: 'custom',
        path: ['accountCustomizations'],
        message: 'applies only to an "account" isolation tier: a "vpc" tier\'s tenants share the workload account, so a per-account baseline would be deployed once per tenant into the same account (colliding names, one tenant\'s stack reaching every tenant\'s resources); put account-wide resources of the workload account in a stack of your own there, or use isolation "account"',
      });
    }
    if (t.accountCustomizations?.length && t.isolation === 'account' && !t.accountCustomizationsRole) {
      ctx.addIssue({
        code: 'custom',
        path: ['accountCustomizationsRole'],
        message: 'is required with accountCustomizations: the customization stacks run as their own role tessera-account-customizations, which has only the managed policies named here (e.g. { managedPolicyArns: [arn:aws:iam::aws:policy/AWSSecurityHubFullAccess] }), never the blueprint execution role',
      });
    }
    if (t.accountCustomizationsRole && !t.accountCustomizations?.length) {
      ctx.addIssue({ code: 'custom', path: ['accountCustomizationsRole'], message: 'applies only with accountCustomizations: without them no stack runs as the role' });
    }
    const seen = new Set<string>();
    (t.accountCustomizations ?? []).forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['accountCustomizations', i, 'name'], message: `"${c.name}" is the name of an earlier customization of this tier: each is its own stack tessera-<tenant>-custom-<name>, so names must differ` });
      seen.add(c.name);
    });
    const pool = parseCidr(t.network.tenantCidrPool);
    if (pool && t.network.tenantVpcPrefixLength < pool.prefix) {
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'tenantVpcPrefixLength'],
        message: `must be at least the pool's prefix length (/${pool.prefix}): a tenant VPC cannot be larger than its pool`,
      });
    }
    // The compute subnets hold one endpoint interface per interface endpoint, the EKS control plane's
    // interfaces and the nodes: CreateVpcEndpoint or CreateCluster fails in a subnet without room.
    const subnetProblem = computeSubnetProblem(t.network.tenantVpcPrefixLength, t.network.maxAzs, t.network.internetEgress, tierVpcEndpoints(t));
    if (subnetProblem) ctx.addIssue({ code: 'custom', path: ['network', 'tenantVpcPrefixLength'], message: subnetProblem });
    const maxStorageFloor = minMaxAllocatedStorageGiB(t.database.allocatedStorageGiB);
    if (maxStorageFloor > MAX_RDS_STORAGE_GIB) {
      // No ceiling can be given: it would have to exceed RDS's 65,536 GiB, and the schema (like RDS) refuses that.
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'allocatedStorageGiB'],
        message: `leaves no room for storage autoscaling: maxAllocatedStorageGiB must be at least 10% above it (${maxStorageFloor}), and RDS storage ends at ${MAX_RDS_STORAGE_GIB} GiB; set allocatedStorageGiB to at most ${MAX_AUTOSCALED_ALLOCATED_GIB}`,
      });
    } else if (t.database.maxAllocatedStorageGiB < maxStorageFloor) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'maxAllocatedStorageGiB'],
        message: `${t.database.maxAllocatedStorageGiB} GiB is less than 10% above allocatedStorageGiB (${t.database.allocatedStorageGiB}): RDS storage autoscaling requires the maximum storage threshold to be at least 10% greater than the allocated storage (else "Invalid max storage size"); set it to at least ${maxStorageFloor}, or lower allocatedStorageGiB`,
      });
    }
    if (t.training.enabled && t.training.baseModels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['training', 'baseModels'], message: 'must name at least one base model (or "*") while training.enabled is true: a tier that trains nothing sets training.enabled to false' });
    }
    if (t.cache.multiAz && t.cache.replicasPerShard < 1) {
      ctx.addIssue({ code: 'custom', path: ['cache', 'replicasPerShard'], message: 'must be at least 1 when cache.multiAz is true (failover needs a replica): add a replica or set cache.multiAz to false' });
    }
    if (t.isolation === 'account' && t.compute.mode === 'shared') {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'mode'],
        message: 'cannot be "shared" for an account-isolated tier: its pods would run in the platform account, outside the tenant\'s account boundary; use "dedicated" or "none"',
      });
    }
    if (t.isolation === 'vpc' && t.compute.mode === 'dedicated') {
      // test/isolation/cross-tenant-shapes.test.ts builds this shape anyway and shows the cross-tenant paths.
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'mode'],
        message: 'cannot be "dedicated" for a VPC-isolated tier: a dedicated cluster\'s control-plane and node roles need the AWS-managed policies AmazonEKSClusterPolicy and AmazonEKS_CNI_Policy, which act on every network interface and security group in the account, so in the shared workload account one tenant\'s cluster could modify or delete another tenant\'s network interfaces and security group rules; use isolation "account" for a dedicated cluster, or compute "shared" (a namespace on the platform\'s cluster)',
      });
    }
    if (t.compute.mode === 'dedicated' && t.compute.gpu.maxSize > 0 && t.compute.gpu.amiType !== 'BOTTLEROCKET_x86_64_NVIDIA') {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'gpu', 'amiType'],
        message: 'must be BOTTLEROCKET_x86_64_NVIDIA for a dedicated cluster: blueprints carry no Lambda to install the NVIDIA device plugin, and Bottlerocket NVIDIA ships it',
      });
    }
    if (t.limits.requestsPerHour < t.limits.requestsPerMinute || t.limits.requestsPerDay < t.limits.requestsPerHour) {
      ctx.addIssue({ code: 'custom', path: ['limits'], message: 'must satisfy requestsPerMinute <= requestsPerHour <= requestsPerDay: raise the longer windows or lower the shorter ones' });
    }
    if (t.limits.tokensPerMinute !== undefined && t.limits.tokensPerMinute > t.limits.tokensPerDay) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'tokensPerMinute'], message: `must be at most tokensPerDay (${t.limits.tokensPerDay}): a minute cannot use more tokens than its day` });
    }
    if (t.training.enabled && t.training.instanceTypes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['training', 'instanceTypes'], message: 'must name at least one instance type when training is enabled, or set training.enabled to false' });
    }
    if (t.training.enabled && t.training.endpointInstanceTypes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['training', 'endpointInstanceTypes'], message: 'must name at least one instance type when training is enabled (fine-tuned models are served from an endpoint), or set training.enabled to false' });
    }
  });

/**
 * Secret names a provider's or a deployment's `apiKeySecretId` may take: the `tessera/providers/` namespace, the one
 * the router's `ProviderKeys` grant (`secretsmanager:GetSecretValue` on `secret:tessera/providers/*`,
 * constructs/inference-api.ts) lets the gateway read; Secrets Manager's name characters (letters, digits, `/_+=.@-`),
 * at most 512. A name outside it would synthesize and deploy, and every request on it fail with AccessDenied.
 */
export const PROVIDER_SECRET_NAME = /^tessera\/providers\/[\w/+=.@-]{1,494}$/;

/**
 * The message of a platform provider secret outside {@link PROVIDER_SECRET_NAME} (the config error line adds the path
 * and the value); also `tessera init`'s for `--provider-secret`.
 */
export const PROVIDER_SECRET_NAME_MESSAGE = 'must be a secret name under tessera/providers/ (the router\'s ProviderKeys grant reads secret:tessera/providers/* only), e.g. tessera/providers/openai-project-b';

/**
 * The schema of a platform provider secret name, `gateway.providers.<provider>.apiKeySecretId` and
 * `gateway.models[].deployments[].apiKeySecretId` alike: a string matching {@link PROVIDER_SECRET_NAME}, else the
 * issue {@link PROVIDER_SECRET_NAME_MESSAGE} at the field's path. One rule for both (the router's one grant).
 */
export function providerSecretId() {
  return z.string().regex(PROVIDER_SECRET_NAME, PROVIDER_SECRET_NAME_MESSAGE);
}

/** The hosts of Azure OpenAI resources (Azure OpenAI, AI Services and Foundry resources). */
const AZURE_OPENAI_HOST = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

/**
 * The message for an Azure OpenAI base URL outside the resource's v1 API (the config error line adds the path and the
 * value): the gateway's OpenAI relay sends the key as `Authorization: Bearer` and calls `<baseUrl>/chat/completions`
 * without `api-version`, which Azure's deployment-scoped API refuses (its key goes in an `api-key` header; Bearer is for
 * Microsoft Entra ID tokens; each call needs `api-version`). The v1 API (`/openai/v1`, Microsoft's "Azure OpenAI in
 * Microsoft Foundry Models v1 API", August 2025) takes the OpenAI client as it is, key and all.
 */
export const AZURE_BASE_URL_MESSAGE = 'is an Azure OpenAI endpoint outside its v1 API: the gateway sends the provider key as "Authorization: Bearer" and calls <baseUrl>/chat/completions without api-version, which Azure\'s deployment-scoped API (/openai/deployments/<name>/...?api-version=..., key in an api-key header) refuses; use the resource\'s v1 API, https://<resource>.openai.azure.com/openai/v1, with the Azure deployment name as the model\'s upstream';

/**
 * An OpenAI-compatible base URL (`gateway.providers.<provider>.baseUrl`, `gateway.models[].deployments[].baseUrl`): a
 * URL; on an Azure OpenAI host, only the resource's v1 API (`https://<resource>.openai.azure.com/openai/v1`), else the
 * issue {@link AZURE_BASE_URL_MESSAGE} at the field's path.
 */
export function openAiBaseUrl() {
  return z.url().refine((url) => {
    const { hostname, pathname } = new URL(url);
    return !AZURE_OPENAI_HOST.test(hostname) || pathname.replace(/\/+$/, '') === '/openai/v1';
  }, AZURE_BASE_URL_MESSAGE);
}

const providerEndpoint = z.strictObject({
  /**
   * OpenAI-compatible base URL, e.g. https://router.huggingface.co/v1; an Azure OpenAI resource only by its v1 API,
   * https://<resource>.openai.azure.com/openai/v1 ({@link openAiBaseUrl}).
   */
  baseUrl: openAiBaseUrl(),
  /**
   * Secrets Manager secret holding the API key (platform-wide; tenants may bring their own), a name under
   * `tessera/providers/` in the platform account and home region (the router may read only those).
   */
  apiKeySecretId: providerSecretId().optional(),
});

/**
 * The smallest non-zero price of the catalog, USD per 1,000 tokens: 0.000001 (USD 0.001 per 1M
 * tokens, one nano-dollar a token). The gateway counts cost in integer nano-dollars
 * (lambdas/inference/stores/model-usage.ts NANO), so with it every priced request of one token or
 * more counts at least one nano-dollar: a cheaper price would make small requests free and no cost
 * budget would stop them. The cheapest list prices (embeddings, USD 0.01-0.02 per 1M) are 10-20 times it.
 */
export const MIN_PRICE_PER_1K = 0.000001;

/**
 * A catalog price: USD per 1,000 tokens, 0 (free) or at least {@link MIN_PRICE_PER_1K}. The floor is checked by the
 * entry that holds the price (priceFloorIssues), whose message names the entry's id: the path only gives its position
 * in the list (`gateway.models[10].inputPricePer1k`).
 */
export const PricePer1k = z.number();

/**
 * The price floor of a catalog or base model entry: each price 0 or at least {@link MIN_PRICE_PER_1K}, one issue per
 * price, naming the entry (`what` and its id) and the floor with its unit (the config error line already shows the
 * path and the value). Run whatever else the entry got wrong (`when`), so one round of errors lists them all: the
 * entry is then read as it is (a price that is no number has its own error, an id that is no string is left out).
 */
function priceFloorIssues(what: string): [(m: unknown, ctx: z.RefinementCtx) => void, { when: () => boolean }] {
  const check = (m: unknown, ctx: z.RefinementCtx) => {
    if (typeof m !== 'object' || m === null) return;
    const entry = m as Record<string, unknown>;
    const name = typeof entry.id === 'string' ? `${what} "${entry.id}"` : `this ${what}`;
    for (const key of ['inputPricePer1k', 'outputPricePer1k', 'cachedInputPricePer1k', 'cacheWritePricePer1k'] as const) {
      const price = entry[key];
      if (typeof price !== 'number' || price === 0 || price >= MIN_PRICE_PER_1K) continue;
      const why = price < 0 ? 'a price cannot be negative' : 'a lower one would count small requests as free';
      ctx.addIssue({ code: 'custom', path: [key], input: price, message: `the price of ${name} must be 0 or at least ${MIN_PRICE_PER_1K.toFixed(6)} USD per 1,000 tokens (USD 0.001 per 1M, one nano-dollar a token, the unit the gateway counts cost in); ${why}` });
    }
  };
  return [check, { when: () => true }];
}

/**
 * One deployment of a catalog model (`gateway.models[].deployments[]`): the same model served by another upstream
 * account, endpoint or region, for spreading its traffic over several rate limits (LiteLLM Router's `model_list`
 * entries sharing a `model_name`, Portkey's `loadbalance` targets). Only what differs from the entry is given; the
 * price, kind and limits are the entry's (budgets, ledger and audit count the catalog id).
 */
export const ModelDeploymentSchema = z.strictObject({
  /** Names the deployment in the audit record (`detail.deployment`) and the cooldown's notes: letters, digits, `.`, `_`, `-`, 1-64. */
  name: z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  /** Share of the requests this deployment gets first, relative to its siblings' weights (3 and 1: 75% and 25%). @default 1 */
  weight: z.number().positive().max(1_000_000).default(1),
  /** `bedrock/` models only (required there): the region the deployment's Converse/InvokeModel calls go to, one of `allowedRegions`. */
  region: region.optional(),
  /**
   * The model id this deployment's upstream calls it by (another endpoint's name for the model, a Bedrock cross-region
   * inference profile id of the region's geography such as `eu.anthropic.claude-…` for `eu-west-1`). A Bedrock
   * deployment's must run on the entry's foundation model. @default - the entry's `upstream`
   */
  upstream: z.string().min(1).optional(),
  /**
   * `openai`, `huggingface` and `openai-compatible` models: the deployment's OpenAI-compatible base URL (an Azure OpenAI
   * resource only by its v1 API: {@link openAiBaseUrl}). @default - `gateway.providers.<provider>.baseUrl`
   */
  baseUrl: openAiBaseUrl().optional(),
  /**
   * `openai`, `huggingface` and `openai-compatible` models: the Secrets Manager secret holding this deployment's API
   * key (another organisation's or project's key), under `tessera/providers/` (the router may read only those).
   * @default - `gateway.providers.<provider>.apiKeySecretId`
   */
  apiKeySecretId: providerSecretId().optional(),
});

export type ModelDeployment = z.infer<typeof ModelDeploymentSchema>;

/**
 * What a catalog entry's deployments got wrong, each at `deployments[i].<key>`: names repeated; for `bedrock/` models a
 * region is required and `baseUrl`/`apiKeySecretId` refused (Bedrock is called with the router's role), and the
 * deployment's model (its `upstream`, or the entry's) must be a model or system inference-profile id (an ARN names its
 * own region) of the entry's foundation model; for the OpenAI relays (`openai`, `huggingface`, `openai-compatible`)
 * `region` is refused; two deployments calling the same upstream are refused (one with their weights added does the
 * same); `sagemaker/` models have none (an endpoint is one upstream: serve another endpoint as another catalog id).
 */
function deploymentIssues(m: { id: string; upstream: string; deployments?: ModelDeployment[] }, ctx: z.RefinementCtx): void {
  const deployments = m.deployments;
  if (!deployments) return;
  const provider = m.id.split('/')[0];
  if (provider === 'sagemaker') {
    ctx.addIssue({ code: 'custom', path: ['deployments'], message: `is set for "${m.id}", a sagemaker model: a SageMaker endpoint is one upstream (deployments spread openai, huggingface, openai-compatible and bedrock models); remove it, or give the other endpoint its own catalog id as a fallback` });
    return;
  }
  const names = deployments.map((d) => d.name);
  deployments.forEach((d, i) => {
    const at = (key: string) => ['deployments', i, key];
    if (names.indexOf(d.name) !== i) ctx.addIssue({ code: 'custom', path: at('name'), message: `repeats deployment "${d.name}" of "${m.id}" (deployment ${names.indexOf(d.name)}): give each deployment its own name` });
    if (provider === 'bedrock') {
      if (d.region === undefined) ctx.addIssue({ code: 'custom', path: ['deployments', i], message: `deployment "${d.name}" of "${m.id}" has no region: a Bedrock deployment is the model in another region; add region (one of allowedRegions)` });
      for (const key of ['baseUrl', 'apiKeySecretId'] as const) {
        if (d[key] !== undefined) ctx.addIssue({ code: 'custom', path: at(key), message: `is set on deployment "${d.name}" of "${m.id}", a bedrock model: Bedrock is called with the router's own role in the deployment's region; remove it` });
      }
      const upstream = d.upstream ?? m.upstream;
      if (upstream.startsWith('arn:')) {
        ctx.addIssue({ code: 'custom', path: d.upstream === undefined ? ['deployments', i] : at('upstream'), message: `deployment "${d.name}" of "${m.id}" would call ${upstream}, an ARN, which names its own region and account: give the deployment an upstream that is a model id or a cross-region inference profile id (us./eu./apac./global.<model id>)` });
      } else if (!m.upstream.startsWith('arn:') && foundationModelId(upstream).modelId !== foundationModelId(m.upstream).modelId) {
        ctx.addIssue({ code: 'custom', path: at('upstream'), message: `is "${upstream}" on deployment "${d.name}" of "${m.id}", which runs on ${foundationModelId(m.upstream).modelId}: a deployment is the same model elsewhere, so its upstream must be ${foundationModelId(m.upstream).modelId} or an inference profile of it; serve another model as its own catalog id` });
      }
    } else {
      if (d.region !== undefined) ctx.addIssue({ code: 'custom', path: at('region'), message: `is set on deployment "${d.name}" of "${m.id}", ${/^[aeiou]/.test(provider) ? 'an' : 'a'} ${provider} model: a region applies to bedrock models; give an OpenAI-compatible deployment a baseUrl and/or apiKeySecretId` });
    }
    const same = deployments.findIndex((o) => o.region === d.region && o.baseUrl === d.baseUrl && o.apiKeySecretId === d.apiKeySecretId && (o.upstream ?? m.upstream) === (d.upstream ?? m.upstream));
    if (same !== i) ctx.addIssue({ code: 'custom', path: ['deployments', i], message: `deployment "${d.name}" of "${m.id}" calls the same upstream as deployment "${deployments[same].name}" (the same ${provider === 'bedrock' ? 'region and model' : 'endpoint, key and model'}): one deployment with their weights added does the same` });
  });
}

export const ModelEntrySchema = z.strictObject({
  /** The id callers send, `<provider>/<model>`. */
  id: z.string().regex(/^(bedrock|openai|huggingface|sagemaker|openai-compatible)\/[\w.:\/-]+$/, 'must be <provider>/<model>, provider one of bedrock, openai, huggingface, sagemaker, openai-compatible'),
  /** The provider's own model id (Bedrock model or inference profile id, OpenAI model name...). */
  upstream: z.string().min(1),
  /** USD per 1,000 prompt and completion tokens, for metering and cost budgets: 0, or at least {@link MIN_PRICE_PER_1K}. */
  inputPricePer1k: PricePer1k,
  outputPricePer1k: PricePer1k,
  /**
   * USD per 1,000 prompt tokens the provider read from its prompt cache (OpenAI's
   * `usage.prompt_tokens_details.cached_tokens`, the Responses API's `input_tokens_details.cached_tokens`,
   * Bedrock Converse's `usage.cacheReadInputTokens`): a part of the prompt tokens, priced at this instead of
   * `inputPricePer1k` (costOf, lambdas/inference/pipeline.ts). Providers bill them at a fraction of the input price
   * (OpenAI: GPT-5 family 10%, gpt-4o family 50%; Bedrock: Anthropic Claude 10%, Amazon Nova 25%). 0, or at least
   * {@link MIN_PRICE_PER_1K}, and not above `inputPricePer1k` (a synth error: the reservation counts every prompt token
   * at the input price, which must bound what a cache read costs). @default - `inputPricePer1k` (cached tokens cost
   * as much as any prompt token, the gateway's pricing before this field)
   */
  cachedInputPricePer1k: PricePer1k.optional(),
  /**
   * USD per 1,000 prompt tokens the provider wrote to its prompt cache (Bedrock Converse's
   * `usage.cacheWriteInputTokens`, mapped to `prompt_tokens_details.cache_write_tokens`): a part of the prompt tokens,
   * priced at this instead of `inputPricePer1k`. Anthropic's models bill a 5-minute cache write at 125% of the input
   * price; OpenAI and Amazon Nova bill none above it. 0, or at least {@link MIN_PRICE_PER_1K}; it may be above the
   * input price (then a settle can exceed its reservation by that share: the reservation stays at the input price).
   * @default - `inputPricePer1k`
   */
  cacheWritePricePer1k: PricePer1k.optional(),
  maxOutputTokens: z.number().int().positive().default(4096),
  /**
   * What the model serves: `chat` (`/v1/chat/completions`, `/v1/responses`), `embedding`
   * (`/v1/embeddings`), `moderation` (`/v1/moderations`: OpenAI's moderation models, on the
   * `openai` provider only, priced 0) or `image` (`/v1/images/generations`: the `openai` and
   * `openai-compatible` providers, and Bedrock's Amazon Nova Canvas and Titan Image Generator v2;
   * priced per image by `pricePerImageUsd`, token prices 0). A call to another kind's endpoint is
   * a 400 that says so.
   * `transcription` (`/v1/audio/transcriptions` and `/v1/audio/translations`: whisper-1,
   * gpt-4o-transcribe, gpt-4o-mini-transcribe) and `speech` (`/v1/audio/speech`: tts-1, tts-1-hd,
   * gpt-4o-mini-tts): the `openai` and `openai-compatible` providers only (audioEntryIssues).
   * `completion` (`/v1/completions`, OpenAI's legacy text completions: gpt-3.5-turbo-instruct, davinci-002,
   * babbage-002 and their fine-tunes, a vLLM / TGI / SGLang server's base model): the `openai` and
   * `openai-compatible` providers only, priced per input and output token as chat (completionEntryIssues).
   * @default 'chat' (absent)
   */
  kind: z.enum(['chat', 'embedding', 'moderation', 'image', 'transcription', 'speech', 'completion']).optional(),
  /**
   * USD per minute of audio a transcription or translation model is billed (OpenAI: whisper-1 0.006),
   * settled from the answer's `usage` `{type: "duration", seconds}` (or verbose_json's `duration`).
   * `kind: transcription` only. @default - none (priced per token only, by inputPricePer1k / outputPricePer1k)
   */
  audioPricePerMinute: z.number().min(0).optional(),
  /**
   * USD per 1M characters of `input` a speech model is billed (OpenAI: tts-1 15, tts-1-hd 30).
   * `kind: speech` only. @default - none (priced per input token by inputPricePer1k: gpt-4o-mini-tts)
   */
  pricePer1MCharacters: z.number().min(0).optional(),
  /**
   * USD per image generated, for an image model (`kind: image`; required there, refused elsewhere): a request
   * reserves `n` × this against the cost budget and is settled at the images actually returned × this.
   * 0 (free) or at least {@link MIN_PRICE_PER_1K}.
   */
  pricePerImageUsd: z.number().min(0).optional(),
  /**
   * Longest input the model takes, in tokens (o200k count, the gateway's estimate of the model's
   * own), checked per input before anything is reserved or sent: a longer one is a 400 naming
   * `input[i]`. Embedding models only (Titan Text Embeddings V2: 8,192; Cohere Embed v3: 512;
   * OpenAI text-embedding-3: 8,192). @default - no check (the upstream refuses what is too long)
   */
  maxInputTokens: z.number().int().positive().optional(),
  /**
   * The model's context window, in tokens (the gateway's o200k count, token-count.ts countPromptTokens: an estimate of
   * another tokenizer's count): what a Responses request with `truncation: "auto"` is fitted into, its input items
   * dropped from the start of the conversation until its input (and `max_output_tokens`, when given) fits
   * (lambdas/inference/responses/truncation.ts). Chat models only (OpenAI: gpt-4o-mini 128,000; Claude 3.5 Haiku
   * 200,000; Llama 3.1 131,072). @default - unknown: `truncation: "auto"` is a 400 naming `truncation` for the model
   */
  contextWindow: z.number().int().positive().optional(),
  /**
   * The tiktoken encoding the model's input token ids are in (`cl100k_base` or `o200k_base`), for
   * an embedding model that takes `input` as token-id arrays: the gateway then decodes the ids to
   * screen them with the tenant's input guardrails (lambdas/inference/embeddings/guard.ts); a model
   * whose tokenizer is not known has token ids refused on a guarded tenant (400
   * `unscreenable_input`), and an `openai-compatible` one on every tenant (400 `unknown_token_vocabulary`).
   * Set it for an `openai-compatible` proxy in front of OpenAI's models (the ids are
   * relayed: the upstream's vocabulary is this one); read it through {@link inputTokenizerOf}, which adds the
   * default. On a `bedrock`, `huggingface` or `sagemaker` entry ({@link TOKEN_IDS_DECODED_PROVIDERS}), whose model does not take
   * tiktoken ids, it is the vocabulary callers' ids are in, which they are decoded to text with before the call
   * (lambdas/inference/embeddings/token-input.ts). Embedding models only.
   * @default - `cl100k_base` for OpenAI's embedding models on the `openai` provider (upstream
   * `text-embedding-3-small`, `text-embedding-3-large` or `text-embedding-ada-002`:
   * {@link OPENAI_CL100K_EMBEDDING_MODELS}) and for every `bedrock`, `huggingface` and `sagemaker` embedding model (the ids
   * LangChain's OpenAIEmbeddings sends for a model name tiktoken does not know); otherwise none (unknown)
   */
  tokenizer: z.enum(['cl100k_base', 'o200k_base']).optional(),
  /** For a SageMaker endpoint in another account (a tenant's fine-tuned model): the role assumed to invoke it. */
  invokeRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/name').optional(),
  /**
   * Deployments the model is spread over (ModelDeploymentSchema): each request picks one at random by weight among
   * those not cooling (gateway.cooldown), then the others on failure, before the tenant's fallback models
   * (lambdas/inference/upstream-calls.ts). A tenant calling with its own provider key calls the provider's endpoint as
   * without deployments. @default - none: the entry's `upstream` on `gateway.providers.<provider>` (Bedrock: the home region)
   */
  deployments: z.array(ModelDeploymentSchema).min(1).max(16).optional(),
  /**
   * Salt the model server's prefix cache per tenant: every chat and text completion request to the model carries vLLM's
   * `cache_salt` (a top-level request field, added with vLLM's V1 engine in 2025), the tenant's own (`tcs_` + 43 base64url characters of
   * SHA-256 over the tenant id: lambdas/inference/providers/tenant-cache-salt.ts), so a tenant's requests reuse only
   * its own cached prefixes and cannot tell from `usage.prompt_tokens_details.cached_tokens` or latency whether another
   * tenant sent a prompt. Set it for a vLLM server (or an LMI/vLLM SageMaker container) that serves several tenants
   * with automatic prefix caching. A vLLM without the field ignores it (its request models allow extra fields and log
   * the ones they ignored): the cache is then shared as without this key. `openai-compatible`, `huggingface` and `sagemaker` chat and completion
   * models only (prefixCacheSaltIssues); OpenAI refuses an unknown field, and Bedrock has no such cache.
   * @default false - no salt added (a caller's own `cache_salt` is still scoped to its tenant)
   */
  prefixCacheSalt: z.boolean().optional(),
}).superRefine(...priceFloorIssues('model')).superRefine((m, ctx) => {
  deploymentIssues(m, ctx);
  if (m.prefixCacheSalt) prefixCacheSaltIssues(m, ctx);
  // An embedding model produces no completion tokens: it is priced by its input only.
  if (m.kind === 'embedding' && m.outputPricePer1k !== 0) ctx.addIssue({ code: 'custom', path: ['outputPricePer1k'], message: `is ${m.outputPricePer1k} for embedding model "${m.id}": embeddings are priced by input tokens only, set it to 0` });
  if (m.maxInputTokens !== undefined && m.kind !== 'embedding') ctx.addIssue({ code: 'custom', path: ['maxInputTokens'], message: `applies to embedding models only (kind: embedding); "${m.id}" is a ${m.kind ?? 'chat'} model: remove it` });
  if (m.contextWindow !== undefined && (m.kind ?? 'chat') !== 'chat') ctx.addIssue({ code: 'custom', path: ['contextWindow'], message: `applies to chat models only (what a Responses request with truncation "auto" is fitted into); "${m.id}" is a ${m.kind} model: remove it` });
  if (m.tokenizer !== undefined && m.kind !== 'embedding') ctx.addIssue({ code: 'custom', path: ['tokenizer'], message: `applies to embedding models only (kind: embedding: the encoding of token-id inputs to /v1/embeddings); "${m.id}" is a ${m.kind ?? 'chat'} model: remove it` });
  if (m.cachedInputPricePer1k !== undefined && m.cachedInputPricePer1k > m.inputPricePer1k) ctx.addIssue({ code: 'custom', path: ['cachedInputPricePer1k'], message: `is ${m.cachedInputPricePer1k} for model "${m.id}", above its inputPricePer1k ${m.inputPricePer1k}: no provider bills a cache read above the input price (OpenAI, Bedrock: a fraction of it), and the reservation counts each prompt token at the input price; set it to the provider's cached-input price, or leave it out (then the input price)` });
  if (m.kind === 'moderation') moderationEntryIssues(m, ctx);
  if (m.kind === 'image') imageEntryIssues(m, ctx);
  else if (m.pricePerImageUsd !== undefined) ctx.addIssue({ code: 'custom', path: ['pricePerImageUsd'], message: `is ${m.pricePerImageUsd} for "${m.id}", a ${m.kind ?? 'chat'} model: a price per image applies to image models only (kind: image); remove it` });
  audioEntryIssues(m, ctx);
  if (m.kind === 'completion') completionEntryIssues(m, ctx);
});

/**
 * A model with `prefixCacheSalt: true`: the salt is vLLM's `cache_salt`, a field of its chat and text completion
 * requests, so the model must be relayed to a server that may be vLLM (`openai-compatible`, `huggingface`, `sagemaker`;
 * not `openai`, which refuses an unknown field, nor `bedrock`, whose Converse API has no such field) and be a chat or
 * completion model (vLLM's embeddings, audio and image requests take no salt). The issue's path is `prefixCacheSalt`.
 */
function prefixCacheSaltIssues(m: { id: string; kind?: string }, ctx: z.RefinementCtx): void {
  const provider = m.id.split('/')[0];
  if (provider === 'openai' || provider === 'bedrock') {
    const why = provider === 'openai' ? 'OpenAI refuses a request with a field it does not know; its prompt cache is routed by prompt_cache_key, which the gateway sets per tenant' : "Bedrock's Converse API has no cache salt (it caches at explicit cache points only)";
    ctx.addIssue({ code: 'custom', path: ['prefixCacheSalt'], message: `is set for "${m.id}", ${/^[aeiou]/.test(provider) ? 'an' : 'a'} ${provider} model: prefixCacheSalt sends vLLM's cache_salt, for openai-compatible, huggingface and sagemaker models served by vLLM (${why}); remove it` });
  } else if ((m.kind ?? 'chat') !== 'chat' && m.kind !== 'completion') {
    ctx.addIssue({ code: 'custom', path: ['prefixCacheSalt'], message: `is set for "${m.id}", a ${m.kind} model: vLLM's cache_salt is a field of chat and text completion requests only; remove it` });
  }
}

/**
 * A text completion model (`kind: completion`, `POST /v1/completions`): the body is relayed as sent to an upstream
 * that speaks OpenAI's legacy completions API, so only the `openai` and `openai-compatible` providers serve it.
 * Bedrock's Converse has no text completion (a prompt is not mapped to a chat message silently), the Hugging Face
 * router serves chat completions only, and the SageMaker provider maps requests to its containers' chat input
 * (it has no relay of an OpenAI completions body). The issue's path is `kind`, naming the id and provider.
 */
function completionEntryIssues(m: { id: string }, ctx: z.RefinementCtx): void {
  const provider = m.id.split('/')[0];
  if (provider === 'openai' || provider === 'openai-compatible') return;
  const why = provider === 'bedrock' ? "Bedrock's Converse API has no text completion"
    : provider === 'huggingface' ? 'the Hugging Face router serves chat completions only'
      : 'the SageMaker provider has no relay of an OpenAI completions body';
  ctx.addIssue({ code: 'custom', path: ['kind'], message: `is "completion" for "${m.id}", a ${provider} model: text completion models (POST /v1/completions) are served by the openai and openai-compatible providers only (${why}); use an openai/... or openai-compatible/... id, or kind: chat` });
}

/** An input tokenizer the gateway can decode token ids with (a catalog entry's `tokenizer`). */
export type InputTokenizer = NonNullable<z.infer<typeof ModelEntrySchema>['tokenizer']>;

/**
 * OpenAI's embedding models whose input token ids are in `cl100k_base`: tiktoken's
 * `encoding_for_model` maps each to it (tiktoken/model.py, `MODEL_TO_ENCODING` under "embeddings"),
 * as gpt-tokenizer's model specs do (gpt-tokenizer/model/text-embedding-3-small...).
 */
export const OPENAI_CL100K_EMBEDDING_MODELS: readonly string[] = ['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'];

/**
 * Providers whose embedding models get a token-id `input` as its text, decoded with the entry's `tokenizer`
 * (default `cl100k_base`): none of their models takes tiktoken ids. Bedrock's Titan and Cohere take text only
 * (InvokeModel's `inputText`, `texts`). Hugging Face's Inference API takes text only too (the feature-extraction
 * task's `inputs`: a string or strings), and a TEI or vLLM server behind an Inference Endpoint takes ids only in its
 * model's own vocabulary (TEI decodes them with the model's tokenizer), which for the open models served there
 * (WordPiece, SentencePiece, their own BPE) is never tiktoken's: the cl100k ids LangChain's Python OpenAIEmbeddings
 * sends would be embedded as other words, answered 200. LiteLLM's proxy decodes token arrays for both with cl100k
 * (it relays them only to openai, azure, hosted_vllm and nebius). SageMaker's embedding endpoints are TEI or vLLM
 * containers of open models too (providers/sagemaker.ts sends them OpenAI's embeddings body), as a Hugging Face Inference
 * Endpoint is. Not `openai-compatible`: its upstream may be OpenAI's models behind a proxy, or a vLLM or TEI server
 * taking its own ids; its ids are relayed when the entry says its `tokenizer`, else refused
 * (lambdas/inference/embeddings/token-input.ts).
 */
export const TOKEN_IDS_DECODED_PROVIDERS: readonly string[] = ['bedrock', 'huggingface', 'sagemaker'];

/**
 * The encoding of a catalog model's input token ids, or undefined when the gateway does not know it.
 * The entry's own `tokenizer` when set; else `cl100k_base` for an embedding model of the `openai`
 * provider whose upstream is one of {@link OPENAI_CL100K_EMBEDDING_MODELS}, or of a {@link TOKEN_IDS_DECODED_PROVIDERS}
 * provider (`bedrock`, `huggingface`: ids sent to them are decoded by convention, `cl100k_base` being what LangChain's
 * Python OpenAIEmbeddings and LiteLLM's proxy use for a model tiktoken does not know); else undefined. A rule
 * here rather than a schema default, so the configuration keeps what the operator wrote (a
 * transform would put `tokenizer` into every parsed entry, chat models included) and the default,
 * which depends on two fields (provider and upstream), is decided in one place.
 */
export function inputTokenizerOf(m: { id: string; upstream: string; kind?: z.infer<typeof ModelEntrySchema>['kind']; tokenizer?: InputTokenizer }): InputTokenizer | undefined {
  if (m.kind !== 'embedding') return undefined;
  if (m.tokenizer) return m.tokenizer;
  if (TOKEN_IDS_DECODED_PROVIDERS.includes(m.id.split('/')[0])) return 'cl100k_base';
  return m.id.startsWith('openai/') && OPENAI_CL100K_EMBEDDING_MODELS.includes(m.upstream) ? 'cl100k_base' : undefined;
}

/**
 * A moderation model (`kind: moderation`, POST /v1/moderations) is OpenAI's moderations API: only
 * the `openai` provider's upstream serves it (Bedrock, SageMaker and fine-tuned models have no
 * such API, Hugging Face's router and the TEI/vLLM servers behind `openai-compatible` answer no
 * `/moderations`). It bills no tokens (OpenAI's moderation is free and reports no usage), so a
 * price would never be charged: both prices must be 0.
 */
function moderationEntryIssues(m: { id: string; inputPricePer1k: number; outputPricePer1k: number }, ctx: z.RefinementCtx): void {
  const provider = m.id.split('/')[0];
  if (provider !== 'openai') ctx.addIssue({ code: 'custom', path: ['kind'], message: `is "moderation" for "${m.id}", ${/^[aeiou]/.test(provider) ? 'an' : 'a'} ${provider} model: moderation models are OpenAI's (POST /v1/moderations), served by the openai provider only; use an openai/... id (e.g. openai/omni-moderation-latest) or another kind` });
  for (const key of ['inputPricePer1k', 'outputPricePer1k'] as const) {
    if (m[key] !== 0) ctx.addIssue({ code: 'custom', path: [key], message: `is ${m[key]} for moderation model "${m.id}": a moderation bills no tokens (OpenAI's moderation is free), so a price would never be charged; set it to 0` });
  }
}

/**
 * The Bedrock image models the gateway maps OpenAI's `POST /v1/images/generations` onto (InvokeModel, task
 * TEXT_IMAGE; lambdas/inference/providers/bedrock/image-models.ts): a `bedrock/...` image entry's `upstream` is one
 * of these, or a cross-region inference profile of one (`us.amazon.nova-canvas-v1:0`).
 */
export const BEDROCK_IMAGE_MODELS: readonly string[] = ['amazon.nova-canvas-v1:0', 'amazon.titan-image-generator-v2:0'];

/**
 * An image model (`kind: image`, POST /v1/images/generations): served by the `openai` and `openai-compatible`
 * providers (OpenAI's Images API, relayed as sent) and by `bedrock` for {@link BEDROCK_IMAGE_MODELS}; SageMaker
 * and Hugging Face serve none (SageMaker endpoints are chat containers here, Hugging Face's router answers no
 * `/images/generations`). Priced per image: `pricePerImageUsd` is required (0 or at least {@link MIN_PRICE_PER_1K}),
 * and both token prices must be 0 (an image is never billed by tokens here, so a token price would never be charged).
 */
function imageEntryIssues(m: { id: string; upstream: string; inputPricePer1k: number; outputPricePer1k: number; pricePerImageUsd?: number }, ctx: z.RefinementCtx): void {
  const provider = m.id.split('/')[0];
  if (provider === 'sagemaker' || provider === 'huggingface') {
    ctx.addIssue({ code: 'custom', path: ['kind'], message: `is "image" for "${m.id}", a ${provider} model: image models are not served on ${provider === 'sagemaker' ? 'SageMaker' : 'Hugging Face'} (POST /v1/images/generations is served by the openai, openai-compatible and bedrock providers); use one of those or another kind` });
  }
  if (provider === 'bedrock' && !BEDROCK_IMAGE_MODELS.some((id) => m.upstream === id || m.upstream.endsWith(`.${id}`))) {
    ctx.addIssue({ code: 'custom', path: ['upstream'], message: `is "${m.upstream}" for Bedrock image model "${m.id}": the gateway maps image generation onto ${BEDROCK_IMAGE_MODELS.join(' and ')} only (InvokeModel TEXT_IMAGE); use one of them` });
  }
  if (m.pricePerImageUsd === undefined) {
    ctx.addIssue({ code: 'custom', path: ['pricePerImageUsd'], message: `is missing for image model "${m.id}": an image model is priced per image (USD, e.g. 0.04); set it (0 for free)` });
  } else if (m.pricePerImageUsd > 0 && m.pricePerImageUsd < MIN_PRICE_PER_1K) {
    ctx.addIssue({ code: 'custom', path: ['pricePerImageUsd'], message: `is ${m.pricePerImageUsd} for image model "${m.id}": must be 0 or at least ${MIN_PRICE_PER_1K.toFixed(6)} USD (one nano-dollar is the unit the gateway counts cost in)` });
  }
  for (const key of ['inputPricePer1k', 'outputPricePer1k'] as const) {
    if (m[key] !== 0) ctx.addIssue({ code: 'custom', path: [key], message: `is ${m[key]} for image model "${m.id}": an image model is priced per image (pricePerImageUsd), never by tokens, so a token price would never be charged; set it to 0` });
  }
}

/**
 * An audio model (`kind: transcription` or `speech`: OpenAI's `/audio/...` endpoints, relayed as the
 * `openai` package's types have them) and its prices; every issue names the field and its value:
 * - the provider is `openai` or `openai-compatible` (an upstream speaking OpenAI's audio API: a
 *   LocalAI or vLLM server); Bedrock, SageMaker and Hugging Face have no such API here;
 * - a transcription is priced per minute (`audioPricePerMinute`, whisper-1) and/or per token
 *   (`inputPricePer1k` for the audio input tokens, `outputPricePer1k` for the text tokens:
 *   gpt-4o-transcribe answers `usage` `{type: "tokens"}`); at least one price is set, or all are 0 (free);
 *   `pricePer1MCharacters` is not its;
 * - speech is priced per 1M input characters (`pricePer1MCharacters`, tts-1) or per input token
 *   (`inputPricePer1k`, gpt-4o-mini-tts), not both (the same input would be billed twice); its answer
 *   is audio with no usage, so `outputPricePer1k` must be 0 (OpenAI's audio output tokens of
 *   gpt-4o-mini-tts are not reported on a non-streamed answer: fold them into the input price);
 * - `audioPricePerMinute` and `pricePer1MCharacters` on any other kind are refused.
 */
function audioEntryIssues(m: { id: string; kind?: string; inputPricePer1k: number; outputPricePer1k: number; audioPricePerMinute?: number; pricePer1MCharacters?: number }, ctx: z.RefinementCtx): void {
  const audio = m.kind === 'transcription' || m.kind === 'speech';
  if (m.audioPricePerMinute !== undefined && m.kind !== 'transcription') ctx.addIssue({ code: 'custom', path: ['audioPricePerMinute'], message: `is ${m.audioPricePerMinute} for "${m.id}", a ${m.kind ?? 'chat'} model: it prices transcription models only (kind: transcription); remove it` });
  if (m.pricePer1MCharacters !== undefined && m.kind !== 'speech') ctx.addIssue({ code: 'custom', path: ['pricePer1MCharacters'], message: `is ${m.pricePer1MCharacters} for "${m.id}", a ${m.kind ?? 'chat'} model: it prices speech models only (kind: speech); remove it` });
  if (!audio) return;
  const provider = m.id.split('/')[0];
  if (provider !== 'openai' && provider !== 'openai-compatible') {
    ctx.addIssue({ code: 'custom', path: ['kind'], message: `is "${m.kind}" for "${m.id}", ${/^[aeiou]/.test(provider ?? '') ? 'an' : 'a'} ${provider} model: audio models are not served on ${provider} (no audio API there); use an openai/... or openai-compatible/... id` });
  }
  if (m.kind === 'speech') {
    if (m.outputPricePer1k !== 0) ctx.addIssue({ code: 'custom', path: ['outputPricePer1k'], message: `is ${m.outputPricePer1k} for speech model "${m.id}": speech answers audio without usage, so output tokens are never known; set it to 0 and price the input (pricePer1MCharacters or inputPricePer1k)` });
    if (m.pricePer1MCharacters !== undefined && m.pricePer1MCharacters > 0 && m.inputPricePer1k !== 0) ctx.addIssue({ code: 'custom', path: ['inputPricePer1k'], message: `is ${m.inputPricePer1k} for speech model "${m.id}", priced per character already (pricePer1MCharacters ${m.pricePer1MCharacters}): price the input one way, set one of them to 0` });
  }
}

export const GatewayConfigSchema = z.strictObject({
  /** JWT issuer and JWKS of tenant tokens. @default - the platform's Cognito user pool */
  jwt: z.strictObject({ issuer: z.string().min(1), jwksUri: z.url(), audience: z.string().min(1) }).optional(),
  models: z.array(ModelEntrySchema).min(1),
  /**
   * Other names for catalog models, alias → catalog id (`gpt-4o-mini: openai/gpt-4o-mini`), as
   * LiteLLM's `model_name` and Portkey's model names give them (lib/config/model-aliases.ts). A
   * request naming an alias is served by its target, if the caller may use the target (else the
   * target's 404), and answers with the target's catalog id as `model` (as OpenAI answers a
   * request for `gpt-4o` with `gpt-4o-2024-08-06`); `GET /v1/models` lists the caller's aliases.
   * An alias must not be a catalog id; its target must be one (checked by the platform schema).
   * @default - none
   */
  modelAliases: z.record(ModelAliasName, z.string().min(1)).optional(),
  providers: z.strictObject({
    openai: providerEndpoint,
    huggingface: providerEndpoint,
    'openai-compatible': providerEndpoint.optional(),
  }),
  /**
   * Longest wait for an upstream's first byte, per attempt: a whole answer, or a stream's first
   * chunk. Retries before the fallback chain is tried: `upstreamRetries`.
   */
  upstreamTimeoutMs: z.number().int().min(100).max(900_000),
  /**
   * Longest gap between two chunks of a streamed answer; a healthy stream is never cut for its
   * total length (Lambda's 15-minute limit aside). @default - upstreamTimeoutMs
   */
  upstreamIdleTimeoutMs: z.number().int().min(100).max(900_000).optional(),
  upstreamRetries: z.number().int().min(0).max(5),
  /**
   * Resting a model that keeps failing (lambdas/inference/model-health.ts): after `failures` requests within
   * `windowSeconds` whose attempts at a model ended in a timeout, an unreachable upstream, a 5xx or a 429 without a
   * short `Retry-After`, the model cools for `seconds` (or the upstream's longer `Retry-After`, up to 5 minutes or `seconds`
   * when longer: model-health.ts MAX_RETRY_AFTER_COOL_MS): requests with another
   * model left in their chain skip it; then one request probes it (a success ends the cooldown, a failure starts it
   * again). The last model of a chain is always tried. Kept per Lambda execution environment (per `tessera serve`
   * worker), keyed by catalog id (and tenant, for a tenant's own provider key). `false` (parsed as absent) or `null`
   * (which removes the embedded default's) turns it off.
   * @default - the embedded default's { failures: 3, windowSeconds: 60, seconds: 30 }; absent: off
   */
  cooldown: z.preprocess((v, ctx) => {
    if (v === false) return undefined;
    // `true` (or another scalar, or a list) is not a setting: the message says how to turn it on and off (the generic
    // "must be a mapping of keys" left `{}` and `false` to be guessed).
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) {
      ctx.addIssue({ code: 'custom', input: v, message: `must be a mapping of keys (failures, windowSeconds, seconds), not ${Array.isArray(v) ? 'a list' : `the ${typeof v} ${JSON.stringify(v)}`}: {} turns the cooldown on with the defaults (3 failures within 60 seconds rest a model 30 seconds), false or null turns it off` });
      return z.NEVER;
    }
    return v;
  }, z.strictObject({
    /** Failing requests within the window that start a cooldown. @default 3 */
    failures: z.number().int().min(1).max(100).default(3),
    /** The window failures are counted in, seconds. @default 60 */
    windowSeconds: z.number().int().min(1).max(3600).default(60),
    /** How long a model cools, seconds (longer when the upstream's 429 asked for longer). @default 30 */
    seconds: z.number().int().min(1).max(3600).default(30),
  }).optional()),
  /**
   * The largest request body the gateway takes, bytes (a larger one is its 413 `request_too_large`:
   * lambdas/inference/request-body-limit.ts), 1,024 to MAX_REQUEST_BYTES_LIMIT (2,000,000). @default 1,048,576 (1 MiB)
   */
  maxRequestBytes: z.number().int().min(1024).max(MAX_REQUEST_BYTES_LIMIT, {
    error: (issue) => `gateway.maxRequestBytes ${String(issue.input)} is over ${MAX_REQUEST_BYTES_LIMIT}: on AWS a body reaches the router inside API Gateway's event, which Lambda takes up to 6,291,456 bytes, and a body of ${MAX_REQUEST_BYTES_LIMIT} bytes JSON-escaped to 3 times its size still fits (docs/configuration.md, "Request size")`,
  }),
  /**
   * Days a stored Responses API answer (`store: true`, the default) is kept before DynamoDB's TTL
   * removes it; OpenAI keeps them 30 days. @default 30 (absent)
   */
  responsesTtlDays: z.number().int().min(1).max(400).optional(),
  /**
   * Whether every tenant's settled requests put a `Gateway Request Completed` event on the platform bus (a tenant's own
   * `gateway.requestEvents` wins: `false` opts out, `true` opts in when this is off). @default false
   */
  requestEvents: z.boolean().optional(),
  /**
   * OpenAI's Vector Stores API (`/v1/vector_stores...`, lambdas/inference/vector-stores/): `embeddingModel` is the
   * catalog id of the embedding model (`kind: embedding`) a new vector store's chunks and searches are embedded with,
   * as a `/v1/embeddings` call of the store's creator (the tenant's routing, budgets and audit). A store keeps the
   * model it was created with. @default - { embeddingModel: 'openai/text-embedding-3-small' } (default-config.ts)
   */
  vectorStores: z.strictObject({ embeddingModel: z.string().min(1) }).optional(),
});

/** A base model tenants may fine-tune: the containers that train and serve it and where its weights are. */
/**
 * An ECR image URI with a tag, at most {@link MAX_SAGEMAKER_IMAGE_CHARS} characters.
 * @param where the SageMaker parameter it becomes, named in the refusal
 */
const ecrImage = (where: string) => z.string()
  .regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[\w./-]+:[\w.-]+$/, 'must be an ECR image URI with a tag, such as 763104351884.dkr.ecr.us-east-1.amazonaws.com/repository:tag')
  .refine((u) => u.length <= MAX_SAGEMAKER_IMAGE_CHARS, { error: (iss) => `is ${String(iss.input).length} characters; ${where} takes at most ${MAX_SAGEMAKER_IMAGE_CHARS} (SageMaker would refuse it): use a shorter repository name or tag` });

export const BaseModelSchema = z.strictObject({
  /** Short id callers send as `model` (no `/` or `:`: it becomes part of `ft:<base>:<tenant>:<suffix>:<job part>`). */
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,39}$/, 'must be 1-40 characters of a-z, 0-9, . and -, starting with a letter or digit (no / or :, it becomes part of ft:<base>:<tenant>:<suffix>)'),
  /** ECR image of the training container (runs with network isolation: no internet); at most {@link MAX_SAGEMAKER_IMAGE_CHARS} characters. */
  trainingImage: ecrImage('CreateTrainingJob AlgorithmSpecification.TrainingImage'),
  /** ECR image of the serving container; must answer the OpenAI messages API (TGI, LMI, vLLM); at most {@link MAX_SAGEMAKER_IMAGE_CHARS} characters. */
  servingImage: ecrImage('CreateModel PrimaryContainer.Image'),
  /** The base weights, given to the job as the `model` channel (the container cannot download them); at most {@link MAX_SAGEMAKER_S3_URI_CHARS} characters. */
  weightsS3Uri: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+\/$/, 'must be an s3://bucket/prefix/ URI ending in /')
    .refine((u) => u.length <= MAX_SAGEMAKER_S3_URI_CHARS, { error: (iss) => `is ${String(iss.input).length} characters; CreateTrainingJob's channel S3Uri takes at most ${MAX_SAGEMAKER_S3_URI_CHARS} (SageMaker would refuse every job of this base model): use a shorter prefix` }),
  /** USD per 1,000 tokens of the tenant's fine-tuned model of this base: 0, or at least {@link MIN_PRICE_PER_1K}. */
  inputPricePer1k: PricePer1k,
  outputPricePer1k: PricePer1k,
  maxOutputTokens: z.number().int().positive().default(4096),
}).superRefine(...priceFloorIssues('fine-tuning base model'));

export const FineTuningConfigSchema = z.strictObject({
  baseModels: z.array(BaseModelSchema).min(1),
});

/**
 * Operations (constructs/monitoring): who gets the platform's alarms, and the gateway alarms'
 * thresholds. Every key has a default, so the block may be left out.
 */
export const OperationsConfigSchema = z.strictObject({
  /**
   * Email addresses subscribed to the alarm topic; each must confirm the subscription from the
   * email SNS sends before alarms reach it. @default [] (no subscription: add one, or subscribe
   * a pager or chat integration to the topic yourself)
   */
  alarmEmails: z.array(z.email('must be an email address such as ops@example.com'))
    .refine((emails) => new Set(emails.map((e) => e.toLowerCase())).size === emails.length, 'lists an address twice: list each once')
    .default([]),
  alarms: z.strictObject({
    /** Alarm when more than this percentage of gateway requests are answered 5xx, in 3 of 3 five-minute periods. @default 5 */
    gatewayServerErrorPercent: z.number().min(0.1).max(100).default(5),
    /** Alarm when the gateway's p99 latency (whole request, streams included) is over this many milliseconds, in 3 of 3 five-minute periods. @default 60000 */
    gatewayP99LatencyMs: z.number().int().min(100).max(900_000).default(60_000),
    /** Alarm when more than this percentage of upstream calls fail (502/504), in 3 of 3 five-minute periods. @default 10 */
    upstreamErrorPercent: z.number().min(0.1).max(100).default(10),
  }).prefault({}),
  /** Tenants each top-N widget of a tier dashboard ranks (Contributor Insights). @default 10 */
  topTenants: z.number().int().min(1).max(100).default(10),
});
export type OperationsConfig = z.infer<typeof OperationsConfigSchema>;

/**
 * Organizations' pattern for a policy id: "p-" and 8 to 128 letters, digits or underscores.
 * Source: https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html (PolicyId).
 */
export const POLICY_ID = /^p-[0-9a-zA-Z_]{8,128}$/;

/**
 * SCPs attached to a new account by another tool that *Activate tenant* detaches from a tenant's
 * own account once the tenant is ACTIVE: Landing Zone Accelerator's quarantine SCP (the one its
 * `quarantineNewAccounts.scpPolicyName` names, `QuarantineAccounts` in LZA's example), which LZA
 * lifts only from the accounts of its accounts-config.yaml (docs/control-tower.md). Only these
 * policies, only from that account; one not attached there is left alone.
 *
 * By id (`p-...`, Organizations ListPolicies), not by name: the lifecycle's IAM grant of
 * organizations:DetachPolicy names each policy's ARN
 * (`arn:aws:organizations::<management>:policy/<organization>/service_control_policy/<id>`), and an
 * SCP's ARN carries its id, never its name. `name` is optional: `tessera doctor` checks that the
 * policy of `policyId` has that name, and the tenant's history records it.
 * @default [] (nothing detached but tessera-quarantine)
 */
const ExternalQuarantinePoliciesSchema = z.array(z.strictObject({
  policyId: z.string()
    .regex(POLICY_ID, 'must be an SCP id such as p-examplepolicy1 ("p-" and 8 to 128 letters, digits or _), as aws organizations list-policies --filter SERVICE_CONTROL_POLICY shows it: not its name or ARN')
    .refine((id) => id !== 'p-FullAWSAccess', 'is the AWS managed FullAWSAccess: detaching it from a tenant account would leave every action there implicitly denied'),
  name: z.string().min(1).max(128).optional(),
})).max(4, 'lists more than 4 SCPs: an account holds at most 5, and tessera-quarantine is one of them while they come off')
  .superRefine((list, ctx) => {
    list.forEach((p, i) => {
      const first = list.findIndex((q) => q.policyId === p.policyId);
      if (first < i) ctx.addIssue({ code: 'custom', path: [i, 'policyId'], input: p.policyId, message: `lists ${p.policyId} twice (also at [${first}]): list each once` });
    });
  })
  .default([]);

/**
 * The OUs TesseraOrganization creates under the root (constructs/organization-guardrails.ts) must have distinct names:
 * Organizations refuses a second OU of a name under the same parent (`DuplicateOrganizationalUnitException`), which
 * would fail the stack's first deploy. They are `organization.quarantineOuName`, `organization.suspendedOuName` and
 * `tessera-<tier>` for every tier; an issue names the OU name key and the OU it repeats.
 */
function checkOrganizationalUnitNames(c: { organization: { quarantineOuName: string; suspendedOuName: string }; tiers: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  const { quarantineOuName, suspendedOuName } = c.organization;
  if (quarantineOuName === suspendedOuName) {
    ctx.addIssue({ code: 'custom', path: ['organization', 'suspendedOuName'], message: `is also organization.quarantineOuName: Tessera creates both OUs under organization.rootId, and Organizations refuses a second OU of one name under a parent (DuplicateOrganizationalUnitException): give each its own name` });
  }
  for (const key of ['quarantineOuName', 'suspendedOuName'] as const) {
    const name = c.organization[key];
    const tier = Object.keys(c.tiers).find((t) => `tessera-${t}` === name);
    if (tier !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['organization', key], message: `is the OU of tier ${tier} (tessera-<tier>, created under organization.rootId too): Organizations refuses a second OU of one name under a parent (DuplicateOrganizationalUnitException): choose another name, or rename the tier` });
    }
  }
}

export const PlatformConfigSchema = z
  .strictObject({
    organization: z.strictObject({
      managementAccountId: accountId,
      /** The AWS Organization id; blueprint assets are readable by its accounts only (aws:PrincipalOrgID). */
      organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must be an AWS Organizations id such as o-a1b2c3d4e5'),
      rootId: z.string().regex(/^r-[0-9a-z]{4,32}$/, 'must be an organization root id such as r-ab12'),
      /** Name of the OU TesseraOrganization creates under `rootId` for accounts in quarantine ({@link ouName}). */
      quarantineOuName: ouName,
      /** Name of the OU TesseraOrganization creates under `rootId` for suspended and offboarded accounts ({@link ouName}). */
      suspendedOuName: ouName,
      externalQuarantinePolicies: ExternalQuarantinePoliciesSchema,
      /**
       * The root email of each account-isolation tenant's AWS account (CreateAccount `Email`; Landing Zone Accelerator's
       * and AFT's account email): an address of the platform's, with `{tenantId}` replaced by the tenant id, e.g.
       * `aws+tessera-{tenantId}@platform.example.com` (lib/tenant-account-email.ts). Never the tenant admin's address:
       * whoever receives it can reset the account's root password. Required when a tier uses `account` isolation;
       * the embedded default's `@example.com` value is a placeholder.
       */
      accountEmail: z.string().check((c) => {
        const problem = accountEmailTemplateProblem(c.value);
        if (problem) c.issues.push({ code: 'custom', message: problem, input: c.value });
      }).optional(),
    }),
    platformAccountId: accountId,
    /** Where VPC-isolated tenants' blueprints are deployed. */
    workloadAccountId: accountId,
    homeRegion: region,
    allowedRegions: z.array(region).min(1),
    /**
     * Availability Zone names per region, for the stacks `cdk deploy` puts in an account
     * (TesseraPlatform's VPC uses the home region's first `platformNetwork.maxAzs`), so synth needs
     * no credentials and no AZ lookup cached in cdk.context.json. Tenant blueprints pick their AZs
     * at deploy time (`Fn::GetAZs`) and ignore this. Names are the account's own: zone *names*
     * map to different physical zones in each account (zone ids do not).
     * @default - `<region>a`, `<region>b`, `<region>c` for every region not listed
     */
    availabilityZones: z.record(region, z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'must be an Availability Zone name such as us-east-1a (the region followed by one letter)')).min(1)).optional(),
    roles: z.strictObject({
      /** Assumed by the lifecycle workflow in tenant accounts; administers keys, never decrypts. */
      provisioningRoleName: iamRoleName,
      /** The audited human path to tenant data. */
      breakGlassRoleName: iamRoleName,
      /**
       * CloudFormation service role (`RoleARN`) of tenant stacks in each target account, created by the
       * account baseline stack; the only principal the tenant key lets create resources under it.
       */
      blueprintExecutionRoleName: iamRoleName.default('TesseraBlueprintExecution'),
      /**
       * Platform-account roles (path and name; `*` and `?` wildcards) whose sessions, tagged
       * `tessera:tenant-id` = the tenant, may assume a tenant's admin role `tessera-<tenant>-admin`.
       * A tag alone is not enough: any platform principal that can set the tag would pass.
       * @default - IAM Identity Center permission set `TesseraTenantAdmin` (its roles are
       * `aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_TesseraTenantAdmin_<id>`: the
       * Region segment is absent for instances in us-east-1), with the tenant id passed as the
       * session tag through attributes for access control
       */
      tenantAdminRoleNamePatterns: z.array(z.string()
        .refine((p) => !p.startsWith('arn:'), 'must be the role\'s path and name after "role/" (e.g. "okta/TesseraTenantAdmin-*"), not its ARN: the account is platformAccountId')
        .refine((p) => !/^[/*?]/.test(p), 'must start with a literal path or name, not "/" or a wildcard: a leading wildcard would admit any platform-account role able to tag itself, and a leading "/" matches no role')
        .refine((p) => /^[\w+=,.@/*?-]{1,512}$/.test(p), 'must be an IAM role path and name (letters, digits, +=,.@_-/ and the wildcards * ?)')).min(1)
        .default([...IDENTITY_CENTER_TENANT_ADMIN_ROLES]),
    }),
    audit: z.strictObject({
      objectLockRetentionDays: z.number().int().min(1).max(36500),
      /** Retention of the trail's CloudWatch Logs log group: one of LOG_RETENTION_DAYS. */
      logRetentionDays,
      /**
       * Whether the audit trail is an organization trail (every account of the organization, tenant accounts included,
       * into the audit bucket under `AWSLogs/<organizationId>/`) or the platform account's only. With the platform in a
       * member account, `true` needs the platform account registered as CloudTrail's delegated administrator and trusted
       * access for cloudtrail.amazonaws.com, from the management account (lib/config/organization-trail.ts; doctor
       * checks both). `false` with the platform in the management account leaves the organization to another trail
       * (Control Tower's, LZA's). Changing it replaces the trail (docs/upgrading-and-teardown.md).
       * @default - absent: true when platformAccountId is the management account, else false
       */
      organizationTrail: z.boolean().optional(),
      /**
       * CloudTrail data events the audit trail records beside its management events (lib/config/audit-data-events.ts):
       * `s3Objects` `tenant-data` (the tenant buckets and the platform's pooled tenant-data buckets) or `all` (every
       * bucket but the audit bucket), `lambdaInvoke`. Billed per event. The same key for an organization trail and the
       * platform account's trail (docs/control-tower.md "Data events on the audit trail").
       * @default - absent: no data events
       */
      dataEvents: AuditDataEventsSchema.optional(),
    }),
    /**
     * The platform's own disaster recovery (registry backups copied, audit bucket replicated with
     * Object Lock): `none`, or the DR region, in allowedRegions and not homeRegion, where the
     * TesseraPlatformDr stack holds the replica audit bucket, its key and the registry's backup vault.
     * @default 'none'
     */
    platformDisasterRecovery: noneOrTarget(z.strictObject({ region }), '{ region }').default('none'),
    /** The platform VPC, built when a tier uses shared compute: then `cidr` is /16 to /28 (vpcCidrProblem). */
    platformNetwork: z.strictObject({ cidr, maxAzs: z.number().int().min(2).max(3) }),
    sharedCluster: z.strictObject({
      kubernetesVersion,
      systemNodes: systemNodesSchema,
      gpu: GpuNodeGroupConfigSchema,
    }),
    defaultTier: tierName,
    gateway: GatewayConfigSchema,
    fineTuning: FineTuningConfigSchema,
    operations: OperationsConfigSchema.prefault({}),
    /**
     * What the offboarding does with the tenant's data kept in the platform's pooled gateway stores.
     * `erasePooledGatewayData`: the offboarding's *Erase pooled gateway data* step deletes the tenant's stored Responses
     * API answers, conversations, Batch API batches, gateway files (records and objects, kept files' too) and vector
     * store records as the tenant-data role's session of the tenant, before OFFBOARDED
     * (lambdas/lifecycle/erase-pooled-gateway-data.ts). Off, they stay until their TTL (`gateway.responsesTtlDays`, 30
     * days by default; batch files' bytes up to 32 days), readable by no one but the platform's break-glass path: what has
     * no TTL of its own (files kept until deleted, vector stores) or a later one is given `gateway.responsesTtlDays` from
     * the offboarding by its step *Expire pooled gateway data* in the erasure's place, a kept file's bytes moved to the
     * expiring prefix (lambdas/lifecycle/expire-pooled-gateway-data.ts). The audit trail and the usage and billing
     * records are the platform's: never erased.
     * Off by default: the erasure is irreversible and not part of the offboarding's export, and a platform that turns it on
     * chooses that; a platform bound to erase a leaving customer's data without undue delay (GDPR Art. 17) sets it true.
     * @default - absent: false (kept until TTL)
     */
    offboarding: z.strictObject({ erasePooledGatewayData: z.boolean() }).optional(),
    /**
     * The platform's Cognito user pool (built when `gateway.jwt` is absent): `email` sends its mail (invitations,
     * verification and forgot-password codes) through the platform account's SES instead of Cognito's own sender and its
     * 50 mails a day (lib/config/user-pool-email.ts).
     * @default - absent: Cognito's own sender (COGNITO_DEFAULT)
     */
    identity: IdentityConfigSchema.optional(),
    tiers: z.record(tierName, TierConfigSchema).refine((t) => Object.keys(t).length > 0, 'must define at least one tier: removing every default tier (null) leaves none; define one under tiers'),
  })
  .superRefine((c, ctx) => {
    checkOrganizationalUnitNames(c, ctx);
    checkBlueprintFileNames(c, ctx);
    const accountTier = Object.entries(c.tiers).find(([, t]) => t.isolation === 'account')?.[0];
    if (accountTier !== undefined && c.organization.accountEmail === undefined) {
      ctx.addIssue({ code: 'custom', path: ['organization', 'accountEmail'], message: `is required: tier ${accountTier} uses account isolation, and each of its tenants' AWS accounts needs a root email of the platform's own: set a template with {tenantId} such as aws+tessera-{tenantId}@platform.example.com (an address whose mail the platform team reads)` });
    }
    checkWorkloadAccountIsNotManagement(c, ctx);
    checkUserPoolEmail(c, ctx);
    if (c.sharedCluster.gpu.maxSize > 0 && c.sharedCluster.gpu.amiType !== 'BOTTLEROCKET_x86_64_NVIDIA') {
      ctx.addIssue({
        code: 'custom',
        path: ['sharedCluster', 'gpu', 'amiType'],
        message: 'must be BOTTLEROCKET_x86_64_NVIDIA: AL2023 NVIDIA nodes need the NVIDIA device plugin installed (Bottlerocket NVIDIA ships it), and the platform VPC has no internet egress, so neither its Helm chart (nvidia.github.io) nor its image (nvcr.io) can be fetched; the GPUs would never be schedulable',
      });
    }
    if (!c.allowedRegions.includes(c.homeRegion)) {
      ctx.addIssue({ code: 'custom', path: ['homeRegion'], message: `is outside allowedRegions (${c.allowedRegions.join(', ')}): add it to allowedRegions or choose one of them` });
    }
    const platformDr = c.platformDisasterRecovery;
    // A target missing its region is reported by its own schema (noneOrTarget), not as "undefined" outside allowedRegions.
    if (platformDr !== 'none' && typeof platformDr.region === 'string' && !c.allowedRegions.includes(platformDr.region)) {
      ctx.addIssue({ code: 'custom', path: ['platformDisasterRecovery', 'region'], message: `"${platformDr.region}" is outside allowedRegions (${c.allowedRegions.join(', ')}): add it to allowedRegions or choose one of them` });
    }
    if (platformDr !== 'none' && platformDr.region === c.homeRegion) {
      ctx.addIssue({ code: 'custom', path: ['platformDisasterRecovery', 'region'], message: `"${platformDr.region}" is the home region: a DR region must be another region, so that losing the home region leaves the copies` });
    }
    for (const [zoneRegion, zones] of Object.entries(c.availabilityZones ?? {})) {
      if (!c.allowedRegions.includes(zoneRegion)) {
        ctx.addIssue({ code: 'custom', path: ['availabilityZones', zoneRegion], message: `names a region outside allowedRegions (${c.allowedRegions.join(', ')}): remove it or add the region to allowedRegions` });
      }
      zones.forEach((zone, i) => {
        if (!zone.startsWith(zoneRegion) || zone.length !== zoneRegion.length + 1) {
          ctx.addIssue({ code: 'custom', path: ['availabilityZones', zoneRegion, i], message: `is not a zone of ${zoneRegion}: write ${zoneRegion} followed by the zone letter, e.g. ${zoneRegion}a` });
        } else if (zones.indexOf(zone) !== i) {
          ctx.addIssue({ code: 'custom', path: ['availabilityZones', zoneRegion, i], message: `repeats ${zone}: list each zone once` });
        }
      });
    }
    const homeZones = c.availabilityZones?.[c.homeRegion];
    if (homeZones && homeZones.length < c.platformNetwork.maxAzs) {
      ctx.addIssue({ code: 'custom', path: ['availabilityZones', c.homeRegion], message: `lists ${homeZones.length} zone(s), fewer than platformNetwork.maxAzs (${c.platformNetwork.maxAzs}) the platform VPC spans: list at least ${c.platformNetwork.maxAzs} or lower platformNetwork.maxAzs` });
    }
    c.fineTuning.baseModels.forEach((model, i) => {
      for (const key of ['trainingImage', 'servingImage'] as const) {
        const imageRegion = /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\//.exec(model[key])?.[1];
        if (imageRegion && imageRegion !== c.homeRegion) {
          ctx.addIssue({ code: 'custom', path: ['fineTuning', 'baseModels', i, key], message: `is in ${imageRegion}, but SageMaker pulls images from the region of the job (homeRegion ${c.homeRegion}): use the image's ${c.homeRegion} registry (${model[key].replace(`.${imageRegion}.`, `.${c.homeRegion}.`).split('/')[0]}) or a copy in your own ECR` });
        }
      }
    });
    checkDisasterRecoveryRegions(c, ctx);
    if (!(c.defaultTier in c.tiers)) {
      ctx.addIssue({ code: 'custom', path: ['defaultTier'], message: `is not a defined tier: set it to one of ${Object.keys(c.tiers).join(', ')}, or define it under tiers` });
    }
    const modelIds = c.gateway.models.map((m) => m.id);
    modelIds.forEach((id, i) => {
      if (modelIds.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['gateway', 'models', i, 'id'], message: `duplicates model "${id}" (entry ${modelIds.indexOf(id)}): give each catalog model its own id, or remove one` });
    });
    c.gateway.models.forEach((m, i) => m.deployments?.forEach((d, j) => {
      if (d.region !== undefined && !c.allowedRegions.includes(d.region)) ctx.addIssue({ code: 'custom', path: ['gateway', 'models', i, 'deployments', j, 'region'], message: `"${d.region}" (deployment "${d.name}" of "${m.id}") is outside allowedRegions (${c.allowedRegions.join(', ')}): add it to allowedRegions or choose one of them` });
    }));
    checkModelAliases(c.gateway, ctx);
    checkTierModelsAreNotAliases(c.tiers, c.gateway.modelAliases, ctx);
    checkTierModelsAreInCatalog(c.tiers, modelIds, c.gateway.modelAliases, ctx);
    const baseIds = c.fineTuning.baseModels.map((b) => b.id);
    baseIds.forEach((id, i) => {
      if (baseIds.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['fineTuning', 'baseModels', i, 'id'], message: `duplicates base model "${id}": give each base model its own id` });
    });
    for (const [name, tier] of Object.entries(c.tiers)) {
      tier.training.baseModels.forEach((id, i) => {
        if (id !== '*' && !baseIds.includes(id)) {
          ctx.addIssue({ code: 'custom', path: ['tiers', name, 'training', 'baseModels', i], message: `"${id}" is not a base model of fineTuning.baseModels: use one of ${baseIds.join(', ')}, "*" for all, or add it to fineTuning.baseModels` });
        }
      });
    }
    const platform = parseCidr(c.platformNetwork.cidr);
    // The shared cluster's VPC (built when a tier uses shared compute) has the same layout as a tenant's.
    const platformVpc = platform && Object.values(c.tiers).some((t) => t.compute.mode === 'shared') ? platform : undefined;
    const sharedProblem = platformVpc
      ? vpcCidrProblem(platformVpc) ?? computeSubnetProblem(platformVpc.prefix, c.platformNetwork.maxAzs, false, SHARED_CLUSTER_VPC_ENDPOINTS) : undefined;
    if (sharedProblem) ctx.addIssue({ code: 'custom', path: ['platformNetwork', 'cidr'], message: `is the shared cluster's VPC: ${sharedProblem}` });
    checkSharedClusterServiceRange(c, ctx);
    checkSharedTierGpus(c, ctx);
    const named: Array<{ path: (string | number)[]; range: Ipv4Range }> = [];
    if (platform) named.push({ path: ['platformNetwork', 'cidr'], range: platform });
    for (const [name, tier] of Object.entries(c.tiers)) {
      const pool = parseCidr(tier.network.tenantCidrPool);
      if (pool) named.push({ path: ['tiers', name, 'network', 'tenantCidrPool'], range: pool });
    }
    for (let i = 0; i < named.length; i++) {
      for (let j = 0; j < i; j++) {
        if (overlaps(named[i].range, named[j].range)) {
          ctx.addIssue({
            code: 'custom',
            path: named[i].path,
            message: `overlaps ${named[j].path.join('.')} (${named[j].range.cidr}); ${DISJOINT}`,
            // The other side, for config-issues.ts: the line leads with the key of whoever set one of the two (not a default's).
            params: { overlaps: named[j].path },
          });
        }
      }
    }
  });

export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;
export type TierConfig = z.infer<typeof TierConfigSchema>;
export type ComputeConfig = TierConfig['compute'];
export type GpuNodeGroupConfig = z.infer<typeof GpuNodeGroupConfigSchema>;
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type ModelEntry = z.infer<typeof ModelEntrySchema>;
export type BaseModel = z.infer<typeof BaseModelSchema>;
