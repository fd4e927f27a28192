import { beforeEach, describe, expect, it } from 'vitest';
import { editedTags } from '../../../lib/cli/tag-edits.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * `tessera tenants update <id> --tag Key=Value --untag Key` (session 45): reads the tenant's tags (GET, with its ETag), sends the
 * whole new set as PATCH `tags` with If-Match that ETag. A refused flag is exit 2 before any call.
 */
const ETAG = '"miu2k1xs.4f1c0d2a9b8e7f60"';
const sent: Array<{ method: string; body?: unknown; ifMatch?: string; key?: string }> = [];
let recorded: Record<string, string> | undefined = { CostCenter: '4711', Owner: 'team-x' };
const admin = fakeAdminApi((req) => {
  if (req.method === 'GET') {
    sent.push({ method: 'GET' });
    return { status: 200, body: { tenantId: 'acme', tier: 'starter', isolation: 'vpc', status: 'ACTIVE', ...(recorded ? { tags: recorded } : {}) }, headers: { etag: ETAG } };
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => sent.push({ method: req.method!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), ifMatch: req.headers['if-match'] as string | undefined, key: req.headers['idempotency-key'] as string | undefined }));
  return { status: 202, body: { executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-1', status: 'UPDATING' } };
});

beforeEach(() => {
  sent.length = 0;
  recorded = { CostCenter: '4711', Owner: 'team-x' };
});

const update = (...flags: string[]) => runTesseraInProcess(admin.url, 'tenants', 'update', 'acme', '--request-id', 'tags-1', ...flags);

describe('tessera tenants update --tag / --untag', () => {
  it('sends the tenant\'s tags with --tag set and --untag removed, keys sorted, with If-Match the read\'s ETag', async () => {
    const out = await update('--tag', 'CostCenter=4712', '--tag', 'Project=llm', '--untag', 'Owner');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(sent).toEqual([{ method: 'GET' }, { method: 'PATCH', body: { tags: { CostCenter: '4712', Project: 'llm' } }, ifMatch: ETAG, key: 'tags-1' }]);
    expect(Object.keys((sent[1].body as { tags: object }).tags)).toEqual(['CostCenter', 'Project']);
  });

  it('removing the last tag sends {}; --untag of a key the tenant lacks removes nothing', async () => {
    recorded = { Owner: 'team-x' };
    expect((await update('--untag', 'Owner', '--untag', 'Nope')).code).toBe(0);
    expect(sent[1]).toMatchObject({ body: { tags: {} } });
  });

  // Found by a new user's trial (session 45): `--untag Nope` alone answered the admin API's `nothing to change: tags are
  // already {…}`, not that the tenant has no tag Nope; `--untag owner` for `Owner` the same.
  it('--untag of keys the tenant lacks, changing nothing: exit 1 naming them (a near key by case) and its tags, no PATCH', async () => {
    const out = await update('--untag', 'owner', '--untag', 'Nope');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('nothing to change: tenant acme has no tag "owner" (did you mean "Owner"? tag keys are case-sensitive), no tag "Nope" to remove; its tags: CostCenter=4711, Owner=team-x (tessera tenants show acme)');
    expect(sent).toEqual([{ method: 'GET' }]);
    recorded = undefined;
    const none = await update('--untag', 'Owner');
    expect(none.stderr).toContain('nothing to change: tenant acme has no tag "Owner" to remove; it has no tags');
    expect(none.code).toBe(1);
  });

  it('--untag of a key the tenant lacks beside a change that changes something, or with --tier: sent as before', async () => {
    expect((await update('--tag', 'CostCenter=4712', '--untag', 'Nope')).code).toBe(0);
    expect(sent[1]).toMatchObject({ body: { tags: { CostCenter: '4712', Owner: 'team-x' } } });
    sent.length = 0;
    expect((await update('--tier', 'professional', '--untag', 'Nope')).code).toBe(0);
    expect(sent[1]).toMatchObject({ body: { tier: 'professional', tags: { CostCenter: '4711', Owner: 'team-x' } } });
  });

  it('without --tag / --untag: no GET and no tags field (a tier change as before)', async () => {
    expect((await update('--tier', 'starter')).code).toBe(0);
    expect(sent).toEqual([{ method: 'PATCH', body: { tier: 'starter' }, key: 'tags-1' }]);
  });

  it.each([
    [['--tag', 'CostCenter'], '--tag "CostCenter": must be Key=Value'],
    [['--tag', 'aws:x=1'], '--tag "aws:x=1": key "aws:x" is reserved'],
    [['--tag', 'A=1', '--untag', 'A'], '--untag "A": the same key is given to --tag "A=1"; give one of the two'],
    [['--tag', 'A=1', '--repair'], '--repair re-applies the current tier and version; it does not go with --tier, --blueprint-version, --tag or --untag'],
  ])('%j: exit 2 naming the flag, nothing called', async (flags, message) => {
    const out = await update(...flags);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
    expect(sent).toEqual([]);
  });

  it('a set past AWS\'s rules with the tenant\'s own tags: exit 2 after the read, nothing changed', async () => {
    recorded = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']));
    const out = await update('--tag', 'one=more');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--tag (41 tags after the change): must have at most 40 tags, has 41');
    expect(sent).toEqual([{ method: 'GET' }]);
  });
});

describe('editedTags', () => {
  it('names a key differing only in case from a recorded one by its --tag', () => {
    expect(() => editedTags({ CostCenter: '1' }, ['costcenter=2'], undefined)).toThrow(/--tag "costcenter=2": key "costcenter" differs from key "CostCenter" only in case/);
    expect(editedTags({ B: '2', A: '1' }, undefined, undefined)).toBeUndefined();
  });
});
