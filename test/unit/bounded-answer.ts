/**
 * A mock's answer (aws-sdk-client-mock `callsFake`) that throws once it has been asked more than
 * `max` times: a listing that does not stop on a repeated page token fails its test with that error
 * instead of hanging it.
 * @param answer - the answer to the `call`-th call (1-based)
 * @param max - calls answered before it throws; @default 5
 */
export function bounded<T>(answer: (call: number) => T, max = 5): () => T {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls > max) throw new Error(`asked ${calls} times: the listing does not stop on a repeated token`);
    return answer(calls);
  };
}
