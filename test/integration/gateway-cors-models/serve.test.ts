import { afterAll, beforeAll } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { describeCors } from './cors-cases.js';
import { serveCorsModels } from './fixtures.js';
import { describeModelRetrieval } from './models-cases.js';

// Browser access and model retrieval on `tessera serve` (the origin index: the embedded registry's tenants).
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
});
afterAll(async () => {
  await upstream?.stop();
});

describeCors('tessera serve', () => serveCorsModels(upstream.url));
describeModelRetrieval('tessera serve', () => serveCorsModels(upstream.url));
