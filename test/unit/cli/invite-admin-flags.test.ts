import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tenantDetails } from '../../../lib/cli/format.js';
import { entryRequestId } from '../../../lib/cli/tenants-apply-command.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * The tenant's first admin invited at onboarding. The CLI's side: `tenants create --invite-admin` /
 * `--no-invite-admin` (neither: the field is not sent, the platform's default applies), `inviteAdmin` in a
 * tenants.yaml entry, and `tenants show`'s line for the record's `adminInvite`. The admin API is served on loopback.
 */
const dir = tempDir('invite-admin-flags-');
/** Each POST's JSON body. */
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

describe('tessera tenants create: --invite-admin / --no-invite-admin', () => {
  it.each([
    [[], undefined],
    [['--invite-admin'], true],
    [['--no-invite-admin'], false],
  ])('%j sends inviteAdmin %s (absent: the platform decides)', async (flags, inviteAdmin) => {
    const out = await create(...flags);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(posted).toEqual([{ tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'ada@acme.example.com', requestId: 'req-acme-0001', ...(inviteAdmin === undefined ? {} : { inviteAdmin }) }]);
  });
});

describe('tessera tenants apply: inviteAdmin in an entry', () => {
  const NEWCO = { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'admin@newco.example' };

  it('sends it with the onboarding; an entry without it keeps the request id it had before the field existed', async () => {
    const path = join(dir, 't.yaml');
    writeFileSync(path, 'tenants:\n  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example, inviteAdmin: false }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(0);
    expect(posted).toEqual([{ ...NEWCO, inviteAdmin: false, requestId: entryRequestId({ ...NEWCO, inviteAdmin: false }) }]);
    // The id of the four fields, as apply derived it before inviteAdmin (a run after a lost answer must replay, not duplicate).
    const before = `apply-newco-${createHash('sha256').update(JSON.stringify(NEWCO)).digest('hex').slice(0, 12)}`;
    expect(entryRequestId(NEWCO)).toBe(before);
    expect(entryRequestId({ ...NEWCO, inviteAdmin: false })).not.toBe(before);
  });

  it('refuses a non-boolean, naming the entry and the field', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'tenants:\n  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example, inviteAdmin: "yes" }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/tenants\[0\]\.inviteAdmin/);
    expect(posted).toEqual([]);
  });
});

describe('tessera tenants show: the first admin\'s invitation', () => {
  const record = (adminInvite?: TenantRecord['adminInvite']): TenantRecord => ({
    tenantId: 'acme', name: 'Acme', tier: 'starter', isolation: 'vpc', adminEmail: 'ada@acme.example.com', requestId: 'req-acme-0001',
    status: 'ACTIVE', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...(adminInvite ? { adminInvite } : {}),
  } as TenantRecord);
  const line = (t: TenantRecord) => tenantDetails(t).split('\n').find((l) => l.startsWith('invite'));

  it('INVITED: the address, the user, who and when (found existing when it was there already)', () => {
    expect(line(record({ state: 'INVITED', email: 'ada@acme.example.com', userId: 'sub-ada', by: 'onboarding', at: '2026-12-03T06:04:00.000Z' })))
      .toBe('invite      INVITED ada@acme.example.com as admin (user sub-ada; by onboarding at 2026-12-03T06:04:00.000Z)');
    expect(line(record({ state: 'INVITED', email: 'ada@acme.example.com', userId: 'sub-ada', found: true, by: 'onboarding', at: '2026-12-03T06:04:00.000Z', eventError: 'ThrottlingException: x' })))
      .toBe('invite      INVITED ada@acme.example.com as admin (user sub-ada; found existing; by onboarding at 2026-12-03T06:04:00.000Z); Tenant User Created not sent: ThrottlingException: x');
  });

  it('FAILED and SKIPPED: the reason, which names what to run', () => {
    const reason = 'ada@acme.example.com is already a user of tenant "globex", and a user belongs to one tenant: …; tessera users invite --tenant acme --email <address> --role admin';
    expect(line(record({ state: 'FAILED', email: 'ada@acme.example.com', by: 'onboarding', at: 't', reason }))).toBe(`invite      FAILED ada@acme.example.com: ${reason}`);
    expect(line(record({ state: 'SKIPPED', email: 'ada@acme.example.com', by: 'onboarding', at: 't', reason: 'inviteAdmin is false' }))).toBe('invite      SKIPPED ada@acme.example.com: inviteAdmin is false');
  });

  it('no line for a tenant onboarded before the invitation was recorded', () => {
    expect(line(record())).toBeUndefined();
  });
});
