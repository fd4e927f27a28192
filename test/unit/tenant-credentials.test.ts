import { GetItemCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidTenantIdError, TenantCredentials, tenantDocumentClient } from '../../lambdas/shared/tenant-credentials.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ROLE = 'arn:aws:iam::222222222222:role/tessera-tenant-data';
let clock = Date.parse('2026-11-30T12:00:00Z');
const now = () => clock;
let issued = 0;

/** STS answers each AssumeRole with fresh credentials valid for the asked duration (from the test clock). */
function answerAssumeRole(delayMs = 0) {
  sts.on(AssumeRoleCommand).callsFake(async (input: { DurationSeconds: number }) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    issued += 1;
    return { Credentials: { AccessKeyId: `ASIA${issued}`, SecretAccessKey: 'secret', SessionToken: `token-${issued}`, Expiration: new Date(clock + input.DurationSeconds * 1000) } };
  });
}

beforeEach(() => {
  sts.reset();
  issued = 0;
  clock = Date.parse('2026-11-30T12:00:00Z');
});

describe('tenant-scoped credentials (the tenant-data role, tagged with the tenant)', () => {
  it('assumes the role once per tenant, with the tenant as the tessera:tenant-id session tag and nothing transitive', async () => {
    answerAssumeRole();
    const creds = new TenantCredentials({ roleArn: ROLE, sessionPrefix: 'gateway', now });
    const acme = await creds.credentials('acme');
    expect(await creds.credentials('acme')).toBe(acme);
    const other = await creds.credentials('acme-2');
    expect(other.accessKeyId).not.toBe(acme.accessKeyId);
    const calls = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'gateway-acme', DurationSeconds: 3600, Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }], SourceIdentity: undefined },
      { RoleArn: ROLE, RoleSessionName: 'gateway-acme-2', DurationSeconds: 3600, Tags: [{ Key: 'tessera:tenant-id', Value: 'acme-2' }], SourceIdentity: undefined },
    ]);
    expect(calls.every((c) => !('TransitiveTagKeys' in c) || c.TransitiveTagKeys === undefined)).toBe(true);
  });

  it('keeps a session until five minutes before it expires, then assumes a new one', async () => {
    answerAssumeRole();
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    const first = await creds.credentials('acme');
    clock += 54 * 60_000; // 6 minutes left
    expect(await creds.credentials('acme')).toBe(first);
    clock += 60_000 + 1; // under 5 minutes left
    const second = await creds.credentials('acme');
    expect(second.sessionToken).toBe('token-2');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('keeps at most maxSessions sessions (least recently used dropped first): tsk_ keys with random tenant prefixes cannot grow memory', async () => {
    // A key's tenant prefix is the unauthenticated caller's text: each new one costs a session (about
    // 39 KiB with its document client). Unbounded, 5,000 such requests kept 193 MiB for 55 minutes.
    answerAssumeRole();
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    const docs = tenantDocumentClient(creds);
    await docs('acme');
    for (let i = 0; i < 1_500; i++) {
      await docs(`t${i.toString(36).padStart(3, 'a')}x`);
      if (i % 100 === 0) await docs('acme'); // kept in use: never the least recently used
    }
    expect(creds.size).toBe(1_000);
    const before = sts.commandCalls(AssumeRoleCommand).length;
    await docs('acme');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(before);
    await docs('taaax'); // the first random one: dropped, assumed again
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(before + 1);
    const small = new TenantCredentials({ roleArn: ROLE, now, maxSessions: 2 });
    for (const t of ['acme', 'globex', 'initech']) await small.credentials(t);
    expect(small.size).toBe(2);
  });

  it('coalesces concurrent first calls for a tenant into one AssumeRole', async () => {
    answerAssumeRole(20);
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    const all = await Promise.all([...Array.from({ length: 25 }, () => creds.credentials('acme')), creds.credentials('globex'), creds.credentials('globex')]);
    expect(new Set(all.slice(0, 25).map((c) => c.sessionToken)).size).toBe(1);
    expect(all[25]).toBe(all[26]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('does not cache a failed AssumeRole: the next call tries again', async () => {
    let attempts = 0;
    const creds = new TenantCredentials({
      roleArn: ROLE, now,
      assume: async () => {
        attempts += 1;
        if (attempts === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        return { accessKeyId: 'ASIA2', secretAccessKey: 's', sessionToken: 'token-2', expiration: new Date(clock + 3600_000) };
      },
    });
    await expect(creds.credentials('acme')).rejects.toThrow(/Rate exceeded/);
    expect((await creds.credentials('acme')).sessionToken).toBe('token-2');
    expect(attempts).toBe(2);
  });

  it('renews a session at its renewal instant (expiry minus refreshMarginMs), to the millisecond', async () => {
    answerAssumeRole();
    const creds = new TenantCredentials({ roleArn: ROLE, now, durationSeconds: 900, refreshMarginMs: 60_000 });
    const renewAt = clock + 900_000 - 60_000;
    await creds.credentials('acme');
    clock = renewAt - 1;
    expect((await creds.credentials('acme')).sessionToken).toBe('token-1');
    clock = renewAt;
    expect((await creds.credentials('acme')).sessionToken).toBe('token-2');
    expect((await creds.credentials('acme')).sessionToken).toBe('token-2');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('never reuses a session whose credentials expire within refreshMarginMs (each call assumes again)', async () => {
    let n = 0;
    const creds = new TenantCredentials({ roleArn: ROLE, now, refreshMarginMs: 300_000, assume: async () => ({ accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: `token-${++n}`, expiration: new Date(clock + 300_000) }) });
    expect((await creds.credentials('acme')).sessionToken).toBe('token-1');
    expect((await creds.credentials('acme')).sessionToken).toBe('token-2');
  });

  it('never reuses a session whose Expiration is not a date (an Invalid Date: each call assumes again, as when its renewal is due)', async () => {
    sts.on(AssumeRoleCommand).callsFake(async () => {
      issued += 1;
      return { Credentials: { AccessKeyId: `ASIA${issued}`, SecretAccessKey: 'secret', SessionToken: `token-${issued}`, Expiration: new Date('not a date') } };
    });
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    expect((await creds.credentials('acme')).sessionToken).toBe('token-1');
    clock += 3_600_000; // an hour on: whatever the session's real expiry was, it is past
    expect((await creds.credentials('acme')).sessionToken).toBe('token-2');
  });

  it('answers the callers of an AssumeRole whose place was taken while in flight (uncached), and refused ids take no place', async () => {
    let release: (() => void) | undefined;
    const creds = new TenantCredentials({
      roleArn: ROLE, now, maxSessions: 1,
      assume: async ({ tenantId }) => {
        if (tenantId === 'slow') await new Promise<void>((r) => { release = r; });
        return { accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: `token-${tenantId}`, expiration: new Date(clock + 3600_000) };
      },
    });
    const slow = creds.credentials('slow');
    await vi.waitFor(() => expect(release).toBeDefined());
    expect((await creds.credentials('acme')).sessionToken).toBe('token-acme'); // takes the only place
    release!();
    expect((await slow).sessionToken).toBe('token-slow');
    await expect(creds.credentials('Not-A-Tenant')).rejects.toBeInstanceOf(InvalidTenantIdError);
    expect(creds.size).toBe(1);
  });

  it('refuses a maxSessions that is not a positive integer, naming it', () => {
    expect(() => new TenantCredentials({ roleArn: ROLE, maxSessions: 0 })).toThrow(new RangeError('maxSessions must be a positive integer, got 0'));
  });

  it('never asks STS for an id that is not a tenant id', async () => {
    answerAssumeRole();
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    for (const bad of ['Acme', 'ac', 'acme--x', 'acme/x', 'acme#x', `a${'b'.repeat(24)}`]) await expect(creds.credentials(bad)).rejects.toBeInstanceOf(InvalidTenantIdError);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('gives one client per tenant and session, signed with that tenant\'s session', async () => {
    answerAssumeRole();
    const ddb = mockStrict(DynamoDBClient, 'dynamodb', DynamoDBServiceException);
    ddb.on(GetItemCommand).resolves({});
    const creds = new TenantCredentials({ roleArn: ROLE, now });
    const docFor = tenantDocumentClient(creds);
    const a = await docFor('acme');
    expect(await docFor('acme')).toBe(a);
    expect(await docFor('globex')).not.toBe(a);
    expect(await a.config.credentials()).toMatchObject({ accessKeyId: 'ASIA1', sessionToken: 'token-1' });
    clock += 56 * 60_000;
    const renewed = await docFor('acme');
    expect(renewed).not.toBe(a);
    expect(await renewed.config.credentials()).toMatchObject({ sessionToken: 'token-3' });
    ddb.restore();
  });
});
