import { appendFileSync } from 'node:fs';
import type { Client, MetadataBearer } from '@smithy/types';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { modelViolation, operationOf } from './aws-model-check.js';

/** A client class aws-sdk-client-mock stubs (its `prototype.send`). */
type ClientClass = { prototype: object };

/**
 * `stub`, the `mockClient(client)` of aws-sdk-client-mock just made, with the service's documented checks in front: every command sent is
 * given to `refusal` first, and one the service would refuse is answered (rejected) with `error(message)` instead of
 * the scripted answer, not recorded among the stub's calls, and pushed onto `refused`. Script answers on the returned
 * stub as usual; `reset()` keeps the checks (AwsStub.reset makes a new sinon stub, which restores the checked send
 * first), `restore()` removes the stub and the checks. What test/support/bedrock-strict.ts and cost-explorer-strict.ts
 * build their mocks with.
 * @param refusal the service's rule broken by a command, as its error message; undefined when none is
 * @param error the SDK's exception for a refusal (a ValidationException, 400)
 * @param refused where refusals are recorded, newest last (what a test can assert on)
 */
export function strictMock<Stub extends { reset(): Stub }, Refusal extends string>(
  stub: Stub,
  client: ClientClass,
  refusal: (command: unknown) => Refusal | undefined,
  error: (message: Refusal) => Error,
  refused: Array<{ command: string; message: Refusal }>,
): Stub {
  const checkBeforeSend = () => {
    const proto = client.prototype as unknown as { send: ((...args: unknown[]) => unknown) & { restore?: () => void } };
    const sinonSend = proto.send;
    const checked = function (this: unknown, command: unknown, ...rest: unknown[]) {
      const message = refusal(command);
      if (message !== undefined) {
        refused.push({ command: (command as object).constructor.name, message });
        return Promise.reject(error(message));
      }
      return sinonSend.call(this, command, ...rest);
    };
    // Looks like a sinon stub to aws-sdk-client-mock (isSinonStub: isSinonProxy and restore), so that a later mockClient
    // of the same client (AwsStub.reset, restore, another mock) restores it first, as it does its own stub.
    Object.assign(checked, { isSinonProxy: true, restore: () => sinonSend.restore?.() });
    proto.send = checked as typeof proto.send;
  };
  checkBeforeSend();
  const reset = stub.reset.bind(stub);
  stub.reset = () => {
    reset();
    checkBeforeSend();
    return stub;
  };
  return stub;
}

/** Refusals of every `mockStrict` mock in this process, newest last: what a test can assert on. */
export const refusedModelRequests: Array<{ command: string; message: string }> = [];

/**
 * `mockClient(client)` (aws-sdk-client-mock) checked against AWS's own API model of `service`: every command sent is
 * validated by test/support/aws-model-check.ts's `modelViolation` (botocore's service-2.json: required members,
 * lengths, patterns, enums, numeric ranges, list sizes, unknown members), and one the model refuses is rejected with the
 * service's ValidationException (HTTP 400; these SDKs have no class of their own for it: `ServiceException` named
 * so) instead of the scripted answer, recorded in `refusedModelRequests`. Script answers on
 * the returned stub as usual; `reset()` keeps the check, `restore()` removes it.
 * @param client the SDK v3 client class (`STSClient`)
 * @param service botocore's directory name of the service (`sts`, `events`, `sagemaker-runtime`, `service-quotas`, `sqs`)
 * @param ServiceException the client's ServiceException class (`STSServiceException`), so that product code's
 * `instanceof` holds for a refusal as for AWS's. @default a plain Error with the same name, $fault and $metadata
 */
export function mockStrict<TInput extends object, TOutput extends MetadataBearer, TConfiguration>(
  client: { prototype: Client<TInput, TOutput, TConfiguration> },
  service: string,
  ServiceException?: new (options: any) => Error,
): AwsStub<TInput, TOutput, TConfiguration> {
  const error = (message: string): Error => {
    const options = { name: 'ValidationException', $fault: 'client' as const, message, $metadata: { httpStatusCode: 400, requestId: 'model-check-refusal' } };
    return ServiceException ? new ServiceException(options) : Object.assign(new Error(message), options);
  };
  const refusal = (command: unknown) => {
    const message = modelViolation(service, operationOf(command), (command as { input?: unknown }).input);
    // AWS_MODEL_CHECK_LOG: a file each refusal is appended to with its caller's stack, for surveying a switched file
    // whose product code catches the refusal (no test sets it).
    if (message !== undefined && process.env.AWS_MODEL_CHECK_LOG) appendFileSync(process.env.AWS_MODEL_CHECK_LOG, `${process.env.VITEST_POOL_ID ?? ''} ${operationOf(command)}: ${message}\n${new Error().stack?.split('\n').slice(2, 9).join('\n')}\n`);
    return message;
  };
  return strictMock(mockClient(client), client, refusal, error, refusedModelRequests);
}
