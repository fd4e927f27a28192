import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { expect, it } from 'vitest';
import { REQUIRED_BOOTSTRAP_VERSION } from '../../../lib/cli/doctor/bootstrap-checks.js';
import { tempDir } from '../../support/temp-dirs.js';

it('REQUIRED_BOOTSTRAP_VERSION is the highest bootstrap version a DefaultStackSynthesizer stack of this aws-cdk-lib requires (deploy and lookup role)', () => {
  // GIVEN: a stack synthesized as TesseraOrganization and TesseraPlatform are (default synthesizer)
  const app = new App({ outdir: tempDir('tessera-test-bootstrap-') }); // removed after the file (CDK's own temp dir stayed)
  const stack = new Stack(app, 'Probe', { env: { account: '444444444444', region: 'us-east-1' }, synthesizer: new DefaultStackSynthesizer() });
  new Topic(stack, 'T');
  // WHEN
  const artifact = app.synth().getStackArtifact(stack.artifactId);
  // THEN
  const props = artifact.manifest.properties as { requiresBootstrapStackVersion?: number; lookupRole?: { requiresBootstrapStackVersion?: number } };
  expect(Math.max(props.requiresBootstrapStackVersion ?? 0, props.lookupRole?.requiresBootstrapStackVersion ?? 0)).toBe(REQUIRED_BOOTSTRAP_VERSION);
});
