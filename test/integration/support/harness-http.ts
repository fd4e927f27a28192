import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The HTTP handler of the harness's own SDK clients (the CloudFormation and Organizations
 * emulations, the deleters and named-resource checks they call): one keep-alive connection pool for
 * all of them, as the Lambdas' clients share theirs (lambdas/shared/http-handlers.ts). Each client
 * made without one builds its own NodeHttpHandler, so every new session's emulation clients opened
 * a new connection to moto (and moto a new thread) on their first call: 480 of lifecycle.test.ts's
 * 522 TCP connects, ~0.8 ms of the worker's CPU each besides moto's. A connection carries no
 * credentials (every request is signed by its client), so requests are the same; the handler's
 * settings are NodeHttpHandler's defaults, those of a client given none (defaults mode `legacy`: no
 * timeouts; keep-alive, 50 sockets per endpoint). One per evaluation of this module (a test file);
 * its idle sockets close with the moto server they reach, and nothing here destroys it.
 */
const handler = new NodeHttpHandler();

/** `config` with the harness's shared HTTP handler as its `requestHandler`. */
export function harnessHttp<T extends object>(config: T): T & { requestHandler: NodeHttpHandler } {
  return { ...config, requestHandler: handler };
}
