import { delimiter, join } from 'node:path';
import { startMoto, type MotoServer } from './moto-server.js';

/** Python modules the harness's moto loads at start: sitecustomize.py (JSON templates parsed as JSON). */
const MOTO_PYTHON_DIR = join(import.meta.dirname, 'moto-python');

/**
 * The environment the lifecycle harness's moto starts with, on top of this process's:
 * - `PYTHONPATH` += moto-python/: its sitecustomize.py parses JSON CloudFormation templates with
 *   `json.loads` where moto would use PyYAML's pure-Python loader (0.1–0.3 s of CPU per tier
 *   blueprint on every CreateStack and UpdateStack; the same parsed template).
 * - `MOTO_EC2_LOAD_DEFAULT_AMIS=false`: moto's EC2 builds its catalog of about 1,300 public AMIs
 *   (each with a snapshot) for every account and region it first sees, every vended tenant account
 *   included; nothing in Tessera reads an AMI (EKS node groups name an `amiType`).
 */
export function harnessMotoEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    PYTHONPATH: env.PYTHONPATH ? `${MOTO_PYTHON_DIR}${delimiter}${env.PYTHONPATH}` : MOTO_PYTHON_DIR,
    MOTO_EC2_LOAD_DEFAULT_AMIS: 'false',
  };
}

/**
 * startMoto (moto-server.ts) with harnessMotoEnvironment(): the variables are in this process's
 * environment while moto is spawned (it inherits them), and restored once it answers.
 */
export async function startHarnessMoto(options: Parameters<typeof startMoto>[0] = {}): Promise<MotoServer> {
  const extra = harnessMotoEnvironment();
  const previous = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
  Object.assign(process.env, extra);
  try {
    return await startMoto(options);
  } finally {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
