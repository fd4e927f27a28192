import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient, TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { LRUCache } from 'lru-cache';
import { TENANT_ID_PATTERN } from '../../lib/tenant-naming.js';
import { isTenantId } from '../../lib/tenant-record.js';
import { assumeRole, clientWith, platformClient, type AssumeRoleInput } from './aws-clients.js';
import { documentClientWith, documentOptionsKey, platformDocumentClient } from './document-clients.js';
import { lruOptions, staleFrom } from './lru-deadline.js';

/**
 * Tenant-scoped credentials (AWS SaaS Lens "token vending"): the platform's tenant-data role
 * (constructs/tenant-data-access-role.ts) assumed with the session tag `tessera:tenant-id` = the
 * tenant. Its policies admit only items whose partition key is that tenant's
 * (`dynamodb:LeadingKeys`) and only secrets tagged with that tenant, so code that asks for tenant
 * A's item with tenant B's credentials gets AccessDenied from AWS, whatever the code does.
 *
 * One session per tenant, kept until `refreshMarginMs` before it expires, at most `maxSessions`
 * (least recently used dropped first) in an lru-cache LRUCache; concurrent first calls for a tenant
 * share one AssumeRole (LRUCache.fetch); a failed AssumeRole is not cached (the fetch's rejection
 * removes its entry). Clients made from a session are kept with it (a warm request costs a map lookup).
 */

/** A tenant id the credentials are never asked for: not a valid id (it came from a token or a name). */
export class InvalidTenantIdError extends Error {
  constructor(readonly tenantId: string) {
    super(`"${tenantId.slice(0, 40)}" is not a tenant id (${TENANT_ID_PATTERN})`);
  }
}

export interface TenantCredentialsOptions {
  /** The tenant-data role (`TESSERA_TENANT_DATA_ROLE_ARN`). */
  readonly roleArn: string;
  /** Session names are `<prefix>-<tenant>` (CloudTrail shows them). @default 'tenant' */
  readonly sessionPrefix?: string;
  /** The session name of a tenant's session, when not `<sessionPrefix>-<tenant>`. */
  readonly sessionName?: (tenantId: string) => string;
  /** Session length; a role chained from a Lambda role can have at most 3600. @default 3600 */
  readonly durationSeconds?: number;
  /** A session is renewed this long before it expires (no request starts with one about to expire). @default 300_000 */
  readonly refreshMarginMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** STS AssumeRole. @default assumeRole of ./aws-clients.ts with the Lambda's own credentials */
  readonly assume?: (input: AssumeRoleInput) => Promise<AwsCredentialIdentity>;
  /**
   * Most sessions kept at once; past it the least recently used is dropped (assumed again when its
   * tenant comes back). A tenant API key's prefix is an unauthenticated caller's text, so without a
   * bound every new prefix kept a session and its clients (about 39 KiB) until it expired. An
   * AssumeRole in flight holds one of the places; evicted before it ends, it still answers its
   * callers (`ignoreFetchAbort`), uncached. A positive integer (RangeError otherwise).
   * @default 1000 (MAX_SESSIONS)
   */
  readonly maxSessions?: number;
}

/** Sessions kept per process by default (about 39 MiB with a document client each). */
export const MAX_SESSIONS = 1_000;

interface Session {
  readonly credentials: AwsCredentialIdentity;
  readonly clients: Map<string, unknown>;
}

export class TenantCredentials {
  /** Sessions by tenant, each stale from `refreshMarginMs` before its credentials expire. */
  private readonly sessions: LRUCache<string, Session>;
  private readonly now: () => number;

  /** @throws RangeError when `maxSessions` is not a positive integer */
  constructor(private readonly options: TenantCredentialsOptions) {
    this.now = options.now ?? Date.now;
    this.sessions = new LRUCache<string, Session>({
      ...lruOptions(options.maxSessions ?? MAX_SESSIONS, this.now, 'maxSessions'),
      ignoreFetchAbort: true,
      fetchMethod: async (tenantId, _stale, { options: stored }) => {
        const { session, renewAt } = await this.assume(tenantId);
        // FetcherFetchOptions are the set options of the session ("any of these may be modified"); `start` is one of SetOptions.
        Object.assign(stored as LRUCache.SetOptions<string, Session, unknown>, staleFrom(renewAt, this.now()));
        return session;
      },
    });
  }

  /** Credentials of `tenantId`'s session (assumed on first use, renewed before expiry). */
  async credentials(tenantId: string): Promise<AwsCredentialIdentity> {
    return (await this.session(tenantId)).credentials;
  }

  /** A client made once per session by `make` (`key` names the kind of client). */
  async clientFor<C>(tenantId: string, key: string, make: (credentials: AwsCredentialIdentity) => C): Promise<C> {
    const session = await this.session(tenantId);
    let client = session.clients.get(key) as C | undefined;
    if (client === undefined) session.clients.set(key, (client = make(session.credentials)));
    return client;
  }

  /** Sessions kept now, AssumeRoles in flight and sessions due for renewal not yet read or evicted included (tests: the bound holds). */
  get size(): number {
    return this.sessions.size;
  }

  /** The tenant's live session (made the most recently used), else one assumed now. An invalid id is refused before the cache: it takes no place. */
  private session(tenantId: string): Promise<Session> {
    if (!isTenantId(tenantId)) return Promise.reject(new InvalidTenantIdError(tenantId));
    // Never undefined: fetchMethod returns a session, and an eviction in flight is ignored (ignoreFetchAbort).
    return this.sessions.fetch(tenantId) as Promise<Session>;
  }

  /** A new session of the tenant and when to renew it (epoch ms: `refreshMarginMs` before its credentials expire). */
  private async assume(tenantId: string): Promise<{ session: Session; renewAt: number }> {
    const durationSeconds = this.options.durationSeconds ?? 3600;
    const credentials = await (this.options.assume ?? assumeRole)({
      roleArn: this.options.roleArn, sessionName: this.options.sessionName?.(tenantId) ?? `${this.options.sessionPrefix ?? 'tenant'}-${tenantId}`, tenantId, durationSeconds,
    });
    const expires = credentials.expiration?.getTime() ?? this.now() + durationSeconds * 1000;
    return { session: { credentials, clients: new Map() }, renewAt: expires - (this.options.refreshMarginMs ?? 300_000) };
  }
}

/** A DynamoDB document client for one tenant's items. */
export type TenantDocumentClient = (tenantId: string) => Promise<DynamoDBDocumentClient>;
/** A Secrets Manager client for one tenant's secrets. */
export type TenantSecretsClient = (tenantId: string) => Promise<SecretsManagerClient>;

/** Document clients acting with `credentials`' session of each tenant. */
export function tenantDocumentClient(credentials: TenantCredentials, translate?: TranslateConfig): TenantDocumentClient {
  const key = `dynamodb-document:${documentOptionsKey(translate)}`;
  return (tenantId) => credentials.clientFor(tenantId, key, (c) => documentClientWith(c, translate));
}

export function tenantSecretsClient(credentials: TenantCredentials): TenantSecretsClient {
  return (tenantId) => credentials.clientFor(tenantId, 'secretsmanager', (c) => clientWith(SecretsManagerClient, c));
}

/**
 * One client with the process's own credentials for every tenant: for local tools (`tessera serve`
 * against real tables, tests against moto) only. The Lambdas use tenant-scoped clients.
 */
export function unscopedDocumentClient(translate?: TranslateConfig): TenantDocumentClient {
  return async () => platformDocumentClient(translate);
}

export function unscopedSecretsClient(): TenantSecretsClient {
  return async () => platformClient(SecretsManagerClient);
}
