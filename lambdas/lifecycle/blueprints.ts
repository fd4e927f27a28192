import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { tenantAccountCredentials } from '../shared/sessions.js';

/** Where a tenant's blueprints run, what they are called and where their templates are. */

export type BlueprintKind = 'tenant' | 'namespace';

export function stackName(tenantId: string, kind: BlueprintKind): string {
  return kind === 'tenant' ? `tessera-${tenantId}` : `tessera-${tenantId}-namespace`;
}

/** Same file names as lib/tessera-app.ts publishes (`<tier>.template.json`, `<tier>-namespace.template.json`). */
export function templateUrl(tier: string, kind: BlueprintKind, version = requireEnv(ENV.blueprintVersion)): string {
  const bucket = requireEnv(ENV.blueprintBucket);
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  return `https://${bucket}.s3.${region}.amazonaws.com/blueprints/${version}/${tier}${kind === 'namespace' ? '-namespace' : ''}.template.json`;
}

export function parameters(record: TenantRecord, kind: BlueprintKind): Array<{ ParameterKey: string; ParameterValue: string }> {
  const p = (ParameterKey: string, ParameterValue: string) => ({ ParameterKey, ParameterValue });
  if (kind === 'tenant') return [p('TenantId', record.tenantId), p('VpcCidr', record.vpcCidr!)];
  return [p('TenantId', record.tenantId), p('TenantAccountId', record.accountId!), p('TenantVpcCidr', record.vpcCidr!)];
}

/** The namespace blueprint exists only for tiers on the shared cluster. */
export function needsNamespace(tier: string): boolean {
  return tierConfig(tier).compute.mode === 'shared';
}

/** CloudFormation in the account the blueprint runs in: the tenant's (through its provisioning role) or the platform's. */
export async function cloudFormationFor(record: TenantRecord, kind: BlueprintKind, step: string): Promise<CloudFormationClient> {
  if (kind === 'namespace') return platformClient(CloudFormationClient);
  return clientWith(CloudFormationClient, await tenantAccountCredentials(record.accountId!, record.tenantId, step));
}
