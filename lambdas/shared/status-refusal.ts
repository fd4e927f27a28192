/**
 * The refusal of a registry write conditional on the tenant's status (registry.ts updateTenant's `expectStatus`) when the
 * record is in another status now (it changed under the step: suspended, resumed or offboarded meanwhile), in one
 * sentence naming the tenant, its status and what the write is allowed on, as lease.ts statusError words an operation's
 * refusal. Until session 50 it said `tenant "acme" is SUSPENDED; this change needs ACTIVE`, and for an OFFBOARDED
 * tenant named statuses it can never get back to.
 * @param status the tenant's status now
 * @param expected the statuses the write is made in
 * @returns `tenant "acme" is SUSPENDED now, so this change cannot be made: it is made only while the tenant is ACTIVE`;
 *   for an OFFBOARDED tenant `tenant "acme" is OFFBOARDED now, so this change cannot be made: an offboarded tenant is
 *   only kept to be read (tessera tenants show acme)`
 */
export function statusChangedMessage(tenantId: string, status: string, expected: readonly string[]): string {
  const allowed = status === 'OFFBOARDED'
    ? offboardedTenantNote(tenantId)
    : `it is made only while the tenant is ${statusList(expected)}`;
  return statusRefusal(tenantId, `${status} now`, 'this change cannot be made', allowed);
}

/**
 * The one sentence of every refusal for a tenant's status (statusChangedMessage; lease.ts statusError, an operation that
 * cannot start): `tenant "<id>" is <status>, so <refused>: <allowed>`. Until 2026-12-07 an operation's refusal kept an
 * older style for every status but OFFBOARDED, `tenant "acme" is SUSPENDED; change needs ACTIVE`.
 * @param status the tenant's status as the sentence says it (`SUSPENDED`, `SUSPENDED now`)
 * @param refused what cannot happen (`this change cannot be made`, `a change cannot start`)
 * @param allowed what is allowed instead (`it starts only while the tenant is ACTIVE`; for an OFFBOARDED tenant, offboardedTenantNote)
 */
export function statusRefusal(tenantId: string, status: string, refused: string, allowed: string): string {
  return `tenant "${tenantId}" is ${status}, so ${refused}: ${allowed}`;
}

/** What is left to do with an OFFBOARDED tenant, said by every refusal of one: `an offboarded tenant is only kept to be read (tessera tenants show acme)`. */
export function offboardedTenantNote(tenantId: string): string {
  return `an offboarded tenant is only kept to be read (tessera tenants show ${tenantId})`;
}

/** Statuses as a refusal lists them: `ACTIVE`, `ACTIVE or SUSPENDED`, `ACTIVE, SUSPENDED, FAILED or OFFBOARDING`. */
export function statusList(statuses: readonly string[]): string {
  return statuses.length <= 2 ? statuses.join(' or ') : `${statuses.slice(0, -1).join(', ')} or ${statuses.at(-1)}`;
}
