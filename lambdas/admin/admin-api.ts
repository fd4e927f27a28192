import { DescribeExecutionCommand, ExecutionAlreadyExists, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ChangeRequest, OnboardRequest, TenantStatus, type TenantRecord } from '../../lib/tenant-record.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { ApiError, errorBody } from '../shared/api-errors.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, listTenants } from '../shared/registry.js';

/**
 * The admin REST API (API Gateway, IAM auth): reads the registry and starts lifecycle executions.
 * Execution names are derived from the request, so Step Functions itself makes a repeated request
 * idempotent: the same name and input return the running execution.
 */

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new ApiError(400, describeIssues(result.error, raw).join('; '), 'invalid_request_error', 'invalid_request', first?.path.join('.') || undefined);
  }
  return result.data;
}

function bodyOf(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return {};
  try {
    return JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
  } catch {
    throw new ApiError(400, 'request body is not valid JSON', 'invalid_request_error', 'invalid_json');
  }
}

async function tenantOr404(id: string): Promise<TenantRecord> {
  const record = await getTenant(id);
  if (!record) throw new ApiError(404, `tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', 'id');
  return record;
}

/** Step Functions execution names: 80 characters of [A-Za-z0-9-_]. */
function executionName(kind: string, tenantId: string, requestId: string): string {
  const digest = createHash('sha256').update(requestId).digest('hex').slice(0, 16);
  return `${kind}-${tenantId}-${digest}`.slice(0, 80);
}

async function start(stateMachineEnv: string, name: string, input: unknown): Promise<string> {
  try {
    const out = await platformClient(SFNClient).send(new StartExecutionCommand({ stateMachineArn: requireEnv(stateMachineEnv), name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists) {
      throw new ApiError(409, `an execution named ${name} already exists with a different input; use a new requestId`, 'conflict_error', 'execution_exists');
    }
    throw e;
  }
}

function requireChangeable(record: TenantRecord, allowed: TenantRecord['status'][], action: string): void {
  if (!allowed.includes(record.status)) {
    throw new ApiError(409, `tenant "${record.tenantId}" is ${record.status}; ${action} needs ${allowed.join(' or ')}`, 'conflict_error', 'invalid_status', 'status');
  }
}

const ListQuery = z.object({ status: TenantStatus.optional(), tier: z.string().min(1).optional() });

type Route = (event: APIGatewayProxyEvent, id?: string) => Promise<APIGatewayProxyResult>;

const routes: Record<string, Route> = {
  'POST /admin/tenants': async (event) => {
    const request = parse(OnboardRequest, bodyOf(event));
    if (!(request.tier in platformConfig().tiers)) {
      throw new ApiError(400, `tier = "${request.tier}": does not exist (tiers: ${Object.keys(platformConfig().tiers).join(', ')})`, 'invalid_request_error', 'unknown_tier', 'tier');
    }
    const existing = await getTenant(request.tenantId);
    if (existing && existing.requestId !== request.requestId) {
      throw new ApiError(409, `tenant id "${request.tenantId}" is already registered (status ${existing.status})`, 'conflict_error', 'tenant_exists', 'tenantId');
    }
    const executionArn = await start(ENV.onboardStateMachineArn, executionName('onboard', request.tenantId, request.requestId), request);
    return json(existing ? 200 : 202, { tenantId: request.tenantId, requestId: request.requestId, executionArn, status: existing?.status ?? 'REQUESTED' });
  },
  'GET /admin/tenants': async (event) => {
    const q = parse(ListQuery, event.queryStringParameters ?? {});
    if (q.tier && !(q.tier in platformConfig().tiers)) throw new ApiError(400, `tier = "${q.tier}": does not exist`, 'invalid_request_error', 'unknown_tier', 'tier');
    return json(200, { tenants: await listTenants(q) });
  },
  'GET /admin/tenants/{id}': async (_e, id) => json(200, await tenantOr404(id!)),
  'PATCH /admin/tenants/{id}': async (event, id) => {
    const change = parse(ChangeRequest, bodyOf(event));
    const record = await tenantOr404(id!);
    requireChangeable(record, ['ACTIVE'], 'a change');
    const requestId = (event.headers?.['idempotency-key'] ?? event.requestContext?.requestId ?? `${Date.now()}`).slice(0, 80);
    if (change.name && !change.tier && !change.blueprintVersion) throw new ApiError(400, 'renaming alone is not a lifecycle change; send tier or blueprintVersion', 'invalid_request_error', 'nothing_to_deploy', 'name');
    const executionArn = await start(ENV.changeStateMachineArn, executionName('change', record.tenantId, requestId), { request: { tenantId: record.tenantId, requestId }, change });
    return json(202, { tenantId: record.tenantId, executionArn, status: 'UPDATING' });
  },
  'DELETE /admin/tenants/{id}': async (_event, id) => {
    const record = await tenantOr404(id!);
    requireChangeable(record, ['ACTIVE', 'SUSPENDED', 'FAILED', 'OFFBOARDING'], 'offboarding');
    const requestId = `offboard-${record.tenantId}`;
    const executionArn = await start(ENV.offboardStateMachineArn, executionName('offboard', record.tenantId, requestId), { request: { tenantId: record.tenantId, requestId } });
    return json(202, { tenantId: record.tenantId, executionArn, status: 'OFFBOARDING' });
  },
  'POST /admin/tenants/{id}/suspend': async (event, id) => statusChange(event, id!, 'suspend'),
  'POST /admin/tenants/{id}/resume': async (event, id) => statusChange(event, id!, 'resume'),
  'GET /admin/tenants/{id}/execution': async (event, id) => {
    // Right after a create the record may not exist yet; the execution does.
    const record = await getTenant(id!);
    const executionArn = event.queryStringParameters?.executionArn ?? record?.executions.at(-1)?.executionArn;
    if (!executionArn && !record) throw new ApiError(404, `tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', 'id');
    return json(200, await executionProgress(id!, record, executionArn));
  },
};

async function statusChange(event: APIGatewayProxyEvent, id: string, action: 'suspend' | 'resume'): Promise<APIGatewayProxyResult> {
  const record = await tenantOr404(id);
  requireChangeable(record, action === 'suspend' ? ['ACTIVE'] : ['SUSPENDED'], action === 'suspend' ? 'suspension' : 'resumption');
  const requestId = (event.requestContext?.requestId ?? `${Date.now()}`).slice(0, 80);
  const executionArn = await start(ENV.statusStateMachineArn, executionName(action, record.tenantId, requestId), { request: { tenantId: record.tenantId, requestId }, action });
  return json(202, { tenantId: record.tenantId, executionArn, status: action === 'suspend' ? 'SUSPENDED' : 'ACTIVE' });
}

/** One execution of a tenant (the latest unless named), step by step with durations, from its Step Functions history. */
export async function executionProgress(tenantId: string, record: TenantRecord | undefined, executionArn: string | undefined) {
  if (!executionArn) return { tenantId, status: record?.status, currentStep: record?.currentStep, failure: record?.failure, steps: [] };
  const sfn = platformClient(SFNClient);
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const steps: Array<{ name: string; startedAt: string; endedAt?: string; seconds?: number; status: 'RUNNING' | 'DONE' | 'FAILED' }> = [];
  for (const e of history.events ?? []) {
    const at = e.timestamp!.toISOString();
    if (e.stateEnteredEventDetails?.name) steps.push({ name: e.stateEnteredEventDetails.name, startedAt: at, status: 'RUNNING' });
    if (e.stateExitedEventDetails?.name) {
      const step = steps.findLast((s) => s.name === e.stateExitedEventDetails!.name && s.status === 'RUNNING');
      if (step) Object.assign(step, { endedAt: at, seconds: (Date.parse(at) - Date.parse(step.startedAt)) / 1000, status: 'DONE' });
    }
    if (e.type?.endsWith('Failed') && steps.length) Object.assign(steps.at(-1)!, { status: 'FAILED' });
  }
  const kind = executionArn.split(':execution:')[1]?.split(':')[0]?.replace(/^tessera-/, '');
  const current = record ?? (await getTenant(tenantId));
  return {
    tenantId, status: current?.status, kind, executionArn, executionStatus: execution.status,
    currentStep: current?.currentStep, failure: execution.status === 'FAILED' ? current?.failure : undefined, steps,
  };
}

export const handler = lifecycleHandler('Admin API', async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const route = routes[`${event.httpMethod} ${event.resource}`];
  try {
    if (!route) throw new ApiError(404, `no route ${event.httpMethod} ${event.resource}`, 'not_found_error', 'no_route');
    return await route(event, event.pathParameters?.id);
  } catch (e) {
    if (e instanceof ApiError) return { statusCode: e.status, headers: { 'content-type': 'application/json' }, body: errorBody(e) };
    if ((e as Error).name === 'TenantConflict') return { statusCode: 409, headers: { 'content-type': 'application/json' }, body: errorBody(new ApiError(409, (e as Error).message, 'conflict_error', 'invalid_status')) };
    logger.error('admin API failed', { error: e as Error });
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: errorBody(new ApiError(500, 'internal error; see the admin API logs', 'api_error', 'internal_error')) };
  }
}, { trackStep: false });
