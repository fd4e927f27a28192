/**
 * The 413 of a request body over `gateway.maxRequestBytes` (1 MiB by default), naming the body's size, the limit and
 * what to do: an image or document sent inline as base64 is what makes a chat or Responses body that large, and the
 * gateway takes it as a file id instead (Model input files, docs/gateway.md).
 */
import { GatewayError, tooLarge } from './openai-errors.js';

/**
 * The body's size in bytes: the request's `content-length` (on `tessera serve` the bytes counted, for a body the
 * local server stopped buffering: local-server.ts), else the UTF-8 length of the body.
 * @param headers the request's headers, lower-case names
 * @param body the body as read
 */
export function sentBodyBytes(headers: Record<string, string | undefined>, body: string): number {
  const declared = headers['content-length'];
  return declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : Buffer.byteLength(body);
}

/**
 * A 413 `request_too_large` naming the body's size and the limit.
 * @param sentBytes the body's size, bytes
 * @param limitBytes `gateway.maxRequestBytes`
 */
export function requestBodyTooLarge(sentBytes: number, limitBytes: number): GatewayError {
  return tooLarge(`request body is ${sentBytes} bytes, over the limit of ${limitBytes} bytes (gateway.maxRequestBytes); `
    + 'an image or document sent inline as base64: upload it with POST /v1/files (purpose "vision" or "user_data") and send its file_id instead '
    + '(an input_image or input_file part in the Responses API; in chat completions a document\'s file part, {type: "file", file: {file_id}})');
}
