import type { TenantStatement } from './schema.js';

/**
 * The statement as CSV (RFC 4180): a header row, then one row per line of the statement, CRLF
 * line ends, fields quoted when they hold a comma, a double quote, CR or LF (quotes doubled).
 *
 * Columns (always all of them; a cell that does not apply is empty):
 * `tenant_id, month, section, key, requests, prompt_tokens, completion_tokens, total_tokens, instance_hours, gpu_hours, cost_usd, note`
 *
 * Sections, in this order: `gateway.model` (key: model), `gateway.day` (key: YYYY-MM-DD),
 * `gateway.user` and `gateway.key` (key: user or key id; their tokens go in total_tokens),
 * `gateway.total`, `fine_tuning.job` (key: job id; note: instance type), `fine_tuning.total`
 * (note: an estimate included in infrastructure.total), `infrastructure.total` (key: the cost-allocation tag or linked account; note: `estimated`
 * while Cost Explorer's figures are), `total`, then `reconciliation.flag` (key: model; note: the
 * figures). Amounts are US dollars with 6 decimals, hours with 4. `total` = gateway.total +
 * infrastructure.total: the fine_tuning rows are not added (their cost is in infrastructure).
 */
export const STATEMENT_CSV_COLUMNS = ['tenant_id', 'month', 'section', 'key', 'requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'instance_hours', 'gpu_hours', 'cost_usd', 'note'] as const;

/** The columns that hold text (the formula guard applies to them); the others hold numbers. */
const TEXT_COLUMNS: ReadonlySet<string> = new Set(['tenant_id', 'month', 'section', 'key', 'note']);

type Row = Partial<Record<(typeof STATEMENT_CSV_COLUMNS)[number], string | number | undefined>>;

/**
 * One RFC 4180 field. A text value starting with `=`, `+`, `-`, `@`, tab, CR, LF or NUL gets a leading `'`
 * so that a spreadsheet shows it instead of evaluating it (OWASP "CSV Injection", ASVS 5.0 1.2.10): user ids come
 * from the tenant's identity provider (a JWT `sub`), which Tessera does not choose. Numbers (and
 * amounts formatted as text: pass `text` false) are written as they are, so a credit stays `-25.500000`.
 */
export function csvField(value: string | number | undefined, text = typeof value === 'string'): string {
  const raw = value === undefined ? '' : String(value);
  const s = text && /^[=+\-@\t\r\n\0]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const usd = (v: number) => v.toFixed(6);
/** fine_tuning.total's note: its cost is an estimate inside infrastructure.total, not a part of total. */
export const FINE_TUNING_NOTE = 'estimate; included in infrastructure.total, not added to total';
const hours = (v: number) => v.toFixed(4);

/** The statement in the layout above, ending with CRLF. */
export function statementCsv(s: TenantStatement): string {
  const rows: Row[] = [];
  const g = s.gateway;
  for (const m of g.byModel) rows.push({ section: 'gateway.model', key: m.model, requests: m.requests, prompt_tokens: m.promptTokens, completion_tokens: m.completionTokens, total_tokens: m.totalTokens, cost_usd: usd(m.costUsd) });
  for (const d of g.byDay) rows.push({ section: 'gateway.day', key: d.day, requests: d.requests, prompt_tokens: d.promptTokens, completion_tokens: d.completionTokens, total_tokens: d.totalTokens, cost_usd: usd(d.costUsd) });
  for (const u of g.byUser) rows.push({ section: 'gateway.user', key: u.id, requests: u.requests, total_tokens: u.tokens, cost_usd: usd(u.costUsd) });
  for (const k of g.byKey) rows.push({ section: 'gateway.key', key: k.id, requests: k.requests, total_tokens: k.tokens, cost_usd: usd(k.costUsd) });
  rows.push({ section: 'gateway.total', requests: g.requests, prompt_tokens: g.promptTokens, completion_tokens: g.completionTokens, total_tokens: g.totalTokens, cost_usd: usd(g.costUsd), note: g.subjectsIncomplete ? 'some users or keys could not be listed' : undefined });
  for (const j of s.fineTuning.jobs) rows.push({ section: 'fine_tuning.job', key: j.jobId, instance_hours: hours(j.instanceHours), gpu_hours: hours(j.gpuHours), cost_usd: usd(j.costUsd), note: `${j.instanceType}${j.spot ? ' (spot, priced on-demand)' : ''}` });
  rows.push({ section: 'fine_tuning.total', instance_hours: hours(s.fineTuning.instanceHours), gpu_hours: hours(s.fineTuning.gpuHours), cost_usd: usd(s.fineTuning.costUsd), note: FINE_TUNING_NOTE });
  const src = s.infrastructure.source;
  rows.push({ section: 'infrastructure.total', key: src.groupBy === 'tag' ? `${src.key}=${src.value}` : `linked-account=${src.value}`, cost_usd: usd(s.infrastructure.costUsd), note: s.infrastructure.estimated ? 'estimated' : undefined });
  rows.push({ section: 'total', cost_usd: usd(s.totalUsd), note: s.infrastructure.estimated ? 'includes estimated infrastructure cost' : undefined });
  for (const f of s.reconciliation.flags) rows.push({ section: 'reconciliation.flag', key: f.model, requests: f.reportedRequests, note: f.message });
  const lines = [STATEMENT_CSV_COLUMNS.join(','), ...rows.map((r) => STATEMENT_CSV_COLUMNS.map((c) => csvField(c === 'tenant_id' ? s.tenantId : c === 'month' ? s.month : r[c], TEXT_COLUMNS.has(c))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
