import type { z } from 'zod';
import { describeIssues, formatPath } from '../../lib/zod-issues.js';
import { invalid } from './openai-errors.js';

/** A request body as JSON (400 `invalid_json` otherwise), before any schema. */
export function parseJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    throw invalid('request body is not valid JSON', null, 'invalid_json');
  }
}

/** `raw` against `schema`; a 400 naming every bad field and value, `param` = the first field's path (`messages[0].content`). */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw invalid(describeIssues(parsed.error, raw).join('; '), first.path.length ? formatPath(first.path) : null);
  }
  return parsed.data;
}
