import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { GatewayResponder } from './gateway.js';
import { lambdaGateway } from './lambda-deps.js';

/**
 * The router Lambda: API Gateway (REST, `responseTransferMode: STREAM`) → Lambda response
 * streaming → the gateway. `awslambda` is the Lambda Node.js runtime's global.
 */
declare const awslambda: {
  streamifyResponse(fn: (event: APIGatewayProxyEvent, stream: NodeJS.WritableStream) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: NodeJS.WritableStream, meta: { statusCode: number; headers: Record<string, string> }): NodeJS.WritableStream };
};

export function responderFor(raw: NodeJS.WritableStream): GatewayResponder {
  const open = (statusCode: number, contentType: string) => awslambda.HttpResponseStream.from(raw, { statusCode, headers: { 'content-type': contentType } });
  return {
    json(status, body) {
      const s = open(status, 'application/json');
      s.write(body);
      s.end();
    },
    stream() {
      const s = open(200, 'text/event-stream');
      return { write: (event) => void s.write(event), end: () => void s.end() };
    },
  };
}

export const handler = awslambda.streamifyResponse(async (event, raw) => {
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? undefined);
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));
  await (await lambdaGateway()).handle({ method: event.httpMethod, path: event.path.replace(/^\/[^/]+(?=\/v1\/)/, ''), headers, body }, responderFor(raw));
});
