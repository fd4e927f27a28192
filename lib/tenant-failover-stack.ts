import type { Construct } from 'constructs';
import type { DisasterRecoveryTarget } from './config/disaster-recovery.js';
import { platformDrRegion } from './platform-dr-naming.js';
import { TenantStack, type TenantStackProps } from './tenant-stack.js';

export interface TenantFailoverStackProps extends TenantStackProps {
  /** The tier's DR settings (`disasterRecoveryOf(tier)`): the variant is only built for a DR tier. */
  readonly disasterRecovery: DisasterRecoveryTarget;
}

/**
 * The failover variant of a DR tier's blueprint (`TesseraTenantFailover-<tier>`): what the runbook
 * deploys as stack `tessera-<id>` in the tier's DR region when the home region is lost. It is the tier
 * blueprint (same construct ids and outputs, its parameters and three more) with these differences:
 * - The tenant's IAM roles (`tessera-<id>-workload`, `-admin`, `-training`, `-training-launcher`,
 *   `-training-files`, `-model-invoker`, `-vector-store`, `-break-glass`) are imported by name, not created. IAM is
 *   global: the home stack's roles survive the regional outage, under the names the platform's code, key policies and
 *   trusts use (the gateway's model-invoker and vector-store, the fine-tuning launcher and Files API, break-glass
 *   sessions). Their permissions for the DR region's resources come from customer-managed policies this stack owns
 *   (generated names), beside the home stack's.
 * - No DR of its own: no S3 replication, no AWS Backup copy rule, no restore test (the DR service roles
 *   `tessera-<id>-dr-replication`, `-restore-testing` are not created; the database backup role gets a
 *   generated name). Every name it sets otherwise is regional (log groups, KMS alias, RDS, EKS, ElastiCache
 *   users, vault, queues, rules, the S3 vector bucket `tessera-<id>-vectors`: an empty one, S3 Vectors does not replicate).
 * - It reads the replica: the admin and break-glass roles may read the DR bucket through S3 with the DR key.
 * - It reaches the restored database on its second deploy: the runbook restores the database from the DR vault as
 *   `tessera-<id>-restored` (beside the empty instance this stack creates) and deploys this blueprint again with
 *   `RestoredDbiResourceId`, `RestoredDatabaseEndpoint` and `RestoredDatabaseCredentialsArn`. Then the workload and
 *   admin roles get IAM database authentication on that instance's resource id only
 *   (constructs/tenant-restored-database-access.ts), and the Database* outputs name it. Empty (the default), the
 *   condition `RestoredDatabase` is off and the first deploy is as before.
 * A template rule refuses a deployment outside the DR region; the training events go to the platform bus in
 * the platform's DR region (or the tier's, where the runbook redeploys the platform).
 * Not in the blueprint catalog: the platform's lifecycle never deploys it; the runbook deploys it from `cdk.out`.
 */
export class TenantFailoverStack extends TenantStack {
  constructor(scope: Construct, id: string, props: TenantFailoverStackProps) {
    const drRegion = props.disasterRecovery.region;
    super(scope, id, props, { drRegion, platformRegion: platformDrRegion(props.config) ?? drRegion });
  }
}
