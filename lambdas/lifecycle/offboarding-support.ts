import { GetTemplateCommand, paginateListStackResources, type CloudFormationClient, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pages } from '../../lib/aws-pages.js';
import { auditStreamPrefix, tierHasDisasterRecovery } from '../../lib/audit-prefixes.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig } from '../shared/environment.js';
import { logger } from '../shared/handler.js';

/** Every resource of a stack (ListStackResources; for a deleted stack pass its stack id: CloudFormation keeps them 90 days). */
export async function stackResources(cfn: CloudFormationClient, stack: string): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources(pages(cfn), { StackName: stack })) resources.push(...(page.StackResourceSummaries ?? []));
  return resources;
}

/** `DeletionPolicy` of each resource of the stack's current template (absent = Delete). */
export async function deletionPolicies(cfn: CloudFormationClient, stack: string): Promise<Record<string, string>> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stack, TemplateStage: 'Original' }));
  try {
    const template = JSON.parse(out.TemplateBody ?? '{}') as { Resources?: Record<string, { DeletionPolicy?: string }> };
    return Object.fromEntries(Object.entries(template.Resources ?? {}).map(([id, r]) => [id, r.DeletionPolicy ?? 'Delete']));
  } catch {
    return {}; // not JSON (a YAML template): every resource is treated as deleted with the stack
  }
}

/** Whether deleting the stack deletes the resource (its own deletion then meets its protections): Delete and Snapshot do, the Retain policies do not. */
export const deletedWithStack = (policy: string | undefined) => policy === undefined || policy === 'Delete' || policy === 'Snapshot';

/**
 * One lifecycle audit record in the immutable audit bucket (Object Lock), one object per action:
 * `tessera-audit/lifecycle/<tenant>/<yyyy-mm-dd>/<at>-<action>-<name>.json`, or, for a tenant whose
 * tier has a DR region (this Lambda's config), `tessera-audit/dr-tier/lifecycle/<tenant>/…`: the
 * prefix the audit bucket replicates with `platformDisasterRecovery` (lib/audit-prefixes.ts, the
 * gateway's rule), so a DR tier's lifecycle trail outlives its home region and a `none` tier's
 * stays home. The tier is the tenant's registry record's when the record is written (and is in the
 * record). Skipped (logged) when the platform gives the lifecycle no audit bucket.
 */
export async function writeAudit(tenant: Pick<TenantRecord, 'tenantId' | 'tier'>, action: string, name: string, record: Record<string, unknown> & { at: string }): Promise<string | undefined> {
  const bucket = process.env[ENV.auditBucket];
  if (!bucket) {
    logger.info('no audit bucket configured; audit record only in the registry and on the bus', { action, name });
    return undefined;
  }
  const { tenantId, tier } = tenant;
  const prefix = auditStreamPrefix('lifecycle', tierHasDisasterRecovery(platformConfig().tiers, tier));
  const key = `${prefix}${tenantId}/${record.at.slice(0, 10)}/${record.at.replace(/[:.]/g, '-')}-${action}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
  await platformClient(S3Client).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify({ tenantId, tier, action, ...record }), ContentType: 'application/json' }));
  return key;
}
