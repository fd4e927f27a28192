import { GatewayPolicy } from '../../lib/tenant-record.js';

/**
 * The CORS origin index: which tenants allow a browser origin. A preflight (`OPTIONS`) carries no
 * credentials, so the gateway cannot know the tenant; it asks this index whether SOME tenant
 * allows the origin. One item per (origin, tenant) pair, exactly `{ origin, tenantId }`: partition
 * key `origin`, sort key `tenantId`, and a keys-only index `by-tenant` (partition key `tenantId`,
 * sort key `origin`) that lets the maintainer find every item of one tenant.
 *
 * Pure logic here (what a registry image allows, what a stream record changes); the DynamoDB
 * I/O is in cors-origin-index-handler.ts.
 */

/** Environment of the index's maintainer and the router: the table name (equals GATEWAY_ENV.corsOriginsTable, checked by a test). */
export const CORS_ORIGINS_TABLE_ENV = 'TESSERA_CORS_ORIGINS_TABLE';

/** The keys-only index of the origin table by tenant (partition key `tenantId`, sort key `origin`). */
export const CORS_ORIGINS_BY_TENANT_INDEX = 'by-tenant';

/** One index item: the whole item, nothing else is stored. */
export interface CorsOriginItem {
  origin: string;
  tenantId: string;
}

/** An origin as lib/tenant-record.ts GatewayPolicy.allowedOrigins accepts it (scheme://host[:port], lower case). */
const ORIGIN = GatewayPolicy.shape.allowedOrigins.unwrap().element;

/**
 * The origins a registry image lets browsers use: its `gateway.allowedOrigins`, none when the
 * image is absent (the record was deleted) or the tenant is OFFBOARDED. A SUSPENDED tenant keeps
 * its origins (the gateway refuses its calls anyway, and resuming needs no re-indexing).
 *
 * @param image a registry item, unmarshalled (lib/tenant-record.ts TenantRecord), or undefined
 * @returns `origins`: distinct valid origins, sorted; `invalid`: entries that are not origins as
 *   the schema defines them (written around the admin API), which are never indexed
 */
export function allowedOriginsOf(image: Record<string, unknown> | undefined): { origins: string[]; invalid: unknown[] } {
  if (!image || image.status === 'OFFBOARDED') return { origins: [], invalid: [] };
  const listed = (image.gateway as { allowedOrigins?: unknown } | undefined)?.allowedOrigins;
  if (!Array.isArray(listed)) return { origins: [], invalid: listed === undefined ? [] : [listed] };
  const origins = new Set<string>();
  const invalid: unknown[] = [];
  for (const o of listed) {
    if (ORIGIN.safeParse(o).success) origins.add(o as string);
    else invalid.push(o);
  }
  return { origins: [...origins].sort(), invalid };
}

/** What one registry change does to the index. */
export interface IndexChange {
  tenantId: string;
  /** Origins whose item must exist (every origin the new image allows: a Put is idempotent, and re-putting repairs a lost write). */
  put: string[];
  /** Origins whose item must not exist: allowed by the old image or indexed now (`indexed`), and not by the new one. */
  delete: string[];
}

/**
 * The index writes that make the tenant's items equal to what the new image allows.
 *
 * @param tenantId the record's partition key (the stream record's `Keys.tenantId`)
 * @param oldImage the image before the change (absent for INSERT)
 * @param newImage the image after the change (absent for REMOVE)
 * @param indexed origins the index holds for the tenant now (its `by-tenant` index; eventually
 *   consistent, which the old image's origins make up for)
 */
export function indexChange(tenantId: string, oldImage: Record<string, unknown> | undefined, newImage: Record<string, unknown> | undefined, indexed: readonly string[] = []): IndexChange {
  const put = allowedOriginsOf(newImage).origins;
  const keep = new Set(put);
  const stale = new Set([...allowedOriginsOf(oldImage).origins, ...indexed].filter((o) => !keep.has(o)));
  return { tenantId, put, delete: [...stale].sort() };
}
