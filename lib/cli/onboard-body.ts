import { OnboardRequest } from '../tenant-record.js';
import { CliError } from './cli-error.js';

/** The `tessera tenants create` flag of each field of the onboarding request. */
const FLAGS: Record<keyof OnboardRequest, string> = { tenantId: '--id', name: '--name', tier: '--tier', adminEmail: '--admin-email', inviteAdmin: '--invite-admin', requestId: '--request-id' };

/**
 * `tessera tenants create`'s flags (commander's camel-cased option values). `inviteAdmin`: `--invite-admin` (true),
 * `--no-invite-admin` (false), neither (undefined: the platform's default, not sent).
 */
export interface OnboardFlags { id: string; name: string; tier: string; adminEmail: string; inviteAdmin?: boolean }

/**
 * The admin API's `POST /admin/tenants` body from `tessera tenants create`'s flags, checked with
 * the API's own schema (`OnboardRequest`, lib/tenant-record.ts) before any call: a tenant id, an
 * email or a request id the API would refuse is an exit 2 naming the flag and its value, without
 * credentials, network or an admin API (it used to be sent, and refused by the API, or by the
 * connection first).
 * @throws CliError (exit 2): `--id "Acme": must be a lower-case DNS label ...`, or a list of every bad flag
 */
export function onboardBody(flags: OnboardFlags, requestId: string): OnboardRequest {
  const body = { tenantId: flags.id, name: flags.name, tier: flags.tier, adminEmail: flags.adminEmail, ...(flags.inviteAdmin !== undefined ? { inviteAdmin: flags.inviteAdmin } : {}), requestId };
  const parsed = OnboardRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const lines = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof OnboardRequest;
    const flag = FLAGS[field] ?? String(field);
    if (!lines.has(flag)) lines.set(flag, `${flag} ${JSON.stringify((body as Partial<OnboardRequest>)[field] ?? null)}: ${issue.message}`);
  }
  const each = [...lines.values()];
  throw new CliError(each.length === 1 ? each[0] : `${each.length} problems with the flags of tessera tenants create:\n${each.map((l) => `  - ${l}`).join('\n')}`);
}
