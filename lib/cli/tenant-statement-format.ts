import { statementCsv } from '../statements/csv.js';
import { TenantStatement } from '../statements/schema.js';
import { CliError } from './cli-error.js';
import { printable } from '../printable.js';
import { table } from './format.js';

const usd = (v: number) => `$${v.toFixed(2)}`;
const usd6 = (v: number) => v.toFixed(6);

/**
 * `tessera tenants usage <id> --month YYYY-MM`: the admin API's statement, checked against the
 * schema (one source of truth), printed as JSON (`--json`, as the API answered), CSV (`--csv`,
 * lib/statements/csv.ts) or lines for a terminal.
 * @throws CliError (exit 1) when the answer is not a statement (a different API version)
 */
export function formatStatement(answer: unknown, format: 'json' | 'csv' | 'text'): string {
  const parsed = TenantStatement.safeParse(answer);
  if (!parsed.success) throw new CliError(`the admin API's answer is not a tenant statement: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, 1);
  const s = parsed.data;
  if (format === 'json') return JSON.stringify(answer, null, 2);
  if (format === 'csv') return statementCsv(s).replace(/\r\n$/, '');
  return statementLines(s);
}

/**
 * The statement's tier as its first line names it: the tier, or, for a month with a tier change, each tier with the day
 * (UTC) it began or ended: `starter to 2026-11-20, professional from 2026-11-20` (TenantStatement `tiers`).
 */
export function tierLabel(s: Pick<TenantStatement, 'tier' | 'tiers'>): string {
  const tiers = s.tiers ?? [];
  if (tiers.length < 2) return printable(s.tier);
  return tiers.map((p, i) => (i === 0 ? `${printable(p.tier)} to ${p.to.slice(0, 10)}` : i === tiers.length - 1 ? `${printable(p.tier)} from ${p.from.slice(0, 10)}` : `${printable(p.tier)} ${p.from.slice(0, 10)} to ${p.to.slice(0, 10)}`)).join(', ');
}

/** The statement for a terminal: totals first, then each table; amounts in USD. */
export function statementLines(s: TenantStatement): string {
  const src = s.infrastructure.source;
  const lines = [
    `statement of tenant ${s.tenantId} (${printable(s.tenantName)}, ${tierLabel(s)}, ${s.isolation} mode) for ${s.month} (UTC, ${s.period.start} to ${s.period.end} exclusive)`,
    table([
      { part: 'gateway', 'cost usd': usd6(s.gateway.costUsd), detail: `${s.gateway.totalTokens} tokens, ${s.gateway.requests} requests` },
      { part: 'infrastructure', 'cost usd': usd6(s.infrastructure.costUsd), detail: `Cost Explorer, ${src.groupBy === 'tag' ? `tag ${src.key}=${src.value}` : `linked account ${src.value}`}${s.infrastructure.estimated ? ', estimated' : ''}` },
      // Inside infrastructure (SageMaker bills the tenant's tagged jobs): shown, never added to the total.
      { part: '  of which fine-tuning', 'cost usd': `~${usd6(s.fineTuning.costUsd)}`, detail: `estimate: ${s.fineTuning.gpuHours} GPU-hours (${s.fineTuning.instanceHours} instance-hours), in infrastructure, not added again` },
      { part: 'total', 'cost usd': usd6(s.totalUsd), detail: usd(s.totalUsd) },
    ], ['part', 'cost usd', 'detail']),
  ];
  const section = (title: string, rows: Array<Record<string, unknown>>, columns: string[]) => { if (rows.length) lines.push('', title, table(rows, columns)); };
  const tokenRow = (r: { requests: number; promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number }) => ({ requests: r.requests, prompt: r.promptTokens, completion: r.completionTokens, tokens: r.totalTokens, 'cost usd': usd6(r.costUsd) });
  section('gateway by model', s.gateway.byModel.map((m) => ({ model: m.model, ...tokenRow(m) })), ['model', 'requests', 'prompt', 'completion', 'tokens', 'cost usd']);
  section('gateway by day', s.gateway.byDay.map((d) => ({ day: d.day, ...tokenRow(d) })), ['day', 'requests', 'prompt', 'completion', 'tokens', 'cost usd']);
  section('gateway by user', s.gateway.byUser.map((u) => ({ user: u.id, requests: u.requests, tokens: u.tokens, 'cost usd': usd6(u.costUsd) })), ['user', 'requests', 'tokens', 'cost usd']);
  section('gateway by key', s.gateway.byKey.map((k) => ({ key: k.id, requests: k.requests, tokens: k.tokens, 'cost usd': usd6(k.costUsd) })), ['key', 'requests', 'tokens', 'cost usd']);
  section(`fine-tuning, estimated (prices: ${s.fineTuning.prices.region}, ${s.fineTuning.prices.date}; billed inside infrastructure)`, s.fineTuning.jobs.map((j) => ({ job: j.jobId, instance: j.instanceType, hours: j.instanceHours, 'gpu hours': j.gpuHours, 'usd/h': j.usdPerHour, 'cost usd': usd6(j.costUsd) })), ['job', 'instance', 'hours', 'gpu hours', 'usd/h', 'cost usd']);
  if (s.reconciliation.flags.length) lines.push('', `reconciliation (estimate vs provider report, more than ${s.reconciliation.thresholdPercent}%):`, ...s.reconciliation.flags.map((f) => `  ${printable(f.message)}`));
  if (s.notes.length) lines.push('', ...s.notes.map((n) => `note: ${printable(n)}`));
  return lines.join('\n');
}
