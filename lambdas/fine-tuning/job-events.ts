import { randomBytes } from 'node:crypto';
import type { FineTuningEvent } from '../../lib/fine-tuning.js';

/** Seconds since the epoch: OpenAI's `created_at` / `finished_at`. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** One entry of a job's event list (`GET /v1/fine_tuning/jobs/{id}/events`). */
export const jobEvent = (level: FineTuningEvent['level'], message: string): FineTuningEvent => ({ id: `ftevent-${randomBytes(12).toString('hex')}`, created_at: nowSeconds(), level, message });
