/**
 * The header names (in lower case: HTTP field names are case-insensitive, RFC 9110 §5.1) a request carried more than
 * once: GatewayRequest `repeatedHeaders`.
 * @param multi every value of every header, by name as sent: API Gateway REST's `multiValueHeaders` (names in the
 *   caller's case, so `traceparent` and `TraceParent` may be two keys: they are counted together), or node's
 *   `IncomingMessage.headersDistinct` (names already in lower case)
 */
export function repeatedHeaderNames(multi: Record<string, readonly string[] | undefined> | null | undefined): string[] {
  const counts = new Map<string, number>();
  for (const [name, values] of Object.entries(multi ?? {})) counts.set(name.toLowerCase(), (counts.get(name.toLowerCase()) ?? 0) + (values?.length ?? 0));
  return [...counts].filter(([, n]) => n > 1).map(([name]) => name);
}
