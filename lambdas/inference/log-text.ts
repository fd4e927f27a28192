import { withoutAccountIds } from './providers/upstream-error-fields.js';
import { wellFormedPrefix } from './openai-errors.js';

/**
 * A credential as a caller or an upstream may put it in text the gateway logs: a tenant API key (`tsk_…`, pasted
 * into a path or a `model`), a JWT (`eyJ….….…`, the gateway's bearer tokens), a Hugging Face token (`hf_…`), an AWS
 * access key id (`AKIA…`, `ASIA…`). OpenAI's keys, organization and project ids (`sk-…`, `org-…`, `proj_…`) are
 * withoutAccountIds'. Each may follow any character but a letter or digit, `_` and an escape included (`%5Ftsk_…`,
 * `\u0022tsk_…`), as ACCOUNT_ID in upstream-error-fields.ts does.
 */
const CREDENTIAL = /(?<=^|[^A-Za-z0-9]|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})(?:tsk_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?|hf_[A-Za-z0-9]{8,}|(?:AKIA|ASIA)[A-Z0-9]{12,})/g;

/** The shape of a model id: a catalog id (`openai/gpt-5.4-mini`, `bedrock/us.amazon.nova-lite-v1:0`), an alias, a fine-tuned model (`ft:…`). */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

/**
 * Text the caller or an upstream chose (a path, a model name, an upstream's error code or request id), as a log line
 * may hold it: each credential-shaped token `[redacted]` (CREDENTIAL, withoutAccountIds), then at most `max`
 * characters (cut with `…`, never inside a surrogate pair), so that a careless caller's key pasted into a path or a `model`, or a hostile upstream's
 * 8 KB error code, reaches neither the log nor CloudWatch Logs' event limit (256 KB); a credential percent-encoded
 * (`%74sk_…`) is found on the decoded text (percentDecoded). Control characters need nothing
 * here: Powertools prints a line as JSON (`\n`, `\u001b`).
 * @param text the caller's or the upstream's text
 * @param max the most characters kept @default 256
 */
export function logText(text: string, max = 256): string {
  const shown = withoutCredentials(text);
  return shown.length > max ? `${wellFormedPrefix(shown, max - 1)}…` : shown;
}

/**
 * `text` with each credential-shaped token `[redacted]` (CREDENTIAL, withoutAccountIds), whole: what logText shows before
 * it cuts, and what the audit record keeps of a caller's text (audit-redaction.ts). A credential percent-encoded in part
 * is found on the decoded text (percentDecoded).
 * @param text the caller's or an upstream's text
 * @returns the text as sent when it holds none, `[redacted]` in place of each (the decoded text when only it shows one)
 */
export function withoutCredentials(text: string): string {
  const masked = redacted(text);
  // A credential percent-encoded in part (`/v1/files/%74sk_live…`, `%73k-proj-…`, `tsk_live_abc%5Fdef…`: a client's
  // URL-encoding, or a caller hiding one) passed the patterns, or left its rest after the marker: they are matched again on
  // the redacted text decoded, and when that finds more (another credential, or the rest of one: tailsRedacted), the text
  // is that decoded text. Otherwise it keeps the text as sent (`openai-compatible%2Fdefault`).
  const decoded = percentDecoded(masked);
  const again = tailsRedacted(redacted(decoded));
  return again !== decoded ? again : masked;
}

const REDACTED = '[redacted]';
const redacted = (text: string) => withoutAccountIds(text.replace(CREDENTIAL, REDACTED));
/**
 * A marker followed by characters a credential is made of (`[redacted]_def…`: the rest of a key whose `_` was sent as `%5F`,
 * decoded; a JWT's signature after an encoded dot): the patterns stop where the escape stood, and the rest is the
 * credential's. Only the decoded text is read so (as sent, what follows a marker is not a credential's, or the pattern
 * would have taken it).
 */
const tailsRedacted = (text: string) => text.replace(/\[redacted\][A-Za-z0-9_.-]+/g, REDACTED);

/** A run of percent-escapes (`%74`, `%E2%82%AC`). */
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;
/** How many times text is decoded at most: a credential encoded twice (`%2574sk_…`) is found too. */
const DECODE_PASSES = 3;

/**
 * `text` with its percent-escapes decoded (RFC 3986 §2.1), up to DECODE_PASSES times, never throwing: a run of escapes
 * that is not UTF-8 (`%E0%A4%A`, `%FF`), which decodeURIComponent refuses with a URIError, has its ASCII escapes decoded
 * (`%74` → `t`: every credential pattern is ASCII) and the others kept as they are.
 */
export function percentDecoded(text: string): string {
  let out = text;
  for (let pass = 0; pass < DECODE_PASSES && out.includes('%'); pass++) {
    const next = out.replace(ESCAPES, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run.replace(/%[0-7][0-9A-Fa-f]/g, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
      }
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

/**
 * A model name as a log line may hold it: a name shaped as a model id (MODEL_ID, at most 128 characters) as logText
 * leaves it, anything else (a prompt pasted into `model`, a sentence, a 256-character blob) `[not a model id]`, which
 * the caller's answer (404 `model_not_found`, 400) and the audit record still name.
 * @param model the catalog id served, or the name a refused request asked for
 */
export function logModel(model: string): string {
  return model.length <= 128 && MODEL_ID.test(model) ? logText(model, 128) : '[not a model id]';
}

/**
 * An AWS service's error message as a log line's `detail` (ApplyGuardrail failed): its first line, each value AWS's
 * validation messages quote (`1 validation error detected: Value '<the caller's text>' at 'content.1.member.text.text'
 * failed to satisfy constraint: …`) `[redacted]`, then as logText leaves it (at most 300 characters). The rest (the
 * exception's words, the action, the role and resource an AccessDeniedException names) is what the platform team needs.
 * @param message the exception's message
 */
export function logDetail(message: string): string {
  const line = message.split(/\r?\n/, 1)[0]!;
  return logText(line.replace(/\b(Values?) '.*?' at '/gi, "$1 [redacted] at '"), 300);
}
