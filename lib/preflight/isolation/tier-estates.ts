/**
 * Two (or more) tenants of one tier instantiated from the synthesized blueprints where Tessera
 * puts them: VPC-isolated tenants side by side in the shared workload account (their namespace
 * blueprints in the platform account), account-isolated tenants each in an account of its own.
 * The SCPs are those in force once a tenant is ACTIVE (the quarantine is lifted by then).
 * A DR tier's DR blueprint and failover blueprint (as the failover runbook deploys it: step 8's
 * parameters, step 7's restored instance) are instantiated for each tenant in the tier's DR region,
 * in the tenant's account, as lib/preflight/run.ts checks their deployment.
 */
import type { LoadedBlueprints, TierBlueprints } from '../blueprints.js';
import { instantiate } from '../instantiate.js';
import { drRegionOf } from '../../config/disaster-recovery.js';
import { platformDrRegion } from '../../platform-dr-naming.js';
import { namespaceDeployerInstance, namespaceStackName, restoredDatabaseParameters, vpcCidrFor, withRestoredDatabase } from '../run.js';
import { scpsInForce } from '../scps.js';
import { tenantEstate, type TenantEstate } from './estate.js';

/** Accounts given to account-isolated tenants, in order (placeholders, never real). */
export const VENDED_ACCOUNTS = ['444444444444', '555555555555', '666666666666'];

export function tierEstates(loaded: LoadedBlueprints, tier: TierBlueprints, tenantIds: string[], partition = 'aws'): TenantEstate[] {
  const { config } = loaded;
  const region = config.homeRegion;
  const platformAccount = config.platformAccountId;
  const ns = tier.namespace && loaded.namespaceDeployer ? namespaceDeployerInstance(loaded.namespaceDeployer, platformAccount, region, partition) : undefined;
  const platform = instantiate(loaded.platform, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: platformAccount, region, partition, stackName: 'TesseraPlatform', lenient: true });
  // Where the failover runbook's step 3 redeploys the platform (the bus the failover stacks' forwarders target), as
  // lib/tenant-failover-stack.ts places it: platformDisasterRecovery.region, else the tier's DR region.
  const tierDrRegion = drRegionOf(tier.tier);
  const platformRegion = tierDrRegion && (platformDrRegion(config) ?? tierDrRegion);
  const drPlatform = platformRegion ? instantiate(loaded.platform, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: platformAccount, region: platformRegion, partition, stackName: 'TesseraPlatform', lenient: true }) : undefined;
  const scps = { tenantAccount: scpsInForce(config, 'vpc-mode'), platform: scpsInForce(config, 'platform') };
  return tenantIds.map((tenantId, i) => {
    const account = tier.tier.isolation === 'account' ? VENDED_ACCOUNTS[i] : config.workloadAccountId;
    const vpcCidr = vpcCidrFor(tier, i);
    const tenant = instantiate(tier.tenant, { tenantId, vpcCidr, account, region, partition });
    const drStacks = tierDrRegion ? [
      ...(tier.dr ? [instantiate(tier.dr, { tenantId, vpcCidr, account, region: tierDrRegion, partition })] : []),
      ...(tier.failover ? [instantiate(withRestoredDatabase(structuredClone(tier.failover)), {
        tenantId, vpcCidr, account, region: tierDrRegion, partition, parameters: restoredDatabaseParameters(tenantId, account, tierDrRegion, partition),
      })] : []),
    ] : [];
    const namespace = tier.namespace && ns ? instantiate(tier.namespace, {
      tenantId, vpcCidr, account: platformAccount, region, partition, stackName: namespaceStackName(tenantId),
      parameters: { ...ns.parameters, TenantAccountId: account, TenantVpcCidr: vpcCidr },
    }) : undefined;
    return tenantEstate({ tenantId, tierName: tier.tierName, tier: tier.tier, baseModels: config.fineTuning.baseModels, tenant, namespace, drStacks, drPlatform, platform, platformAccount, scps });
  });
}
