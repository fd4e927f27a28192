import { assumeRole, clientWith } from './aws-clients.js';

type Ctor<C> = Parameters<typeof clientWith<C>>[0];

const sessions = new Map<string, { client: unknown; until: number }>();

/**
 * A client acting as one of a tenant's roles (its training launcher, its model invoker), the
 * session tagged with the tenant id. Kept until a minute before the 15-minute session expires, so
 * a warm Lambda does not call STS per request.
 */
export async function tenantRoleClient<C>(ctor: Ctor<C>, roleArn: string, tenantId: string, purpose: string): Promise<C> {
  // The session carries the tenant's tag, so it is the tenant's: never hand it to another tenant's request.
  const key = `${ctor.name}#${roleArn}#${tenantId}`;
  const hit = sessions.get(key);
  if (hit && hit.until > Date.now()) return hit.client as C;
  const credentials = await assumeRole({ roleArn, sessionName: `tessera-${tenantId}-${purpose}`, tenantId });
  const client = clientWith(ctor, credentials);
  sessions.set(key, { client, until: (credentials.expiration?.getTime() ?? Date.now() + 900_000) - 60_000 });
  return client;
}
