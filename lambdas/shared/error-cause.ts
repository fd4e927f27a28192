/**
 * `Name: message` of an error (an AWS SDK exception, a Node error), for a message a caller reads:
 * the cause named, not only its class (`Error: Region is missing`, not `Error`), with what would
 * tell a caller about the platform's account taken out. AWS's messages name the platform's roles
 * and account (`User: arn:aws:sts::111122223333:assumed-role/router/... is not authorized to
 * perform: bedrock:ApplyGuardrail`), so:
 * - an ARN becomes `<arn>`, a 12-digit account id `<account>`;
 * - an access key id (AKIA/ASIA...) becomes `<access-key>`, a `Signature=`/`Credential=`/
 *   `X-Amz-Security-Token=` value `<redacted>`;
 * - only the first line is kept (a SigV4 refusal goes on with the canonical request), at most
 *   `max` characters.
 * The whole error still belongs in the log.
 * @example errorCause(new Error('Region is missing')) → 'Error: Region is missing'
 */
export function errorCause(e: unknown, max = 300): string {
  const err = (e ?? {}) as { name?: unknown; message?: unknown };
  const name = typeof err.name === 'string' && err.name ? err.name : 'Error';
  const raw = typeof err.message === 'string' ? err.message : e instanceof Object ? '' : String(e ?? '');
  const line = raw.split(/\r?\n/, 1)[0]!.trim();
  const masked = line
    .replace(/\barn:aws[a-z-]*:[^\s"'`,;()<>]*/gi, '<arn>')
    .replace(/\b(?:AKIA|ASIA|AROA|AIDA|ANPA|AGPA)[A-Z0-9]{12,}\b/g, '<access-key>')
    .replace(/\b(Signature|Credential|X-Amz-Security-Token|X-Amz-Credential|X-Amz-Signature)=[^\s,&]+/gi, '$1=<redacted>')
    .replace(/(?<![\d.])\d{12}(?![\d.])/g, '<account>');
  const text = masked ? `${name}: ${masked}` : name;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
