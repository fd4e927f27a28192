/**
 * The CDK context keys (cdk.json, `-c key=value`) the Tessera app reads. Any other `tessera:` key
 * is refused by the app (`unknownContextKeyProblems`, lib/config/load-config.ts): a misspelt
 * `-c tessera:configfile=…` would otherwise be ignored and the embedded default synthesized.
 */
export const CONFIG_FILE_CONTEXT_KEY = 'tessera:configFile';
export const CONFIG_CONTEXT_KEY = 'tessera:config';
/** esbuild's log level when bundling the Lambdas (constructs/lambda-function.ts). */
export const BUNDLING_LOG_LEVEL_CONTEXT_KEY = 'tessera:bundlingLogLevel';

export const TESSERA_CONTEXT_KEYS: readonly string[] = [CONFIG_FILE_CONTEXT_KEY, CONFIG_CONTEXT_KEY, BUNDLING_LOG_LEVEL_CONTEXT_KEY];
/** The prefix of the keys the app owns: a key with it that is not one of TESSERA_CONTEXT_KEYS is refused. */
export const TESSERA_CONTEXT_PREFIX = 'tessera:';
