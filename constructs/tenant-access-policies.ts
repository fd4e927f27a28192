import { ArnFormat, type CfnElement, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import type { TenantCache } from './tenant-cache.js';
import type { TenantDatabase } from './tenant-database.js';
import type { TenantRoles } from './tenant-roles.js';
import type { BaseModel } from '../lib/config/schema.js';
import { TrainingPolicies } from './training-policies.js';

export interface TenantAccessPoliciesProps {
  readonly roles: TenantRoles;
  readonly bucket: s3.IBucket;
  readonly database: TenantDatabase;
  readonly cache: TenantCache;
  /**
   * The tenant's dedicated cluster.
   * @default - no cluster permissions
   */
  readonly cluster?: eks.ICluster;
  /**
   * What the tenant's training roles may touch: its key, network and the platform's base models.
   * @default - no training permissions (required when the roles include training)
   */
  readonly training?: TrainingAccess;
}

export interface TrainingAccess {
  readonly tenantId: string;
  readonly keyArn: string;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  /** Base models of the platform catalog: their images are pulled and weights read by training jobs. */
  readonly baseModels: readonly BaseModel[];
  readonly endpointInstanceTypes: readonly string[];
  /** The tier's training instance types: the only ones the launcher may start jobs on. */
  readonly trainingInstanceTypes: readonly string[];
  /**
   * The tenant's VPC: network interfaces the training role manages must be in it (`ec2:Vpc`), beside being in its subnets.
   * @default - scoped by `ec2:Subnet` only (the subnets are the tenant's, so the VPC is too)
   */
  readonly vpcId?: string;
  readonly maxRuntimeSeconds: number;
}

/** Database users the tenant's roles may log in as with IAM authentication. */
export const TENANT_DB_USERS = { app: 'tenant_app', admin: 'tenant_admin' } as const;

/**
 * What each tenant role may do, as customer-managed policies (not inline), each statement
 * naming the one tenant resource it is for. Workload permissions additionally require the
 * session to carry the tenant's `kubernetes-namespace` tag.
 */
export class TenantAccessPolicies extends Construct {
  constructor(scope: Construct, id: string, props: TenantAccessPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { roles, bucket, database, cache } = props;
    const objects = bucket.arnForObjects('*');
    const dbUser = (user: string) =>
      stack.formatArn({ service: 'rds-db', resource: 'dbuser', resourceName: `${database.dbiResourceId}/${user}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const cacheArns = [
      stack.formatArn({ service: 'elasticache', resource: 'replicationgroup', resourceName: cache.replicationGroup.ref, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      cache.appUser.attrArn,
    ];
    const bucketArn = `<${stack.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>`;
    const objectsFinding = `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/*]`;
    const objectsReason = (who: string) =>
      `${who} works on objects of the tenant's own bucket, whose keys are created at run time; the wildcard is confined to that one bucket, which denies every other principal.`;

    if (roles.workload) {
      const when = roles.workloadSessionCondition;
      const policy = this.policy('Workload', roles.workload, [
        new iam.PolicyStatement({ sid: 'TenantObjects', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [objects], conditions: when }),
        new iam.PolicyStatement({ sid: 'TenantBucketList', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: when }),
        new iam.PolicyStatement({ sid: 'TenantDatabaseIamAuth', actions: ['rds-db:connect'], resources: [dbUser(TENANT_DB_USERS.app)], conditions: when }),
        new iam.PolicyStatement({ sid: 'TenantCacheIamAuth', actions: ['elasticache:Connect'], resources: cacheArns, conditions: when }),
      ]);
      acknowledge(policy, [objectsFinding], objectsReason('The workload role'));
    }

    const adminStatements = [
      new iam.PolicyStatement({ sid: 'TenantObjects', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [objects] }),
      new iam.PolicyStatement({ sid: 'TenantBucketList', actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      new iam.PolicyStatement({ sid: 'TenantDatabaseIamAuth', actions: ['rds-db:connect'], resources: [dbUser(TENANT_DB_USERS.admin)] }),
    ];
    if (props.cluster) {
      adminStatements.push(new iam.PolicyStatement({
        sid: 'TenantClusterAccess', actions: ['eks:DescribeCluster', 'eks:AccessKubernetesApi', 'eks:ListNodegroups'], resources: [props.cluster.clusterArn],
      }));
    }
    const admin = this.policy('Admin', roles.admin, adminStatements);
    acknowledge(admin, [objectsFinding], objectsReason('The tenant admin role'));

    if (roles.training && roles.trainingLauncher && roles.modelInvoker && roles.trainingFiles) {
      if (!props.training) throw new Error('TenantAccessPolicies: training roles exist but props.training is missing');
      new TrainingPolicies(this, 'Training', {
        ...props.training, roles: { training: roles.training, launcher: roles.trainingLauncher, invoker: roles.modelInvoker, files: roles.trainingFiles }, bucket,
      });
    }

    const breakGlass = this.policy('BreakGlass', roles.breakGlass, [
      new iam.PolicyStatement({ sid: 'ReadTenantObjects', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [objects] }),
      new iam.PolicyStatement({ sid: 'ListTenantBucket', actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [bucket.bucketArn] }),
    ]);
    acknowledge(breakGlass, [objectsFinding], objectsReason('The audited break-glass role (read only)'));
  }

  private policy(id: string, role: iam.IRole, statements: iam.PolicyStatement[]): iam.ManagedPolicy {
    return new iam.ManagedPolicy(this, id, { description: `Tessera tenant ${id} access`, roles: [role], statements });
  }
}
