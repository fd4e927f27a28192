import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { AwsCredentialIdentity } from '@smithy/types';
import { registerClientPlugin } from '../../../lambdas/shared/aws-clients.js';

/**
 * S3 Control on moto. The SDK's S3 Control endpoint rules put the request's account id in the host, as AWS's endpoint is
 * `<AccountId>.s3-control.<region>.amazonaws.com`; with moto's endpoint (`AWS_ENDPOINT_URL`, http://127.0.0.1:<port>)
 * that host, `<AccountId>.127.0.0.1`, is no URL, and the SDK fails before sending ("Invalid URL"). moto needs no such
 * host: it knows an S3 Control request by its path (`/v20180820/…`) and reads the account from `x-amz-account-id`, which
 * the SDK sends too. So an S3 Control client whose configured endpoint is an IPv4 address is sent to that endpoint as it
 * is; every other endpoint (AWS's) is the SDK's rules' own. Only the host changes: the request, its headers and body,
 * and the client's code are the SDK's.
 */
type EndpointProvider = (params: { Endpoint?: string }, context?: unknown) => { url: URL };

/** `own`, except for an IPv4 endpoint (moto), which is answered as it is. */
function motoAware(own: EndpointProvider): EndpointProvider {
  return (params, context) => (params.Endpoint && /^https?:\/\/\d{1,3}(\.\d{1,3}){3}(:\d+)?\/?$/.test(params.Endpoint) ? { url: new URL(params.Endpoint) } : own(params, context));
}

let installed = false;

/**
 * Every S3ControlClient the Lambdas make (lambdas/shared/aws-clients.ts) from now on, in this process, sends to moto's
 * endpoint without the account-id host. Once per process; later calls do nothing.
 */
export function routeS3ControlToMoto(): void {
  if (installed) return;
  installed = true;
  registerClientPlugin((client) => {
    const config = (client as unknown as { config?: { serviceId?: string; endpointProvider: EndpointProvider } }).config;
    if (config?.serviceId === 'S3 Control') config.endpointProvider = motoAware(config.endpointProvider);
  });
}

/** A test's own S3 Control client on moto (`AWS_ENDPOINT_URL`), with `credentials` (an account's, fixture.as). */
export function motoS3Control(credentials: AwsCredentialIdentity, region = 'us-east-1'): S3ControlClient {
  const client = new S3ControlClient({ credentials, region, maxAttempts: 1 });
  client.config.endpointProvider = motoAware(client.config.endpointProvider as unknown as EndpointProvider) as never;
  return client;
}
