import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROLES, type Permission, type Role } from '../../../lib/identity/roles.js';
import { ROLE_PERMISSIONS } from '../../../lib/identity/roles.js';
import { permissionFor, routePermissions } from '../../../lib/identity/route-permissions.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { MemoryUsers } from './memory-users.js';

// The role matrix of issue 15: every gateway route x every role, as a JWT caller and as a key
// caller, against tessera serve's gateway: allowed (neither 401 nor 403), or a 403 in OpenAI's
// shape naming the role and the missing permission, audited (status 403, outcome
// permission_denied, detail.permission, role, user or key).

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ACME = '444444444444';

type Sample = { method: string; path: string; permission: Permission; body?: (n: number) => unknown };
let n = 0;
/** One concrete request per route row (more for rows with alternatives), with the permission the issue's table gives it. */
const SAMPLES: Sample[] = [
  { method: 'POST', path: '/v1/chat/completions', permission: 'inference', body: () => ({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }) },
  // Stored chat completions (unknown ids: an allowed role gets the 404, past the role check; the list is empty).
  { method: 'GET', path: '/v1/chat/completions', permission: 'inference' },
  { method: 'GET', path: '/v1/chat/completions/chatcmpl-000000000000000000000000', permission: 'inference' },
  { method: 'GET', path: '/v1/chat/completions/chatcmpl-000000000000000000000000/messages', permission: 'inference' },
  { method: 'POST', path: '/v1/chat/completions/chatcmpl-000000000000000000000000', permission: 'inference', body: () => ({ metadata: { k: 'v' } }) },
  { method: 'DELETE', path: '/v1/chat/completions/chatcmpl-000000000000000000000000', permission: 'inference' },
  { method: 'POST', path: '/v1/embeddings', permission: 'inference', body: () => ({ model: 'openai-compatible/default', input: 'hi' }) },
  // No moderation model in this config: an allowed role gets the 400 naming model (past the role check).
  { method: 'POST', path: '/v1/moderations', permission: 'inference', body: () => ({ input: 'hi' }) },
  // No image model in this config either (the conformance config): an allowed role gets the 400 naming model, past the role check.
  { method: 'POST', path: '/v1/images/generations', permission: 'inference', body: () => ({ model: 'openai-compatible/default', prompt: 'a cat' }) },
  // Image edits and variations are multipart: a JSON body is an allowed role's 400 (past the role check).
  { method: 'POST', path: '/v1/images/edits', permission: 'inference', body: () => ({ prompt: 'a hat' }) },
  { method: 'POST', path: '/v1/images/variations', permission: 'inference', body: () => ({}) },
  // No completion model in this config: an allowed role gets the 400/404 naming model, past the role check.
  { method: 'POST', path: '/v1/completions', permission: 'inference', body: () => ({ model: 'openai-compatible/default', prompt: 'hi', max_tokens: 5 }) },
  // No audio model in this config: an allowed role gets the 400 naming model (speech) or the body (a JSON transcription), past the role check.
  { method: 'POST', path: '/v1/audio/speech', permission: 'inference', body: () => ({ model: 'openai-compatible/default', input: 'hi', voice: 'alloy' }) },
  { method: 'POST', path: '/v1/audio/transcriptions', permission: 'inference', body: () => ({ model: 'openai-compatible/default' }) },
  { method: 'POST', path: '/v1/audio/translations', permission: 'inference', body: () => ({ model: 'openai-compatible/default' }) },
  { method: 'POST', path: '/v1/responses', permission: 'inference', body: () => ({ model: 'openai-compatible/default', input: 'hi', store: false, max_output_tokens: 16 }) },
  // The gateway's own count (an openai-compatible model): nothing upstream.
  { method: 'POST', path: '/v1/responses/input_tokens', permission: 'inference', body: () => ({ model: 'openai-compatible/default', input: 'hi' }) },
  { method: 'GET', path: '/v1/responses/resp_abc', permission: 'inference' },
  { method: 'GET', path: '/v1/responses/resp_abc/input_items', permission: 'inference' },
  { method: 'DELETE', path: '/v1/responses/resp_abc', permission: 'inference' },
  { method: 'POST', path: '/v1/responses/resp_abc/cancel', permission: 'inference' },
  // OpenAI's Conversations API (unknown ids: an allowed role gets the 404, past the role check).
  { method: 'POST', path: '/v1/conversations', permission: 'inference', body: () => ({ metadata: { n: 'x' } }) },
  { method: 'GET', path: '/v1/conversations/conv_abc', permission: 'inference' },
  { method: 'POST', path: '/v1/conversations/conv_abc', permission: 'inference', body: () => ({ metadata: {} }) },
  { method: 'DELETE', path: '/v1/conversations/conv_abc', permission: 'inference' },
  { method: 'GET', path: '/v1/conversations/conv_abc/items', permission: 'inference' },
  { method: 'POST', path: '/v1/conversations/conv_abc/items', permission: 'inference', body: () => ({ items: [{ type: 'message', role: 'user', content: 'hi' }] }) },
  { method: 'GET', path: '/v1/conversations/conv_abc/items/msg_abc', permission: 'inference' },
  { method: 'DELETE', path: '/v1/conversations/conv_abc/items/msg_abc', permission: 'inference' },
  { method: 'GET', path: '/v1/models', permission: 'models.read' },
  { method: 'GET', path: '/v1/models/openai-compatible%2Fdefault', permission: 'models.read' },
  { method: 'GET', path: '/v1/usage', permission: 'usage.read_own' },
  // One request's audit record (an unknown id: every role holds usage.read_own and gets the 404, past the role check).
  { method: 'GET', path: '/v1/tenant/requests/req_000000000000000000000000', permission: 'usage.read_own' },
  { method: 'GET', path: '/v1/fine_tuning/jobs', permission: 'fine_tuning.read' },
  { method: 'GET', path: '/v1/fine_tuning/jobs/ftjob-abc', permission: 'fine_tuning.read' },
  { method: 'GET', path: '/v1/fine_tuning/jobs/ftjob-abc/events', permission: 'fine_tuning.read' },
  { method: 'POST', path: '/v1/fine_tuning/jobs', permission: 'fine_tuning.write', body: () => ({ model: 'llama-3.1-8b-instruct', training_file: `s3://tessera-acme-data-${ACME}/training-data/t.jsonl` }) },
  { method: 'POST', path: '/v1/fine_tuning/jobs/ftjob-abc/cancel', permission: 'fine_tuning.write' },
  { method: 'GET', path: '/v1/files', permission: 'fine_tuning.read' },
  { method: 'GET', path: '/v1/files/file-000000000000000000000000', permission: 'fine_tuning.read' },
  // Allowed roles get a 404 (no such file) or a 400 (a JSON body is no upload): past the role check either way.
  { method: 'GET', path: '/v1/files/file-000000000000000000000000/content', permission: 'fine_tuning.write' },
  { method: 'POST', path: '/v1/files', permission: 'fine_tuning.write', body: () => ({ purpose: 'fine-tune' }) },
  { method: 'DELETE', path: '/v1/files/file-000000000000000000000000', permission: 'fine_tuning.write' },
  // OpenAI's Uploads API (a fine-tuning file in parts): allowed roles get a 404 (no such upload) or, for the create, the upload.
  { method: 'POST', path: '/v1/uploads', permission: 'fine_tuning.write', body: () => ({ bytes: 10, filename: 'a.jsonl', mime_type: 'text/jsonl', purpose: 'fine-tune' }) },
  { method: 'POST', path: '/v1/uploads/upload_000000000000000000000000/parts', permission: 'fine_tuning.write' },
  { method: 'POST', path: '/v1/uploads/upload_000000000000000000000000/complete', permission: 'fine_tuning.write', body: () => ({ part_ids: ['part_000000000000000000000000'] }) },
  { method: 'POST', path: '/v1/uploads/upload_000000000000000000000000/cancel', permission: 'fine_tuning.write' },
  // The Batch API's routes (served off here: the files rows above are the fine-tuning API's; batch files' own checks are in
  // gateway-conformance/batches.test.ts): allowed roles get the 404 past the role check.
  { method: 'GET', path: '/v1/batches', permission: 'inference' },
  { method: 'GET', path: '/v1/batches/batch_abc', permission: 'inference' },
  { method: 'POST', path: '/v1/batches', permission: 'inference', body: () => ({ input_file_id: 'file-000000000000000000000000', endpoint: '/v1/chat/completions', completion_window: '24h' }) },
  { method: 'POST', path: '/v1/batches/batch_abc/cancel', permission: 'inference' },
  // OpenAI asks its Owner role to delete a fine-tuned model: admin only (an unknown model: 404 for the admin).
  { method: 'DELETE', path: '/v1/models/ft:llama-3.1-8b-instruct:acme:nosuch', permission: 'models.delete' },
  { method: 'GET', path: '/v1/tenant/keys', permission: 'keys.manage' },
  { method: 'GET', path: '/v1/tenant/keys/key_0123456789abcdef', permission: 'keys.manage' },
  { method: 'POST', path: '/v1/tenant/keys', permission: 'keys.manage', body: (i) => ({ name: `matrix ${i}` }) },
  { method: 'POST', path: '/v1/tenant/keys/key_0123456789abcdef/rotate', permission: 'keys.manage', body: () => ({}) },
  { method: 'DELETE', path: '/v1/tenant/keys/key_0123456789abcdef', permission: 'keys.manage' },
  { method: 'GET', path: '/v1/tenant/users', permission: 'users.manage' },
  { method: 'POST', path: '/v1/tenant/users', permission: 'users.manage', body: (i) => ({ email: `u${i}@acme.example.com`, role: 'viewer' }) },
  { method: 'POST', path: '/v1/tenant/users/user-1/disable', permission: 'users.manage' },
  { method: 'PUT', path: '/v1/tenant/users/user-1/role', permission: 'users.manage', body: () => ({ role: 'developer' }) },
];

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const users = new MemoryUsers();
/** Bearer credentials per role: a dev JWT (`tessera:role`) and a tenant API key of that role. */
const bearer: Record<'jwt' | 'key', Record<Role, string>> = { jwt: {} as Record<Role, string>, key: {} as Record<Role, string> };
const keyIds = {} as Record<Role, string>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: `arn:aws:sagemaker:us-east-1:${ACME}:training-job/x` });
  gw = await serveGateway(gatewayConfig(), upstream.url, [trainedTenant('acme', 'enterprise', ACME)], { fineTuning: { sageMaker: async () => new SageMakerClient({}) }, users, batches: false });
  await users.invite('acme', { email: 'first@acme.example.com', role: 'member' }, 'test');
  for (const role of ROLES) {
    bearer.jwt[role] = await gw.token('acme', { role, sub: `${role}-user` });
    const { key, record } = await gw.apiKey('acme', { role, name: `${role} key` });
    bearer.key[role] = key;
    keyIds[role] = record.keyId;
  }
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  sageMaker.restore();
});

/** One request, its answer, and the audit record it left (requests run one at a time: the record after those before it). */
async function call(method: string, pathAndQuery: string, credential: string, body?: unknown) {
  const before = gw.audit.records.length;
  const res = await fetch(`${gw.url.replace(/\/v1$/, '')}${pathAndQuery}`, {
    method, headers: { authorization: `Bearer ${credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  await vi.waitFor(() => expect(gw.audit.records.length).toBeGreaterThan(before));
  const record = gw.audit.records[before]!;
  const requestId = res.headers.get('x-request-id');
  if (requestId) expect(record.requestId).toBe(requestId);
  return { status: res.status, json: text ? JSON.parse(text) : undefined, record };
}

describe('the role matrix: every route x every role, JWT and key callers', () => {
  it('has a sample for every route row, each needing the permission the issue\'s table gives it', () => {
    for (const s of SAMPLES) expect(permissionFor(s.method, s.path.split('?')[0]!), `${s.method} ${s.path}`).toBe(s.permission);
    for (const [method, pattern, permission] of routePermissions()) {
      expect(SAMPLES.some((s) => s.method === method && pattern.test(s.path) && s.permission === permission), `no sample for ${method} ${pattern}`).toBe(true);
    }
  });

  for (const kind of ['jwt', 'key'] as const) {
    for (const role of ROLES) {
      it(`${kind} caller, role ${role}: allowed exactly where ROLE_PERMISSIONS says, else a 403 naming the permission, audited`, async () => {
        const cells: string[] = [];
        for (const s of SAMPLES) {
          const allowed = ROLE_PERMISSIONS[role].includes(s.permission);
          const { status, json, record } = await call(s.method, s.path, bearer[kind][role], s.body?.(n++));
          const where = `${kind} ${role} ${s.method} ${s.path} -> ${status} ${JSON.stringify(json)?.slice(0, 200)}`;
          expect(record, where).toBeDefined();
          expect(record, where).toMatchObject({ tenantId: 'acme', role, ...(kind === 'key' ? { keyId: keyIds[role], userId: keyIds[role] } : { userId: `${role}-user` }) });
          if (kind === 'jwt') expect(record!.keyId, where).toBeUndefined();
          if (allowed) {
            expect([401, 403], where).not.toContain(status);
            expect(record!.outcome, where).not.toBe('permission_denied');
          } else {
            expect(status, where).toBe(403);
            expect(json.error, where).toEqual({ type: 'permission_error', code: 'permission_denied', param: null, message: expect.stringContaining(`role "${role}" lacks permission "${s.permission}"`) });
            expect(record, where).toMatchObject({ status: 403, outcome: 'permission_denied', detail: { permission: s.permission } });
          }
          cells.push(`${s.method} ${s.path}: ${allowed ? `allowed (${status})` : "403"}`);
        }
        expect(cells).toHaveLength(SAMPLES.length);
      });
    }
  }

  // The issue's own table, hard-coded: a ROLE_PERMISSIONS that drifted from it fails here.
  const ANCHORS: Array<[Role, string, string, 'allowed' | Permission]> = [
    ['viewer', 'POST', '/v1/chat/completions', 'inference'],
    ['viewer', 'POST', '/v1/embeddings', 'inference'],
    ['viewer', 'POST', '/v1/moderations', 'inference'],
    ['member', 'POST', '/v1/moderations', 'allowed'],
    ['viewer', 'GET', '/v1/models', 'models.read'],
    ['viewer', 'GET', '/v1/fine_tuning/jobs', 'allowed'],
    ['viewer', 'GET', '/v1/usage?group_by=user', 'allowed'],
    ['viewer', 'GET', '/v1/usage?group_by=model', 'allowed'],
    ['developer', 'GET', '/v1/usage?group_by=model', 'allowed'],
    ['member', 'GET', '/v1/usage?group_by=model', 'usage.read'], // the usage ledger has no user or key (s32l)
    ['viewer', 'POST', '/v1/fine_tuning/jobs/ftjob-abc/cancel', 'fine_tuning.write'],
    ['member', 'POST', '/v1/chat/completions', 'allowed'],
    ['member', 'POST', '/v1/fine_tuning/jobs', 'fine_tuning.write'],
    ['member', 'POST', '/v1/tenant/keys', 'keys.manage'],
    ['member', 'GET', '/v1/fine_tuning/jobs', 'fine_tuning.read'],
    ['member', 'GET', '/v1/usage', 'allowed'],
    ['member', 'GET', '/v1/tenant/requests/req_000000000000000000000000', 'allowed'],
    ['viewer', 'GET', '/v1/tenant/requests/req_000000000000000000000000', 'allowed'],
    ['developer', 'POST', '/v1/fine_tuning/jobs/ftjob-abc/cancel', 'allowed'],
    ['developer', 'POST', '/v1/fine_tuning/jobs', 'allowed'],
    ['developer', 'POST', '/v1/tenant/keys', 'keys.manage'],
    ['developer', 'POST', '/v1/tenant/users', 'users.manage'],
    ['developer', 'DELETE', '/v1/models/ft:llama-3.1-8b-instruct:acme:nosuch', 'models.delete'],
    ['admin', 'POST', '/v1/tenant/keys', 'allowed'],
    ['admin', 'PUT', '/v1/tenant/users/user-1/role', 'allowed'],
    ['admin', 'POST', '/v1/chat/completions', 'allowed'],
  ];
  it.each(ANCHORS)('issue table: %s %s %s -> %s', async (role, method, path, expected) => {
    const sample = SAMPLES.find((s) => s.method === method && s.path === path.split('?')[0]);
    for (const kind of ['jwt', 'key'] as const) {
      const { status, json, record } = await call(method, path, bearer[kind][role], sample?.body?.(n++));
      if (expected === 'allowed') {
        expect([401, 403], `${kind}: ${status} ${JSON.stringify(json)}`).not.toContain(status);
        if (path.includes('group_by')) expect(status).toBe(200);
      } else {
        expect(status).toBe(403);
        expect(json.error.message).toContain(`lacks permission "${expected}"`);
        expect(record).toMatchObject({ outcome: 'permission_denied', detail: { permission: expected } });
      }
    }
  });

  it('a viewer cannot probe stored responses through a route the table lacks (POST /v1/responses/{id}/cancel): 403 inference', async () => {
    const { status, json, record } = await call('POST', '/v1/responses/resp_abc/cancel', bearer.key.viewer);
    expect([status, json.error.code]).toEqual([403, 'permission_denied']);
    expect(record).toMatchObject({ detail: { permission: 'inference' } });
    expect((await call('POST', '/v1/responses/resp_abc/cancel', bearer.key.member)).status).toBe(404);
  });

  it('a member reading usage grouped by user is refused by the usage endpoint, naming usage.read_by_caller', async () => {
    const { status, json } = await call('GET', '/v1/usage?group_by=user', bearer.jwt.member);
    expect(status).toBe(403);
    expect(json.error).toMatchObject({ type: 'permission_error', code: 'permission_denied' });
    expect(json.error.message).toContain('usage.read_by_caller');
  });
});
