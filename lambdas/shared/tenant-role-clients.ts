import { clientWith } from './aws-clients.js';
import type { HttpProfile } from '../../lib/aws-http-timeouts.js';
import { TenantCredentials } from './tenant-credentials.js';

type Ctor<C> = Parameters<typeof clientWith<C>>[0];

/** Sessions of one role for one purpose, per tenant (./tenant-credentials.ts). */
const byRole = new Map<string, TenantCredentials>();

/**
 * A client acting as one of a tenant's roles (its training launcher, its model invoker), the
 * session named `tessera-<tenant>-<purpose>` and tagged with the tenant id. One session per
 * tenant and role: it carries the tenant's tag, so it is never handed to another tenant's request.
 * Sessions last 15 minutes and are renewed a minute early, so a warm Lambda does not call STS per
 * request; concurrent first calls share one AssumeRole.
 * @param options.maxAttempts the SDK's attempts per call: 1 where the caller retries itself (the
 *   inference gateway's UpstreamCalls for SageMaker endpoints). @default 3
 * @param options.http the kind of use, whose HTTP timeouts the client has (lib/aws-http-timeouts.ts
 *   HTTP_TIMEOUTS): `model` for SageMaker endpoints. @default 'control'
 * @throws InvalidTenantIdError for a string that is not a tenant id (STS is not called)
 */
export async function tenantRoleClient<C>(ctor: Ctor<C>, roleArn: string, tenantId: string, purpose: string, options: { maxAttempts?: number; http?: HttpProfile } = {}): Promise<C> {
  const key = `${roleArn}#${purpose}`;
  let sessions = byRole.get(key);
  if (!sessions) byRole.set(key, (sessions = new TenantCredentials({ roleArn, sessionName: (t) => `tessera-${t}-${purpose}`, durationSeconds: 900, refreshMarginMs: 60_000 })));
  const clientKey = [ctor.name, options.maxAttempts ?? '', options.http ?? 'control'].join('#');
  return sessions.clientFor(tenantId, clientKey, (credentials) => clientWith(ctor, credentials, { maxAttempts: options.maxAttempts, http: options.http }));
}
