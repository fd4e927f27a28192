import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { changeKey, entryRequestId, readTenantsFile } from '../../../lib/cli/tenants-apply-command.js';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { tempDir } from '../../support/temp-dirs.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * s23: tenants as code. `tessera tenants apply -f tenants.yaml [--dry-run]` plans against the registry (every page of
 * GET /admin/tenants), onboards the missing tenants with a request id derived from the entry, changes the tier of
 * those whose tier differs with a derived Idempotency-Key, reports drift and the tenants the file leaves out (never
 * offboarded). The admin API is served on loopback with its answers (lambdas/admin/admin-api.ts).
 */
const dir = tempDir('tenants-apply-');
const ARN = (id: string) => `arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:onboard-${id}-mx7mvqcv-b1070bea`;
const record = (tenantId: string, tier: string, status = 'ACTIVE', extra: Record<string, unknown> = {}) => ({
  tenantId, name: `${tenantId} name`, tier, adminEmail: `ops@${tenantId}.example`, status, isolation: 'vpc', requestId: `cli-${tenantId}-req`,
  createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', stackOutputs: {},
  executions: [{ kind: 'onboard', requestId: `cli-${tenantId}-req`, executionArn: ARN(tenantId), startedAt: '2026-12-01T00:00:00.000Z', endedAt: '2026-12-01T00:05:00.000Z', status: 'SUCCEEDED' }],
  ...extra,
});

/** The registry's two pages (GET /admin/tenants, the second by nextToken p2). */
let pages: { first: unknown[]; second: unknown[] } = { first: [], second: [] };
/** The platform's tiers (GET /admin/tiers). */
const TIERS = { tiers: [{ name: 'starter', isolation: 'vpc', drRegion: null }, { name: 'pro', isolation: 'vpc', drRegion: null }, { name: 'enterprise', isolation: 'account', drRegion: 'us-west-2' }] };
let tiersAnswer: { status: number; body: unknown } = { status: 200, body: TIERS };
/** Answers of POST and PATCH by tenant id (default 202 with an execution). */
let answers: Record<string, { status: number; body: unknown }> = {};
/** Each POST and PATCH: its path, Idempotency-Key, If-Match and JSON body. */
const sent: Array<{ call: string; key?: string; ifMatch?: string; body: Record<string, unknown> }> = [];
/** Whether the list answers each record's ETag (`etags`, s42), as an admin API deployed since 2026-12-06 does. */
let withEtags = true;
const etagsOf = (page: unknown[]) => (withEtags ? { etags: Object.fromEntries((page as Array<{ tenantId: string }>).map((t) => [t.tenantId, `"etag-${t.tenantId}"`])) } : {});
const admin = fakeAdminApi((req) => {
  if (req.method === 'GET') {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/v1/admin/tiers') return tiersAnswer;
    return url.searchParams.get('nextToken') === 'p2' ? { status: 200, body: { tenants: pages.second, ...etagsOf(pages.second) } } : { status: 200, body: { tenants: pages.first, ...etagsOf(pages.first), nextToken: 'p2' } };
  }
  const item = { call: `${req.method} ${req.url}`, key: req.headers['idempotency-key'] as string | undefined, ifMatch: req.headers['if-match'] as string | undefined, body: {} as Record<string, unknown> };
  sent.push(item);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { item.body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}; });
  const id = req.method === 'POST' ? 'POST' : decodeURIComponent(req.url!.split('/').pop()!);
  return answers[id] ?? { status: 202, body: { executionArn: ARN(id === 'POST' ? 'new' : id), status: 'REQUESTED' } };
});
const { calls } = admin;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

beforeEach(() => {
  calls.length = 0;
  sent.length = 0;
  answers = {};
  withEtags = true;
  tiersAnswer = { status: 200, body: TIERS };
  // acme: same tier, other name (drift); beta: starter -> pro; gone: not in the file; old: OFFBOARDED, not in the file
  pages = {
    first: [record('acme', 'starter', 'ACTIVE', { name: 'Acme Old Name' }), record('gone', 'starter')],
    second: [record('beta', 'starter'), record('old', 'pro', 'OFFBOARDED')],
  };
});

const YAML = `tenants:
  - { tenantId: acme, name: Acme Corp, tier: starter, adminEmail: ops@acme.example }
  - tenantId: beta
    name: beta name
    tier: pro
    adminEmail: ops@beta.example
  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example }
`;
const NEWCO = { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'admin@newco.example' };

describe('tessera tenants apply: the plan', () => {
  it('--dry-run lists every page, prints create / update tier / unchanged / drift / not in file, and sends no POST or PATCH', async () => {
    const path = file('t.yaml', YAML);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(calls).toEqual(['GET /v1/admin/tenants', 'GET /v1/admin/tenants?nextToken=p2', 'GET /v1/admin/tiers']);
    const beta = changeKey({ tenantId: 'beta', name: 'beta name', tier: 'pro', adminEmail: 'ops@beta.example' }, record('beta', 'starter') as never);
    expect(out.stdout).toBe([
      `plan of ${path}:`,
      '  unchanged    acme   tier starter (ACTIVE)',
      '  drift        acme   name: file "Acme Corp", registry "Acme Old Name" (apply does not change it on an existing tenant)',
      `  update tier  beta   starter -> pro, Idempotency-Key ${beta}`,
      `  create       newco  tier starter, request ${entryRequestId(NEWCO)}`,
      '  not in file  gone   tier starter (ACTIVE): reported only; apply never offboards',
      '1 to create, 1 to change tier, 0 to change tags, 1 unchanged, 0 cannot be applied, 1 not in the file (never offboarded by apply)',
      'dry run: nothing changed',
      '',
    ].join('\n'));
  });

  it('applies: POST with the derived requestId, PATCH { tier } with the derived Idempotency-Key; never a DELETE', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML));
    expect(out.code).toBe(0);
    expect(sent.map((s) => s.call)).toEqual(['PATCH /v1/admin/tenants/beta', 'POST /v1/admin/tenants']);
    expect(sent[0]!.body).toEqual({ tier: 'pro' });
    expect(sent[0]!.key).toMatch(/^apply-beta-[0-9a-f]{12}$/);
    expect(sent[1]!.body).toEqual({ ...NEWCO, requestId: entryRequestId(NEWCO) });
    expect(entryRequestId(NEWCO)).toMatch(/^apply-newco-[0-9a-f]{12}$/);
    expect(out.stdout).toContain(`beta: tier change started, execution ${ARN('beta')}\nnewco: onboarding started, execution ${ARN('new')}\n2 of 2 actions done`);
    // The same file again (say after a lost answer): the same request id and key, so the API replays instead of duplicating.
    const first = sent.map((s) => [s.key, s.body.requestId]);
    sent.length = 0;
    await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML));
    expect(sent.map((s) => [s.key, s.body.requestId])).toEqual(first);
    // The key does not depend on the file's key order or layout.
    sent.length = 0;
    await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.json', JSON.stringify({ tenants: [{ adminEmail: NEWCO.adminEmail, tier: 'starter', name: 'New Co', tenantId: 'newco' }] })));
    expect(sent.find((s) => s.call.startsWith('POST'))!.body.requestId).toBe(entryRequestId(NEWCO));
  });

  it('s42: a tier change carries If-Match, the ETag the list gave of the record it was planned on; a 412 (the tenant changed since) is a failed action naming what changed, exit 1, the others run', async () => {
    answers = { beta: { status: 412, body: { error: { message: 'If-Match: "etag-beta" is stale: tenant "beta" has changed since that ETag; it is now tier "pro", blueprintVersion "1.0.0", status UPDATING', code: 'precondition_failed', type: 'conflict_error', param: 'If-Match' } } } };
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML));
    expect([out.code, out.stderr]).toEqual([1, '']);
    expect(sent.map((s) => [s.call, s.ifMatch])).toEqual([['PATCH /v1/admin/tenants/beta', '"etag-beta"'], ['POST /v1/admin/tenants', undefined]]);
    expect(out.stdout).toContain('beta: tier change failed: 412 If-Match: "etag-beta" is stale: tenant "beta" has changed since that ETag; it is now tier "pro", blueprintVersion "1.0.0", status UPDATING (precondition_failed');
    expect(out.stdout).toContain('newco: onboarding started');
    const json = await runTesseraInProcess(admin.url, '--json', 'tenants', 'apply', '-f', file('t.yaml', YAML), '--dry-run');
    expect(JSON.parse(json.stdout).plan.find((s: { action: string }) => s.action === 'update tier')).toMatchObject({ entry: { tenantId: 'beta' }, ifMatch: '"etag-beta"' });
  });

  it('s42: an admin API whose list gives no ETags (deployed before 2026-12-06): the tier change is sent without If-Match, and stderr says the plan is not guarded', async () => {
    withEtags = false;
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML));
    expect(out.code).toBe(0);
    expect(sent.map((s) => s.ifMatch)).toEqual([undefined, undefined]);
    expect(out.stderr).toBe('note: the admin API gave no ETag of beta (deployed before 2026-12-06): the tier change is sent without If-Match, and a change made by someone else since this plan is not detected\n');
  });

  it('a changed entry gets another requestId; a tier change after an ended one gets another key', () => {
    expect(entryRequestId({ ...NEWCO, tier: 'pro' })).not.toBe(entryRequestId(NEWCO));
    const entry = { tenantId: 'beta', name: 'beta name', tier: 'pro', adminEmail: 'ops@beta.example' };
    const before = record('beta', 'starter') as never;
    const running = record('beta', 'starter', 'UPDATING', { executions: [...(record('beta', 'starter').executions), { kind: 'change', requestId: 'k', startedAt: 'x', status: 'RUNNING' }] }) as never;
    const failed = record('beta', 'starter', 'ACTIVE', { executions: [...(record('beta', 'starter').executions), { kind: 'change', requestId: 'k', executionArn: 'arn:f', startedAt: 'x', status: 'FAILED' }] }) as never;
    expect(changeKey(entry, running)).toBe(changeKey(entry, before));
    expect(changeKey(entry, failed)).not.toBe(changeKey(entry, before));
  });

  it('keeps going after a failed action, prints the 409 reason, exits 1', async () => {
    answers = { beta: { status: 409, body: { error: { message: 'tenant "beta" is busy: a suspend is running', code: 'operation_in_progress', type: 'conflict_error' } } } };
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML));
    expect(out.code).toBe(1);
    expect(sent.map((s) => s.call)).toEqual(['PATCH /v1/admin/tenants/beta', 'POST /v1/admin/tenants']);
    expect(out.stdout).toContain('beta: tier change failed: 409 tenant "beta" is busy: a suspend is running (operation_in_progress)\nnewco: onboarding started');
    expect(out.stdout).toContain('1 of 2 actions done, 1 failed');
  });

  it('s42i: when no action started (every one failed, as a 412 on the only tier change), the last line says nothing was started, not to follow each', async () => {
    answers = { beta: { status: 412, body: { error: { message: 'If-Match: "etag-beta" is stale: tenant "beta" has changed since that ETag; it is now tier "starter", blueprintVersion "1.0.0", status SUSPENDED', code: 'precondition_failed', type: 'conflict_error', param: 'If-Match' } } } };
    const only = file('beta.yaml', 'tenants:\n  - { tenantId: beta, name: beta name, tier: pro, adminEmail: ops@beta.example }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', only);
    expect(out.code).toBe(1);
    expect(out.stdout.trimEnd().split('\n').at(-1)).toBe('0 of 1 actions done, 1 failed; nothing was started: see each failure above, then run apply again to plan on what the registry is now');
  });

  it('an OFFBOARDED id in the file cannot be onboarded again (the API registers an id once): reported, not sent, exit 1', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('o.yaml', 'tenants:\n  - { tenantId: old, name: old name, tier: pro, adminEmail: ops@old.example }\n'));
    expect(out.code).toBe(1);
    expect(sent).toEqual([]);
    expect(out.stdout).toMatch(/ {2}cannot {7}old {3}tenant old is OFFBOARDED and a tenant id is registered once/);
    expect(out.stdout).toContain('old: not applied: tenant old is OFFBOARDED');
  });
});

describe('tessera tenants apply: an invalid file calls nothing (exit 2)', () => {
  it('names the file, the entry index, the field and the value of each problem', async () => {
    const bad = file('bad.yaml', `tenants:
  - { tenantId: acme, name: Acme, tier: starter, adminEmail: ops@acme.example }
  - { tenantId: Beta, name: Beta, tier: starter, adminEmail: ops@beta.example }
  - { tenantId: gamma, name: Gamma, tier: "", adminEmail: not-an-email }
  - { tenantId: acme, name: Acme again, tier: pro, adminEmail: ops@acme.example, requestId: abcdefgh1 }
`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', bad, '--dry-run');
    expect(out.code).toBe(2);
    // Read-only: the registry and the tiers, to check the valid entry's tier in the same run (s24).
    expect(calls).toEqual(['GET /v1/admin/tenants', 'GET /v1/admin/tenants?nextToken=p2', 'GET /v1/admin/tiers']);
    expect(sent).toEqual([]);
    expect(out.stderr).toContain('5 problems; nothing was applied');
    expect(out.stderr).toContain('bad.yaml: tenants[1].tenantId = "Beta": must be a lower-case DNS label');
    expect(out.stderr).toContain('bad.yaml: tenants[2].tier = "": ');
    expect(out.stderr).toContain('bad.yaml: tenants[2].adminEmail = "not-an-email": ');
    expect(out.stderr).toContain('bad.yaml: tenants[3].requestId: unknown field');
    expect(out.stderr).toContain('bad.yaml: tenants[3].tenantId = "acme": given twice (also tenants[0])');
  });

  it('refuses a tenant id given twice, a file without tenants, and YAML that does not parse', async () => {
    const dup = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('dup.yaml', 'tenants:\n  - { tenantId: acme, name: A, tier: starter, adminEmail: a@acme.example }\n  - { tenantId: acme, name: B, tier: pro, adminEmail: b@acme.example }\n'));
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('dup.yaml: tenants[1].tenantId = "acme": given twice (also tenants[0])');
    expect(calls.every((c) => c.startsWith('GET '))).toBe(true); // the tiers of its entries are checked in the same run
    calls.length = 0;
    expect((await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('none.yaml', 'tenants: 3\n'))).stderr).toContain('none.yaml: expected an object with a list `tenants` (tenants: [{ tenantId, name, tier, adminEmail }]), got 3 for tenants');
    expect((await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('broken.yaml', 'tenants: [ { tenantId: acme\n'))).stderr).toContain('broken.yaml: not valid YAML or JSON');
    expect(calls).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe('tessera tenants apply --help', () => {
  it('says what the file holds and what apply never does', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '--help');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('-f, --file <tenants.yaml>');
    expect(out.stdout).toContain('--dry-run');
    expect(out.stdout).toContain('not in file (reported only: apply never offboards)');
    expect(calls).toEqual([]);
  });
});

/**
 * s24: what was left of apply. Its errors with --json printed text only; messages named the file by its base name; a tier
 * the platform lacks was refused by the API per entry, after the entries before it had been applied.
 */
describe('tessera tenants apply: the platform\'s tiers are checked before anything changes (GET /admin/tiers)', () => {
  it('an unknown tier, a tenant id that is a tier\'s name: exit 2, nothing sent; an account tier\'s admin email over 64 characters is no problem', async () => {
    const path = file('tiers.yaml', `tenants:
  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example }
  - { tenantId: beta, name: beta name, tier: gold, adminEmail: ops@beta.example }
  - { tenantId: pro, name: Pro Co, tier: starter, adminEmail: ops@pro.example }
  - { tenantId: bigco, name: Big Co, tier: enterprise, adminEmail: ${'x'.repeat(60)}@bigco.example }
`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(2);
    expect(sent).toEqual([]);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe([
      // bigco's 74-character adminEmail is not its account's root email (organization.accountEmail's is): not refused
      'error: 2 problems; nothing was applied:',
      `  - ${path}: tenants[1].tier = "gold": does not exist (tiers: starter, pro, enterprise)`,
      `  - ${path}: tenants[2].tenantId = "pro": is reserved: it would name the stack tessera-pro, the name of that tier's OU and usage plan`,
      '',
    ].join('\n'));
  });

  // The first admin is a Cognito user with Username = adminEmail (AdminCreateUser: 1-128 characters): the API refuses such an
  // address with 400 when the onboarding invites it, but apply checked only CreateAccount's rule, so the entries before it
  // were applied first. GET /admin/tiers says whether an onboarding leaving inviteAdmin out invites (invitesAdmin).
  it('a tenant to create whose invited first admin Cognito cannot take (129 characters): exit 2 naming the entry and adminEmail, nothing sent', async () => {
    // Its length in the domain: a local part over 64 characters is refused first (RFC 5321 §4.5.3.1.1: OnboardRequest's AdminEmail).
    const long = `ops@${'x'.repeat(129 - 'ops@.newco.example'.length)}.newco.example`;
    const path = file('invite.yaml', `tenants:
  - { tenantId: acme, name: Acme Corp, tier: starter, adminEmail: ops@acme.example }
  - { tenantId: newco, name: New Co, tier: starter, adminEmail: ${long} }
  - { tenantId: quiet, name: Quiet Co, tier: starter, adminEmail: ${long.replace('newco', 'quiet')}, inviteAdmin: false }
`);
    tiersAnswer = { status: 200, body: { ...TIERS, invitesAdmin: true } };
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect([out.code, out.stdout, sent]).toEqual([2, '', []]);
    expect(out.stderr).toBe(`error: ${path}: tenants[1].adminEmail = "${long.slice(0, 97)}..." (129 characters): a user's email is its Cognito username, and Cognito AdminCreateUser takes a Username of 1-128 characters; the onboarding invites adminEmail as the tenant's first admin: give an address Cognito takes, or set inviteAdmin to false\n`);
    // a platform without a pool (invitesAdmin false) invites no one: the same file is applied
    tiersAnswer = { status: 200, body: { ...TIERS, invitesAdmin: false } };
    const applied = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(applied.code).toBe(0);
  });

  // A tier was checked only for entries without another problem, so a misspelt tier beside a bad email (or a bad
  // id) came out on the next run, after the first fix: the docs' "one run" did not hold for that entry.
  it('the tier of an entry refused for another field is checked in the same run as the other entries\' tiers', async () => {
    pages = { first: [record('acme', 'starter')], second: [] };
    const mixed = file('mixed.yaml', `tenants:
  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example }
  - { tenantId: Beta, name: Beta Ltd, tier: startr, adminEmail: not-an-email }
  - { tenantId: acme, name: acme name, tier: starter, adminEmail: nope }
  - { tenantId: gamma, name: Gamma, tier: 7, adminEmail: ops@gamma.example }
`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', mixed, '--dry-run');
    expect([out.code, out.stdout, sent]).toEqual([2, '', []]);
    expect(out.stderr).toBe([
      'error: 5 problems; nothing was applied:',
      `  - ${mixed}: tenants[1].tenantId = "Beta": must be a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter, ending with a letter or digit, without two hyphens in a row`,
      // session 45: what the field takes, not zod's `Invalid email address` and `Invalid input: expected string, received number`.
      `  - ${mixed}: tenants[1].adminEmail = "not-an-email": must be an email address (name@example.com)`,
      `  - ${mixed}: tenants[2].adminEmail = "nope": must be an email address (name@example.com)`,
      `  - ${mixed}: tenants[3].tier = 7 (YAML reads it as 7; quote it for the text: "7"): must be a string, not a number`,
      // Entries 0 and 2 name tiers the platform has; entry 3's tier is said once, by the schema.
      `  - ${mixed}: tenants[1].tier = "startr": does not exist (did you mean starter?) (tiers: starter, pro, enterprise)`,
      '',
    ].join('\n'));
  });

  it('a tier change to another isolation or DR region cannot be applied (the API refuses it): reported, not sent; the others run', async () => {
    pages = {
      first: [record('acme', 'starter'), record('drco', 'enterprise', 'ACTIVE', { isolation: 'account', disasterRecovery: { region: 'eu-west-1', stackName: 'tessera-drco-dr', status: 'ACTIVE' } })],
      second: [],
    };
    tiersAnswer = { status: 200, body: { tiers: [...TIERS.tiers, { name: 'dr-eu', isolation: 'account', drRegion: 'eu-west-1' }, { name: 'dr-us', isolation: 'account', drRegion: 'us-east-2' }] } };
    const path = file('iso.yaml', `tenants:
  - { tenantId: acme, name: acme name, tier: enterprise, adminEmail: ops@acme.example }
  - { tenantId: drco, name: drco name, tier: dr-us, adminEmail: ops@drco.example }
  - { tenantId: newco, name: New Co, tier: starter, adminEmail: admin@newco.example }
`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(1);
    expect(sent.map((s) => s.call)).toEqual(['POST /v1/admin/tenants']);
    expect(out.stdout).toContain('acme: not applied: tier starter -> enterprise: tier "enterprise" isolates by account, tenant acme by vpc; changing isolation is a migration (offboard and onboard), not a tier change');
    expect(out.stdout).toContain('drco: not applied: tier enterprise -> dr-us: tier = "dr-us": its DR region is us-east-2, but tenant drco\'s DR stack tessera-drco-dr is in eu-west-1 (ACTIVE)');
  });

  it('an admin API deployed before GET /admin/tiers (404 no_route, or API Gateway\'s 403 Missing Authentication Token): said, and apply goes on as before', async () => {
    for (const answer of [
      { status: 404, body: { error: { message: 'no route GET /admin/tiers', type: 'not_found_error', code: 'no_route' } } },
      { status: 403, body: { message: 'Missing Authentication Token' } },
    ]) {
      tiersAnswer = answer;
      const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('t.yaml', YAML), '--dry-run');
      expect(out.code).toBe(0);
      expect(out.stderr).toBe('note: the admin API has no GET /admin/tiers (deployed before it): the file\'s tiers are checked by the API as each entry is applied\n');
      expect(out.stdout).toContain('  create       newco  tier starter');
    }
  });
});

describe('tessera tenants apply: messages name the file as given', () => {
  it('the path given with -f, not its base name (two tenants.yaml of two directories)', async () => {
    mkdirSync(join(dir, 'staging'), { recursive: true });
    const path = file('staging/tenants.yaml', 'tenants:\n  - { tenantId: Acme, name: A, tier: starter, adminEmail: a@acme.example }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^error: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tenants\\[0\\]\\.tenantId = "Acme": `));
    const broken = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', file('staging/broken.yaml', 'tenants: [ {\n'));
    expect(broken.stderr).toContain(`error: ${join(dir, 'staging', 'broken.yaml')}: not valid YAML or JSON`);
  });
});

describe('tessera tenants apply --json: every error prints one JSON object on stdout (and the error as one JSON line on stderr, the exit code kept)', () => {
  const jsonOf = (stdout: string) => JSON.parse(stdout) as { dryRun: boolean; plan: unknown[]; results: unknown[]; error?: { message: string; exitCode: number; status?: number; code?: string; problems?: string[] } };

  it('an invalid file: error with its problems, exit 2', async () => {
    const path = file('bad-json.yaml', 'tenants:\n  - { tenantId: Acme, name: A, tier: starter, adminEmail: a@acme.example }\n  - { tenantId: bravo, name: B, tier: "", adminEmail: ops@bravo.example }\n');
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(2);
    const body = jsonOf(out.stdout);
    expect(body).toMatchObject({ dryRun: false, plan: [], results: [], error: { exitCode: 2 } });
    expect(body.error!.problems).toHaveLength(2);
    expect(body.error!.problems![0]).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tenants\\[0\\]\\.tenantId = "Acme": `));
    expect(JSON.parse(out.stderr)).toMatchObject({ error: { message: expect.stringMatching(/^2 problems; nothing was applied:\n/), type: 'usage_error', code: 'invalid_tenants_file', problems: body.error!.problems } });
    expect(calls).toEqual([]);
  });

  it('a file that is not there, an unknown tier, the admin API refusing the list: each one JSON object', async () => {
    const missing = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', join(dir, 'nope.yaml'), '--json', '--dry-run');
    expect(missing.code).toBe(2);
    expect(jsonOf(missing.stdout)).toEqual({ dryRun: true, plan: [], results: [], error: { message: `-f ${join(dir, 'nope.yaml')}: no such file`, exitCode: 2, problems: [`-f ${join(dir, 'nope.yaml')}: no such file`] } });

    const gold = await runTesseraInProcess(admin.url, 'tenants', 'apply', '--json', '-f', file('gold.yaml', 'tenants:\n  - { tenantId: newco, name: N, tier: gold, adminEmail: a@newco.example }\n'));
    expect(gold.code).toBe(2);
    expect(jsonOf(gold.stdout).error).toMatchObject({ exitCode: 2, problems: [expect.stringMatching(/tenants\[0\]\.tier = "gold": does not exist \(tiers: starter, pro, enterprise\)$/)] });

    pages = { first: [], second: [] };
    tiersAnswer = { status: 500, body: { error: { message: 'internal error; see the admin API logs', type: 'api_error', code: 'internal_error' } } };
    const down = await runTesseraInProcess(admin.url, 'tenants', 'apply', '--json', '-f', file('t.yaml', YAML));
    expect(down.code).toBe(1);
    expect(jsonOf(down.stdout)).toEqual({ dryRun: false, plan: [], results: [], error: { message: 'internal error; see the admin API logs (internal_error)', exitCode: 1, status: 500, code: 'internal_error' } });
    // stderr: the admin API's error body as it came, with the answer's HTTP status (lib/cli/json-error.ts).
    expect(JSON.parse(down.stderr)).toEqual({ error: { message: 'internal error; see the admin API logs', type: 'api_error', code: 'internal_error', status: 500 } });
    expect(sent).toEqual([]);
  });

  it('no admin API URL: one JSON object too', async () => {
    const saved = process.env.TESSERA_API_URL;
    const out = await runTesseraInProcess('', 'tenants', 'apply', '--json', '-f', file('t.yaml', YAML)).finally(() => { process.env.TESSERA_API_URL = saved; });
    expect(out.code).toBe(2);
    expect(jsonOf(out.stdout).error).toMatchObject({ exitCode: 2, message: expect.stringMatching(/^no admin API URL/) });
  });
});

describe('tessera tenants apply --help: how actions run', () => {
  it('says they run one at a time, in the file\'s order, without waiting for each execution', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '--help');
    expect(out.stdout.replace(/\s+/g, ' ')).toContain('Actions run one at a time, in the file\'s order: each starts its lifecycle execution and apply goes on without waiting for it to end');
  });
});

/**
 * A hostile or careless file. Bytes that are not UTF-8 were read as U+FFFD and sent in a name; a tag YAML could not
 * resolve (`!foo acme`, `!!js/function`) was dropped with a Node warning and its text taken; a value YAML 1.2 reads as a
 * number or null (`0123`, `~`) was shown converted (`= 123`); a YAML error named a line, not what was on it; an empty file
 * was "got null"; `-f -` was "no such file"; a file of any size (or a device that never ends) was read whole.
 */
describe('tessera tenants apply: hostile files are refused naming the file, the place and the value (exit 2, nothing called)', () => {
  const bytes = (name: string, data: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  it('bytes that are not UTF-8: the line, column and byte, not a U+FFFD sent as the name', async () => {
    const path = bytes('latin1.yaml', Buffer.concat([
      Buffer.from('tenants:\n  - { tenantId: cafe, name: Caf'), Buffer.from([0xe9]), Buffer.from(', tier: starter, adminEmail: ops@cafe.example }\n'),
    ]));
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`error: ${path}: line 2, column 32: byte 0xe9 is not UTF-8; save the file as UTF-8\n`);
    expect(calls).toEqual([]);
  });

  // Review: the first U+FFFD of the decoded text was taken for the bad byte; a U+FFFD written in the file (EF BF BD,
  // left by an editor that once decoded it with replacement) before it was named instead, at its place, as byte 0xef.
  it('bytes that are not UTF-8 after a U+FFFD written in the file: the bad byte and its place, not the U+FFFD\'s', async () => {
    const path = bytes('mixed.yaml', Buffer.concat([
      Buffer.from('tenants:\n  - { tenantId: acme, name: "A\uFFFD", tier: starter, adminEmail: ops@acme.example }\n  - { tenantId: cafe, name: Caf'),
      Buffer.from([0xe9]), Buffer.from(', tier: starter, adminEmail: ops@cafe.example }\n'),
    ]));
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`error: ${path}: line 3, column 32: byte 0xe9 is not UTF-8; save the file as UTF-8\n`);
    expect(calls).toEqual([]);
  });

  it('a tag YAML cannot resolve (!foo, !!js/function) is refused, not dropped with its text kept', async () => {
    const path = file('tags.yaml', 'tenants:\n  - { tenantId: !foo acme, name: A, tier: starter, adminEmail: a@acme.example }\n  - { tenantId: !!js/function beta, name: B, tier: starter, adminEmail: b@beta.example }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${path}: line 2, column 17: Unresolved tag: !foo (apply reads plain YAML: remove the tag): "- { tenantId: !foo acme, `);
    expect(out.stderr).toContain(`${path}: line 3, column 17: Unresolved tag: tag:yaml.org,2002:js/function (apply reads plain YAML: remove the tag)`);
    expect(out.stderr).not.toContain('YAMLWarning');
    expect(calls).toEqual([]);
  });

  it('a value YAML reads as a number or null is shown as written, with what YAML made of it', async () => {
    const path = file('types.yaml', 'tenants:\n  - { tenantId: 0123, name: ~, tier: starter, adminEmail: a@acme.example }\n');
    const out = await runTesseraInProcess(admin.url, '--json', 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    const { error } = JSON.parse(out.stdout) as { error: { problems: string[] } };
    expect(error.problems).toEqual([
      expect.stringMatching(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tenants\\[0\\]\\.tenantId = 0123 \\(YAML reads it as 123; quoted, "0123" is refused too: must be a lower-case DNS label of 3-24 characters \\(a-z, 0-9, -\\), starting with a letter, `)),
      expect.stringMatching(/: tenants\[0\]\.name = ~ \(YAML reads it as null; quote it for the text: "~"\): /),
    ]);
  });

  it('a YAML error names what is on its line: a key given twice, a second document; an alias bomb says so', async () => {
    const dup = file('dupkey.yaml', 'tenants:\n  - tenantId: acme\n    name: A\n    tier: starter\n    tenantId: acme2\n    adminEmail: a@acme.example\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', dup, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`error: ${dup}: not valid YAML or JSON: line 5, column 5: Map keys must be unique: "tenantId: acme2"\n`);
    const two = file('two-docs.yaml', 'tenants: []\n---\ntenants: []\n');
    expect((await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', two)).stderr).toBe(`error: ${two}: not valid YAML or JSON: line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments(): "---"\n`);
    const laughs = file('laughs.yaml', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\ntenants: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n');
    expect((await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', laughs)).stderr).toBe(`error: ${laughs}: not valid YAML or JSON: Excessive alias count indicates a resource exhaustion attack (aliases expand past the yaml package's maxAliasCount, 100: an alias bomb)\n`);
    expect(calls).toEqual([]);
  });

  it('an empty file says so', async () => {
    const path = file('empty.yaml', '# nothing yet\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`error: ${path}: the file is empty (it holds tenants: [{ tenantId, name, tier, adminEmail }])\n`);
  });

  it('a file over 16 MiB is refused before it is parsed', async () => {
    const path = file('huge.yaml', `tenants: []\n${'#'.repeat(16 * 1024 * 1024)}\n`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(`error: -f ${path}: larger than 16 MiB; a tenants file of 100,000 entries is far smaller\n`);
    expect(calls).toEqual([]);
  });

  it('-f - reads the standard input, named <stdin>', async () => {
    const stdin = Readable.from([Buffer.from('tenants:\n  - { tenantId: acme, name: A, tier: starter, adminEmail: a@acme.example }\n  - { tenantId: Beta')]);
    await expect(readTenantsFile('-', stdin)).rejects.toThrow('<stdin>: not valid YAML or JSON');
    expect(await readTenantsFile('-', Readable.from([Buffer.from('tenants:\n  - { tenantId: acme, name: A, tier: starter, adminEmail: a@acme.example }\n')])))
      .toEqual([{ tenantId: 'acme', name: 'A', tier: 'starter', adminEmail: 'a@acme.example' }]);
  });
});

describe('tessera tenants apply --dry-run --json: the same object as a run', () => {
  it('{ dryRun, plan, results } with results empty (the object of an error had it; this one did not)', async () => {
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '--json', '-f', file('t.yaml', YAML), '--dry-run');
    expect(out.code).toBe(0);
    const body = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['dryRun', 'plan', 'results']);
    expect(body).toMatchObject({ dryRun: true, results: [] });
    expect(sent).toEqual([]);
  });
});

/**
 * What a new user tripped on. A tier change between tiers whose tenant networks differ was planned as `update tier`
 * and refused by the API per entry (the README's own starter -> professional); problems came in two runs (the file's, then
 * the tiers'); a misspelt tier had no did-you-mean; `tenant:` for `tenants:` said "got missing for tenants"; --json named a
 * refused entry `blocked` where the text says `cannot`.
 */
describe('tessera tenants apply: what a new user tripped on', () => {
  const net = (tenantVpcPrefixLength: number, maxAzs = 2, internetEgress = false) => ({ tenantVpcPrefixLength, maxAzs, internetEgress });
  /** GET /admin/tiers as the admin API answers it now: each tier's network and compute mode, and the API's region. */
  const NET_TIERS = { region: 'us-east-1', tiers: [
    { name: 'starter', isolation: 'vpc', drRegion: null, network: net(22), computeMode: 'shared' },
    { name: 'pro', isolation: 'vpc', drRegion: null, network: net(22), computeMode: 'shared' },
    { name: 'professional', isolation: 'vpc', drRegion: null, network: net(20, 2, true), computeMode: 'shared' },
    { name: 'enterprise', isolation: 'account', drRegion: 'us-west-2', network: net(18, 3, true), computeMode: 'dedicated' },
  ] };

  it('a tier change to a tier of another tenant network is `cannot` with the admin API\'s reason (its migrationRefusal), in the text and in --json; nothing is sent for it', async () => {
    tiersAnswer = { status: 200, body: NET_TIERS };
    pages = { first: [record('acme', 'starter', 'ACTIVE', { vpcCidr: '10.64.4.0/22' }), record('beta', 'starter', 'ACTIVE', { vpcCidr: '10.64.8.0/22' })], second: [] };
    const path = file('net.yaml', `tenants:
  - { tenantId: acme, name: acme name, tier: pro, adminEmail: ops@acme.example }
  - { tenantId: beta, name: beta name, tier: professional, adminEmail: ops@beta.example }
`);
    const dry = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/\n {2}update tier {2}acme {2}starter -> pro, /);
    expect(dry.stdout).toContain('  cannot       beta  tier starter -> professional: tier = "professional": its tenant network differs from the tenant\'s in what the VPC and its subnets are cut from: '
      + 'network.tenantVpcPrefixLength is 20, tenant beta\'s 22 (its VPC 10.64.8.0/22); network.internetEgress is true, tenant beta\'s false.');
    expect(dry.stdout).toContain('(network_change)\n');
    expect(dry.stdout).toContain('0 to create, 1 to change tier, 0 to change tags, 0 unchanged, 1 cannot be applied');
    const run = await runTesseraInProcess(admin.url, '--json', 'tenants', 'apply', '-f', path);
    expect(run.code).toBe(1);
    expect(sent.map((s) => s.call)).toEqual(['PATCH /v1/admin/tenants/acme']);
    const body = JSON.parse(run.stdout) as { plan: Array<{ action: string }>; results: Array<{ tenantId: string; action: string; ok: boolean }> };
    // One word for it: the text's and the README's `cannot`.
    expect(body.plan.map((p) => p.action)).toEqual(['update tier', 'cannot']);
    expect(body.results.map((r) => [r.tenantId, r.action, r.ok])).toEqual([['acme', 'update tier', true], ['beta', 'cannot', false]]);
  });

  it('the file\'s problems and the tiers\' in one run, a misspelt tier with the nearest tier\'s name', async () => {
    tiersAnswer = { status: 200, body: NET_TIERS };
    const path = file('both.yaml', `tenants:
  - { tenantId: newco, name: New Co, tier: profesional, adminEmail: admin@newco.example }
  - { tenantId: Bad, name: Bad, tier: starter, adminEmail: ops@bad.example }
  - { tenantId: caseco, name: Case Co, tier: Starter, adminEmail: ops@caseco.example }
`);
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(sent).toEqual([]);
    expect(out.stderr).toBe([
      'error: 3 problems; nothing was applied:',
      `  - ${path}: tenants[1].tenantId = "Bad": must be a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter, ending with a letter or digit, without two hyphens in a row`,
      `  - ${path}: tenants[0].tier = "profesional": does not exist (did you mean professional?) (tiers: starter, pro, professional, enterprise)`,
      `  - ${path}: tenants[2].tier = "Starter": does not exist (did you mean starter?) (tiers: starter, pro, professional, enterprise)`,
      '',
    ].join('\n'));
  });

  // Found by a new user's trial (s40h): `tennantId` and `admin_email` were unknown fields without the field meant, and the
  // fields they left out read `= missing: Invalid input: expected string, received undefined`.
  it('a misspelt field of an entry names the field meant, and the field it left out is required', async () => {
    const path = file('fields.yaml', 'tenants:\n  - { tennantId: stark, name: Stark, tier: starter, admin_email: it@stark.example }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(sent).toEqual([]);
    const fields = '(an entry has tenantId, name, tier, adminEmail and optionally inviteAdmin and tags';
    expect(out.stderr).toBe([
      'error: 4 problems; nothing was applied:',
      `  - ${path}: tenants[0].tenantId = missing: is required ${fields})`,
      `  - ${path}: tenants[0].adminEmail = missing: is required ${fields})`,
      `  - ${path}: tenants[0].tennantId: unknown field (did you mean tenantId?) ${fields}; apply derives the requestId)`,
      `  - ${path}: tenants[0].admin_email: unknown field (did you mean adminEmail?) ${fields}; apply derives the requestId)`,
      '',
    ].join('\n'));
  });

  it('`tenant:` for `tenants:` says that tenants is missing and tenant is unknown, with the nearest key', async () => {
    const path = file('tenant.yaml', 'tenant:\n  - { tenantId: acme, name: A, tier: starter, adminEmail: a@acme.example }\n');
    const out = await runTesseraInProcess(admin.url, 'tenants', 'apply', '-f', path, '--dry-run');
    expect(out.code).toBe(2);
    expect(calls).toEqual([]);
    expect(out.stderr).toBe([
      'error: 2 problems; nothing was applied:',
      `  - ${path}: tenants: missing: the file holds a list \`tenants\` (tenants: [{ tenantId, name, tier, adminEmail }])`,
      `  - ${path}: tenant: unknown key (did you mean tenants?) (the file holds only \`tenants\`)`,
      '',
    ].join('\n'));
  });
});
