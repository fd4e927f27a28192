import { z } from 'zod';

/**
 * Limits of one user or one key, on top of the tenant's (same store, same transaction).
 * Each is optional: absent means only the tenant's limit applies.
 */
export const SubjectLimits = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerDay: z.number().int().positive().optional(),
  monthlyCostUsd: z.number().positive().optional(),
});
export type SubjectLimits = z.infer<typeof SubjectLimits>;
