import { describe, expect, it } from 'vitest';
import { usageLines } from '../../../lib/cli/tenants-command.js';

// `tessera tenants usage <id> --by tag` as printed: the rows of GET /admin/tenants/{id}/usage?by=tag, how complete
// they are (incomplete, unrecordedRequests), every value through lib/printable.ts.
const period = (tokens: number, costUsd: number, requests: number) => ({ tokens, costUsd, requests });
const answer = { tenantId: 'acme', day: '2026-12-07', month: '2026-12', by: 'tag' as const };

describe('tessera tenants usage --by tag (usageLines)', () => {
  it('prints one row per tag, then incomplete and the unrecorded requests', () => {
    const out = usageLines({
      ...answer, incomplete: true, unrecordedRequests: 14, tagsLimit: 256,
      subjects: [{ kind: 'tag', id: 'checkout', day: period(50, 0.005, 2), month: period(80, 0.008, 3) }],
    });
    const lines = out.split('\n');
    expect(lines[0]).toBe('usage of tenant acme by tag: 1 tag this month (2026-12), today 2026-12-07 (UTC)');
    expect(lines[1]).toMatch(/^TAG\s+TOKENS TODAY\s+USD TODAY\s+REQUESTS TODAY\s+TOKENS MONTH\s+USD MONTH\s+REQUESTS MONTH$/);
    expect(lines[2]).toMatch(/^checkout\s+50\s+0\.005000000\s+2\s+80\s+0\.008000000\s+3$/);
    expect(lines[3]).toBe('incomplete: yes; unrecorded requests: 14 (a tag new to a month that has 256 distinct tags is not recorded; those requests count under their other tags and in the tenant\'s)');
    expect(lines[4]).toContain('a request counts in full under each of its tags');
  });

  it('escapes a value\'s control characters, line separators and bidirectional overrides (lib/printable.ts): none reaches the terminal raw', () => {
    const out = usageLines({
      ...answer, tenantId: 'acme\u001b[2J', incomplete: false, unrecordedRequests: 0, tagsLimit: 256,
      subjects: [{ kind: 'tag', id: 'x\u001b]0;owned\u0007\u2028\u202e', day: period(1, 0, 1), month: period(1, 0, 1) }],
    });
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    expect(out).toContain('usage of tenant acme\\u001b[2J by tag');
    expect(out).toContain('x\\u001b]0;owned\\u0007\\u2028\\u202e');
    expect(out).toContain('incomplete: no; unrecorded requests: 0');
  });
});
