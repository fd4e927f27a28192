/**
 * The `model` a JSON request body names, when it names one as a string: for the access line of a request refused before
 * its model was resolved (a schema's 400 on `temperature`, a field the route does not define), which the audit record's
 * `model` (a catalog id, set once the model is resolved) does not name. The body is read again only when its text holds
 * `"model"`; any body that is not a JSON object, or whose `model` is not a string, names none.
 * @param body the request's body text (the gateway's `req.body`) @default - none
 * @returns the string as sent (the access line bounds and redacts it: log-text.ts logModel), or undefined
 */
export function bodyModel(body: string | undefined): string | undefined {
  if (body === undefined || !body.includes('"model"')) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    const model = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { model?: unknown }).model : undefined;
    return typeof model === 'string' && model !== '' ? model : undefined;
  } catch {
    return undefined;
  }
}
