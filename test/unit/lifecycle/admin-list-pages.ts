import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { expect } from 'vitest';
import { handler } from '../../../lambdas/admin/admin-api.js';

/** A GET of an admin API list route (`/admin/tenants`, `/admin/drift`) through the admin API's handler. */
export const getList = (resource: string, query: Record<string, string> = {}) =>
  handler({ httpMethod: 'GET', resource, headers: {}, queryStringParameters: query, requestContext: { requestId: 'r' } } as unknown as APIGatewayProxyEvent) as Promise<APIGatewayProxyResult>;

/** Every page of the list `resource` with `query`, following nextToken (at most 100 pages); the tenant ids per page. */
export async function listPages(resource: string, query: Record<string, string>): Promise<string[][]> {
  const out: string[][] = [];
  let nextToken: string | undefined;
  do {
    const res = await getList(resource, { ...query, ...(nextToken ? { nextToken } : {}) });
    expect(res.statusCode).toBe(200);
    const page = JSON.parse(res.body) as { tenants: Array<{ tenantId: string }>; nextToken?: string };
    out.push(page.tenants.map((t) => t.tenantId));
    nextToken = page.nextToken;
  } while (nextToken && out.length < 100);
  return out;
}
