import type { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

/** The GatewayError `f` throws (the mapping rules refuse with 400s); fails the test when it throws none. */
export function thrown(f: () => unknown): GatewayError {
  try {
    f();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('expected a 400');
}
