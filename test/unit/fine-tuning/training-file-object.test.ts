import { describe, expect, it } from 'vitest';
import { TrainingFilesService } from '../../../lambdas/fine-tuning/files-service.js';
import type { StoredFile, TrainingFileStore } from '../../../lambdas/fine-tuning/stores/file-store.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { gatewayConfig } from '../../support/gateway-config.js';

// A file made at 2026-12-05T00:00:00Z (its id carries its creation time in milliseconds, hex).
const created = Date.UTC(2026, 11, 5) / 1000;
const file: StoredFile = { id: `file-${(created * 1000).toString(16).padStart(12, '0')}000000000000`, filename: 'a.jsonl', bytes: 10, s3Uri: 's3://b/training-data/files/x/a.jsonl' };
const callerOf = (tier: string) => ({ tenantId: 'acme', userId: 'u', role: 'developer', tenant: { tier } }) as unknown as Caller;
const service = () => new TrainingFilesService({ config: gatewayConfig(), files: {} as TrainingFileStore });

describe("the fine-tuning Files API's FileObject", () => {
  it("has expires_at: the tier's training-data lifecycle, rounded to the next midnight UTC as S3's rule removes it", () => {
    const days = gatewayConfig().tiers.enterprise!.training.dataRetentionDays;
    expect(service().toOpenAiFile(callerOf('enterprise'), file)).toMatchObject({ id: file.id, created_at: created, expires_at: created + days * 86_400 });
  });

  it('has expires_at null, not absent, when the tier names no retention, as the gateway\'s other files (GET /v1/files lists both) answer it', () => {
    const answer = service().toOpenAiFile(callerOf('no-such-tier'), file);
    expect(answer).toHaveProperty('expires_at', null);
    expect(JSON.parse(JSON.stringify(answer))).toHaveProperty('expires_at', null);
  });
});
