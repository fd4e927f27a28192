import { tenPercentAboveGiB } from '../../lib/rds-storage.js';

/**
 * Version changes AWS refuses in a stack update, found before the update starts (a refused update
 * fails and rolls back, after the lease, the change set and minutes of CloudFormation):
 *
 * - the EKS cluster's Kubernetes version going down: "Once you upgrade a cluster, you can't downgrade
 *   to a previous version" (https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html);
 * - the EKS cluster's Kubernetes version going up by more than one minor version: "Control plane
 *   version upgrades must be done for one minor version at a time"; the only versions accepted are
 *   "the current version of the cluster or one version higher"
 *   (https://docs.aws.amazon.com/eks/latest/eksctl/cluster-upgrade.html);
 * - the RDS PostgreSQL major version going down: ModifyDBInstance upgrades only ("The version number
 *   of the database engine to upgrade to"; RDS has no in-place downgrade: a lower major version is a
 *   restore of a dump into a new instance,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.html).
 *   A major upgrade (16 -> 17) goes through: the blueprint sets AllowMajorVersionUpgrade.
 * - the RDS instance's allocated storage going down: "You can't reduce the amount of storage for a DB
 *   instance after storage has been allocated"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html), and
 *   CloudFormation's DBInstance update handler passes a changed `AllocatedStorage` to ModifyDBInstance
 *   whichever way it goes (aws-cloudformation/aws-cloudformation-resource-providers-rds, Translator
 *   modifyDbInstanceRequest: `allocatedStorage(diff(previous, desired))` outside a rollback). A tier
 *   change to a tier with less `database.allocatedStorageGiB`, or that key lowered in a tier's config,
 *   would fail the update.
 * - the RDS instance's allocated storage going up by less than 10%: "When you increase the allocated
 *   storage, it must be by at least 10 percent. If you try to increase the value by less than 10
 *   percent, you get an error" (same page, and USER_PIOPS.ModifyingExisting.ScalingUp.html), so a
 *   tier's `database.allocatedStorageGiB` raised from 100 to 105 fails the rolling upgrade's update
 *   the same way. (Storage that autoscaling grew past the template's value is the instance's,
 *   not the template's: a template that keeps its value sends nothing; one that raises it to less than
 *   the instance has now, or to less than 10% above it, is judged against the instance by
 *   instanceStorageRefusals, which *Deploy blueprint* calls with what DescribeDBInstances says.)
 *
 * - the ElastiCache replication group's engine version going down: "You can upgrade to a newer engine version, but
 *   you can't downgrade to an older engine version. If you want to use an older engine version, you must delete the
 *   existing cluster and create it anew with the older engine version" (ElastiCache User Guide, "Version Management",
 *   https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/VersionManagement.html). The blueprint fixes it
 *   (constructs/tenant-cache.ts, Valkey 8.0 in every release so far), so a release that raises it makes every
 *   `--blueprint-version` back to an older release fail at the cache.
 *
 * One caller: *Deploy blueprint* compares the template the tenant's stack was deployed from with the one it is
 * about to deploy, before the change set, for every tier change, upgrade and repair (also a version change of the
 * tenant's own tier: a rolling upgrade after the platform config changed a tier's version). tier-migration.ts does not
 * judge versions on the tiers' config (a stack left on an older version than its tier's config says must still be able
 * to move: b759e307), so the admin API accepts such a change and *Deploy blueprint* refuses it with InvalidRequest.
 * A cluster version one minor up that these rules let through can still be refused by EKS for the cluster as it is
 * (an upgrade insight in ERROR): *Deploy blueprint* reads those too (upgrade-insights.ts).
 */

/** The versions a tenant blueprint fixes: what its stack runs. Undefined: it has none (no dedicated cluster). */
export interface DeployedVersions {
  /** The dedicated EKS cluster's Kubernetes version (`1.34`). */
  kubernetesVersion?: string;
  /** The RDS PostgreSQL engine version (`17`, or a full `17.2`): its major version is compared. */
  engineVersion?: string;
  /** The RDS instance's `AllocatedStorage`, GiB (`database.allocatedStorageGiB` of the tier it was built for). */
  allocatedStorageGiB?: number;
  /** The RDS instance's `MaxAllocatedStorage`, GiB: storage autoscaling's ceiling (`database.maxAllocatedStorageGiB`). */
  maxAllocatedStorageGiB?: number;
  /** The ElastiCache replication group's `NumCacheClusters`: its primary and replicas (`cache.replicasPerShard` + 1); cache-failover-interim.ts reads it. */
  cacheNodes?: number;
  /** The ElastiCache replication group's `AutomaticFailoverEnabled` (`cache.multiAz`, which sets MultiAZEnabled with it). */
  cacheAutomaticFailover?: boolean;
  /** The ElastiCache replication group's `EngineVersion` (`8.0`): the blueprint's, no config key. */
  cacheEngineVersion?: string;
}

export type VersionField = 'compute.kubernetesVersion' | 'database.engineMajorVersion' | 'database.allocatedStorageGiB' | 'database.maxAllocatedStorageGiB' | 'cache.engineVersion';

/** One version change AWS refuses in place. */
export interface VersionRefusal {
  field: VersionField;
  from: string;
  to: string;
  why: string;
}

const minorOf = (v: string): [number, number] | undefined => {
  const m = /^(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};
const majorOf = (v: string): number | undefined => {
  const m = /^(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
};

/** The version and storage changes from `from` to `to` that AWS refuses (empty: none, or nothing comparable). */
export function versionRefusals(from: DeployedVersions, to: DeployedVersions): VersionRefusal[] {
  const out: VersionRefusal[] = [];
  const k8sFrom = from.kubernetesVersion && minorOf(from.kubernetesVersion);
  const k8sTo = to.kubernetesVersion && minorOf(to.kubernetesVersion);
  if (k8sFrom && k8sTo && from.kubernetesVersion !== to.kubernetesVersion) {
    const [fromMajor, fromMinor] = k8sFrom;
    const [toMajor, toMinor] = k8sTo;
    const field = 'compute.kubernetesVersion' as const;
    if (toMajor < fromMajor || (toMajor === fromMajor && toMinor < fromMinor)) {
      out.push({ field, from: from.kubernetesVersion!, to: to.kubernetesVersion!, why: 'EKS cannot downgrade a cluster ("Once you upgrade a cluster, you can\'t downgrade to a previous version")' });
    } else if (toMajor !== fromMajor || toMinor - fromMinor > 1) {
      out.push({ field, from: from.kubernetesVersion!, to: to.kubernetesVersion!, why: `EKS updates a cluster one minor version at a time: go through ${fromMajor}.${fromMinor + 1} first (a tier or blueprint version with it)` });
    }
  }
  const pgFrom = from.engineVersion ? majorOf(from.engineVersion) : undefined;
  const pgTo = to.engineVersion ? majorOf(to.engineVersion) : undefined;
  if (pgFrom !== undefined && pgTo !== undefined && pgTo < pgFrom) {
    out.push({
      field: 'database.engineMajorVersion', from: String(pgFrom), to: String(pgTo),
      why: 'RDS cannot downgrade a PostgreSQL major version in place (only a dump restored into a new instance goes back)',
    });
  }
  const storageFrom = from.allocatedStorageGiB;
  const storageTo = to.allocatedStorageGiB;
  if (storageFrom !== undefined && storageTo !== undefined && storageTo < storageFrom) {
    out.push({
      field: 'database.allocatedStorageGiB', from: String(storageFrom), to: String(storageTo),
      why: 'RDS cannot reduce a DB instance\'s allocated storage ("You can\'t reduce the amount of storage for a DB instance after storage has been allocated"); keep the tier\'s allocatedStorageGiB at least where it was',
    });
  }
  if (storageFrom !== undefined && storageTo !== undefined && storageTo > storageFrom && storageTo < tenPercentAboveGiB(storageFrom)) {
    out.push({
      field: 'database.allocatedStorageGiB', from: String(storageFrom), to: String(storageTo),
      why: `RDS refuses a storage increase of less than 10% ("When you increase the allocated storage, it must be by at least 10 percent"): from ${storageFrom} GiB go to at least ${tenPercentAboveGiB(storageFrom)} GiB, or keep ${storageFrom}`,
    });
  }
  const cacheFrom = from.cacheEngineVersion && minorOf(from.cacheEngineVersion);
  const cacheTo = to.cacheEngineVersion && minorOf(to.cacheEngineVersion);
  if (cacheFrom && cacheTo && (cacheTo[0] < cacheFrom[0] || (cacheTo[0] === cacheFrom[0] && cacheTo[1] < cacheFrom[1]))) {
    out.push({
      field: 'cache.engineVersion', from: from.cacheEngineVersion!, to: to.cacheEngineVersion!,
      why: 'ElastiCache cannot downgrade a cache\'s engine ("You can upgrade to a newer engine version, but you can\'t downgrade to an older engine version"): stay on a blueprint version with the engine the cache has, or a newer one',
    });
  }
  return out;
}

/** What RDS says of the tenant's DB instance now (DescribeDBInstances), for a deploy that changes its AllocatedStorage. */
export interface InstanceStorage {
  /** `AllocatedStorage`, GiB: the template's value, or more once storage autoscaling grew it. */
  allocatedStorageGiB?: number;
  /** `DBInstanceStatus` (`available`, `storage-optimization`, …). */
  status?: string;
}

/**
 * The refusals of a deploy whose template sets the instance's AllocatedStorage to `toGiB` (a value other than the
 * template the stack was deployed from, so CloudFormation passes it to ModifyDBInstance), judged against the
 * instance as it is: storage autoscaling may have grown it past the template's value, which the templates alone
 * (versionRefusals) cannot see. RDS refuses, per the RDS User Guide, "Increasing DB instance storage capacity"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html):
 * - less than the instance has: "You can't reduce the amount of storage for a DB instance after storage has been allocated";
 * - more by less than 10%: "When you increase the allocated storage, it must be by at least 10 percent";
 * - any storage change while the last one is being optimized (status `storage-optimization`): "You can't make further
 *   storage modifications for either six (6) hours or until storage optimization has completed on the instance,
 *   whichever is longer" (the six hours are not visible in DescribeDBInstances; the optimization is).
 * Empty when the instance's storage is unknown, or `toGiB` is what it has (ModifyDBInstance then changes nothing).
 */
export function instanceStorageRefusals(instance: InstanceStorage, toGiB: number): VersionRefusal[] {
  const now = instance.allocatedStorageGiB;
  if (now === undefined || now === toGiB) return [];
  return allocatedStorageRefusals(now, instance.status, toGiB);
}

/**
 * The refusal of a deploy whose template sets the instance's MaxAllocatedStorage (storage autoscaling's ceiling) to
 * `toGiB`, a value other than the template the stack was deployed from (so CloudFormation passes it to
 * ModifyDBInstance), judged against the storage the instance has now, or `allocatedToGiB` when the same update raises
 * it: "You must set the maximum storage threshold to at least 10% more than the current allocated storage" ("If you
 * don't, you get an error such as Invalid max storage size for engine_name"), RDS User Guide, "Managing capacity
 * automatically with Amazon RDS storage autoscaling" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html). The config checks the
 * template's pair (lib/config/schema.ts minMaxAllocatedStorageGiB); an instance autoscaling grew near a lowered
 * ceiling is what only the instance shows. Empty when the instance's storage is unknown or the ceiling is high enough.
 */
export function instanceStorageCeilingRefusals(instance: InstanceStorage, toGiB: number, allocatedToGiB?: number): VersionRefusal[] {
  const now = instance.allocatedStorageGiB;
  if (now === undefined) return [];
  const allocated = Math.max(now, allocatedToGiB ?? 0);
  if (toGiB >= tenPercentAboveGiB(allocated)) return [];
  return [{
    field: 'database.maxAllocatedStorageGiB', from: `${now} GiB allocated (the instance now)`, to: String(toGiB),
    why: `RDS refuses a maximum storage threshold less than 10% above the current allocated storage ("Invalid max storage size"), and the instance has ${allocated} GiB: give the tier a maxAllocatedStorageGiB of at least ${tenPercentAboveGiB(allocated)}, or keep the one the stack has`,
  }];
}

function allocatedStorageRefusals(now: number, status: string | undefined, toGiB: number): VersionRefusal[] {
  const field = 'database.allocatedStorageGiB' as const;
  const from = `${now} (the instance now)`;
  if (status === 'storage-optimization') {
    return [{ field, from, to: String(toGiB), why: 'RDS is still optimizing the instance\'s last storage change (status storage-optimization) and refuses another until that completes and six hours have passed ("You can\'t make further storage modifications for either six (6) hours or until storage optimization has completed on the instance, whichever is longer"); retry once the instance is available' }];
  }
  if (toGiB < now) {
    return [{ field, from, to: String(toGiB), why: `storage autoscaling grew the instance to ${now} GiB and RDS cannot reduce it ("You can't reduce the amount of storage for a DB instance after storage has been allocated"); give the tier an allocatedStorageGiB of at least ${tenPercentAboveGiB(now)} GiB, or keep the one the stack has` }];
  }
  if (toGiB < tenPercentAboveGiB(now)) {
    return [{ field, from, to: String(toGiB), why: `RDS refuses a storage increase of less than 10% ("When you increase the allocated storage, it must be by at least 10 percent"), and storage autoscaling grew the instance to ${now} GiB: go to at least ${tenPercentAboveGiB(now)} GiB, or keep the one the stack has` }];
  }
  return [];
}

/** The refusal in words: each field with both values and why, and what the operator can do instead. */
export function describeVersionRefusals(tenantId: string, target: string, refusals: readonly VersionRefusal[]): string {
  const each = refusals.map((r) => `${r.field} would go from ${r.from} to ${r.to}: ${r.why}`);
  return `${target}: tenant ${tenantId}'s stack cannot take it in place: ${each.join('; ')}. `
    + 'The stack update would fail and roll back; choose a tier or blueprint version whose values the tenant\'s stack can reach from where it is, or change the tier\'s keys named above';
}
