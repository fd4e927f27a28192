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
