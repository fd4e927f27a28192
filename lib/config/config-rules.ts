/**
 * Config rules spelled out in messages, shared by the schema (lib/config/schema.ts, which re-exports them) and the
 * messages that explain its issues (config-issues.ts). In a module of their own so that config-issues.ts, and with it
 * the CLI's error reporting (`nearest`), does not load the schema: building its zod schemas and aws-cdk-lib's region
 * table (lib/config/region.ts) was about a third of every `tessera` start's CPU.
 */

/** The rule for tier names, spelled out: they become parts of stack, role and DNS names. */
export const TIER_NAME_RULE = 'a tier name must be a lower-case DNS label of 2-31 characters: a-z, 0-9 and "-", starting with a letter and not ending with "-" (it becomes part of stack, role, DNS names and Kubernetes labels)';

/** Why two of the config's ranges may not overlap (the overlap check's message). */
export const DISJOINT = 'tenant VPCs are routed to the platform VPC, so their ranges must be disjoint';
