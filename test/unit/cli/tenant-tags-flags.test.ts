import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tenantDetails } from '../../../lib/cli/format.js';
import { entryRequestId, planApply } from '../../../lib/cli/tenants-apply-command.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * A tenant's own tags on the CLI (s45): `tenants create --tag Key=Value` (repeatable), `tags` in a tenants.yaml entry,
 * and `tenants show`'s `tags` line. The admin API is served on loopback; a refused flag is exit 2 before any call.
 */
const dir = tempDir('tenant-tags-flags-');
const posted: Array<Record<string, unknown>> = [];
const admin = fakeAdminApi((req) => {
  if (req.method === 'GET') return { status: 200, body: req.url!.includes('/tiers') ? { tiers: [{ name: 'starter', isolation: 'vpc', drRegion: null }] } : { tenants: [] } };
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => posted.push(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  return { status: 202, body: { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:onboard-acme-1', status: 'REQUESTED' } };
});

beforeEach(() => {
  posted.length = 0;
});

const create = (...flags: string[]) => runTesseraInProcess(admin.url, 'tenants', 'create', '--id', 'acme', '--name', 'Acme', '--tier', 'starter', '--admin-email', 'ada@acme.example.com', '--request-id', 'req-acme-0001', ...flags);
const BODY = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'ada@acme.example.com', requestId: 'req-acme-0001' };

describe('tessera tenants create --tag', () => {
  it('sends each --tag as tags (a value may hold "="); none: no tags field', async () => {
    const out = await create('--tag', 'CostCenter=4711', '--tag', 'Owner=team x', '--tag', 'Note=a=b');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(posted).toEqual([{ ...BODY, tags: { CostCenter: '4711', Owner: 'team x', Note: 'a=b' } }]);
    posted.length = 0;
    expect((await create()).code).toBe(0);
    expect(posted).toEqual([BODY]);
  });

  it.each([
    [['--tag', 'CostCenter'], '--tag "CostCenter": must be Key=Value (e.g. --tag CostCenter=4711)'],
    [['--tag', 'CostCenter=1', '--tag', 'CostCenter=2'], '--tag "CostCenter=2": key "CostCenter" given twice (--tag "CostCenter=1" first); give each key once'],
    [['--tag', 'aws:cost=1'], '--tag "aws:cost=1": key "aws:cost" is reserved: keys starting "aws:" (in any case) are AWS\'s own'],
    [['--tag', 'tessera:tier=gold'], '--tag "tessera:tier=gold": key "tessera:tier" is reserved: keys starting "tessera:" (in any case) are Tessera\'s own tags'],
    [['--tag', 'CostCenter='], '--tag "CostCenter=": value must not be empty: a CloudFormation stack tag value has 1-256 characters, and every tenant tag goes to the tenant\'s stacks'],
    [['--tag', 'CostCenter=1', '--tag', 'costcenter=2'], '--tag "costcenter=2": key "costcenter" differs from key "CostCenter" only in case'],
    [['--tag', '__proto__=x'], '--tag "__proto__=x": value cannot be kept under the key __proto__'],
    [Array.from({ length: 41 }, (_, i) => ['--tag', `k${i}=v`]).flat(), '--tag (41 given): must have at most 40 tags, has 41'],
  ])('%j: exit 2 naming the flag, nothing sent', async (flags, message) => {
    const out = await create(...flags);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
    expect(posted).toEqual([]);
  });
});

describe('tessera tenants apply: tags in an entry', () => {
  const NEWCO = { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'admin@newco.example' };

  it('sends them with the onboarding; the request id is the same whatever the tags\' key order, and unchanged for an entry without tags', async () => {
    const path = join(dir, 't.yaml');
    writeFileSync(path, 'tenants:\n  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example, tags: { Owner: team-x, CostCenter: "4711" } }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(0);
    const tags = { Owner: 'team-x', CostCenter: '4711' };
    expect(posted).toEqual([{ ...NEWCO, tags, requestId: entryRequestId({ ...NEWCO, tags }) }]);
    expect(entryRequestId({ ...NEWCO, tags: { CostCenter: '4711', Owner: 'team-x' } })).toBe(entryRequestId({ ...NEWCO, tags }));
    expect(entryRequestId({ ...NEWCO, tags: {} })).toBe(entryRequestId(NEWCO));
    expect(entryRequestId({ ...NEWCO, tags })).not.toBe(entryRequestId(NEWCO));
  });

  it('refuses a reserved key, naming the entry and the key, nothing sent', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'tenants:\n  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example, tags: { "aws:x": "1" } }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/tenants\[0\]\.tags\.aws:x = .*is reserved/);
    expect(posted).toEqual([]);
  });

  // session 45: tags that differ are applied to a VPC tenant (was: drift, never changed); an account tenant's stay drift.
  const existing = (extra: Partial<TenantRecord> = {}) => ({ ...NEWCO, isolation: 'vpc', status: 'ACTIVE', requestId: 'r', createdAt: 't', updatedAt: 't', stackOutputs: {}, executions: [], tags: { CostCenter: '1' }, ...extra }) as TenantRecord;

  it('plans an update tags for a VPC tenant whose tags differ: the entry\'s tags, all of them, with the ETag as If-Match', () => {
    const [step] = planApply([{ ...NEWCO, tags: { Owner: 'x', CostCenter: '2' } }], [existing()], undefined, () => undefined, new Map([['newco', '"e1"']]));
    expect(step).toMatchObject({ action: 'update tags', from: { CostCenter: '1' }, tags: { CostCenter: '2', Owner: 'x' }, drift: [], ifMatch: '"e1"', idempotencyKey: expect.stringMatching(/^apply-newco-[0-9a-f]{12}$/) });
    // No tags in the entry removes them all; the same tags in another order change nothing.
    expect(planApply([NEWCO], [existing()], undefined, () => undefined)[0]).toMatchObject({ action: 'update tags', tags: {} });
    expect(planApply([{ ...NEWCO, tags: { CostCenter: '1' } }], [existing()], undefined, () => undefined)[0]).toMatchObject({ action: 'unchanged', drift: [] });
    // With a tier change, one request carries both.
    expect(planApply([{ ...NEWCO, tier: 'pro', tags: { CostCenter: '2' } }], [existing()], undefined, () => undefined)[0]).toMatchObject({ action: 'update tier', tags: { CostCenter: '2' } });
  });

  it('an account tenant\'s tags are changed as a VPC tenant\'s are (was: drift); a tenant not ACTIVE cannot', () => {
    const [step] = planApply([{ ...NEWCO, tags: { CostCenter: '2' } }], [existing({ isolation: 'account' })], undefined, () => undefined);
    expect(step).toMatchObject({ action: 'update tags', tags: { CostCenter: '2' }, drift: [] });
    const [suspended] = planApply([{ ...NEWCO, tags: { CostCenter: '2' } }], [existing({ status: 'SUSPENDED' })], undefined, () => undefined);
    expect(suspended).toMatchObject({ action: 'cannot', reason: expect.stringMatching(/^tags \{"CostCenter":"1"\} -> \{"CostCenter":"2"\}: tenant newco is SUSPENDED; a tags change runs from ACTIVE/) });
  });
});

describe('tessera tenants apply: a tags change run', () => {
  const NEWCO = { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'admin@newco.example' };
  const record = { ...NEWCO, isolation: 'vpc', status: 'ACTIVE', requestId: 'r', createdAt: 't', updatedAt: 't', stackOutputs: {}, executions: [], tags: { CostCenter: '1' } };
  const patched: Array<{ url?: string; body: unknown; key?: string; ifMatch?: string }> = [];
  const api = fakeAdminApi((req) => {
    if (req.method === 'GET') {
      return { status: 200, body: req.url!.includes('/tiers') ? { tiers: [{ name: 'starter', isolation: 'vpc', drRegion: null }] } : { tenants: [record], etags: { newco: '"e1"' } } };
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => patched.push({ url: `${req.method} ${req.url}`, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), key: req.headers['idempotency-key'] as string, ifMatch: req.headers['if-match'] as string }));
    return { status: 202, body: { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:c1', status: 'UPDATING' } };
  });

  it('sends PATCH { tags } with the Idempotency-Key and If-Match, and counts it (--detailed-exitcode 2)', async () => {
    const path = join(dir, 'tags-change.yaml');
    writeFileSync(path, 'tenants:\n  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example, tags: { CostCenter: "2" } }\n');
    const dry = await runTesseraInProcess(api.url, 'tenants', 'apply', '-f', path, '--dry-run', '--detailed-exitcode');
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(/update tags +newco +\{"CostCenter":"1"\} -> \{"CostCenter":"2"\}, Idempotency-Key apply-newco-/);
    expect(dry.stdout).toContain('exit 2 (--detailed-exitcode): changes pending: 0 to create, 0 to change tier, 1 to change tags');
    expect(patched).toEqual([]);
    const run = await runTesseraInProcess(api.url, 'tenants', 'apply', '-f', path, '--detailed-exitcode');
    expect([run.code, run.stderr]).toEqual([2, '']);
    expect(patched).toEqual([{ url: 'PATCH /v1/admin/tenants/newco', body: { tags: { CostCenter: '2' } }, key: expect.stringMatching(/^apply-newco-/), ifMatch: '"e1"' }]);
    expect(run.stdout).toContain('newco: tags change started');
    expect(run.stdout).toContain('changed: 0 onboarding(s), 0 tier change(s), 1 tags change(s) started');
  });
});

describe('tessera tenants show: tags', () => {
  const record = (tags?: Record<string, string>): TenantRecord => ({
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ada@acme.example.com', requestId: 'req-acme-0001',
    status: 'ACTIVE', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...(tags ? { tags } : {}),
  } as TenantRecord);
  const line = (t: TenantRecord) => tenantDetails(t).split('\n').find((l) => l.startsWith('tags'));
  it('prints them in key order, "-" for none', () => {
    expect(line(record({ Owner: 'team-x', CostCenter: '4711' }))).toBe('tags        CostCenter=4711, Owner=team-x');
    expect(line(record())).toBe('tags        -');
  });
});
