import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsClientFactory } from '../../../lib/cli/doctor/clients.js';
import { exitCodeOf } from '../../../lib/cli/doctor/format.js';
import { modelShutdownChecks } from '../../../lib/cli/doctor/model-shutdown-checks.js';
import { CHECK_GROUPS, runDoctor } from '../../../lib/cli/doctor/runner.js';
import { mockStrict } from '../../support/strict-mock.js';
import { MANAGEMENT, testConfig, testContext } from './support.js';

/** A fixed day: the check never reads the clock in tests. */
const TODAY = new Date('2026-12-05T09:00:00Z');
const catalog = (...models: Array<{ id: string; upstream: string }>) => testConfig({ gateway: { models: models.map((m) => ({ ...m, inputPricePer1k: 0.001, outputPricePer1k: 0.001 })) } });

describe('doctor model-shutdown (the preflight rule model-shutdown-dates)', () => {
  it('fails an openai/ model past its date, warns one within 90 days, passes one further off, with the fix', async () => {
    const lines = await modelShutdownChecks({ ...testContext(catalog(
      { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' },
      { id: 'openai/gpt-image-1', upstream: 'gpt-image-1' },
      { id: 'openai/nano', upstream: 'gpt-5.4-nano' },
      { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini' },
    )), today: TODAY });
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['model-shutdown:openai/gpt-image-1', 'fail'],
      ['model-shutdown:openai/gpt-4o-mini', 'warn'],
      ['model-shutdown:openai/nano', 'pass'],
    ]);
    expect(lines[0]).toMatchObject({
      title: 'Shutdown of openai/gpt-image-1',
      detail: 'openai/gpt-image-1 (upstream gpt-image-1) was shut down on 2026-10-23 (43 days ago): OpenAI answers every request for it with an error; OpenAI suggests gpt-image-2.5-sunburst or gpt-image-2.5-flare',
      fix: "add a catalog entry for gpt-image-2.5-sunburst or gpt-image-2.5-flare to gateway.models, move tenants' keys, fallbacks and gateway.modelAliases off openai/gpt-image-1, then remove it (or change its upstream gpt-image-1)",
    });
    // The embedded default's alias gpt-4o-mini (its bare OpenAI name) goes to it: the line and the fix name it.
    expect(lines[1].detail).toBe('openai/gpt-4o-mini (upstream gpt-4o-mini) shuts down on 2027-01-14 (in 40 days); see https://developers.openai.com/api/docs/deprecations for the replacement; requests for its alias gpt-4o-mini (gateway.modelAliases) go to it');
    expect(lines[1].fix).toBe("add a catalog entry for a current OpenAI model to gateway.models, move tenants' keys, fallbacks and gateway.modelAliases (gpt-4o-mini: point it at the replacement, or null to remove it) off openai/gpt-4o-mini, then remove it (or change its upstream gpt-4o-mini)");
    expect(lines[2].fix).toBeUndefined();
  });

  it('one pass line when no catalog model has a date', async () => {
    const lines = await modelShutdownChecks({ ...testContext(catalog({ id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini' }, { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0' })), today: TODAY });
    expect(lines).toEqual([{ id: 'model-shutdown', title: 'Model shutdowns', status: 'pass', detail: 'no openai/ or openai-compatible/ model of gateway.models has an announced OpenAI shutdown date (as of 2026-12-05)' }]);
  });

  describe('in the runner', () => {
    const sts = mockStrict(STSClient, 'sts', STSServiceException);
    beforeEach(() => {
      sts.reset();
      sts.on(GetCallerIdentityCommand).resolves({ Account: MANAGEMENT, Arn: `arn:aws:sts::${MANAGEMENT}:assumed-role/Admin/eng` });
    });

    it('is a check group; runDoctor passes its today; a warning alone keeps exit 0', async () => {
      const group = CHECK_GROUPS.filter((g) => g.name === 'model-shutdown');
      expect(group).toHaveLength(1);
      const run = (config: ReturnType<typeof catalog>) => runDoctor({ config, configFile: 'acme.yaml', factory: awsClientFactory({ maxAttempts: 1 }), groups: group, today: TODAY });
      const warned = await run(catalog({ id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' }));
      expect(warned.checks.map((c) => [c.id, c.status])).toEqual([['config', 'pass'], ['credentials', 'pass'], ['model-shutdown:openai/gpt-4o-mini', 'warn']]);
      expect(exitCodeOf(warned)).toBe(0);
      const failed = await run(catalog({ id: 'openai/legacy', upstream: 'gpt-3.5-turbo' }));
      expect(exitCodeOf(failed)).toBe(1);
    });
  });
});
