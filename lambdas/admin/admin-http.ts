import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { describeIssues, formatPath, leafIssues, shownKey } from '../../lib/zod-issues.js';
import { ApiError } from '../shared/api-errors.js';
import { getTenant } from '../shared/registry.js';

/** One admin API route: the event and its `{id}` path parameter (the tenant id) in, the answer out. */
export type Route = (event: APIGatewayProxyEvent, id?: string) => Promise<APIGatewayProxyResult>;

export const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

export function parse<T>(schema: z.ZodType<T> | { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError } }, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const first = leafIssues(result.error)[0];
    const param = first?.code === 'unrecognized_keys' ? shownKey(first.keys[0]) : formatPath(first?.path ?? []);
    throw new ApiError(400, describeIssues(result.error, raw).join('; '), 'invalid_request_error', first?.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_request', param || undefined);
  }
  return result.data;
}

export function bodyOf(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return {};
  try {
    return JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
  } catch {
    throw new ApiError(400, 'request body is not valid JSON', 'invalid_request_error', 'invalid_json');
  }
}

export async function tenantOr404(id: string): Promise<TenantRecord> {
  const record = await getTenant(id);
  if (!record) throw new ApiError(404, `tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', 'id');
  return record;
}
