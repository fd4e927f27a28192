import { z } from 'zod';
import { withoutProtoKey } from './proto-key.js';

/**
 * The characters of `text` as zod's `.max()` on a string counts them (the installed zod measures a string in Unicode code
 * points, zod/v4/core checks.js $ZodCheckMaxLength): a surrogate pair is one, a lone surrogate one. An error that states
 * a length must state the one the limit was checked against: `'😀'.repeat(65)` is 65 characters, 130 UTF-16 units.
 * @returns the number of code points (0 for '')
 */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * What to do about a metadata value that is a list: LiteLLM takes request tags as `metadata: {tags: [...]}`; here they go
 * in the `x-tessera-tags` header (lambdas/inference/request-tags.ts), which every route takes, so the message names it
 * with the list's strings as the header's value (`x-tessera-tags: checkout, env=prod`) when they fit in 100 characters.
 * Any other value that is no string gets zod's own words, which the gateway's 400 says in OpenAI's (`invalid_type`).
 * @param input the value refused (any JSON value but a string)
 * @returns the advice for a list, without the field's path (the 400 names it); undefined for any other value (zod's words)
 */
function notAString(input: unknown): string | undefined {
  if (!Array.isArray(input)) return undefined;
  const strings = input.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  const listed = strings.join(', ');
  // The list itself when it reads as a header value (the message stays under describeIssues' 300 characters), else an example.
  const example = strings.length === input.length && strings.length > 0 && listed.length <= 100 ? listed : 'checkout, env=prod';
  return `a metadata value is a string (OpenAI's Metadata). To tag a request (LiteLLM's metadata.tags), send the tags in the x-tessera-tags header instead: x-tessera-tags: ${example}`;
}

/**
 * OpenAI's `Metadata` (the `openai` package's shared.d.ts): up to 16 key-value pairs, keys of at most 64 characters and
 * string values of at most 512. OpenAI refuses more with a 400 naming `metadata`; so does the gateway, for chat
 * completions (as the Responses API's schema already did), conversations and fine-tuning jobs, before anything is counted,
 * sent or stored: a self-hosted server or Bedrock (`requestMetadata`) would take what OpenAI refuses. The key `__proto__`
 * is refused (400 naming `metadata.__proto__`, withoutProtoKey): the gateway's objects cannot keep it.
 */
export const Metadata = withoutProtoKey(z.record(
  z.string().max(64, { error: (issue) => `a metadata key has at most 64 characters (this one has ${codePoints(String(issue.input))})` }),
  z.string({ error: (issue) => notAString(issue.input) }).max(512, { error: (issue) => `a metadata value is a string of at most 512 characters (this one has ${codePoints(String(issue.input))})` }),
).refine((m) => Object.keys(m).length <= 16, {
  error: (issue) => `metadata has at most 16 keys (${Object.keys(issue.input as object).length} given)`,
  // What the gateway's 400 says in OpenAI's words (`object_above_max_properties`: lambdas/inference/openai-issues.ts).
  params: { maxProperties: 16 },
}),
'the metadata key __proto__ cannot be kept by this gateway; use another key');
