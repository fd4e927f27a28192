import { Command, Option } from 'commander';
import type { RequestRecordView } from '../../lambdas/inference/audit-records.js';
import { adminTarget, profileOption } from './admin-target.js';
import { printable } from '../printable.js';
import { CliError } from './cli-error.js';
import { checkTenantId } from './users/tenant-check.js';

/** Where the command writes; tests replace it. */
export type RequestsOut = (text: string) => void;

/** A gateway request id, as `x-request-id` answers it: `req_`, `chatcmpl-` or `cmpl-` and 24 hex digits (lambdas/inference/audit-records.ts REQUEST_ID). */
const REQUEST_ID = /^(?:chatcmpl-|cmpl-|req_)[0-9a-f]{24}$/;

/** `<requestId>` checked before any call. @throws CliError (exit 2) */
function checkRequestId(id: string): string {
  if (!REQUEST_ID.test(id)) throw new CliError(`<requestId> "${id.slice(0, 60)}": not a gateway request id; they look like req_0123456789abcdef01234567 or chatcmpl-0123456789abcdef01234567 (the x-request-id header of the answer)`);
  return id;
}

/** `--date` checked before any call: a calendar day YYYY-MM-DD. @throws CliError (exit 2) */
function checkDate(date: string | undefined): string | undefined {
  if (date === undefined) return undefined;
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date;
  if (!valid) throw new CliError(`--date "${date.slice(0, 40)}": not a calendar day YYYY-MM-DD (UTC), the day the request was made`);
  return date;
}

/**
 * The record's lines for a person: what was asked, by whom (and the tags it sent), how it ended, what it used and cost.
 * Each value through lib/printable.ts: a record holds a caller's text (the `model` a 404 was asked for, up to 256
 * characters of the request body's), and its escape sequences would reach the operator's terminal as commands.
 */
export function requestLines(r: RequestRecordView): string[] {
  const row = (label: string, value: unknown) => (value === undefined || value === null ? [] : [`  ${label.padEnd(16)}${printable(typeof value === 'object' ? JSON.stringify(value) : String(value))}`]);
  const tokens = r.usage && `${r.usage.prompt_tokens ?? 0} prompt (${r.usage.cached_tokens ?? 0} cached), ${r.usage.completion_tokens ?? 0} completion${r.usage.estimated ? ', estimated' : ''}`;
  return [
    printable(`request ${r.id} of tenant ${r.tenant}`),
    ...row('at', r.at),
    ...row('request', r.method && `${r.method} ${r.path}`),
    ...row('caller', r.key ? `key ${r.key} (role ${r.role})` : r.user && `user ${r.user} (role ${r.role})`),
    ...row('tags', r.tags?.join(', ')),
    ...row('action', r.action),
    ...row('model', r.model && `${r.model}${r.requested_model ? ` (asked as ${r.requested_model})` : ''}${r.provider ? ` via ${r.provider}` : ''}${r.fallback_from ? `, fallback from ${r.fallback_from}` : ''}`),
    ...row('status', `${r.status} ${r.outcome}`),
    ...row('stream', r.stream),
    ...row('tokens', tokens),
    ...row('cost (USD)', r.cost_usd),
    ...row('cache', r.response_cache && `${r.response_cache.status}${r.response_cache.age_seconds === undefined ? '' : ` (age ${r.response_cache.age_seconds} s)`}${r.response_cache.collapsed === undefined ? '' : r.response_cache.collapsed ? ', an identical request\'s answer' : ', an identical request had no answer'}${r.response_cache.stored === undefined ? '' : r.response_cache.stored ? ', answer kept' : `, answer not kept (${r.response_cache.not_stored})`}`),
    ...row('latency (ms)', `${r.latency_ms}${r.upstream_latency_ms === undefined ? '' : ` (upstream ${r.upstream_latency_ms})`}`),
    ...row('pii redacted', r.pii_redacted?.join(', ')),
    ...row('guardrail', r.guardrail_masked),
    ...row('detail', r.detail),
  ];
}

/**
 * `tessera requests show <requestId> --tenant <id> [--date YYYY-MM-DD]`: one gateway request's audit record through
 * the admin API (`GET /admin/tenants/{id}/requests/{requestId}`), as the tenant's `GET /v1/tenant/requests/{request_id}`
 * answers it (no prompt text). Exit 1 when there is no such record (the admin API's 404, said as it says it).
 */
export function requestsCommand(out: RequestsOut = (t) => void process.stdout.write(`${t}\n`)): Command {
  const requests = new Command('requests').description('a gateway request\'s audit record, by the x-request-id a tenant reports').addOption(profileOption());
  requests.command('show').description('print one request\'s audit record (who, which model, status, tokens, cost, latency; never the prompt)')
    .argument('<requestId>', 'the request id (x-request-id, or a chat completion\'s id)')
    .addOption(new Option('--tenant <id>', 'the tenant whose request it is').makeOptionMandatory())
    .option('--date <YYYY-MM-DD>', 'the day (UTC) the request was made (default: today, then yesterday)')
    .action(async (requestId: string, o: { tenant: string; date?: string }, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const id = checkRequestId(requestId);
      const date = checkDate(o.date);
      const { api, json } = adminTarget(cmd);
      // A record not found is the admin API's 404 request_not_found, said as it says it (exit 1: AdminApiError).
      const record = await api.call<RequestRecordView>('GET', `/admin/tenants/${encodeURIComponent(tenantId)}/requests/${id}`, undefined, { date });
      out(json ? JSON.stringify(record, null, 2) : requestLines(record).join('\n'));
    });
  return requests;
}
