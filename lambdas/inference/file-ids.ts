import { invalid, type GatewayError } from './openai-errors.js';

/**
 * The refusal of a `file_id` (chat completions' `file.file_id`, the Responses API's `input_file` / `input_image`
 * `file_id`) where this gateway keeps no files (a gateway built without the Batch API's file store: the Lambdas
 * without `TESSERA_BATCH_FILES_BUCKET`). Where it keeps them, ids are resolved from the caller's tenant's files
 * (./input-files.ts). An id is never passed on: at OpenAI it would name a file of the platform's provider
 * organisation (shared by every tenant), not the caller's. 400 `unsupported_parameter` naming `path`.
 * @param path where the id is (`messages[1].content[0].file.file_id`, `input[0].content[2].file_id`)
 * @param instead what to send instead (`send the file inline as file_data (base64) with a filename`)
 */
export function fileIdNotServed(path: string, instead: string): GatewayError {
  return invalid(`${path}: file ids are not served as model input by this gateway (it keeps no files of purpose "user_data" or "vision": its Files API is not served here, and an id passed on would name a file of the platform's provider organisation, not yours); ${instead}`, path, 'unsupported_parameter');
}
