import { CachedCloudFormationValidatePlugin as CachedPlugin, VALIDATION_CACHE_DIR } from '../../lib/synth/cached-cfn-validation.js';

export { templateKey, validatorKey, VALIDATION_CACHE_DIR } from '../../lib/synth/cached-cfn-validation.js';

/**
 * aws-cdk-lib's CloudFormation validation with each template's report kept on disk
 * (lib/synth/cached-cfn-validation.ts), for the test apps of test/support/synth.ts: the infra
 * tests synthesize ~30 configs of one app whose stacks are mostly the same templates, and a warm
 * run synthesizes again templates validated by the run before. The directory is `npx cdk synth`'s
 * (VALIDATION_CACHE_DIR): a fresh clone's first test run finds the templates the README's synth
 * validated. `TESSERA_TEST_CACHE=off`: nothing read or written (every template validated).
 */
export class CachedCloudFormationValidatePlugin extends CachedPlugin {
  constructor() {
    super({ cacheDir: VALIDATION_CACHE_DIR, enabled: process.env.TESSERA_TEST_CACHE !== 'off' });
  }
}
