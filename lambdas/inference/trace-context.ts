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
 *
 * A `traceparent` sent more than once is ignored whatever its values, never one of them kept: it is one value, not a list
 * (section 3.2.2's ABNF has no list form, unlike `tracestate`, which section 3.3 lets be split over several fields and
 * says to combine), and RFC 9110 section 5.3 forbids repeating a field that is not a list. The W3C's conformance suite
 * says what a vendor does then (https://github.com/w3c/trace-context, test/test.py `test_traceparent_duplicated`:
 * "harness sends a request with two traceparent headers, expects a valid traceparent from the output header, with a
 * newly generated trace_id"): neither trace-id is continued. Two fields joined with a comma by an intermediary fail
 * the format check below the same way.
 * @param header the header's value (HTTP's surrounding whitespace is trimmed); when `repeated`, the last of them
 *   (API Gateway's single-value `headers` and `tessera serve` keep the last: local-server.ts singleValueHeaders)
 *   @default - absent
 * @param repeated whether the request carried more than one `traceparent` field (GatewayRequest `repeatedHeaders`). @default false
 * @returns `{}` when absent; `{ traceparent }`, the header as sent (its version-00 part for a later version), when
 *   valid and sent once; `{ ignored }` naming what is wrong (`sent more than once`, `version ff`, `all-zero trace-id`, …) when not
 */
export function parseTraceparent(header: string | undefined, repeated = false): TraceparentVerdict | Record<string, never> {
  if (header === undefined) return {};
  if (repeated) return { ignored: 'sent more than once: a request carries one traceparent field (W3C Trace Context 3.2), so neither is continued' };
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
