import { describe, expect, it } from 'vitest';
import { onboardDefaults, requestDifferences } from '../../../lambdas/lifecycle/register-tenant.js';
import { OnboardRequest, type TenantRecord } from '../../../lib/tenant-record.js';

/**
 * s27: a replayed onboarding (the same requestId) that left out a field the original gave was taken for the same request:
 * `inviteAdmin: false` replayed without it, on a platform with a user pool (its default there: true), asked for an
 * invitation the recorded onboarding does not make. Each kind of field of the request: one a request always gives
 * (name, tier, adminEmail), the derived one (isolation), an optional one with a default (inviteAdmin).
 */
const POOL = 'us-east-1_Pool123';
const sent = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001' };
const record = (extra: Partial<TenantRecord> = {}): TenantRecord => ({
  ...sent, isolation: 'vpc', status: 'FAILED', createdAt: '2026-12-03T06:00:00.000Z', updatedAt: '2026-12-03T06:00:00.000Z', stackOutputs: {}, executions: [], ...extra,
} as TenantRecord);

describe('requestDifferences: a replayed onboarding', () => {
  it('a field every request gives: named when it differs, recorded → requested', () => {
    expect(requestDifferences(record(), { ...sent, name: 'Acme Corp', adminEmail: 'root@acme.example.com' }, POOL))
      .toEqual(['name "Acme" → "Acme Corp"', 'adminEmail "ops@acme.example.com" → "root@acme.example.com"']);
    expect(requestDifferences(record(), { ...sent }, POOL)).toEqual([]);
  });

  it('two values that look alike (another Unicode normalization, an invisible character): shown escaped, saying why; before, `name "Café" → "Café"`', () => {
    const composed = 'Caf\u00e9 Noir';
    const decomposed = 'Cafe\u0301 Noir';
    expect(requestDifferences(record({ name: composed }), { ...sent, name: decomposed }, POOL)).toEqual([
      'name "Caf\\u00e9 Noir" → "Cafe\\u0301 Noir" (they look alike: they differ in Unicode normalization or invisible characters, each character outside printable ASCII shown as \\uXXXX; the values are compared as sent, code point by code point)',
    ]);
    expect(requestDifferences(record(), { ...sent, name: 'Acme\u200b' }, POOL)[0]).toMatch(/^name "Acme" → "Acme\\u200b" \(they look alike: /);
    expect(requestDifferences(record({ tags: { Team: composed } }), { ...sent, tags: { Team: decomposed } }, POOL)[0]).toMatch(/^tags \{"Team":"Caf\\u00e9 Noir"\} → \{"Team":"Cafe\\u0301 Noir"\} \(they look alike: /);
    // Values that differ visibly are shown as they are, non-ASCII letters included
    expect(requestDifferences(record({ name: composed }), { ...sent, name: 'Caf\u00e9 Blanc' }, POOL)).toEqual([`name "${composed}" → "Caf\u00e9 Blanc"`]);
    // Each side is still a valid onboarding request (the schema takes both forms and the zero-width space)
    expect(OnboardRequest.safeParse({ ...sent, name: decomposed }).success && OnboardRequest.safeParse({ ...sent, name: 'Acme\u200b' }).success).toBe(true);
  });

  it('isolation (follows from the tier): named when the request carries another, not when it carries none', () => {
    expect(requestDifferences(record(), { ...sent, isolation: 'account' }, POOL)).toEqual(['isolation "vpc" → "account"']);
    expect(requestDifferences(record(), { ...sent }, POOL)).toEqual([]);
  });

  it('an optional field the original gave and the replay leaves out: compared with its default, named with it', () => {
    expect(requestDifferences(record({ inviteAdmin: false }), { ...sent }, POOL)).toEqual(['inviteAdmin "false" → (not given: default "true")']);
    // without a pool the default is false: the replay means what the original said
    expect(requestDifferences(record({ inviteAdmin: false }), { ...sent }, undefined)).toEqual([]);
    expect(requestDifferences(record({ inviteAdmin: true }), { ...sent }, POOL)).toEqual([]);
  });

  it('an optional field the original left out and the replay gives: its default compared with the value given', () => {
    expect(requestDifferences(record(), { ...sent, inviteAdmin: false }, POOL)).toEqual(['inviteAdmin (not given: default "true") → "false"']);
    expect(requestDifferences(record(), { ...sent, inviteAdmin: true }, POOL)).toEqual([]);
    expect(requestDifferences(record(), { ...sent, inviteAdmin: false }, undefined)).toEqual([]);
  });

  it('tags: compared as sets (key order aside; left out is none), shown as JSON', () => {
    const tags = { Owner: 'team-x', CostCenter: '4711' };
    expect(requestDifferences(record({ tags }), { ...sent, tags: { CostCenter: '4711', Owner: 'team-x' } }, POOL)).toEqual([]);
    expect(requestDifferences(record(), { ...sent, tags: {} }, POOL)).toEqual([]);
    expect(requestDifferences(record({ tags }), { ...sent }, POOL)).toEqual(['tags {"CostCenter":"4711","Owner":"team-x"} → (not given: default {})']);
    expect(requestDifferences(record({ tags }), { ...sent, tags: { CostCenter: '4712' } }, POOL)).toEqual(['tags {"CostCenter":"4711","Owner":"team-x"} → {"CostCenter":"4712"}']);
  });

  it('both given: compared as given', () => {
    expect(requestDifferences(record({ inviteAdmin: false }), { ...sent, inviteAdmin: true }, POOL)).toEqual(['inviteAdmin "false" → "true"']);
  });

  it('every optional field of OnboardRequest has a default the comparison uses', () => {
    const optional = Object.entries(OnboardRequest.shape).filter(([, schema]) => schema.safeParse(undefined).success).map(([k]) => k);
    expect(Object.keys(onboardDefaults(POOL)).sort()).toEqual(optional.sort());
    expect(onboardDefaults(POOL)).toEqual({ inviteAdmin: true, tags: {} });
    expect(onboardDefaults(undefined)).toEqual({ inviteAdmin: false, tags: {} });
  });
});
