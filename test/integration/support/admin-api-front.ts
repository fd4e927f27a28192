import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createServer, type Server } from 'node:http';
import { ADMIN_RESOURCES } from '../../../lib/admin-routes.js';

/** The admin API handler (lambdas/admin/admin-api.ts `handler`), or any handler of API Gateway proxy events. */
export type AdminHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The admin API's resources, as constructs/admin-api.ts builds them (lib/admin-routes.ts). */
export { ADMIN_RESOURCES } from '../../../lib/admin-routes.js';

/**
 * The resource a request's path (as sent: percent-encoded) matches, as API Gateway's proxy integration gives it: each
 * `{param}` takes one whole, non-empty segment, URL-decoded (`/admin/tenants/al%70ha` → id `alpha`, `%2F` → `/`); a
 * literal segment matches itself only. Before, LocalPlatform took the fourth segment of any path as the tenant id,
 * undecoded, and joined the rest after `/admin/tenants/{id}`: `/admin//tenants` looked up a tenant "tenants", `/admin/drift/x` tenant "x", and
 * `{keyId}`, `{userId}` were never mapped. Undefined: no resource matches.
 */
export function matchAdminResource(path: string): { resource: string; pathParameters: Record<string, string> | null } | undefined {
  const segments = path.split('/');
  for (const resource of ADMIN_RESOURCES) {
    const parts = resource.split('/');
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = parts.every((part, i) => {
      const segment = segments[i];
      if (!part.startsWith('{')) return part === segment;
      if (!segment) return false;
      try {
        params[part.slice(1, -1)] = decodeURIComponent(segment);
      } catch {
        return false; // a malformed escape (%zz) names no id
      }
      return true;
    });
    if (matches) return { resource, pathParameters: Object.keys(params).length ? params : null };
  }
  return undefined;
}

/**
 * API Gateway's proxy event for `path` (matchAdminResource; a path no resource matches passed as is) as the
 * admin API's REST resources declare it: `resource` with its `{…}` placeholders, `pathParameters`
 * URL-decoded (as API Gateway gives them), the query string as `queryStringParameters` and
 * `multiValueQueryStringParameters`, the request's
 * headers (Node's names, lower case; API Gateway passes them as sent), and the IAM
 * identity of the SigV4 caller in `requestContext.identity` (`userArn`).
 */
export function adminEventOf(method: string, url: URL, body: string | null, userArn: string, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const path = url.pathname.replace(/^\/v1/, '');
  const { resource, pathParameters } = matchAdminResource(path) ?? { resource: path, pathParameters: null };
  return {
    httpMethod: method, resource, path, pathParameters,
    queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
    // Every value of each name, as API Gateway gives them (queryStringParameters keep the last): the handler refuses a repeated one.
    multiValueQueryStringParameters: url.searchParams.size ? [...url.searchParams].reduce<Record<string, string[]>>((all, [k, v]) => ({ ...all, [k]: [...(all[k] ?? []), v] }), {}) : null,
    headers, body, isBase64Encoded: false,
    requestContext: { requestId: `local-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, identity: { userArn, caller: 'AIDAEXAMPLE' } },
  } as unknown as APIGatewayProxyEvent;
}

/** A loopback HTTP front of the admin API handler: its base URL (with the `/v1` stage) and how to stop it. */
export interface AdminApiFront {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 (a free port) behind a front shaped like API Gateway's proxy
 * integration with IAM auth: every request becomes adminEventOf's event, as `userArn` (the SigV4
 * signature is not checked: the CLI signs with placeholder credentials). LocalPlatform's own front
 * routes as this one does (matchAdminResource), without the IAM identity.
 */
export async function startAdminApiFront(handler: AdminHandler, userArn: string): Promise<AdminApiFront> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const event = adminEventOf(req.method!, new URL(req.url!, 'http://local'), chunks.length ? Buffer.concat(chunks).toString('utf8') : null, userArn, req.headers as Record<string, string>);
      const out = await handler(event);
      res.writeHead(out.statusCode, out.headers as Record<string, string>).end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
