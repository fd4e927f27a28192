/** An HTTP-date of RFC 9110 §5.6.7 in any of its three forms (IMF-fixdate, RFC 850, asctime): each names its month. */
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? .*\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/;
/** `delay-seconds` (RFC 9110 §10.2.3: `1*DIGIT`); a fraction is taken too (some relays send `1.5`). */
const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * An upstream's wait hint in ms: `retry-after-ms` (OpenAI's, which the SDKs read first) when it is a non-negative
 * decimal number, else `retry-after` as `delay-seconds` or an HTTP-date (RFC 9110 §10.2.3). Anything else is no hint:
 * `Date.parse` alone took `retry-after: -5` as the year -5 (a wait of 0, waited out at once and never counted toward a
 * cooldown) and `Number` took `1e3` and `0x10`.
 * @param headers the answer's headers, names in lower case (a repeated header's first value)
 * @param now epoch ms an HTTP-date is measured from @default Date.now()
 * @returns ms (0 for a date already past), or undefined when the upstream gave no usable hint
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim();
  const ms = one(headers['retry-after-ms']);
  if (ms !== undefined && DELAY_SECONDS.test(ms)) return Number(ms);
  const value = one(headers['retry-after']);
  if (!value) return undefined;
  if (DELAY_SECONDS.test(value)) return Number(value) * 1000;
  if (!HTTP_DATE.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
