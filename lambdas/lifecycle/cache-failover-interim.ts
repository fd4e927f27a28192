import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LifecycleExecution, LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { recordExecution, requireTenant, sameExecution } from '../shared/registry.js';
import { templateKey } from './blueprints.js';
import type { DeployedVersions } from './version-change.js';

/**
 * The cache's first replica and its automatic failover in two stack updates.
 *
 * CloudFormation fails the update of an AWS::ElastiCache::ReplicationGroup that gives a single-node group
 * (`NumCacheClusters` 1) its first replica and turns `AutomaticFailoverEnabled`/`MultiAZEnabled` on together, and rolls it
 * back: "Replication group must have at least one read replica to enable autofailover" (AWS's CloudFormation coverage
 * roadmap, issue 383, open); the ElastiCache API reference, CreateReplicationGroup NumCacheClusters: "If
 * AutomaticFailoverEnabled is true, the value of this parameter must be at least 2". That is the default config's
 * starter cache (`replicasPerShard: 0, multiAz: false`) moving to professional's (`replicasPerShard: 1, multiAz: true`),
 * or a tier's `cache.replicasPerShard` and `cache.multiAz` raised together before a rolling upgrade.
 *
 * *Deploy blueprint* makes it two updates, each through the change-set guard: first an interim template (the target
 * template with the replication group's `AutomaticFailoverEnabled` and `MultiAZEnabled` false, everything else the
 * target's: the replica is added, failover stays off), then, once *Check blueprint* finds that update complete, the
 * target template itself (failover on, the replica now there). The interim template is too big for TemplateBody (a
 * tier template is about 100 KB, TemplateBody takes 51,200 bytes), so it is written to the blueprint catalog beside the
 * template it derives from (interimTemplateKey): every reader of the catalog's `blueprints/*` (the organization, by the
 * bucket policy; the provisioning role in each tenant account, by its policy) reads it as it reads the target, and
 * only *Deploy blueprint* may write there (s3:PutObject on `blueprints/*\/interim/*`).
 *
 * Not made two steps: the reverse (failover off and the last replica removed together). Other tools fail it when the
 * replica goes first ("Must have at least 1 replica when cluster mode is disabled with auto failover enabled":
 * hashicorp/terraform-provider-aws issue 24244; pulumi/pulumi issue 11458), and no source says how CloudFormation's
 * handler orders the two; with the default tiers that move (professional to starter) is refused anyway, as a network
 * migration (tier-migration.ts) and a lower allocated storage (version-change.ts).
 */

/** A template's resources, as far as this module reads and rewrites them. */
type Template = { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };

/** What the registry records of the interim update, in the execution's history entry (`executions[].interimDeploy`). */
export type InterimDeploy = NonNullable<LifecycleExecution['interimDeploy']>;

/** Why the interim update runs, as the history entry says it. */
export const FAILOVER_INTERIM_WHY = 'the update gives the cache (a single-node ElastiCache replication group) its first replica and turns automatic failover and Multi-AZ on; '
  + 'CloudFormation fails that in one update ("Replication group must have at least one read replica to enable autofailover"), '
  + 'so the target template went first with AutomaticFailoverEnabled and MultiAZEnabled false (the replica added), then the target itself (failover on)';

/**
 * Whether an update from a template with `from`'s cache to one with `to`'s needs the interim update: the deployed group
 * has one node (no replica) and failover off, the target has at least two nodes and failover on. False when either
 * side's values are not plain in its template (versionsOf reads only plain values).
 */
export function needsFailoverInterim(from: DeployedVersions, to: DeployedVersions): boolean {
  return from.cacheAutomaticFailover === false && from.cacheNodes !== undefined && from.cacheNodes < 2
    && to.cacheAutomaticFailover === true && to.cacheNodes !== undefined && to.cacheNodes >= 2;
}

/**
 * The interim template: `body` (a tenant template's JSON) with every AWS::ElastiCache::ReplicationGroup's
 * `AutomaticFailoverEnabled` and `MultiAZEnabled` set false, nothing else changed; serialized without whitespace.
 * @throws Error when the template has no replication group (the caller asked for an interim it cannot need)
 */
export function failoverOffTemplate(body: string): string {
  const template = JSON.parse(body) as Template;
  const groups = Object.values(template.Resources ?? {}).filter((r) => r?.Type === 'AWS::ElastiCache::ReplicationGroup');
  if (!groups.length) throw new Error('the template has no AWS::ElastiCache::ReplicationGroup: no interim template to make');
  for (const group of groups) group.Properties = { ...group.Properties, AutomaticFailoverEnabled: false, MultiAZEnabled: false };
  return JSON.stringify(template);
}

/**
 * Key of the interim template of `tier` at `version` in the blueprint catalog: `blueprints/<version>/interim/<tier>.cache-failover-off.template.json`,
 * beside the template it derives from (the same for every tenant: it depends on the published template only).
 */
export function interimTemplateKey(tier: string, version: string): string {
  const target = templateKey(tier, 'tenant', version);
  return `${target.slice(0, target.lastIndexOf('/'))}/interim/${target.slice(target.lastIndexOf('/') + 1).replace(/\.template\.json$/, '')}.cache-failover-off.template.json`;
}

/**
 * Writes the interim template of `tier` at `version` to the catalog (GetObject of the published template, PutObject of
 * failoverOffTemplate of it) and returns its TemplateURL (the catalog's regional endpoint, as templateUrl builds it).
 */
export async function publishFailoverInterim(tier: string, version: string): Promise<{ key: string; url: string }> {
  const bucket = requireEnv(ENV.blueprintBucket);
  const s3 = platformClient(S3Client);
  const source = templateKey(tier, 'tenant', version);
  const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: source }))).Body?.transformToString();
  if (!body) throw new Error(`blueprint catalog object ${source} is empty`);
  const key = interimTemplateKey(tier, version);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: failoverOffTemplate(body), ContentType: 'application/json' }));
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  return { key, url: `https://${bucket}.s3.${region}.amazonaws.com/${key}` };
}

/**
 * Records `interim` in the running execution's history entry (`interimDeploy`: found by sameExecution, else started as
 * `kind`'s, RUNNING), the entry read afresh so that what other steps wrote to it stays.
 */
export async function recordFailoverInterim(tenantId: string, execution: Pick<LifecycleExecution, 'requestId' | 'executionArn'> & { kind: LifecycleKind }, interim: (earlier: InterimDeploy | undefined) => InterimDeploy): Promise<void> {
  const record = await requireTenant(tenantId);
  const entry: LifecycleExecution = record.executions.find((e) => sameExecution(e, execution)) ?? { ...execution, startedAt: new Date().toISOString(), status: 'RUNNING' };
  await recordExecution(tenantId, { ...entry, interimDeploy: interim(entry.interimDeploy) });
}

/** The interim update this execution started and has not yet followed with the target (undefined: none). */
export function pendingFailoverInterim(record: Pick<TenantRecord, 'executions'>, executionArn: string | undefined): InterimDeploy | undefined {
  if (!executionArn) return undefined;
  const interim = record.executions.find((e) => e.executionArn === executionArn)?.interimDeploy;
  return interim && !interim.completedAt ? interim : undefined;
}
