/**
 * W3C Trace Context's `traceparent` request header (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `version-traceid-parentid-flags`, lowercase hex only: version 2 digits (`ff` is invalid), trace-id 32, parent-id 16,
 * trace-flags 2; an all-zero trace-id or parent-id is invalid. Version `00` is exactly those 55 characters; a later
 * version may append `-` and more fields, which are ignored here as the spec asks ("parse the version-format of 00, then
 * check that the next character is a dash").
 */
const TRACEPARENT_00 = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** What a request's `traceparent` header came to: the value kept, or why it was ignored. */
export type TraceparentVerdict =
  | { traceparent: string; ignored?: undefined }
  | { traceparent?: undefined; ignored: string };

/**
 * Validates a caller's `traceparent` header (W3C Trace Context Level 1, section 3.2), as a vendor receiving it must:
 * an invalid one is ignored, never an error (the spec: "If the vendor failed to parse traceparent, it MUST NOT attempt to
 * parse tracestate"; the request goes on as if there were none).
 * @param header the header's value (HTTP's surrounding whitespace is trimmed) @default - absent
 * @returns `{}` when absent; `{ traceparent }`, the header as sent (its version-00 part for a later version), when
 *   valid; `{ ignored }` naming what is wrong (`version ff`, `all-zero trace-id`, …) when not
 */
export function parseTraceparent(header: string | undefined): TraceparentVerdict | Record<string, never> {
  if (header === undefined) return {};
  const value = header.trim();
  // A later version keeps version 00's fields first and may append `-…` (at most 55 characters are read).
  const later = value.length > 55 && value[55] === '-' && value.slice(0, 2) !== '00';
  const m = TRACEPARENT_00.exec(later ? value.slice(0, 55) : value);
  if (!m) return { ignored: 'not version-traceid-parentid-flags in lowercase hex (2-32-16-2 digits)' };
  const [, version, traceId, parentId] = m;
  if (version === 'ff') return { ignored: 'version ff is invalid' };
  if (/^0+$/.test(traceId!)) return { ignored: 'all-zero trace-id' };
  if (/^0+$/.test(parentId!)) return { ignored: 'all-zero parent-id' };
  return { traceparent: m[0] };
}
