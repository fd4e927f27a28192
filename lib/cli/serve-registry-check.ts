// `tessera serve --dynamodb`: before it listens, the registry table's tenants are read once and
// checked against the config's tiers, as the embedded registry's are (loadTenants): a tenant the
// gateway would serve with a tier the config lacks would answer every request with an error.
import { paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pages, untilKeyRepeats } from '../aws-pages.js';
import type { PlatformConfig } from '../config/schema.js';
import { SERVING_STATUSES, type TenantStatus } from '../tenant-record.js';
import { ServeError } from './serve-setup.js';

interface RegistryItem { tenantId?: string; tier?: string; status?: TenantStatus }

/**
 * Scans `registryTable` (tenantId, tier and status only) and refuses to start when a tenant in a
 * serving status (ACTIVE, UPDATING) has a tier that `config` lacks, listing each such tenant;
 * tenants in other statuses are not served and not checked.
 * @param configName how the config is named in messages (`--config tessera.config.yaml`)
 * @returns how many tenants the table holds
 * @throws ServeError - exit 2 for such tenants, a table that does not exist or no access to it
 *   (dynamodb:Scan); exit 1 for another failure of the call
 */
export async function checkRegistryTiers(doc: DynamoDBDocumentClient, registryTable: string, config: PlatformConfig, configName: string): Promise<number> {
  const items: RegistryItem[] = [];
  try {
    const calls = paginateScan(pages(doc), { TableName: registryTable, ProjectionExpression: 'tenantId, tier, #s', ExpressionAttributeNames: { '#s': 'status' } });
    for await (const page of untilKeyRepeats(calls, (p) => p.LastEvaluatedKey)) items.push(...((page.Items ?? []) as RegistryItem[]));
  } catch (e) {
    throw scanError(e, registryTable);
  }
  const unknown = items.filter((t) => t.status && SERVING_STATUSES.includes(t.status) && !(String(t.tier) in config.tiers));
  if (unknown.length) {
    const list = unknown.slice(0, 8).map((t) => `${t.tenantId} (${t.status}, tier "${t.tier}")`).join(', ');
    throw new ServeError(`--dynamodb ${registryTable}: ${unknown.length === 1 ? 'tenant' : `${unknown.length} tenants`} ${list}${unknown.length > 8 ? ` and ${unknown.length - 8} more` : ''} `
      + `${unknown.length === 1 ? 'has a tier' : 'have tiers'} that ${configName} lacks (its tiers: ${Object.keys(config.tiers).join(', ')}); `
      + 'give the --config the platform was deployed with, or add the tiers to it');
  }
  return items.length;
}

function scanError(e: unknown, table: string): ServeError {
  const { name, message } = e as Error;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'the profile\'s region';
  if (name === 'ResourceNotFoundException') {
    return new ServeError(`--dynamodb ${table}: no such DynamoDB table in ${region}; give the platform's registry table (tessera-tenants unless renamed) and its region (AWS_REGION)`, 2, { cause: e });
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new ServeError(`--dynamodb ${table}: DynamoDB Scan refused (${name}): your credentials need dynamodb:Scan, GetItem and UpdateItem on the registry and usage tables`, 2, { cause: e });
  }
  if (name === 'CredentialsProviderError') {
    return new ServeError(`--dynamodb ${table}: no AWS credentials to read the table; pass --profile <profile>, or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or leave out --dynamodb for the embedded registry`, 2, { cause: e });
  }
  return new ServeError(`--dynamodb ${table}: reading the registry table failed (${name}: ${message.split('\n')[0]})`, 1, { cause: e });
}
