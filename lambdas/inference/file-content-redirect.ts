/**
 * The largest file `files.content` answers with its bytes where the store serves a URL (on AWS): 4 MiB, whose base64
 * (5,592,408 bytes) and headers fit Lambda's 6 MB synchronous response (AWS Lambda Developer Guide, "Lambda quotas":
 * invocation payload 6 MB, request and response; API Gateway REST takes 10 MB). A larger file is a 307 to a URL of the
 * store's (contentRedirect), which the official clients follow (openai-python's httpx client sets
 * `follow_redirects=True`; openai-node's fetch follows by default), dropping their `Authorization` on the way
 * (cross-origin: httpx `_redirect_headers`, the Fetch standard's HTTP-redirect fetch). The gateway's files
 * (batches/batch-service.ts) and the fine-tuning files (fine-tuning/files-service.ts) both.
 */
export const MAX_INLINE_CONTENT_BYTES = 4 * 1024 * 1024;
/** How long the URL of a `files.content` redirect lives, in seconds: the client follows it at once (a retry asks again). */
export const CONTENT_URL_SECONDS = 60;

/**
 * The answer of a `files.content` whose bytes are at `location` (a presigned GET): a 307 (RFC 9110 §15.4.8: the same
 * GET at another URI), no body (the official clients read only the target's), not cached (the URL expires).
 */
export const contentRedirect = (location: string) => ({ status: 307, body: '' as const, headers: { location, 'cache-control': 'no-store' } });
