import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CachedCloudFormationValidatePlugin as CachedPlugin } from '../../lib/synth/cached-cfn-validation.js';

export { templateKey, validatorKey } from '../../lib/synth/cached-cfn-validation.js';

/** Where the test apps keep their validation reports (apart from `npx cdk synth`'s, bin/tessera-app.ts). */
export const TEST_VALIDATION_CACHE_DIR = join(fileURLToPath(new URL('../..', import.meta.url)), '.tessera', 'test-synth-cache', 'cfn-validate');

/**
 * aws-cdk-lib's CloudFormation validation with each template's report kept on disk
 * (lib/synth/cached-cfn-validation.ts), for the test apps of test/support/synth.ts: the infra
 * tests synthesize ~30 configs of one app whose stacks are mostly the same templates, and a warm
 * run synthesizes again templates validated by the run before. `TESSERA_TEST_CACHE=off`: nothing
 * read or written (every template validated).
 */
export class CachedCloudFormationValidatePlugin extends CachedPlugin {
  constructor() {
    super({ cacheDir: TEST_VALIDATION_CACHE_DIR, enabled: process.env.TESSERA_TEST_CACHE !== 'off' });
  }
}
