/**
 * Text with its control characters made visible as JSON writes them (`\r`, `\n`, `\t`, `\u001b`, ...), for a
 * terminal or a message that quotes a caller's value: C0 and C1 controls, DEL, the line and paragraph
 * separators and the bidirectional overrides and isolates (what the registry's display names refuse). The
 * CLI's tables use it for ids that come from elsewhere (a user id is the tenant identity provider's JWT
 * `sub`, a model id the request's: a `\r` in one returned the cursor and the row printed over another), and
 * the gateway's messages that quote an id a caller sent.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const json = JSON.stringify(c).slice(1, -1);
    return json.length > 1 ? json : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
