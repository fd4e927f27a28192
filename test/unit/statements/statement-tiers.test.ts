import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { writeMonthlyStatements } from '../../../lambdas/statements/monthly-statements.js';
import { tenantStatement, type StatementSources } from '../../../lambdas/statements/statement-sources.js';
import { statementLines } from '../../../lib/cli/tenant-statement-format.js';
import { monthBeforeTenant, tiersInMonth } from '../../../lib/statements/tenant-months.js';
import type { LifecycleExecution, TenantRecord } from '../../../lib/tenant-record.js';
import { digestChange } from '../../../lib/change-digest.js';
import { mockCostExplorer } from '../../support/cost-explorer-strict.js';
import { mockStrict } from '../../support/strict-mock.js';

// The registry the usage route reads the tenant from (tenantOr404).
const registry = vi.hoisted(() => ({ tenants: new Map<string, unknown>() }));
vi.mock('../../../lambdas/shared/registry.js', () => ({ getTenant: async (id: string) => registry.tenants.get(id), listTenants: async () => [...registry.tenants.values()] }));
const { usageRoutes } = await import('../../../lambdas/admin/usage-routes.js');

const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const eb = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const ce = mockCostExplorer();
afterEach(() => { s3.reset(); eb.reset(); ce.reset(); registry.tenants.clear(); });

/** A SUCCEEDED tier change ended at `endedAt`, as *Finish change* records it (tierChange) or as entries before it did (change.tier only). */
const change = (endedAt: string, to: string, from?: string): LifecycleExecution => ({
  kind: 'change', requestId: `r-${endedAt}`, executionArn: `arn:aws:states:us-east-1:111111111111:execution:tessera-change:${endedAt.slice(0, 10)}`,
  startedAt: endedAt, endedAt, status: 'SUCCEEDED', change: { tier: to }, ...(from ? { tierChange: { from, to } } : {}),
});
/** Moved from starter to professional on 20 November 2026 (10:00 UTC), onboarded in September. */
const acme = (): TenantRecord => localTenant('acme', 'professional', {
  createdAt: '2026-09-14T09:00:00.000Z',
  executions: [change('2026-11-20T10:00:00.000Z', 'professional', 'starter')],
});
const sources: StatementSources = {
  modelUsage: async () => [], usageBy: async () => ({ subjects: [], incomplete: false }), jobs: async () => [], costExplorer: new CostExplorerClient({ region: 'us-east-1' }),
};
/** A fixed clock: 3 December 2026, when the monthly job reports November. */
const NOW = new Date('2026-12-03T05:00:00Z');

describe('a statement labels its month with the tier(s) the tenant had then, not its tier today', () => {
  it('October (before the move) is starter; November names both, with the day; December is professional', () => {
    expect(tiersInMonth(acme(), '2026-10', NOW)).toEqual({ tier: 'starter', tiers: [{ tier: 'starter', from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' }], unrecorded: false });
    expect(tiersInMonth(acme(), '2026-11', NOW)).toEqual({
      tier: 'professional', unrecorded: false,
      tiers: [{ tier: 'starter', from: '2026-11-01T00:00:00.000Z', to: '2026-11-20T10:00:00.000Z' }, { tier: 'professional', from: '2026-11-20T10:00:00.000Z', to: '2026-12-01T00:00:00.000Z' }],
    });
    // The running month: up to now.
    expect(tiersInMonth(acme(), '2026-12', NOW).tiers).toEqual([{ tier: 'professional', from: '2026-12-01T00:00:00.000Z', to: NOW.toISOString() }]);
  });

  it('an entry recorded before tierChange (change.tier only) takes the tier before it from the change before; with none, the tier is unrecorded and a note says so', () => {
    const legacy = localTenant('acme', 'enterprise', { executions: [change('2026-08-10T00:00:00.000Z', 'professional'), change('2026-11-20T10:00:00.000Z', 'enterprise')] });
    expect(tiersInMonth(legacy, '2026-10', NOW).tier).toBe('professional');
    expect(tiersInMonth(legacy, '2026-07', NOW).tier).toBe('unrecorded');
    // A legacy change that kept the tier (a version asked with the same tier as the change before moved to) is no tier change;
    // the first legacy entry cannot say what it moved from.
    const same = localTenant('acme', 'starter', { executions: [change('2026-11-05T00:00:00.000Z', 'starter', undefined), change('2026-11-25T00:00:00.000Z', 'starter')] });
    expect(tiersInMonth(same, '2026-11', NOW).tiers.map((p) => p.tier)).toEqual(['unrecorded', 'starter']);
  });

  it('a legacy entry whose request the history keeps as its digest (lib/change-digest.ts) reads the tier from the digest\'s summary, as from change.tier', () => {
    const { change: asked, ...rest } = change('2026-08-10T00:00:00.000Z', 'professional');
    const digested = { ...rest, changeDigest: digestChange(asked!) };
    expect(digested.changeDigest.tier).toBe('professional');
    const legacy = localTenant('acme', 'enterprise', { executions: [digested, change('2026-11-20T10:00:00.000Z', 'enterprise')] });
    expect(tiersInMonth(legacy, '2026-10', NOW).tier).toBe('professional');
    expect(tiersInMonth(legacy, '2026-11', NOW).tiers.map((p) => p.tier)).toEqual(['professional', 'enterprise']);
  });

  it('the on-demand statement and the monthly job label October and November the same (one code: tenantStatement)', async () => {
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    const october = await tenantStatement(sources, acme(), '2026-10', NOW);
    const november = await tenantStatement(sources, acme(), '2026-11', NOW);
    expect(october).toMatchObject({ tier: 'starter', tiers: [{ tier: 'starter' }] });
    expect(november).toMatchObject({ tier: 'professional', tiers: [{ tier: 'starter' }, { tier: 'professional' }] });
    expect(statementLines(november).split('\n')[0]).toBe('statement of tenant acme (acme, starter to 2026-11-20, professional from 2026-11-20, vpc mode) for 2026-11 (UTC, 2026-11-01 to 2026-12-01 exclusive)');
    expect(statementLines(october).split('\n')[0]).toContain('(acme, starter, vpc mode)');

    s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }));
    s3.on(PutObjectCommand).resolves({});
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const deps = { sources, s3: new S3Client({ region: 'us-east-1' }), events: new EventBridgeClient({ region: 'us-east-1' }), bucket: 'statements', eventBus: 'bus', tenants: async () => [acme()] };
    for (const [month, onDemand] of [['2026-10', october], ['2026-11', november]] as const) {
      s3.resetHistory();
      await writeMonthlyStatements(deps, month, NOW);
      const stored = JSON.parse(String(s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === `statements/${month}/acme.json`)!.args[0].input.Body));
      expect({ tier: stored.tier, tiers: stored.tiers }).toEqual({ tier: onDemand.tier, tiers: onDemand.tiers });
    }
  });
});

describe('a month before the tenant existed', () => {
  const get = (month: string) => usageRoutes['GET /admin/tenants/{id}/usage'].handle({ queryStringParameters: { month }, requestContext: {} } as unknown as APIGatewayProxyEvent, 'acme');

  it('is refused on demand: 400 invalid_month naming the month and the tenant\'s first month (it was answered with zeros)', async () => {
    registry.tenants.set('acme', acme());
    await expect(get('2026-08')).rejects.toMatchObject({
      status: 400, code: 'invalid_month', param: 'month',
      message: 'month = "2026-08": is before tenant "acme" existed: its first month is 2026-09 (created 2026-09-14T09:00:00.000Z); it has no statement of an earlier month',
    });
    expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(0);
  });

  it('the month it was created in has a statement (the rule the monthly job skips by: reportable)', () => {
    expect(monthBeforeTenant(acme(), '2026-09')).toBeUndefined();
    expect(monthBeforeTenant(localTenant('late', 'starter', { createdAt: '2026-10-01T00:00:00Z' }), '2026-09')).toMatch(/first month is 2026-10/);
  });
});

describe('a history at its cap (the registry keeps the last 50 entries): what came before its oldest entry is unrecorded (s31u)', () => {
  it('a tenant with 60 tier changes in one month: the part of the month before the oldest change kept is unrecorded, with the note; the periods kept are in order', () => {
    // 60 changes in November 2026, every 12 hours from the 1st, alternating starter and professional; the registry kept the last 50.
    const all = Array.from({ length: 60 }, (_, i) => change(new Date(Date.parse('2026-11-01T06:00:00Z') + i * 12 * 3_600_000).toISOString(), i % 2 ? 'starter' : 'professional', i % 2 ? 'professional' : 'starter'));
    const kept = localTenant('acme', 'starter', { createdAt: '2026-09-14T09:00:00.000Z', executions: all.slice(-50) });
    const november = tiersInMonth(kept, '2026-11', NOW);
    expect(november.unrecorded).toBe(true);
    expect(november.tiers[0]).toEqual({ tier: 'unrecorded', from: '2026-11-01T00:00:00.000Z', to: all[10]!.startedAt });
    expect(november.tiers).toHaveLength(51);
    expect(november.tiers.at(-1)).toEqual({ tier: 'starter', from: all[59]!.endedAt, to: '2026-12-01T00:00:00.000Z' });
    // October: before the oldest entry kept, nothing is known (before, "starter"/"professional" from the oldest change's from)
    expect(tiersInMonth(kept, '2026-10', NOW)).toMatchObject({ tier: 'unrecorded', unrecorded: true });
    // 49 entries: nothing was dropped, the first change's from is the tier before it
    expect(tiersInMonth(localTenant('acme', 'starter', { executions: all.slice(-49) }), '2026-10', NOW)).toMatchObject({ tier: 'professional', unrecorded: false });
  });

  it('a tier change pushed out by 50 later suspends and resumes: the months before the oldest entry are unrecorded, not today\'s tier', () => {
    const statusChanges: LifecycleExecution[] = Array.from({ length: 50 }, (_, i) => ({
      kind: i % 2 ? 'resume' : 'suspend', requestId: `s-${i}`, startedAt: new Date(Date.parse('2026-11-05T00:00:00Z') + i * 3_600_000).toISOString(), status: 'SUCCEEDED',
    }));
    const t = localTenant('acme', 'professional', { executions: statusChanges });
    expect(tiersInMonth(t, '2026-10', NOW).tier).toBe('unrecorded');
    expect(tiersInMonth(t, '2026-11', NOW).tiers.map((p) => p.tier)).toEqual(['unrecorded', 'professional']);
    expect(tiersInMonth(t, '2026-12', NOW)).toMatchObject({ tier: 'professional', unrecorded: false });
  });

  it('a RUNNING entry kept past the cap (the registry keeps an operation\'s running entry) does not move the start of what is recorded back to its start', () => {
    // 49 suspends and resumes from 5 November, and a stranded change RUNNING since 1 October (its lease lost), kept
    const statusChanges: LifecycleExecution[] = Array.from({ length: 49 }, (_, i) => ({
      kind: i % 2 ? 'resume' : 'suspend', requestId: `s-${i}`, startedAt: new Date(Date.parse('2026-11-05T00:00:00Z') + i * 3_600_000).toISOString(), status: 'SUCCEEDED',
    }));
    const stranded: LifecycleExecution = { kind: 'change', requestId: 'stranded', startedAt: '2026-10-01T00:00:00.000Z', status: 'RUNNING' };
    const t = localTenant('acme', 'professional', { executions: [stranded, ...statusChanges] });
    // October and early November: before the oldest ended entry, unrecorded (the entries dropped may have changed the tier)
    expect(tiersInMonth(t, '2026-10', NOW).tier).toBe('unrecorded');
    expect(tiersInMonth(t, '2026-11', NOW).tiers).toEqual([
      { tier: 'unrecorded', from: '2026-11-01T00:00:00.000Z', to: '2026-11-05T00:00:00.000Z' }, { tier: 'professional', from: '2026-11-05T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    ]);
  });

  it('gateway policy writes, bounded apart from the operations\' entries, do not make a history full: 30 operations and 20 policy writes lose nothing', () => {
    const statusChanges: LifecycleExecution[] = Array.from({ length: 30 }, (_, i) => ({
      kind: i % 2 ? 'resume' : 'suspend', requestId: `s-${i}`, startedAt: new Date(Date.parse('2026-11-05T00:00:00Z') + i * 3_600_000).toISOString(), status: 'SUCCEEDED',
    }));
    const writes: LifecycleExecution[] = Array.from({ length: 20 }, (_, i) => ({
      kind: 'gateway-policy', requestId: `gateway-policy-v${i + 1}`, startedAt: new Date(Date.parse('2026-11-10T00:00:00Z') + i * 3_600_000).toISOString(), status: 'SUCCEEDED',
    }));
    const t = localTenant('acme', 'professional', { executions: [...statusChanges, ...writes] });
    // (was: 50 entries read as a history at its cap, and October labelled unrecorded)
    expect(tiersInMonth(t, '2026-10', NOW)).toMatchObject({ tier: 'professional', unrecorded: false });
  });

  it('a SUCCEEDED change whose endedAt is no time is left out (it threw: no period left to label the month with)', () => {
    const t = localTenant('acme', 'professional', { executions: [{ ...change('2026-11-20T10:00:00.000Z', 'professional', 'starter'), endedAt: 'soon' }] });
    expect(tiersInMonth(t, '2026-11', NOW)).toMatchObject({ tier: 'professional', unrecorded: false });
  });
});

describe('the first month of a tenant created mid-month (s31u)', () => {
  it('its first period starts when it was created, not on the 1st; later months start on the 1st', async () => {
    // acme was created 2026-09-14T09:00Z on starter (it moved to professional on 20 November)
    expect(tiersInMonth(acme(), '2026-09', NOW).tiers).toEqual([{ tier: 'starter', from: '2026-09-14T09:00:00.000Z', to: '2026-10-01T00:00:00.000Z' }]);
    expect(tiersInMonth(acme(), '2026-10', NOW).tiers[0]!.from).toBe('2026-10-01T00:00:00.000Z');
    // created in the running month: from createdAt to now; in February of a leap year: to 1 March
    const fresh = localTenant('fresh', 'starter', { createdAt: '2026-12-02T10:00:00.000Z' });
    expect(tiersInMonth(fresh, '2026-12', NOW).tiers).toEqual([{ tier: 'starter', from: '2026-12-02T10:00:00.000Z', to: NOW.toISOString() }]);
    const leap = localTenant('leap', 'starter', { createdAt: '2028-02-29T23:00:00.000Z' });
    expect(tiersInMonth(leap, '2028-02').tiers).toEqual([{ tier: 'starter', from: '2028-02-29T23:00:00.000Z', to: '2028-03-01T00:00:00.000Z' }]);
    // the statement says so too (both paths: tenantStatement)
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    const statement = await tenantStatement(sources, acme(), '2026-09', NOW);
    expect(statement.tiers).toEqual([{ tier: 'starter', from: '2026-09-14T09:00:00.000Z', to: '2026-10-01T00:00:00.000Z' }]);
  });
});
