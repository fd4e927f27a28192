import type { MiddlewareStack } from '@smithy/types';

/** Where the AWS SDK sent a call that failed, as the request it sent says (recordCalledEndpoint). */
export interface CalledEndpoint {
  /** `<protocol>//<hostname>[:<port>]` of the request the SDK sent, e.g. `http://127.0.0.1:5000`. */
  url: string;
  /**
   * Whether the SDK sent it to an endpoint configured for it instead of the one AWS's endpoint rules give: the client's
   * `endpoint`, or what the SDK's endpoint middleware read (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
   * profile's `services` section or `endpoint_url`: `tessera serve --profile`).
   */
  configured: boolean;
}

/** The SDK client's config this reads: the resolved endpoint config of @smithy/core/endpoints (resolveEndpointConfig). */
interface EndpointConfig {
  /** True when the client was given `endpoint` in code. */
  isCustomEndpoint?: boolean;
  /** The client's `ignoreConfiguredEndpointUrls` option. */
  ignoreConfiguredEndpointUrls?: boolean;
  /** The SDK's own (memoized) read of the configured endpoint: environment, then the profile; undefined when none or ignored. */
  serviceConfiguredEndpoint?: () => Promise<string | undefined>;
}

/** Not enumerable, so that the error's logged or serialized form is unchanged. */
const CALLED = Symbol.for('tessera.calledEndpoint');

/**
 * Adds to `client` a middleware (finalizeRequest step, innermost: after the endpoint is resolved, around each attempt)
 * that marks an error of a call with the endpoint the request went to ({@link calledEndpointOf}): the host the SDK
 * actually called, whatever set it. The SDK resolves a configured endpoint (AWS_ENDPOINT_URL..., a profile's
 * `endpoint_url` or `services` section) on a copy of the client's config, so `client.config.endpoint` does not show it;
 * the request does. Whether it was configured is the client's `isCustomEndpoint`, or the SDK's own read of the
 * configured endpoint (`serviceConfiguredEndpoint`) unless the client ignores configured endpoints.
 * @returns the same client
 */
export function recordCalledEndpoint<C extends { middlewareStack: MiddlewareStack<any, any>; config: object }>(client: C): C {
  const config = client.config as EndpointConfig;
  client.middlewareStack.add((next) => async (args) => {
    try {
      return await next(args);
    } catch (e) {
      const request = (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request;
      if (request?.hostname && e && typeof e === 'object' && !(CALLED in e)) {
        const configured = config.isCustomEndpoint === true
          || (!config.ignoreConfiguredEndpointUrls && (await config.serviceConfiguredEndpoint?.().catch(() => undefined)) !== undefined);
        const url = `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
        Object.defineProperty(e, CALLED, { value: { url, configured } satisfies CalledEndpoint, enumerable: false, configurable: true });
      }
      throw e;
    }
  }, { step: 'finalizeRequest', priority: 'low', name: 'tesseraCalledEndpoint', override: true });
  return client;
}

/** The endpoint a failed call went to, when its client has {@link recordCalledEndpoint} and a request was sent; else undefined. */
export function calledEndpointOf(e: unknown): CalledEndpoint | undefined {
  return e && typeof e === 'object' ? (e as { [CALLED]?: CalledEndpoint })[CALLED] : undefined;
}
