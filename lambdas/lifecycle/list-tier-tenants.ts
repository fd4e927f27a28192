import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LIFECYCLE_OPERATIONS, UpgradeExecutionInput, type TenantRecord } from '../../lib/tenant-record.js';
import { upgradeExecutionName } from '../../lib/upgrade-progress.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { listTenants } from '../shared/registry.js';
import { compareVersions, tierTemplateKinds, unpublishedTemplates } from './blueprints.js';
import type { LifecycleState } from './state.js';
import { unreadableTenantText } from '../../lib/tenant-list-page.js';

/** The upgrade's execution input (lib/tenant-record.ts UpgradeExecutionInput: the UpgradeRequest and who started it). */
export type UpgradeInput = UpgradeExecutionInput;

/** Where the rolling upgrade finds its items and puts its results (the lifecycle work bucket). */
export interface UpgradeItems {
  bucket: string;
  /** `upgrades/<requestId>/items.json`: a JSON array, one LifecycleState per tenant. */
  key: string;
  /** Prefix under which the Distributed Map's ResultWriter writes `<map run id>/manifest.json` and the result files. */
  resultsPrefix: string;
  count: number;
  /** Each tenant of the tier whose registry record does not match the schema (edited by hand): not listed, not upgraded, named with the fields at fault. */
  unreadable?: string[];
}

/** Statuses an upgrade's run waits in (an operation holds the tenant and may leave it ACTIVE): ACTIVE, UPDATING. Any other skips the tenant. */
const UPGRADABLE = new Set(['ACTIVE', 'UPDATING']);

/**
 * The work list: tenants of `input.tier` not yet on `input.blueprintVersion` that are ACTIVE or
 * UPDATING (an operation holds them: a repair of the old version, a change to it; their run waits
 * for it and then decides), one change request each, with the version the tenant was listed on
 * (`listedVersion`): its run checks that the tenant is still as listed (upgradeSkipReason), so one
 * whose operation moved it to another tier or version is skipped, not changed back. Each item carries the upgrade's id
 * (`upgradeId`: upgradeExecutionName of its requestId, the execution name `POST /admin/upgrades` gives it) and who started
 * it (`actor`, when its input has one), which the tenant's run records on its history entry (begin-change.ts).
 */
export function upgradeItems(tenants: readonly TenantRecord[], input: UpgradeInput): LifecycleState[] {
  return tenants
    .filter((t) => t.tier === input.tier && UPGRADABLE.has(t.status) && t.blueprintVersion !== input.blueprintVersion)
    .map((t) => ({
      request: { tenantId: t.tenantId, requestId: `${input.requestId}-${t.tenantId}`.slice(0, 80), name: t.name, tier: t.tier, adminEmail: t.adminEmail },
      change: {
        tier: input.tier, blueprintVersion: input.blueprintVersion, ...(input.allowReplacement ? { allowReplacement: input.allowReplacement } : {}),
        ...(t.blueprintVersion ? { listedVersion: t.blueprintVersion } : {}),
        upgradeId: upgradeExecutionName(input.requestId), ...(input.actor ? { actor: input.actor } : {}),
      },
    }));
}

/**
 * Why a rolling upgrade's run of a tenant no longer applies, undefined when it does. The list was
 * written when the upgrade started; since then an admin may have moved the tenant to another tier
 * (the upgrade would move it back), to another version (a newer one would be undone; the upgrade's
 * own already done), or suspended or offboarded it. Such a tenant is skipped: nothing changes, its
 * history says SKIPPED and why, and its child execution succeeds (not a failure of the upgrade).
 * While an operation holds the tenant (ACTIVE or UPDATING, or one that ends ACTIVE: a resume), its run
 * waits and asks again after it.
 */
export function upgradeSkipReason(record: TenantRecord, change: NonNullable<LifecycleState['change']>): string | undefined {
  const upgrade = `the upgrade of tier ${change.tier} to ${change.blueprintVersion}`;
  // An operation that ends ACTIVE when it succeeds (a resume of a SUSPENDED tenant) is waited for like any other holder.
  const endsUpgradable = record.lease !== undefined && UPGRADABLE.has(LIFECYCLE_OPERATIONS[record.lease.kind].success);
  if (!UPGRADABLE.has(record.status) && !endsUpgradable) return `tenant "${record.tenantId}" is ${record.status}; ${upgrade} leaves it as it is (it upgrades ACTIVE tenants only)`;
  if (change.tier !== undefined && record.tier !== change.tier) {
    return `tenant "${record.tenantId}" is on tier ${record.tier} since ${upgrade} listed it; the upgrade leaves it there (it upgrades tenants of tier ${change.tier} only)`;
  }
  if (record.blueprintVersion !== undefined && record.blueprintVersion === change.blueprintVersion) {
    return `tenant "${record.tenantId}" is already on blueprint version ${record.blueprintVersion}; ${upgrade} has nothing to do`;
  }
  // An item without the version it was listed on (written before listedVersion existed, or for a tenant with no version
  // recorded then) cannot tell a version chosen since from the one listed: it never moves a tenant back to an older version.
  // A rollback of the tier lists its tenants on their newer version (listedVersion), which is the operator's explicit ask.
  if (change.listedVersion === undefined && record.blueprintVersion !== undefined && change.blueprintVersion !== undefined && compareVersions(record.blueprintVersion, change.blueprintVersion) > 0) {
    return `tenant "${record.tenantId}" is on blueprint version ${record.blueprintVersion}, newer than ${change.blueprintVersion}, and ${upgrade} did not list the version it was on; `
      + `the upgrade never takes a tenant back to an older version it did not list (to roll it back: tessera tenants update ${record.tenantId} --blueprint-version ${change.blueprintVersion})`;
  }
  if (change.listedVersion !== undefined && record.blueprintVersion !== change.listedVersion) {
    return `tenant "${record.tenantId}" is on blueprint version ${record.blueprintVersion ?? '(none recorded)'} since ${upgrade} listed it on ${change.listedVersion}; the upgrade leaves the version chosen after it started`;
  }
  return undefined;
}

/**
 * S3 key prefix of one rolling upgrade: `upgrades/<requestId>/`, the request id as given (UpgradeRequest allows
 * `[A-Za-z0-9._-]` only). It replaced `.` with `_`, so the README's `starter-0.2.0` landed under
 * `upgrades/starter-0_2_0/` where the README sent the operator to `upgrades/starter-0.2.0/results/`, and two ids
 * differing in a `.` and a `_` shared one prefix.
 */
export const upgradePrefix = (requestId: string) => `upgrades/${requestId}/`;

/**
 * Writes the rolling upgrade's work list to the lifecycle work bucket and returns where it is:
 * the Distributed Map reads it with an S3 JSON ItemReader, so a tier of thousands of tenants never
 * passes through the 256 KiB state payload. Writing the same request again overwrites the list
 * (the bucket is versioned).
 * @throws InvalidRequest for an input that is not an UpgradeRequest (naming the field), a tier the platform config
 *   does not have (naming it and the tiers), or a blueprint version the catalog does not publish for the tier (naming
 *   the missing templates, tierTemplateKinds): nothing is written
 */
export const handler = lifecycleHandler('List tier tenants', async (raw: unknown): Promise<UpgradeItems> => {
  const parsed = UpgradeExecutionInput.safeParse(raw);
  if (!parsed.success) throw new InvalidRequestError(`upgrade input: ${describeIssues(parsed.error, raw).join('; ')}`);
  const input = parsed.data;
  // A tier the config does not have lists no tenant: the upgrade would end SUCCEEDED, 0 upgraded, for a typo.
  const tiers = Object.keys(platformConfig().tiers);
  if (!tiers.includes(input.tier)) throw new InvalidRequestError(`upgrade input: tier = ${JSON.stringify(input.tier)}: does not exist (tiers: ${tiers.join(', ')}); nothing listed, no tenant changed`);
  // A version the catalog does not publish for the tier: each listed tenant's run would be refused at *Begin change*, one
  // FAILED change in its history and a Tenant Lifecycle Failed each, until the map's failure tolerance stopped the run.
  const missing = await unpublishedTemplates(input.tier, tierTemplateKinds(input.tier), input.blueprintVersion);
  if (missing.length) {
    throw new InvalidRequestError(`upgrade input: blueprintVersion = ${JSON.stringify(input.blueprintVersion)}: tier ${input.tier} is not published at it; the blueprint catalog lacks `
      + `${missing.map((m) => `${m.key} (${m.error})`).join(', ')}; nothing listed, no tenant changed (the platform's version is ${requireEnv(ENV.blueprintVersion)})`);
  }
  // A record edited by hand into a shape the schema refuses is not upgraded, and named in the output: the others are.
  const unreadable: string[] = [];
  const items = upgradeItems(await listTenants({ tier: input.tier }, {
    unreadable: (u) => unreadable.push(`${unreadableTenantText(u)}: not upgraded; correct the record`),
  }), input);
  const bucket = requireEnv(ENV.workBucket);
  const prefix = upgradePrefix(input.requestId);
  const key = `${prefix}items.json`;
  await platformClient(S3Client).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(items), ContentType: 'application/json' }));
  return { bucket, key, resultsPrefix: `${prefix}results`, count: items.length, ...(unreadable.length ? { unreadable } : {}) };
}, { trackStep: false });
