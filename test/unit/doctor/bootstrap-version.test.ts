import { App, DefaultStackSynthesizer, Stack, Validations } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { expect, it } from 'vitest';
import { REQUIRED_BOOTSTRAP_VERSION } from '../../../lib/cli/doctor/bootstrap-checks.js';
import { CachedCloudFormationValidatePlugin } from '../../support/cached-cfn-validation.js';
import { tempDir } from '../../support/temp-dirs.js';

it('REQUIRED_BOOTSTRAP_VERSION is the highest bootstrap version a DefaultStackSynthesizer stack of this aws-cdk-lib requires (deploy and lookup role)', () => {
  // GIVEN: a stack synthesized as TesseraOrganization and TesseraPlatform are (default synthesizer)
  const app = new App({ outdir: tempDir('tessera-test-bootstrap-') }); // removed after the file (CDK's own temp dir stayed)
  // aws-cdk-lib's CloudFormation validation, which an App runs by default, with its report kept per
  // template as test/support/synth.ts's withCachedValidation does (not imported from there: synth.ts
  // loads the whole app's modules): its engine costs ~2 s of CPU to start, for the same template every run
  if (process.env.CDK_VALIDATION !== 'false') Validations.of(app).addPlugins(new CachedCloudFormationValidatePlugin());
  const stack = new Stack(app, 'Probe', { env: { account: '444444444444', region: 'us-east-1' }, synthesizer: new DefaultStackSynthesizer() });
  new Topic(stack, 'T');
  // WHEN
  const artifact = app.synth().getStackArtifact(stack.artifactId);
  // THEN
  const props = artifact.manifest.properties as { requiresBootstrapStackVersion?: number; lookupRole?: { requiresBootstrapStackVersion?: number } };
  expect(Math.max(props.requiresBootstrapStackVersion ?? 0, props.lookupRole?.requiresBootstrapStackVersion ?? 0)).toBe(REQUIRED_BOOTSTRAP_VERSION);
});
