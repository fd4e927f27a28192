import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createServer, type Server } from 'node:http';

/** The admin API handler (lambdas/admin/admin-api.ts `handler`), or any handler of API Gateway proxy events. */
export type AdminHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The path parameters below `/admin/tenants/{id}/<collection>/`: the second segment names one item. */
const ITEM_PARAMETERS: Record<string, string> = { keys: 'keyId', users: 'userId' };

/**
 * API Gateway's proxy event for `path` (`/admin/tenants/{id}[/keys/{keyId}[/rotate]]`,
 * `/admin/tenants/{id}/users[/{userId}[/disable|/role]]`, or any other path, passed as is) as the
 * admin API's REST resources declare it: `resource` with its `{…}` placeholders, `pathParameters`
 * URL-decoded (as API Gateway gives them), the query string as `queryStringParameters`, the request's
 * headers (Node's names, lower case; API Gateway passes them as sent), and the IAM
 * identity of the SigV4 caller in `requestContext.identity` (`userArn`).
 */
export function adminEventOf(method: string, url: URL, body: string | null, userArn: string, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const path = url.pathname.replace(/^\/v1/, '');
  const parts = path.split('/');
  let resource = path;
  let pathParameters: Record<string, string> | null = null;
  if (parts[1] === 'admin' && parts[2] === 'tenants' && parts[3]) {
    pathParameters = { id: decodeURIComponent(parts[3]) };
    const rest = parts.slice(4);
    const item = ITEM_PARAMETERS[rest[0] ?? ''];
    resource = ['/admin/tenants/{id}', ...rest.map((part, i) => (item && i === 1 ? ((pathParameters![item] = decodeURIComponent(part)), `{${item}}`) : part))].join('/');
  }
  return {
    httpMethod: method, resource, path, pathParameters,
    queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
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
 * maps `{id}` only; this one maps `{keyId}` and `{userId}` too.
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
