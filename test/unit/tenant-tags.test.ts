import { describe, expect, it } from 'vitest';
import { OnboardRequest } from '../../lib/tenant-record.js';
import { awsTags, canonicalTags, MAX_TENANT_TAGS, parseTagArgument, TenantTags } from '../../lib/tenant-tags.js';
import { describeIssues } from '../../lib/zod-issues.js';

/** The one-line reasons the admin API's 400 gives for `tags` (describeIssues, as admin-http.ts parse). */
const refusal = (tags: unknown): string => {
  const r = TenantTags.safeParse(tags);
  if (r.success) throw new Error(`accepted ${JSON.stringify(tags)}`);
  return describeIssues(r.error, tags).join('; ');
};

describe('TenantTags: AWS tag rules, the stricter of Organizations and CloudFormation', () => {
  it('takes keys and values of Unicode letters, digits, white space and _ . : / = + - @', () => {
    const tags = { CostCenter: '4711', Owner: 'team-x', 'cost center/ü': 'Wert 1 +@=:._-', ['a'.repeat(128)]: 'v'.repeat(256) };
    expect(TenantTags.parse(tags)).toEqual(tags);
  });

  it('counts characters as AWS does (code points): 128 characters outside the BMP are a valid key', () => {
    expect(TenantTags.safeParse({ ['𝒜'.repeat(128)]: 'x' }).success).toBe(true);
    expect(refusal({ ['𝒜'.repeat(129)]: 'x' })).toMatch(/at most 128 characters/);
  });

  it('refuses an empty value (CloudFormation stack tags take 1-256, Organizations 0-256: every tag goes to the stacks)', () => {
    expect(refusal({ CostCenter: '' })).toBe('CostCenter = "": must not be empty: a CloudFormation stack tag value has 1-256 characters, and every tenant tag goes to the tenant\'s stacks');
  });

  it('refuses keys over 128 and values over 256 characters, and characters AWS does not take', () => {
    expect(refusal({ ['k'.repeat(129)]: 'x' })).toMatch(/Invalid key ".*": must be at most 128 characters/);
    expect(refusal({ k: 'v'.repeat(257) })).toMatch(/^k = .*: must be at most 256 characters \(AWS tag value\)/);
    expect(refusal({ 'Cost,Center': '1' })).toMatch(/Invalid key "Cost,Center": may contain only Unicode letters, digits, white space and _ \. : \/ = \+ - @/);
    expect(refusal({ k: 'a;b' })).toMatch(/^k = "a;b": may contain only/);
  });

  it.each(['aws:createdBy', 'AWS:x', 'Aws:x', 'tessera:tier', 'Tessera:tenant-id', 'TESSERA:x'])('refuses the reserved key %s, naming it', (key) => {
    expect(refusal({ [key]: 'x' })).toMatch(new RegExp(`^${key} = "x": Invalid key "${key}": is reserved: keys starting "(aws|tessera):" \\(in any case\\)`));
  });

  it('refuses the key __proto__ (JSON.parse keeps it as an own key, which zod\'s record dropped unchecked), naming it', () => {
    expect(refusal(JSON.parse('{"CostCenter": "1", "__proto__": "x"}'))).toMatch(/^__proto__ = "x": cannot be kept under the key __proto__ \(/);
    expect(TenantTags.parse({ constructor: 'x', toString: 'y' })).toEqual({ constructor: 'x', toString: 'y' });
  });

  it('takes a key that only contains aws: or tessera: later on (the prefix is reserved, not the word)', () => {
    expect(TenantTags.safeParse({ 'team:aws:x': '1', 'x-tessera:y': '2' }).success).toBe(true);
  });

  it('refuses two keys differing only in case (IAM refuses them on one role), naming both', () => {
    expect(refusal({ CostCenter: '1', costcenter: '2' })).toMatch(/^costcenter = "2": differs from key "CostCenter" only in case: AWS takes them for two tags, but IAM/);
  });

  it(`refuses more than ${MAX_TENANT_TAGS} tags (AWS's 50 per resource, less Tessera's own and the blueprints')`, () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(TenantTags.safeParse(many(MAX_TENANT_TAGS)).success).toBe(true);
    expect(refusal(many(MAX_TENANT_TAGS + 1))).toMatch(/must have at most 40 tags, has 41/);
  });

  it('is the onboarding request\'s `tags`, optional, refused there with the field\'s path', () => {
    const base = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'a@acme.example.com', requestId: 'req-acme-0001' };
    expect(OnboardRequest.parse(base).tags).toBeUndefined();
    expect(OnboardRequest.parse({ ...base, tags: { CostCenter: '4711' } }).tags).toEqual({ CostCenter: '4711' });
    const r = OnboardRequest.safeParse({ ...base, tags: { 'aws:x': '1' } });
    expect(r.success ? '' : describeIssues(r.error, { ...base, tags: { 'aws:x': '1' } }).join('; ')).toMatch(/^tags\.aws:x = "1": Invalid key "aws:x": is reserved/);
    expect(OnboardRequest.safeParse({ ...base, tags: { k: 4711 } }).success).toBe(false);
    expect(OnboardRequest.safeParse({ ...base, tags: [{ Key: 'k', Value: 'v' }] }).success).toBe(false);
  });

  // Before, AWS's own list form was `tags = [{"Key":…}]: Invalid input: expected record, received array`, which did not
  // say the shape to send; another type keeps zod's message.
  it('refuses AWS\'s list form of tags saying the object form to send', () => {
    expect(refusal([{ Key: 'CostCenter', Value: '4711' }])).toBe('(root) = [{"Key":"CostCenter","Value":"4711"}]: must be an object of keys to values, {"CostCenter": "4711", "Owner": "team-x"} (AFT\'s account_tags), not AWS\'s list of {Key, Value}');
    expect(refusal('CostCenter=4711')).toMatch(/expected record, received string/);
  });
});

describe('awsTags, canonicalTags, parseTagArgument', () => {
  it('gives SDK Tag lists in key order, none for undefined', () => {
    expect(awsTags({ Owner: 'x', CostCenter: '1' })).toEqual([{ Key: 'CostCenter', Value: '1' }, { Key: 'Owner', Value: 'x' }]);
    expect(awsTags(undefined)).toEqual([]);
  });
  it('compares sets whatever their key order; none and {} alike', () => {
    expect(canonicalTags({ b: '2', a: '1' })).toBe(canonicalTags({ a: '1', b: '2' }));
    expect(canonicalTags(undefined)).toBe(canonicalTags({}));
    expect(canonicalTags({ a: '1' })).not.toBe(canonicalTags({ a: '2' }));
  });
  it('splits Key=Value at the first =, and refuses no = or an empty key', () => {
    expect(parseTagArgument('CostCenter=4711')).toEqual({ key: 'CostCenter', value: '4711' });
    expect(parseTagArgument('Note=a=b')).toEqual({ key: 'Note', value: 'a=b' });
    expect(parseTagArgument('Empty=')).toEqual({ key: 'Empty', value: '' });
    expect(() => parseTagArgument('CostCenter')).toThrow('--tag "CostCenter": must be Key=Value (e.g. --tag CostCenter=4711)');
    expect(() => parseTagArgument('=x')).toThrow(/must be Key=Value/);
  });
});
