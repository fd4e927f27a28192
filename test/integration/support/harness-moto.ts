import { startMoto, type MotoOptions, type MotoServer } from './moto-server.js';

/**
 * The variables the lifecycle harness's moto runs with, on top of what every moto server has
 * (moto-server.ts motoServerEnvironment: moto-python/ on `PYTHONPATH`, its sitecustomize.py):
 * - `TESSERA_MOTO_NOT_IMPLEMENTED_STATUS=501`: an action moto does not implement answers 501, not
 *   a 500 page the SDK retries twice more with backoff (moto-python/tessera_moto_patches.py
 *   answer_not_implemented; the quota check's RDS and Service Quotas reads: ~1,000 of
 *   lifecycle.test.ts's 6,300 requests were those retries). The caller gets the same unparsable
 *   error, once. Read per request, so a zygote-forked server gets it too.
 * - `MOTO_EC2_LOAD_DEFAULT_AMIS=false`: moto's EC2 builds its catalog of about 1,300 public AMIs
 *   (each with a snapshot) for every account and region it first sees, every vended tenant account
 *   included; nothing in Tessera reads an AMI (EKS node groups name an `amiType`). moto reads it
 *   when it builds an account's EC2 backend, at request time: a zygote-forked server gets it too.
 */
export function harnessMotoEnvironment(): Record<string, string> {
  return { MOTO_EC2_LOAD_DEFAULT_AMIS: 'false', TESSERA_MOTO_NOT_IMPLEMENTED_STATUS: '501' };
}

/** startMoto (moto-server.ts) with harnessMotoEnvironment() in the server's environment (not this process's). */
export async function startHarnessMoto(options: MotoOptions = {}): Promise<MotoServer> {
  return startMoto({ ...options, env: { ...harnessMotoEnvironment(), ...options.env } });
}
