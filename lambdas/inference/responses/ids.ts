import { randomBytes } from 'node:crypto';

/**
 * Ids in OpenAI's shapes: a prefix and 48 hex characters (`resp_…` responses, `msg_…` messages,
 * `fc_…` function calls, `fco_…` function-call outputs). Random, so an id says nothing about the
 * tenant and cannot be guessed.
 */
export const newId = (prefix: 'resp' | 'msg' | 'fc' | 'fco' | 'item') => `${prefix}_${randomBytes(24).toString('hex')}`;

/** Whether `id` can be a response id the gateway made (`resp_` and 48 hex characters). */
export const isResponseId = (id: string) => /^resp_[0-9a-f]{48}$/.test(id);
