import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { admitPeers } from './admit-peers.js';
import { TENANT_CACHE_ENGINE } from '../lib/tenant-store-settings.js';

/** Engine of the RBAC users and user group (see the constructor for why it is not "valkey"). */
export const RBAC_ENGINE = 'redis';

export interface TenantCacheProps {
  /** Prefix of the tenant-scoped ElastiCache user ids (ids are unique per account and region). */
  readonly userIdPrefix: string;
  readonly vpc: ec2.IVpc;
  /** Subnets of the cache nodes; must be private. */
  readonly subnets: ec2.SubnetSelection;
  /** The tenant's key: data at rest and the log groups. */
  readonly encryptionKey: kms.IKey;
  /** Node type, e.g. `cache.t4g.small`. */
  readonly nodeType: string;
  /** Read replicas of the primary; at least 1 when `multiAz`. */
  readonly replicas: number;
  /** Multi-AZ placement with automatic failover. */
  readonly multiAz: boolean;
  /** Days automatic snapshots are kept. */
  readonly snapshotRetentionDays: number;
  /** Listener port; never the default 6379. */
  readonly port: number;
  /** Peers allowed to connect on `port`. */
  /** Peers allowed to connect on `port`, by a name that is stable across tiers (it names the rule). */
  readonly allowedPeers: Record<string, ec2.IPeer>;
  /**
   * Name prefix of the engine and slow log groups. ElastiCache delivers them as vended logs: give a
   * prefix under `/aws/vendedlogs/`, or each group takes room in the account's 5,120-character
   * CloudWatch Logs resource policy (lib/tenant-naming.ts tenantVendedLogGroupPrefix).
   */
  readonly logGroupPrefix: string;
  /**
   * Engine version.
   * @default '8.0'
   */
  readonly engineVersion?: string;
}

/**
 * The tenant's Valkey replication group: TLS required, at-rest encryption with the tenant key,
 * RBAC with IAM authentication (no password to leak or rotate: the tenant's roles call
 * `elasticache:Connect` on the app user), non-default port, Multi-AZ failover by tier,
 * snapshots kept, and a final snapshot when the stack is deleted.
 */
export class TenantCache extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly securityGroup: ec2.SecurityGroup;
  /** The IAM-authenticated user the tenant's workloads connect as. */
  readonly appUserId: string;
  readonly appUser: elasticache.CfnUser;

  constructor(scope: Construct, id: string, props: TenantCacheProps) {
    super(scope, id);
    if (props.port === 6379) throw new Error('TenantCache port must not be the default 6379, got 6379');
    if (props.multiAz && props.replicas < 1) {
      throw new Error(`TenantCache replicas must be at least 1 when multiAz is true, got ${props.replicas}`);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Tenant Valkey: ingress on the cache port from the tenant compute only',
      allowAllOutbound: false,
    });
    admitPeers(this.securityGroup, props.allowedPeers, props.port, 'tenant compute to Valkey');

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Tenant Valkey private subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    // A user group must hold a user named "default"; this one is switched off. Users and group use
    // engine "redis": a group of engine "valkey" may hold only users that authenticate (password or
    // IAM), and a switched-off default needs neither; Valkey clusters accept "redis" user groups.
    // Source: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html
    const defaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
      engine: RBAC_ENGINE,
      userId: `${props.userIdPrefix}-default`,
      userName: 'default',
      accessString: 'off -@all',
      authenticationMode: { Type: 'no-password-required' },
    });
    this.appUserId = `${props.userIdPrefix}-app`;
    this.appUser = new elasticache.CfnUser(this, 'AppUser', {
      engine: RBAC_ENGINE,
      userId: this.appUserId,
      userName: this.appUserId, // IAM authentication requires userName == userId
      accessString: 'on ~* &* +@all -@dangerous',
      authenticationMode: { Type: 'iam' },
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: RBAC_ENGINE,
      userGroupId: `${props.userIdPrefix}-users`,
      userIds: [defaultUser.userId, this.appUser.userId],
    });
    userGroup.node.addDependency(defaultUser, this.appUser);

    const logDelivery = (type: 'engine-log' | 'slow-log') => {
      const group = new logs.LogGroup(this, type === 'engine-log' ? 'EngineLog' : 'SlowLog', {
        logGroupName: `${props.logGroupPrefix}/${type}`,
        encryptionKey: props.encryptionKey,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      return {
        logType: type,
        logFormat: 'json',
        destinationType: 'cloudwatch-logs',
        destinationDetails: { cloudWatchLogsDetails: { logGroup: group.logGroupName } },
      };
    };

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Tessera tenant cache',
      engine: TENANT_CACHE_ENGINE,
      engineVersion: props.engineVersion ?? '8.0',
      cacheNodeType: props.nodeType,
      numCacheClusters: 1 + props.replicas,
      multiAzEnabled: props.multiAz,
      automaticFailoverEnabled: props.multiAz,
      port: props.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey.keyArn,
      userGroupIds: [userGroup.ref],
      snapshotRetentionLimit: props.snapshotRetentionDays,
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [logDelivery('engine-log'), logDelivery('slow-log')],
    });
    this.replicationGroup.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
    acknowledge(this.replicationGroup, ['AwsSolutions::AwsSolutions-AEC6'],
      'Authentication is RBAC with IAM: a user group whose default user is off and whose app user authenticates with SigV4 (elasticache:Connect); a static AUTH token would be a weaker shared secret.');
    if (!props.multiAz) {
      acknowledge(this.replicationGroup, ['AwsSolutions::AwsSolutions-AEC4'],
        'The tier is configured single-AZ (cache.multiAz=false) to keep its price down; the cache holds derived data that the tenant can rebuild, and snapshots are kept.');
    }
    if (props.snapshotRetentionDays < 15) {
      acknowledge(this.replicationGroup, ['NIST.800.53.R5::NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup', 'HIPAA.Security::HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup'],
        `The tier config sets cache.snapshotRetentionDays=${props.snapshotRetentionDays}, below 15; the cache holds derived data, and the platform team chose the shorter retention.`);
    }
  }
}
