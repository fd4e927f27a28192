import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Gateway } from '../inference/gateway.js';
import { buildLambdaGateway, lambdaConfig } from '../inference/lambda-deps.js';
import { FineTuningService } from './fine-tuning-service.js';
import { lambdaJobStore, launcherSageMaker } from './lambda-deps.js';

let gateway: Promise<Gateway> | undefined;

/**
 * The fine-tuning API Lambda (`/v1/fine_tuning/jobs...` on the inference API, same authorizer):
 * the gateway's request path with the fine-tuning service attached, answered whole (no streaming).
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  gateway ??= buildLambdaGateway({ fineTuning: new FineTuningService({ config: lambdaConfig(), jobs: lambdaJobStore(), sageMaker: launcherSageMaker }) });
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? undefined);
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
  let answer: APIGatewayProxyResult = { statusCode: 502, headers: { 'content-type': 'application/json' }, body: '' };
  await (await gateway).handle(
    { method: event.httpMethod, path: event.path.replace(/^\/[^/]+(?=\/v1\/)/, ''), query: event.queryStringParameters ?? {}, headers, body },
    {
      // The gateway's headers (x-request-id, retry-after, x-ratelimit-*, CORS) go out with the answer.
      json(status, text, extra = {}) {
        answer = { statusCode: status, headers: { ...extra, 'content-type': 'application/json' }, body: text };
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
