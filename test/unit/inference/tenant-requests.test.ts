import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import { FileAuditRecordReader, MemoryAuditRecordReader } from '../../../lambdas/inference/audit-records.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { tenantRequest } from '../../../lambdas/inference/endpoints/tenant-requests.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { S3AuditRecordReader } from '../../../lambdas/inference/s3-audit-reader.js';
import { openTempFiles } from '../../support/file-state-leaks.js';
import { tempDir } from '../../support/temp-dirs.js';

// Gap review s32, gap 4: a request id leads to its audit record (GET /v1/tenant/requests/{request_id}).
const NOW = Date.parse('2026-12-05T00:10:00Z');
const ID = 'chatcmpl-0123456789abcdef01234567';
const OTHER_ID = 'req_abcdefabcdefabcdefabcdef';
const KEY_ID = 'key_00000000000000aa';
const record = (fields: Partial<AuditRecord> = {}): AuditRecord => ({
  requestId: ID, at: '2026-12-04T23:59:58.120Z', method: 'POST', path: '/v1/chat/completions', tenantId: 'acme', tier: 'enterprise',
  userId: 'u-1', role: 'member', model: 'openai/gpt-5.4-mini', requestedModel: 'gpt-5.4-mini', provider: 'openai', promptTokens: 12, completionTokens: 5,
  cachedTokens: 4, costUsd: 0.000021, latencyMs: 812.5, upstreamLatencyMs: 790, status: 200, outcome: 'ok', stream: false,
  promptSha256: 'a'.repeat(64), prompt: 'the secret launch code is 4417', piiRedacted: ['EMAIL'], ...fields,
});
const tenant = { tier: 'enterprise' } as Caller['tenant'];
const member: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant };
const otherMember: Caller = { tenantId: 'acme', userId: 'u-2', role: 'member', tenant };
const admin: Caller = { tenantId: 'acme', userId: 'u-9', role: 'admin', tenant };
const viewer: Caller = { tenantId: 'acme', userId: 'u-8', role: 'viewer', tenant };
const keyCaller: Caller = { tenantId: 'acme', userId: KEY_ID, keyId: KEY_ID, role: 'member', tenant };
const stranger: Caller = { tenantId: 'beta', userId: 'u-1', role: 'admin', tenant };
const refusal = async (p: Promise<unknown>) => {
  const e = (await p.then(() => { throw new Error('answered'); }, (x: unknown) => x)) as GatewayError;
  return { status: e.status, ...JSON.parse(e.body()).error };
};

describe('GET /v1/tenant/requests/{request_id}', () => {
  const reader = new MemoryAuditRecordReader([record(), record({ requestId: OTHER_ID, userId: KEY_ID, keyId: KEY_ID, at: '2026-12-05T00:01:00.000Z', action: 'tenant.key.read', detail: { keyId: KEY_ID } })]);

  it('answers the record in snake_case, without the prompt text or its hash, audited as a read', async () => {
    const answer = await tenantRequest(reader, member, `/v1/tenant/requests/${ID}`, {}, NOW);
    expect(answer).toMatchObject({ status: 200, action: 'tenant.request.read', detail: { requestId: ID } });
    expect(JSON.parse(answer.body)).toEqual({
      object: 'tenant.request', id: ID, created_at: 1796428798, at: '2026-12-04T23:59:58.120Z', method: 'POST', path: '/v1/chat/completions',
      tenant: 'acme', user: 'u-1', role: 'member', model: 'openai/gpt-5.4-mini', requested_model: 'gpt-5.4-mini', provider: 'openai',
      status: 200, outcome: 'ok', stream: false, usage: { prompt_tokens: 12, completion_tokens: 5, cached_tokens: 4 }, cost_usd: 0.000021,
      latency_ms: 812.5, upstream_latency_ms: 790, pii_redacted: ['EMAIL'],
    });
    expect(answer.body).not.toContain('4417');
    expect(answer.body).not.toContain('a'.repeat(64));
  });

  it('finds yesterday\'s record (UTC) without date, and only that day\'s with date', async () => {
    // NOW is 00:10 on the 5th; the record was written at 23:59:58 on the 4th.
    expect((await tenantRequest(reader, member, `/v1/tenant/requests/${ID}`, {}, NOW)).status).toBe(200);
    expect((await tenantRequest(reader, member, `/v1/tenant/requests/${ID}`, { date: '2026-12-04' }, NOW)).status).toBe(200);
    expect(await refusal(tenantRequest(reader, member, `/v1/tenant/requests/${ID}`, { date: '2026-12-05' }, NOW))).toMatchObject({ status: 404, code: 'request_not_found', param: 'request_id' });
    // Two days later, today and yesterday do not hold it: the 404 says to pass date.
    const later = await refusal(tenantRequest(reader, member, `/v1/tenant/requests/${ID}`, {}, NOW + 2 * 86_400_000));
    expect(later).toMatchObject({ status: 404, code: 'request_not_found' });
    expect(later.message).toContain('2026-12-07 or 2026-12-06');
    expect(later.message).toContain('date=YYYY-MM-DD');
  });

  it('a member reads only its own requests (a key caller its key\'s); admin and viewer (usage.read) read the tenant\'s', async () => {
    const foreign = await refusal(tenantRequest(reader, otherMember, `/v1/tenant/requests/${ID}`, {}, NOW));
    expect(foreign).toMatchObject({ status: 404, code: 'request_not_found', param: 'request_id' });
    expect(foreign.message).toContain('role "member" reads only its own requests');
    // The key's request is not its creator's user's, nor the user's the key's.
    expect((await refusal(tenantRequest(reader, member, `/v1/tenant/requests/${OTHER_ID}`, {}, NOW))).status).toBe(404);
    expect((await refusal(tenantRequest(reader, keyCaller, `/v1/tenant/requests/${ID}`, {}, NOW))).status).toBe(404);
    expect(JSON.parse((await tenantRequest(reader, keyCaller, `/v1/tenant/requests/${OTHER_ID}`, {}, NOW)).body)).toMatchObject({ id: OTHER_ID, key: KEY_ID, action: 'tenant.key.read', detail: { keyId: KEY_ID } });
    for (const caller of [admin, viewer]) {
      expect(JSON.parse((await tenantRequest(reader, caller, `/v1/tenant/requests/${ID}`, {}, NOW)).body).user).toBe('u-1');
      expect(JSON.parse((await tenantRequest(reader, caller, `/v1/tenant/requests/${OTHER_ID}`, {}, NOW)).body).user).toBe(KEY_ID);
    }
  });

  it('another tenant\'s id is the unknown id\'s 404, and so is a text that is no request id', async () => {
    const theirs = await refusal(tenantRequest(reader, stranger, `/v1/tenant/requests/${ID}`, {}, NOW));
    const unknown = await refusal(tenantRequest(reader, { ...stranger, tenantId: 'acme' }, '/v1/tenant/requests/chatcmpl-ffffffffffffffffffffffff', {}, NOW));
    expect(theirs).toMatchObject({ status: 404, code: 'request_not_found', param: 'request_id' });
    expect(theirs.message.replace(ID, '<id>').replace('beta', '<t>')).toBe(unknown.message.replace('chatcmpl-ffffffffffffffffffffffff', '<id>').replace('acme', '<t>'));
    const malformed = await refusal(tenantRequest(reader, admin, '/v1/tenant/requests/..%2F..%2Fbeta', {}, NOW));
    expect(malformed).toMatchObject({ status: 404, code: 'request_not_found', param: 'request_id' });
    expect(malformed.message).toContain('is not a request id of this gateway');
  });

  it('refuses a date that is not a calendar day and an unknown query parameter, naming each', async () => {
    for (const date of ['2026-13-01', '2026-02-30', '5 Dec', '']) {
      expect(await refusal(tenantRequest(reader, admin, `/v1/tenant/requests/${ID}`, { date }, NOW))).toMatchObject({ status: 400, code: 'invalid_value', param: 'date' });
    }
    expect(await refusal(tenantRequest(reader, admin, `/v1/tenant/requests/${ID}`, { day: '2026-12-04' }, NOW))).toMatchObject({ status: 400, code: 'unknown_parameter', param: 'day' });
  });
});

describe('audit record readers', () => {
  it('tessera serve: the JSON lines of audit.jsonl, by tenant, day and id', async () => {
    const file = join(tempDir('tessera-audit-read-'), 'audit.jsonl');
    writeFileSync(file, `${JSON.stringify(record({ tenantId: 'beta' }))}\n${JSON.stringify(record())}\n`);
    const reader = new FileAuditRecordReader(file, undefined, 0);
    expect((await reader.read('acme', '2026-12-04', ID))?.tenantId).toBe('acme');
    expect((await reader.read('gamma', '2026-12-04', ID))).toBeUndefined();
    expect((await reader.read('acme', '2026-12-05', ID))).toBeUndefined();
    expect(await new FileAuditRecordReader(join(file, '..', 'none.jsonl'), undefined, 0).read('acme', '2026-12-04', ID)).toBeUndefined();
  });

  // s47l: a record found before the file's end (readline's close leaves its input open) or a line naming the id that is
  // not JSON left the file's stream paused, its descriptor held for the process's life: one per read, in a long-running serve.
  it('tessera serve: the file is closed however the scan ends (found before the end, a line that is not JSON)', async () => {
    const dir = tempDir('tessera-audit-read-');
    const file = join(dir, 'audit.jsonl');
    const other = JSON.stringify(record({ tenantId: 'beta', requestId: 'req_other' }));
    writeFileSync(file, `${JSON.stringify(record())}\n${`${other}\n`.repeat(Math.ceil((1024 * 1024) / other.length))}`);
    const reader = new FileAuditRecordReader(file, undefined, 0);
    expect((await reader.read('acme', '2026-12-04', ID))?.tenantId).toBe('acme');
    expect([...openTempFiles()].filter((f) => f.includes(dir))).toEqual([]);
    writeFileSync(file, `{"requestId":${JSON.stringify(ID)}, not JSON\n${`${other}\n`.repeat(Math.ceil((1024 * 1024) / other.length))}`);
    await expect(reader.read('acme', '2026-12-04', ID)).rejects.toThrow(SyntaxError);
    expect([...openTempFiles()].filter((f) => f.includes(dir))).toEqual([]);
  });

  it('AWS: GetObject of the tenant\'s own keys (the router\'s stream, then the fine-tuning API\'s; its tier\'s prefix first), a 403 or 404 is absent, other failures thrown', async () => {
    const asked: string[] = [];
    let answer: (key: string) => unknown = () => { throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }); };
    const s3 = { send: async (c: { input: { Bucket: string; Key: string } }) => { asked.push(`${c.input.Bucket}/${c.input.Key}`); return answer(c.input.Key); } };
    const tenants: string[] = [];
    const reader = new S3AuditRecordReader('audit-bucket', async (t) => { tenants.push(t); return s3 as never; }, (tier) => tier === 'enterprise');
    expect(await reader.read('acme', '2026-12-04', ID, 'enterprise')).toBeUndefined();
    expect(asked).toEqual([
      `audit-bucket/tessera-audit/dr-tier/inference/acme/2026-12-04/${ID}.json`, `audit-bucket/tessera-audit/inference/acme/2026-12-04/${ID}.json`,
      `audit-bucket/tessera-audit/dr-tier/fine-tuning/acme/2026-12-04/${ID}.json`, `audit-bucket/tessera-audit/fine-tuning/acme/2026-12-04/${ID}.json`,
    ]);
    expect(tenants).toEqual(['acme']);
    asked.length = 0;
    answer = (key) => {
      if (key.includes('dr-tier')) throw Object.assign(new Error('not there'), { name: 'NoSuchKey' });
      return { Body: { transformToString: async () => JSON.stringify(record()) } };
    };
    expect((await reader.read('acme', '2026-12-04', ID, 'enterprise'))?.requestId).toBe(ID);
    asked.length = 0;
    // A record whose tenant is not the key's (never written so) is not answered.
    answer = () => ({ Body: { transformToString: async () => JSON.stringify(record({ tenantId: 'beta' })) } });
    expect(await reader.read('acme', '2026-12-04', ID, 'basic')).toBeUndefined();
    expect(asked[0]).toBe(`audit-bucket/tessera-audit/inference/acme/2026-12-04/${ID}.json`);
    answer = () => { throw Object.assign(new Error('throttled'), { name: 'SlowDown' }); };
    await expect(reader.read('acme', '2026-12-04', ID)).rejects.toThrow('throttled');
    asked.length = 0;
    for (const [t, d, id] of [['acme/../beta', '2026-12-04', ID], ['acme', '2026-12-04/..', ID], ['acme', '2026-12-04', '../x']]) {
      await expect(reader.read(t!, d!, id!)).rejects.toThrow('not ids the gateway makes');
    }
    expect(asked).toEqual([]);
  });

  it('AWS: a fine-tuning API request\'s record (stream fine-tuning) is found after the router\'s stream misses, under either prefix', async () => {
    const FT_ID = 'req_0123456789abcdef0123abcd';
    const ftRecord = record({ requestId: FT_ID, method: 'POST', path: '/v1/fine_tuning/jobs', model: undefined, requestedModel: undefined, provider: undefined, detail: { jobId: 'ftjob-1' } });
    for (const [tier, stored] of [['basic', `tessera-audit/fine-tuning/acme/2026-12-04/${FT_ID}.json`], ['enterprise', `tessera-audit/dr-tier/fine-tuning/acme/2026-12-04/${FT_ID}.json`], ['basic', `tessera-audit/dr-tier/fine-tuning/acme/2026-12-04/${FT_ID}.json`]] as const) {
      const asked: string[] = [];
      const s3 = {
        send: async (c: { input: { Key: string } }) => {
          asked.push(c.input.Key);
          if (c.input.Key !== stored) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
          return { Body: { transformToString: async () => JSON.stringify(ftRecord) } };
        },
      };
      const reader = new S3AuditRecordReader('audit-bucket', async () => s3 as never, (t) => t === 'enterprise');
      expect((await reader.read('acme', '2026-12-04', FT_ID, tier))?.path, stored).toBe('/v1/fine_tuning/jobs');
      expect(asked.slice(0, 2).every((k) => k.includes('/inference/')), stored).toBe(true);
      expect(asked.at(-1)).toBe(stored);
      // And through the tenant's route: a member reads its own fine-tuning request.
      const answer = await tenantRequest(reader, member, `/v1/tenant/requests/${FT_ID}`, { date: '2026-12-04' }, NOW);
      expect(JSON.parse(answer.body)).toMatchObject({ id: FT_ID, path: '/v1/fine_tuning/jobs', detail: { jobId: 'ftjob-1' } });
    }
  });
});
