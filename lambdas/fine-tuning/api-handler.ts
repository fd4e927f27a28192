import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Gateway } from '../inference/gateway.js';
import { buildLambdaGateway, lambdaConfig } from '../inference/lambda-deps.js';
import { FineTuningService } from './fine-tuning-service.js';
import { lambdaFileStore, lambdaJobStore, launcherSageMaker } from './lambda-deps.js';

let gateway: Promise<Gateway> | undefined;

/**
 * The fine-tuning API Lambda (`/v1/fine_tuning/jobs...` and `/v1/files...` on the inference API, same authorizer):
 * the gateway's request path with the fine-tuning service attached, answered whole (no streaming).
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  gateway ??= buildLambdaGateway({ fineTuning: new FineTuningService({ config: lambdaConfig(), jobs: lambdaJobStore(), sageMaker: launcherSageMaker, files: lambdaFileStore() }) });
  // A multipart upload arrives base64-encoded (the API's binaryMediaTypes): its bytes go on as they came.
  const bytes = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const body = bytes ? bytes.toString('utf8') : (event.body ?? undefined);
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
  let answer: APIGatewayProxyResult = { statusCode: 502, headers: { 'content-type': 'application/json' }, body: '' };
  await (await gateway).handle(
    { method: event.httpMethod, path: event.path.replace(/^\/[^/]+(?=\/v1\/)/, ''), query: event.queryStringParameters ?? {}, headers, body, bytes },
    {
      // The gateway's headers (x-request-id, retry-after, x-ratelimit-*, CORS) go out with the answer.
      json(status, text, extra = {}) {
        answer = { statusCode: status, headers: { ...extra, 'content-type': 'application/json' }, body: text };
      },
      // A file's content: UTF-8 text (files are checked to be UTF-8 on upload), so the body goes as text.
      content(status, text, contentType, extra = {}) {
        answer = { statusCode: status, headers: { ...extra, 'content-type': contentType }, body: text };
      },
      empty(status, extra = {}) {
        answer = { statusCode: status, headers: extra, body: '' };
      },
      stream() {
        throw new Error('the fine-tuning API does not stream');
      },
    },
  );
  return answer;
};
