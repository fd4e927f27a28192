import { startMoto, type MotoOptions, type MotoServer } from './moto-server.js';

/**
 * The variables the lifecycle harness's moto runs with, on top of what every moto server has
 * (moto-server.ts motoServerEnvironment: moto-python/ on `PYTHONPATH`, its sitecustomize.py):
 * - `MOTO_EC2_LOAD_DEFAULT_AMIS=false`: moto's EC2 builds its catalog of about 1,300 public AMIs
 *   (each with a snapshot) for every account and region it first sees, every vended tenant account
 *   included; nothing in Tessera reads an AMI (EKS node groups name an `amiType`). moto reads it
 *   when it builds an account's EC2 backend, at request time: a zygote-forked server gets it too.
 */
export function harnessMotoEnvironment(): Record<string, string> {
  return { MOTO_EC2_LOAD_DEFAULT_AMIS: 'false' };
}

/** startMoto (moto-server.ts) with harnessMotoEnvironment() in the server's environment (not this process's). */
export async function startHarnessMoto(options: MotoOptions = {}): Promise<MotoServer> {
  return startMoto({ ...options, env: { ...harnessMotoEnvironment(), ...options.env } });
}
