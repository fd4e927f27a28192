/**
 * Per-tenant guardrails that run in the gateway itself: PII redaction and a prompt-injection
 * screen. (Bedrock ApplyGuardrail runs in the bedrock provider when a guardrail id is configured.)
 */

const luhn = (digits: string): boolean => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};

const PATTERNS: Array<{ label: string; re: RegExp; accept?: (m: string) => boolean }> = [
  { label: 'EMAIL', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { label: 'CREDIT_CARD', re: /\b(?:\d[ -]?){12,18}\d\b/g, accept: (m) => luhn(m.replace(/\D/g, '')) },
  { label: 'US_SSN', re: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { label: 'PHONE', re: /(?<!\w)(?:\+?\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?!\w)/g },
  { label: 'IPV4', re: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g },
  { label: 'IPV6', re: /\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|\b(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?/g },
];

/** Replaces PII with `[LABEL]`; returns the text and what was found. */
/**
 * PII redaction over a stream of text deltas. Text is released only up to the last whitespace
 * that follows a letter: none of the patterns above can span such a point (emails, SSNs and IPs
 * hold no whitespace; phone numbers and card numbers only between digits or after ")"), so
 * redacting each released piece on its own finds exactly what redacting the whole text would.
 * What follows the cut waits for more text, or for `flush` at the end of the stream.
 */
export class StreamRedactor {
  private pending = '';
  readonly found: string[] = [];

  push(delta: string): string {
    this.pending += delta;
    let cut = -1;
    for (let i = this.pending.length - 1; i > 0; i--) {
      if (/\s/.test(this.pending[i]) && /[A-Za-z]/.test(this.pending[i - 1])) { cut = i + 1; break; }
    }
    if (cut < 0) return '';
    const ready = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return this.redact(ready);
  }

  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest ? this.redact(rest) : '';
  }

  private redact(text: string): string {
    const r = redactPii(text);
    this.found.push(...r.found);
    return r.text;
  }
}

export function redactPii(text: string): { text: string; found: string[] } {
  const found: string[] = [];
  let out = text;
  for (const { label, re, accept } of PATTERNS) {
    out = out.replace(re, (m) => {
      if (accept && !accept(m)) return m;
      found.push(label);
      return `[${label}]`;
    });
  }
  return { text: out, found };
}

const INJECTION = [
  /ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts|rules)/i,
  /disregard (all |any )?(the )?(previous|prior|above|system) (instructions|prompt|rules)/i,
  /(reveal|print|show|repeat) (me )?(your|the) (system prompt|hidden instructions|initial instructions)/i,
  /you are now (in )?(developer|dan|jailbreak) mode/i,
  /<\|?(im_start|system)\|?>/i,
];

/** A screen for the common prompt-injection phrasings; returns the matched pattern or undefined. */
export function screenPromptInjection(text: string): string | undefined {
  return INJECTION.find((re) => re.test(text))?.source;
}
