import { invalid, type GatewayError } from './openai-errors.js';

/**
 * The one rule for OpenAI file ids, on /v1/chat/completions and /v1/responses alike: the gateway
 * stores files for fine-tuning only (`POST /v1/files` with purpose `fine-tune`, training data, not
 * model inputs), and an id passed on to OpenAI would name a file of the platform's provider
 * organisation (shared by every tenant), not the caller's. So a `file_id` in a request is a 400
 * naming it (code `unsupported_parameter`), whatever the provider.
 * @param path where the id is (`messages[1].content[0].file.file_id`, `input[0].content[2].file_id`)
 * @param instead what to send instead (`send the file inline as file_data (base64) with a filename`)
 */
export function fileIdNotServed(path: string, instead: string): GatewayError {
  return invalid(`${path}: OpenAI file ids are not served as model input by this gateway (it stores files for fine-tuning only, and an id passed on would name a file of the platform's provider organisation, not yours); ${instead}`, path, 'unsupported_parameter');
}
