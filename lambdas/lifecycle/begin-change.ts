import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { tierOptInRegions } from '../../lib/config/region-opt-in.js';
import { ENV, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError, InvalidRequestError } from '../shared/errors.js';
import { z } from 'zod';
import { AllowReplacement, type TenantRecord } from '../../lib/tenant-record.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { TenantTags } from '../../lib/tenant-tags.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tierTemplateKinds, unpublishedTemplates } from './blueprints.js';
import { versionOf } from './change-version.js';
import { describeDrRegionConflict, drRegionConflict } from './dr-region-change.js';
import { acquireLease, OperationSkippedError } from './lease.js';
import { upgradeSkipReason } from './list-tier-tenants.js';
import type { LifecycleState } from './state.js';
import { migrationRefusal } from './tier-migration.js';
import { type ChangeSkipped, recordSkip, upgradeEntry } from './upgrade-skip.js';

/**
 * Why a change of `record` to `tier` at `version` cannot be deployed: a template it would deploy (the
 * account baseline, the DR blueprint of a tier with DR, the tier blueprint, the namespace blueprint of
 * shared compute) is not in the blueprint catalog at that version. Undefined when all are. A repair is
 * checked as well (before, it was not: its tier and version are the tenant's, but the tier may have gained
 * disaster recovery since that version, and the repair then created the DR stack from a template the
 * version never published).
 * Before, the change took the lease and went on: the account baseline was updated, then *Deploy
 * blueprint* failed on S3's `NoSuchKey` (`AccessDenied` in AWS, without s3:ListBucket), naming
 * neither the tier nor the version, or CloudFormation refused the DR blueprint's TemplateURL.
 */
async function unpublishedRefusal(record: TenantRecord, tier: string, version: string, repair = false): Promise<string | undefined> {
  // A repair (the tenant's own tier and version) is checked too: the tier's config may have gained disaster recovery (or shared
  // compute) since that version, whose catalog then has no DR (or namespace) blueprint the repair would create its stack from.
  const missing = await unpublishedTemplates(tier, tierTemplateKinds(tier), version);
  if (!missing.length) return undefined;
  const platform = requireEnv(ENV.blueprintVersion);
  const why = version === record.blueprintVersion && version !== platform
    ? `: tenant ${record.tenantId} is on blueprint version ${version}, newer than the platform's ${platform}, and a change keeps it (never a downgrade nobody asked for)`
    : '';
  const lacks = `the blueprint catalog lacks ${missing.map((m) => `${m.key} (${m.error})`).join(', ')}. Nothing was changed.`;
  if (repair) {
    return `a repair re-applies tenant ${record.tenantId}'s tier ${tier} at its blueprint version ${version}, which does not publish all the tier now deploys `
      + `(its config has changed since: ${missing.map((m) => m.kind).join(', ')}); ${lacks} Move the tenant to a version that does (tessera tenants update ${record.tenantId} --blueprint-version ${platform}), which deploys them`;
  }
  return `tier ${tier} is not published at blueprint version ${version}${why}; ${lacks} `
    + `Ask for a version that publishes tier ${tier} (blueprintVersion, e.g. the platform's ${platform}), or deploy a platform version whose config has tier ${tier}`;
}

/** `change.allowReplacement` as the admin API and the CLI take it (lib/tenant-record.ts AllowReplacement), when given. */
const ChangeAllowance = z.object({ allowReplacement: AllowReplacement.optional() });

/**
 * Why the change's `allowReplacement` is not one the admin API would take (a reason of 8 or more characters, at least
 * 8 of them letters or digits, nothing else in the object), or undefined. The admin API, the CLI and the rolling
 * upgrade's input check it where the request enters; a StartExecution of the change workflow from the console or the CLI
 * enters here, and the change-set guard lets a replacement through for any allowance it is handed.
 */
export function allowanceProblem(change: LifecycleState['change']): string | undefined {
  if (change?.allowReplacement === undefined) return undefined;
  const raw = { allowReplacement: change.allowReplacement };
  const parsed = ChangeAllowance.safeParse(raw);
  if (parsed.success) return undefined;
  return `${describeIssues(parsed.error, raw).map((line) => `change.${line}`).join('; ')}; a change that may replace or remove a stateful resource needs { "reason": "<why, in words>" } (nothing was changed)`;
}

/**
 * Why the change's `tags` cannot be taken, or undefined: tags the admin API would refuse (TenantTags, lib/tenant-tags.ts:
 * AWS's rules, no `aws:` / `tessera:` key). The admin API checks them where the request enters; a StartExecution of the
 * change workflow enters here.
 */
export function tagsProblem(change: LifecycleState['change']): string | undefined {
  if (change?.tags === undefined) return undefined;
  const parsed = TenantTags.safeParse(change.tags);
  return parsed.success ? undefined : `${describeIssues(parsed.error, change.tags).map((line) => `change.tags.${line}`).join('; ')} (nothing was changed)`;
}

/** What *Begin change* decided from one read of the tenant's record: the tier it deploys, at which version, and that tier's config. */
interface ChangePlan {
  tier: string;
  version: string;
  target: ReturnType<typeof tierConfig>;
}

/**
 * The tier and version a change deploys to the tenant as `record` has it (`change.tier`, else the tenant's tier;
 * versionOf), checked: a migration (migrationRefusal: isolation, the tenant network's cut, its zones) and a tier not
 * published at the version (unpublishedRefusal) are refused with `refuse(why)`. Run on the record read before the lease
 * (refusal InvalidRequest, nothing written) and again on the record the lease returned (refusal ChangeRefused, recorded
 * by *Record failure*): migrationRefusal is pure and always runs again; the catalog (S3 HeadObject) is read again only
 * when the tier or the version differs from `before`, the plan of the first read.
 * @param before the plan decided on the record read before the lease @default - none: the first read, every check runs
 * @throws what `refuse` makes (InvalidRequestError before the lease, ChangeRefusedError after it); BlueprintCatalogUnreadable (unpublishedTemplates)
 */
async function decide(state: LifecycleState, record: TenantRecord, refuse: (why: string) => Error, before?: ChangePlan): Promise<ChangePlan> {
  const tier = state.change?.tier ?? record.tier;
  const target = tierConfig(tier);
  const migration = migrationRefusal(record, tier, platformConfig().tiers);
  if (migration) throw refuse(migration.message);
  const version = versionOf(state, record);
  if (!before || before.tier !== tier || before.version !== version) {
    const unpublished = await unpublishedRefusal(record, tier, version, Boolean(state.change?.repair));
    if (unpublished) throw refuse(unpublished);
  }
  return { tier, version, target };
}

/**
 * Starts a tier change or blueprint upgrade: checks the target, then takes the tenant's lease,
 * which moves it ACTIVE → UPDATING (still served) in the same conditional write. A change meets
 * a running operation with TenantBusy (refused, nothing written); the rolling upgrade's run of a
 * tenant retries it, waiting for the lease. A migration is not a stack update: moving between
 * isolation modes (VPC ↔ account), or to a tier whose tenant network cuts the VPC's subnets
 * differently (prefix length, AZs, egress: tier-migration.ts), is refused with InvalidRequest
 * before the lease is taken, as the admin API refuses it (400).
 *
 * A target tier whose DR region differs from the region of the tenant's DR stack (recorded, not
 * REMOVED; drRegionConflict) is refused after the lease is taken, with ChangeRefused (terminal):
 * *Record failure* then records the refusal in the registry (the failure, the history entry
 * FAILED, the tenant back to its previous status) and on the bus, as for a change set the guard
 * refused. The admin API refuses the same request with a 400; this check stops a StartExecution
 * from the console or the CLI as well. The check reads the record as the lease returned it, so an
 * operation that changed the DR stack before it is seen.
 *
 * A change whose tier is not published at the version it deploys (the tenant's own, newer than the
 * platform's after a platform rollback, for a tier the newer version's config lacked; or a version asked
 * for) is refused with InvalidRequest before the lease is taken, naming the tier, the version and the
 * catalog keys missing (unpublishedRefusal); ChangeRefused if it shows only after the lease.
 *
 * What the change deploys is decided on the record the lease returned (decide), not on the read before it: the tier of a
 * change that names none (a tags-only change, a version change, a repair), `previousTier`, `moveAccount` / `tagAccount`,
 * the settling of a failed last operation, the migration, catalog and DR-region checks. The read before the lease refuses
 * early (InvalidRequest, nothing written); another operation that ended between that read and the lease (a tier change
 * by the admin API, a repair) is seen, and a check only its record fails is refused with ChangeRefused, recorded. Until
 * 2026-12-07 the tier and `previousTier` came from the first read: a tags-only change started from the console while a
 * tier change starter → professional ran took the lease once it ended and deployed starter again, silently reverting it,
 * and recorded starter.
 *
 * An `allowReplacement` the admin API would refuse (no reason in words, not an object, another key: allowanceProblem)
 * is refused with InvalidRequest before the lease, naming `change.allowReplacement` and the value.
 *
 * A tenant rebuilt in its DR region by the failover runbook is refused, or a rolling upgrade's run of it skipped, by the
 * step before this one, *Check rebuilt stack* (check-rebuilt-stack.ts): that check reads the tenant's account, which
 * this step, a lease-taking one, may not reach.
 *
 * A rolling upgrade's run of a tenant first checks that the tenant is still as the upgrade listed
 * it (upgradeSkipReason: the upgrade's tier, the version it was listed on, ACTIVE): one an admin
 * moved to another tier or version, suspended or offboarded since is skipped — no stack update,
 * its history entry SKIPPED with the reason, and the child execution succeeds with `skipped`, so
 * it does not count against the upgrade's failure tolerance. The check is made again on each read
 * of the lease (a run waiting behind a tier change sees the new tier when it ends).
 */
export const handler = lifecycleHandler('Begin change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }): Promise<Record<string, unknown> | ChangeSkipped> => {
  const record = await requireTenant(state.request.tenantId);
  const upgrade = state.kind === 'upgrade' && state.change ? state.change : undefined;
  // The run that already holds the lease (a retry of this step) goes on whatever it finds.
  const skipIf = upgrade ? (r: TenantRecord) => (r.lease?.executionArn === state.executionArn ? undefined : upgradeSkipReason(r, upgrade)) : undefined;
  const skip = skipIf?.(record);
  if (skip) return recordSkip(state, record, skip);
  // Before anything is taken: the guard would let a replacement through for any allowance, with a reason or not.
  const allowance = allowanceProblem(state.change);
  if (allowance) throw new InvalidRequestError(allowance);
  // Tags as the admin API takes them (a StartExecution from elsewhere enters here).
  const tags = tagsProblem(state.change);
  if (tags) throw new InvalidRequestError(tags);
  // Cheap refusals on the record as read, before anything is taken (InvalidRequest, nothing written). What they depend on
  // (the tenant's tier, isolation, network, version) can change before the lease: decide() runs them again on the record
  // the lease returns, and a refusal only that record shows is a ChangeRefused.
  const planned = await decide(state, record, (why) => new InvalidRequestError(why));
  let held: TenantRecord;
  try {
    held = await acquireLease(record.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin change' }, { skipIf, entry: upgradeEntry(state) });
  } catch (e) {
    if (e instanceof OperationSkippedError) return recordSkip(state, e.record, e.message);
    throw e;
  }
  // Everything below is decided on `held`, the record the lease's conditional write expected: another operation that ended
  // between the read and the lease (a tier change, a repair moving the version) is seen, and a change naming no tier deploys
  // the tier that operation left, never the one read before it (which silently reverted it).
  const { tier, version, target } = await decide(state, held, (why) => new ChangeRefusedError(why), planned);
  const conflict = drRegionConflict(held, target);
  if (conflict) throw new ChangeRefusedError(describeDrRegionConflict(held.tenantId, tier, conflict));
  // The tenant's last operation failed (its failure is recorded until an operation succeeds; the lease keeps it): a tier
  // change that failed after *Move account* left the account in the new tier's OU with the record on the old tier, one
  // that failed before *Tag account* left `tessera:tier` on the tier before. Whatever this change changes, it puts both
  // right for the tier it deploys (both steps do nothing where nothing is wrong), as a repair does: before, the next
  // change to succeed cleared the failure and left them so for good.
  const settle = held.isolation === 'account' && held.failure !== undefined;
  return {
    tier, previousTier: held.tier, computeMode: target.compute.mode,
    // A target tier with disaster recovery: its DR stack is deployed (or updated) before the primary.
    ...(drRegionOf(target) ? { drRegion: drRegionOf(target) } : {}),
    // An account tier needing an opt-in region (its DR region changed to one, or the tenant moved to such a tier): *Enable regions* first.
    ...(tierOptInRegions(platformConfig().homeRegion, target).length > 0 ? { optInRegions: tierOptInRegions(platformConfig().homeRegion, target) } : {}),
    // A repair re-applies the version the tenant is on; a change goes to the one asked for, or the platform's, never an older
    // one than the tenant is on unless asked for (a tenant moved past a platform that was rolled back keeps its version).
    blueprintVersion: version,
    // Carried to *Deploy blueprint*: the change-set guard's allowance and the drift repair.
    ...(state.change?.allowReplacement ? { allowReplacement: state.change.allowReplacement } : {}),
    ...(state.change?.repair ? { repair: true } : {}),
    // Carried to *Deploy blueprint*, *Deploy customizations* (the stacks' Tags) and *Finish change* (recorded); for an
    // account tenant, *Tag account* puts them on its AWS account too.
    ...(state.change?.tags !== undefined ? { tags: state.change.tags } : {}),
    // An account tenant whose last operation failed (afterFailure): its account put in the tier's OU and `tessera:tier` put, as a repair does.
    ...(settle ? { afterFailure: true } : {}),
    // An account tenant whose tags or tier change, or which is repaired, or whose last operation failed: *Tag account*
    // retags its AWS account (its own tags, and `tessera:tier`, which CreateAccount set to the tier it was onboarded on).
    ...(held.isolation === 'account' && (state.change?.tags !== undefined || tier !== held.tier || state.change?.repair || settle) ? { tagAccount: true } : {}),
    // An account tenant whose tier changes, or which is repaired, or whose last operation failed: *Move account* puts its
    // AWS account in the tier's OU (tessera-<tier>) before the stacks; a repair puts back an account moved by hand. VPC and
    // namespace tenants have none.
    ...(held.isolation === 'account' && (tier !== held.tier || state.change?.repair || settle) ? { moveAccount: true } : {}),
  };
}, { trackStep: false });
