import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { lambdaDeadline, type RemainingTime } from '../inference/lambda-deadline.js';
import type { Gateway } from '../inference/gateway.js';
import { buildLambdaGateway, lambdaConfig, lambdaPendingCreates } from '../inference/lambda-deps.js';
import { FineTuningService, TRAINING_START_MARGIN_MS } from './fine-tuning-service.js';
import { GatewayError } from '../inference/openai-errors.js';
import { isBinaryMediaType } from '../inference/routes.js';
import { repeatedOf } from '../inference/query-parameters.js';
import { repeatedHeaderNames } from '../inference/repeated-headers.js';
import { LAMBDA_MAX_PART_BYTES, LAMBDA_MAX_UPLOAD_BYTES } from './uploads-service.js';
import { lambdaFileStore, lambdaJobStore, lambdaTenantModels, launcherSageMaker } from './lambda-deps.js';

let gateway: Promise<Gateway> | undefined;

/** The most a text answer's body may take in Lambda's answer: its 6,291,456-byte payload limit (Lambda quotas) less room for the status and headers. */
const MAX_TEXT_ANSWER_BYTES = 6_291_456 - 16 * 1024;

/**
 * The fine-tuning API Lambda (`/v1/fine_tuning/jobs...` and `/v1/files...` on the inference API, same authorizer):
 * the gateway's request path with the fine-tuning service attached, answered whole (no streaming). Its deadline
 * (lambda-deadline.ts) comes TRAINING_START_MARGIN_MS before the invocation's end: a job create that reaches it starts
 * no training job (fine-tuning-service.ts).
 * @param context the invocation's context (its remaining time). @default - no deadline
 */
export const handler = async (event: APIGatewayProxyEvent, context?: RemainingTime): Promise<APIGatewayProxyResult> => {
  gateway ??= lambdaPendingCreates().then((pending) => buildLambdaGateway({ fineTuning: new FineTuningService({
    config: lambdaConfig(), jobs: lambdaJobStore(), sageMaker: launcherSageMaker, files: lambdaFileStore(),
    // DELETE /v1/models/{model}: the registry's fineTunedModels, as the tenant (the tenant-data role).
    models: { removeFineTunedModel: async (tenantId, id) => (await lambdaTenantModels()).removeFineTunedModel(tenantId, id) },
    // The fence against an offboarding's retirement: the status read strongly consistent, as the tenant (GetItem of its own record).
    tenantStatus: async (tenantId) => (await lambdaTenantModels()).tenantStatus(tenantId),
    // An upload's part is one invocation (6 MB, base64); its assembly fits within API Gateway's 29 s up to the measured cap.
    uploads: { maxPartBytes: LAMBDA_MAX_PART_BYTES, maxUploadBytes: LAMBDA_MAX_UPLOAD_BYTES },
    // An SDK retry of files.create arriving while its first attempt still stores the file waits for it (the responses table).
    pending,
  }) }));
  // A multipart upload arrives base64-encoded (the API's binaryMediaTypes): its bytes go on as they came.
  const bytes = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const body = bytes ? bytes.toString('utf8') : (event.body ?? undefined);
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
  let answer: APIGatewayProxyResult = { statusCode: 502, headers: { 'content-type': 'application/json' }, body: '' };
  const deadline = context && lambdaDeadline(context, TRAINING_START_MARGIN_MS);
  try {
    await (await gateway).handle(
      { method: event.httpMethod, path: event.path.replace(/^\/[^/]+(?=\/v1\/)/, ''), query: event.queryStringParameters ?? {}, repeatedQuery: repeatedOf(event.multiValueQueryStringParameters), headers, repeatedHeaders: repeatedHeaderNames(event.multiValueHeaders), body, bytes },
      {
        deadline: deadline?.signal,
        // The gateway's headers (x-request-id, retry-after, x-ratelimit-*, CORS) go out with the answer.
        json(status, text, extra = {}) {
          answer = { statusCode: status, headers: { ...extra, 'content-type': 'application/json' }, body: text };
        },
        // A file's content: as bytes (base64, which API Gateway decodes) when the caller accepts a binary
        // media type, as the official clients' files.content do; else as text, inside the JSON of
        // Lambda's answer, where escaping can double it: past Lambda's limit that is a 406 saying what to accept,
        // as is a file that is not UTF-8 text (a model input file: an image, a PDF), which text would corrupt.
        content(status, body, contentType, extra = {}) {
          const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
          const headersOut = { ...extra, 'content-type': contentType };
          if (isBinaryMediaType(headers.accept)) {
            answer = { statusCode: status, headers: headersOut, body: bytes.toString('base64'), isBase64Encoded: true };
            return;
          }
          let text: string;
          try {
            text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            throw new GatewayError(406, `this file's content is not UTF-8 text (an image, a PDF, ...), which a text answer would corrupt; send Accept: application/binary, as the official clients' files.content do`, 'invalid_request_error', 'not_acceptable', 'accept');
          }
          if (Buffer.byteLength(JSON.stringify(text)) > MAX_TEXT_ANSWER_BYTES) {
            throw new GatewayError(406, `this file's content is larger than a text answer of this API can be (Lambda answers at most 6 MB, and JSON escaping grows it); send Accept: application/binary, as the official clients' files.content do`, 'invalid_request_error', 'not_acceptable', 'accept');
          }
          answer = { statusCode: status, headers: headersOut, body: text };
        },
        empty(status, extra = {}) {
          answer = { statusCode: status, headers: extra, body: '' };
        },
        stream() {
          throw new Error('the fine-tuning API does not stream');
        },
      },
    );
  } finally {
    deadline?.dispose();
  }
  return answer;
};
