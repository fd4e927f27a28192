import { createHash } from 'node:crypto';

/**
 * Stand-in values, of the shape AWS returns, for references moto cannot resolve: a `Ref` or
 * `Fn::GetAtt` of a resource moto cannot create (removed from the derived template), or an
 * attribute moto does not implement on a resource it does create. Each is keyed by `Type` (for
 * `Ref`) or `Type.Attribute` (for `Fn::GetAtt`) and built from the resource's own properties where
 * AWS would (a name it is given), else from a token derived from its logical id, so the values
 * are the same on every run. ARNs are built with `AWS::Partition`, `AWS::Region` and
 * `AWS::AccountId`, so they name the account the stack runs in.
 *
 * A reference without a shape here is an error naming it: a new dependency of the blueprint on
 * something moto lacks must be looked at, not papered over.
 */

export type CfnValue = unknown;
export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Condition?: string;
  Metadata?: unknown;
}

/** The template's resources, for stand-ins that name another resource of the same template. */
export type Resources = Record<string, CfnResource>;
type StandIn = (resource: CfnResource, logicalId: string, resources: Resources) => CfnValue;

/** `n` characters from `alphabet`, derived from `seed` (deterministic). */
export function token(seed: string, n: number, alphabet = '0123456789abcdef'): string {
  const bytes = createHash('sha256').update(seed).digest();
  return Array.from({ length: n }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join('');
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `arn:<partition>:<service>:<region>:<account>:<resource...>` in the deploying account. */
function arn(service: string, ...resource: CfnValue[]): CfnValue {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', ...resource]] };
}

/** The logical id of the template's one VPC. */
function onlyVpc(resources: Resources, forId: string): string {
  const vpcs = Object.keys(resources).filter((k) => resources[k].Type === 'AWS::EC2::VPC');
  if (vpcs.length !== 1) throw new Error(`stand-in for ${forId}: expected one AWS::EC2::VPC in the template, found ${vpcs.length}`);
  return vpcs[0];
}

const prop = (r: CfnResource, name: string): CfnValue | undefined => r.Properties?.[name];

/** The replication group id when the template names none: CloudFormation generates one from the stack name (lower-case, at most 40). */
const replicationGroupId: StandIn = (r, id) => prop(r, 'ReplicationGroupId') ?? { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, token(id, 7, LOWER_ALNUM)]] };

const REF: Record<string, StandIn> = {
  // Ref of an EKS cluster is its name.
  'AWS::EKS::Cluster': (r, id) => prop(r, 'Name') ?? `${id}-${token(id, 8, LOWER_ALNUM)}`,
  // Ref of a replication group is its id.
  'AWS::ElastiCache::ReplicationGroup': replicationGroupId,
};

const GET_ATT: Record<string, StandIn> = {
  'AWS::EKS::Cluster.Arn': (r, id, all) => arn('eks', 'cluster/', REF['AWS::EKS::Cluster'](r, id, all)),
  // EKS creates the cluster security group in the cluster's VPC. moto refuses an ingress rule whose
  // source group does not exist (InvalidGroup.NotFound), so the stand-in is the group EC2 itself
  // creates in that VPC: its default security group.
  'AWS::EKS::Cluster.ClusterSecurityGroupId': (_r, id, resources) => ({ 'Fn::GetAtt': [onlyVpc(resources, id), 'DefaultSecurityGroup'] }),
  'AWS::ElastiCache::ReplicationGroup.PrimaryEndPoint.Address': (r, id) =>
    ({ 'Fn::Join': ['.', ['master', replicationGroupId(r, id, {}), token(id, 6, LOWER_ALNUM), { Ref: 'AWS::Region' }, 'cache.amazonaws.com']] }),
  'AWS::ElastiCache::User.Arn': (r) => arn('elasticache', 'user:', prop(r, 'UserId')),
  // An alarm's ARN names the alarm (the blueprints' DLQ alarms set their names: constructs/tenant-dlq-alarm.ts).
  'AWS::CloudWatch::Alarm.Arn': (r, id) => arn('cloudwatch', 'alarm:', prop(r, 'AlarmName') ?? `${id}-${token(id, 8, UPPER_ALNUM)}`),
  // A Backup vault's ARN names the vault (the blueprint sets its name).
  'AWS::Backup::BackupVault.BackupVaultArn': (r, id) => arn('backup', 'backup-vault:', prop(r, 'BackupVaultName') ?? `${id}-${token(id, 8, LOWER_ALNUM)}`),
  // Its name: the one the blueprint sets, or one CloudFormation would generate.
  'AWS::Backup::BackupVault.BackupVaultName': (r, id) => prop(r, 'BackupVaultName') ?? `${id}-${token(id, 8, LOWER_ALNUM)}`,
  // RDS's resource id: `db-` and 26 upper-case letters and digits.
  'AWS::RDS::DBInstance.DbiResourceId': (_r, id) => `db-${token(`${id}.DbiResourceId`, 26, UPPER_ALNUM)}`,
  // The secret RDS creates for ManageMasterUserPassword: `rds!db-<uuid>` and Secrets Manager's 6-character suffix.
  'AWS::RDS::DBInstance.MasterUserSecret.SecretArn': (_r, id) => {
    const h = token(`${id}.MasterUserSecret`, 32);
    return arn('secretsmanager', `secret:rds!db-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}-${token(id, 6, LOWER_ALNUM)}`);
  },
};

/** The stand-in for `Ref` of `logicalId`; throws when no shape is known for its type. */
export function refStandIn(resource: CfnResource, logicalId: string, resources: Resources): CfnValue {
  const make = REF[resource.Type];
  if (!make) throw new Error(`no stand-in shape for Ref of ${logicalId} (${resource.Type}); add one to test/integration/support/stand-ins.ts`);
  return make(resource, logicalId, resources);
}

/** The stand-in for `Fn::GetAtt [logicalId, attribute]`; throws when no shape is known. */
export function getAttStandIn(resource: CfnResource, logicalId: string, attribute: string, resources: Resources): CfnValue {
  const make = GET_ATT[`${resource.Type}.${attribute}`];
  if (!make) throw new Error(`no stand-in shape for Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}); add one to test/integration/support/stand-ins.ts`);
  return make(resource, logicalId, resources);
}
