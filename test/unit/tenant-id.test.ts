import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_BASELINE_STACK_NAME, RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_ID_WORDS, RESERVED_TENANT_IDS, tenantIdReservation,
} from '../../lib/tenant-naming.js';
import { OnboardRequest, TenantId } from '../../lib/tenant-record.js';
import { describeIssues } from '../../lib/zod-issues.js';

const PATTERN_MESSAGE = 'must be a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter, ending with a letter or digit, without two hyphens in a row';

/** The messages the schema gives for `id` (empty: accepted). */
function messages(id: unknown): string[] {
  const r = TenantId.safeParse(id);
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('TenantId', () => {
  it.each([
    'acme', 'abc', 'a-b', 'a1b', 'acme-corp', 'a-b-c-d', 'abcdefghijklmnopqrstuvwx', 'a0000000000000000000000z',
    // Near a reserved word but not one: only whole words or whole prefixes are reserved.
    'accounts', 'administration', 'platforms', 'shared2', 'lifecycles', 'my-lifecycle', 'namespaces', 'x-namespaces', 'namespace', 'namespace-x', 'tesserae',
    'final', 'final-co', 'x-finals', 'x-finale', 'finalco',
  ])('accepts %s', (id) => {
    expect(messages(id)).toEqual([]);
  });

  it.each([
    ['ab', 'too short'],
    ['abcdefghijklmnopqrstuvwxy', '25 characters: too long'],
    ['Acme', 'upper case'],
    ['1acme', 'a digit first'],
    ['-acme', 'a hyphen first'],
    ['acme-', 'a hyphen last'],
    ['ac--me', 'two hyphens in a row'],
    ['ac_me', 'an underscore'],
    ['ac.me', 'a period'],
    ['acme corp', 'a space'],
    ['', 'empty'],
  ])('refuses %s (%s) with the pattern message only', (id) => {
    expect(messages(id)).toEqual([PATTERN_MESSAGE]);
  });

  it('refuses what is not a string', () => {
    expect(TenantId.safeParse(42).success).toBe(false);
    expect(TenantId.safeParse(undefined).success).toBe(false);
  });

  it('refuses the account baseline\'s name, naming the id and what it collides with', () => {
    expect(messages('account-baseline')).toEqual([
      `"account-baseline" is reserved: it would name the stack ${ACCOUNT_BASELINE_STACK_NAME}, the account baseline of every tenant account`,
    ]);
  });

  it.each(Object.entries(RESERVED_TENANT_IDS))('refuses the reserved id %s with its reason', (id, reason) => {
    expect(messages(id)).toEqual([`"${id}" is reserved: ${reason}`]);
  });

  it.each(Object.entries(RESERVED_TENANT_ID_PREFIXES))('refuses ids starting with %s', (prefix, reason) => {
    for (const id of [`${prefix}x`, `${prefix}x-1`, `${prefix}${'a'.repeat(24 - prefix.length - 1)}z`]) {
      expect(messages(id), id).toEqual([`"${id}" is reserved: ${reason}`]);
    }
  });

  it.each(Object.entries(RESERVED_TENANT_ID_WORDS))('refuses ids with the word %s after the first', (word, reason) => {
    for (const id of [`acme-${word}`, `acme-${word}-2`, `a-b-${word}`]) expect(messages(id), id).toEqual([`"${id}" is reserved: ${reason}`]);
    // As the first word it names nothing of another tenant's.
    expect(messages(`${word}-acme`)).toEqual([]);
  });

  // s43: the workload provisioning role may delete snapshots tessera-*-final-* (the offboarding's final snapshots, once copied):
  // tenant "acme-final"'s stack snapshot CloudFormation keeps (tessera-acme-final-snapshot-…) matched it as one of acme's.
  it('s43: refuses ids with the word "final" after the first, naming the id and the snapshot pattern they would match', () => {
    for (const id of ['acme-final', 'acme-final-2', 'a-b-final']) {
      expect(messages(id), id).toEqual([expect.stringMatching(new RegExp(`^"${id}" is reserved: ids with the word "final" after the first would name database snapshots that match tessera-\\*-final-\\*`))]);
    }
    expect(OnboardRequest.safeParse({ tenantId: 'acme-final', name: 'Acme Final', tier: 'starter', adminEmail: 'admin@example.com', requestId: 'req-00000001' }).success).toBe(false);
  });

  it('reserves the trust pattern of the organization access role: lifecycle and everything under lifecycle-', () => {
    expect(tenantIdReservation('lifecycle')).toMatch(/tessera-lifecycle-\*/);
    expect(tenantIdReservation('lifecycle-x')).toMatch(/organization access role trusts every role named tessera-lifecycle-\*/);
  });

  it('gives an id that breaks the pattern the pattern message alone, even when it starts like a reserved one', () => {
    expect(messages('lifecycle-')).toEqual([PATTERN_MESSAGE]);
    expect(messages('Lifecycle-x')).toEqual([PATTERN_MESSAGE]);
  });

  it('reaches the onboarding request, the admin API and the CLI as one line naming the field, the id and the collision', () => {
    const raw = { tenantId: 'tenants', name: 'Tenants Inc', tier: 'starter', adminEmail: 'admin@example.com', requestId: 'req-00000001' };
    const r = OnboardRequest.safeParse(raw);
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!, raw)).toEqual([`tenantId = "tenants": "tenants" is reserved: ${RESERVED_TENANT_IDS.tenants}`]);
    expect(OnboardRequest.safeParse({ ...raw, tenantId: 'acme' }).success).toBe(true);
  });

  it('is described in README.md with every reserved id, prefix and word', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const paragraph = readme.slice(readme.indexOf('**Tenant ids.**'), readme.indexOf('\n\n', readme.indexOf('**Tenant ids.**')));
    for (const entry of [...Object.keys(RESERVED_TENANT_IDS), ...Object.keys(RESERVED_TENANT_ID_PREFIXES), ...Object.keys(RESERVED_TENANT_ID_WORDS)]) {
      expect(paragraph, entry).toContain(`\`${entry}\``);
    }
  });
});
