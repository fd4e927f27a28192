/**
 * A request body's integer literals as sent, where JSON.parse's Number cannot say them: past Number's safe range
 * (±9007199254740991) `9223372036854775808` parses to 2^63, as `9223372036854775807` does, so a check of the Number cannot
 * tell the largest 64-bit integer from one past it. JSON.parse's reviver is given each value's source text (the
 * ECMAScript "JSON.parse source text access", in V8 since 11.4: Node 21 and later); this keeps the text of each such
 * literal by the object that holds it, for the fields OpenAI bounds as 64-bit integers (`seed`: openai-issues.ts
 * refuseInt64Literal). No library reads JSON numbers exactly and keeps JSON.parse's values otherwise.
 */

/** Each object's keys whose value was an integer literal past Number's safe range, with its text. */
const LITERALS = new WeakMap<object, Map<string, string>>();

/**
 * A number of at least 16 digits after `:`, `,` or `[` (a value's place): no integer literal past the safe range without
 * one (2^53 has 16). A body without one (nearly every body: a digit run in a string needs that punctuation before it)
 * is parsed without a reviver, which reads a body about 4 times slower (1.4 MB of 60,000 values: 10 ms, 40 ms).
 */
const LONG_DIGITS = /[:,[]\s*-?\d{16}/;

/**
 * `JSON.parse(text)`, keeping the text of every integer literal (digits, an optional minus) past Number's safe range
 * for integerLiteral. A text with no such number (LONG_DIGITS) is parsed without a reviver.
 * @throws SyntaxError as JSON.parse
 */
export function parseJsonWithIntegerLiterals(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text, function (this: object, key: string, value: unknown, context?: { source?: string }) {
    const source = context?.source;
    if (typeof value === 'number' && !Number.isSafeInteger(value) && source !== undefined && /^-?\d+$/.test(source)) {
      const literals = LITERALS.get(this) ?? new Map<string, string>();
      literals.set(key, source);
      LITERALS.set(this, literals);
    }
    return value;
  } as (key: string, value: unknown) => unknown);
}

/**
 * The exact value of `holder[key]` as the body wrote it, when it was an integer literal past Number's safe range
 * (parseJsonWithIntegerLiterals); undefined for any other value, or an object not made by that parse.
 */
export function integerLiteral(holder: unknown, key: string): bigint | undefined {
  if (holder === null || typeof holder !== 'object') return undefined;
  const source = LITERALS.get(holder)?.get(key);
  return source === undefined ? undefined : BigInt(source);
}

/**
 * Where a request body made by a schema (not by JSON.parse) keeps its fields' literals (keepIntegerLiteral): an enumerable
 * symbol-keyed property, which object spread copies (the pipeline copies the body: `{ ...body, messages }`) and
 * JSON.stringify, Object.keys and Object.entries never see.
 */
const LITERAL_FIELDS = Symbol('integer literals');

/**
 * Keeps `from[key]`'s literal (integerLiteral) on `to`, the schema's output in place of the body JSON.parse made, so the
 * provider that sends the field on sends the digits the caller sent (withIntegerLiterals).
 */
export function keepIntegerLiteral(from: unknown, to: object, key: string): void {
  const exact = integerLiteral(from, key);
  if (exact === undefined) return;
  const held = to as { [LITERAL_FIELDS]?: Record<string, string> };
  held[LITERAL_FIELDS] = { ...held[LITERAL_FIELDS], [key]: String(exact) };
}

/** JSON.rawJSON (ES2025; Node 21 and later): a value JSON.stringify writes as the given text. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * `sent` with each of `keys` whose literal `body` kept (keepIntegerLiteral) written by JSON.stringify as the caller wrote
 * it, where `sent` still holds its Number: JSON.stringify of the Number wrote 9223372036854775807 as 9223372036854776000,
 * which OpenAI refuses as past 64 bits, and any seed past 2^53 rounded (another seed).
 * @param sent the body about to be sent (not changed)
 * @param body the request's body (or a copy of it)
 */
export function withIntegerLiterals<T extends object>(sent: T, body: object, keys: readonly string[]): T {
  const kept = (body as { [LITERAL_FIELDS]?: Record<string, string> })[LITERAL_FIELDS];
  if (!kept) return sent;
  const exact = keys.flatMap((key) => {
    const digits = kept[key];
    return digits !== undefined && (sent as Record<string, unknown>)[key] === Number(digits) ? [[key, rawJSON(digits)] as const] : [];
  });
  return exact.length ? { ...sent, ...Object.fromEntries(exact) } : sent;
}
