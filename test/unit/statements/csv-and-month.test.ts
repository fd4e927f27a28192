import { describe, expect, it } from 'vitest';
import { csvField, statementCsv } from '../../../lib/statements/csv.js';
import { monthBounds, monthProblem, previousMonth } from '../../../lib/statements/schema.js';
import { buildStatement } from '../../../lambdas/statements/build-statement.js';
import { AS_OF, INFRASTRUCTURE_AMOUNT, JOBS, KEY_ID, MODEL_USAGE, MONTH, USER_ID } from './fixture.js';

/** The golden CSV of the fixture's statement: every figure added up by hand in build-statement.test.ts. */
export const GOLDEN_CSV = [
  'tenant_id,month,section,key,requests,prompt_tokens,completion_tokens,total_tokens,instance_hours,gpu_hours,cost_usd,note',
  'acme,2026-10,gateway.model,gpt-4o-mini,15,1300,600,1900,,,0.000570,',
  'acme,2026-10,gateway.model,llama-3.1-8b-instruct,4,800,200,1000,,,0.002000,',
  'acme,2026-10,gateway.day,2026-10-03,14,1800,700,2500,,,0.002450,',
  'acme,2026-10,gateway.day,2026-10-17,5,300,100,400,,,0.000120,',
  `acme,2026-10,gateway.user,${USER_ID},12,,,2000,,,0.001900,`,
  `acme,2026-10,gateway.key,${KEY_ID},7,,,900,,,0.000670,`,
  'acme,2026-10,gateway.total,,19,2100,800,2900,,,0.002570,',
  'acme,2026-10,fine_tuning.job,ftjob-aaaaaaaaaaaaaaaaaaaaaaaa,,,,,2.5000,2.5000,3.787500,ml.g5.2xlarge',
  'acme,2026-10,fine_tuning.job,ftjob-bbbbbbbbbbbbbbbbbbbbbbbb,,,,,1.0000,4.0000,7.090000,ml.g5.12xlarge',
  'acme,2026-10,fine_tuning.total,,,,,,3.5000,6.5000,10.877500,"estimate; included in infrastructure.total, not added to total"',
  'acme,2026-10,infrastructure.total,tessera:tenant-id=acme,,,,,,,123.456789,',
  'acme,2026-10,total,,,,,,,,123.459359,', // 0.002570 + 123.456789: the fine-tuning rows are inside infrastructure
  'acme,2026-10,reconciliation.flag,llama-3.1-8b-instruct,4,,,,,,,"llama-3.1-8b-instruct: estimated 1150 tokens, providers reported 1000 over 4 requests (+15%, more than 10%)"',
].join('\r\n') + '\r\n';

describe('statement CSV', () => {
  it('renders the golden layout (RFC 4180: CRLF, a header, quoted fields with commas)', () => {
    const s = buildStatement({
      tenant: { tenantId: 'acme', name: 'Acme', tier: 'professional', isolation: 'vpc' }, month: MONTH, asOf: AS_OF, modelUsage: MODEL_USAGE,
      users: { subjects: [{ id: USER_ID, month: { tokens: 2000, costUsd: 0.0019, requests: 12 } }], incomplete: false },
      keys: { subjects: [{ id: KEY_ID, month: { tokens: 900, costUsd: 0.00067, requests: 7 } }], incomplete: false },
      jobs: JOBS, infrastructure: { costUsd: Number(INFRASTRUCTURE_AMOUNT), estimated: false, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } },
    });
    expect(statementCsv(s)).toBe(GOLDEN_CSV);
  });

  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField(undefined)).toBe('');
  });

  it('keeps a spreadsheet from evaluating a text cell (an identity provider\'s sub such as =HYPERLINK(...))', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tcmd')).toBe("'\tcmd");
    // OWASP ASVS 5.0 1.2.10 names the null character too; a leading line break is guarded with CR.
    expect(csvField('\0=1+1')).toBe("'\0=1+1");
    expect(csvField('\n=1+1')).toBe('"\'\n=1+1"');
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField('2026-10-03')).toBe('2026-10-03');
    expect(csvField('-25.500000', false)).toBe('-25.500000');
  });

  it('writes a Cost Explorer credit (a negative amount) as a number, not as guarded text', () => {
    const s = buildStatement({
      tenant: { tenantId: 'acme', name: 'Acme', tier: 'professional', isolation: 'vpc' }, month: MONTH, asOf: AS_OF, modelUsage: MODEL_USAGE,
      users: { subjects: [], incomplete: false }, keys: { subjects: [], incomplete: false },
      jobs: [], infrastructure: { costUsd: -25.5, estimated: false, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } },
    });
    const lines = statementCsv(s).split('\r\n');
    expect(lines.find((l) => l.includes(',infrastructure.total,'))).toMatch(/,-25\.500000,$/);
    expect(lines.find((l) => l.includes(',total,'))).not.toContain("'-");
  });
});

describe('statement months', () => {
  const now = new Date('2026-12-01T11:00:00Z');
  it('accepts past and current months, refuses the rest naming the value', () => {
    expect(monthProblem('2026-11', now)).toBeUndefined();
    expect(monthProblem('2026-12', now)).toBeUndefined();
    expect(monthProblem('2027-01', now)).toBe('month = "2027-01": is in the future (this month is 2026-12, UTC)');
    expect(monthProblem('2026-13', now)).toMatch(/^month = "2026-13": must be a month as YYYY-MM/);
    expect(monthProblem('2026-1', now)).toMatch(/must be a month as YYYY-MM/);
    expect(monthProblem('november', now)).toMatch(/^month = "november"/);
  });
  it('bounds a month with an exclusive end, across the year', () => {
    expect(monthBounds('2026-12')).toEqual({ start: '2026-12-01', end: '2027-01-01' });
    expect(monthBounds('2026-02')).toEqual({ start: '2026-02-01', end: '2026-03-01' });
    expect(previousMonth(new Date('2027-01-02T04:00:00Z'))).toBe('2026-12');
  });
});

describe('tessera tenants usage --month rendering', () => {
  it('refuses an answer that is not a statement (exit 1), naming the first problem', async () => {
    const { formatStatement } = await import('../../../lib/cli/tenant-statement-format.js');
    expect(() => formatStatement({ tenantId: 'acme', month: '2026-10' }, 'text')).toThrow(/the admin API's answer is not a tenant statement: tenantName/);
    let error: unknown;
    try {
      formatStatement({}, 'csv');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'CliError', exitCode: 1 });
  });

  it('escapes control characters of ids in the terminal lines: a user id with \\r cannot hide its row, nor an escape sequence clear the screen', async () => {
    const { statementLines } = await import('../../../lib/cli/tenant-statement-format.js');
    const { usageLines } = await import('../../../lib/cli/tenants-command.js');
    const hidden = 'ok-user\rkey_0123456789abcdef  2  1400';
    const s = buildStatement({
      tenant: { tenantId: 'acme', name: 'Acme', tier: 'professional', isolation: 'vpc' }, month: MONTH, asOf: AS_OF,
      modelUsage: [{ ...MODEL_USAGE[0]!, model: 'evil\u001b[2Jmodel' }],
      users: { subjects: [{ id: hidden, month: { tokens: 2000, costUsd: 0.0019, requests: 12 } }], incomplete: false },
      keys: { subjects: [], incomplete: false },
      jobs: [], infrastructure: { costUsd: 1, estimated: false, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } },
    });
    const text = statementLines(s);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/); // only the lines' own \n
    expect(text).toContain('ok-user\\rkey_0123456789abcdef  2  1400');
    expect(text).toContain('evil\\u001b[2Jmodel');
    const by = usageLines({ tenantId: 'acme', day: '2026-10-03', month: '2026-10', by: 'user', subjects: [{ id: hidden, day: { tokens: 1, costUsd: 0, requests: 1 }, month: { tokens: 1, costUsd: 0, requests: 1 } }] } as never);
    expect(by).not.toContain('\r');
    expect(by).toContain('ok-user\\rkey_0123456789abcdef');
  });
});
