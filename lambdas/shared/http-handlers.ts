import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HTTP_TIMEOUTS, type HttpProfile, type HttpTimeouts } from '../../lib/aws-http-timeouts.js';

/**
 * An HTTP/1.1 handler with `timeouts` and the SDK's keep-alive agents (keepAlive, 50 sockets per
 * endpoint). Always NodeHttpHandler, whatever the client: handed an options object, Bedrock
 * Runtime's client would make an HTTP/2 handler (NodeHttp2Handler), and that handler would then be
 * shared by the profile's other clients (DynamoDB and moto speak HTTP/1.1 only).
 */
export function nodeHttpHandler(timeouts: HttpTimeouts): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: timeouts.connectionTimeout, socketTimeout: timeouts.socketTimeout });
}

const handlers = new Map<HttpProfile, NodeHttpHandler>();

/**
 * The handler every client of `profile` shares (one connection pool per kind of use), made on
 * first use. A connection carries no credentials (each request is signed by its client), so
 * clients of other sessions, regions and retries share it. Nothing destroys it.
 */
export function httpHandler(profile: HttpProfile): NodeHttpHandler {
  let handler = handlers.get(profile);
  if (!handler) handlers.set(profile, (handler = nodeHttpHandler(HTTP_TIMEOUTS[profile])));
  return handler;
}
