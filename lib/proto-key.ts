import { z } from 'zod';

/**
 * `schema` (a record, such as OpenAI's `Metadata` or the gateway policy's `bedrockInferenceProfiles`) behind a check that
 * refuses an own key `__proto__`: JSON.parse keeps one as an own property, and zod's `z.record` skips it, unchecked, in its
 * output (a plain object cannot hold it as a key), so a request with it was accepted and stored without it. The issue's
 * path is `__proto__` under the record, its input the value sent, its message `message`.
 * @param schema what the value is parsed with after the check (its output is this schema's)
 * @param message the issue's message, e.g. `the metadata key __proto__ cannot be kept by this gateway; use another key`
 */
export function withoutProtoKey<T extends z.ZodType>(schema: T, message: string) {
  return z.unknown().superRefine((v, ctx) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], input: (v as Record<string, unknown>)['__proto__'], message });
    }
  }).pipe(schema);
}
