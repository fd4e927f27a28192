/** A guardrail version: digits (1-99999999) or DRAFT (ApplyGuardrail's `guardrailVersion` pattern). */
const VERSION = /^([1-9][0-9]{0,7}|DRAFT)$/;

/**
 * A tenant's `bedrockGuardrailId` as ApplyGuardrail takes it: `guardrailIdentifier` (the id, or the
 * guardrail's ARN) and `guardrailVersion` (after the last `:` when that is a version; DRAFT when none
 * is given — the working draft, which changes whenever the guardrail is edited: pin a version).
 * Source: Bedrock API reference, ApplyGuardrail (`guardrailIdentifier` id or ARN, `guardrailVersion`
 * `^(([1-9][0-9]{0,7})|(DRAFT))$`). The value is checked by lib/tenant-record.ts GUARDRAIL_ID.
 * @example `abc123def456` → `{ identifier: 'abc123def456', version: 'DRAFT' }`;
 *   `arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123def456:3` → the ARN and `3`
 */
export function guardrailReference(guardrailId: string): { identifier: string; version: string } {
  const at = guardrailId.lastIndexOf(':');
  const version = at >= 0 ? guardrailId.slice(at + 1) : '';
  return at >= 0 && VERSION.test(version) ? { identifier: guardrailId.slice(0, at), version } : { identifier: guardrailId, version: 'DRAFT' };
}
