import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readAccountCustomizations } from '../../../lib/config/customization-templates.js';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { BlueprintTemplate } from './blueprint-templates.js';
import { cachedJsonAsync } from './disk-cache.js';
import { attributesRead, deriveMotoBlueprint, type CfnTemplate, type DerivationReport } from './derive-moto-blueprint.js';
import { motoCloudFormation, type MotoCloudFormation } from './moto-cloudformation.js';

/**
 * The blueprint catalog of the local platform: every real blueprint (tier tenant templates,
 * namespace templates, account baseline), derived for moto, published under the keys the workflow
 * reads (`blueprints/<version>/<file>`, lambdas/lifecycle/blueprints.ts). Version 2.0.0 is a second
 * synthesis of the same app with `blueprintVersion` 2.0.0 (what a platform release publishes), so
 * a version change updates stacks to a template that really differs (description, outputs).
 */
export const CATALOG_VERSIONS = ['1.0.0', '2.0.0'] as const;

export interface PublishedBlueprint extends BlueprintTemplate {
  readonly version: string;
  /** The template as published (derived for moto). */
  readonly derived: CfnTemplate;
  readonly report: DerivationReport;
}

/**
 * Synthesizes and derives the catalog for `config` (no AWS call); returns it with moto's answers it
 * was derived from. The synthesized blueprints of each version come through the disk cache
 * (disk-cache.ts: once per state of the sources, config and version, not once per test file);
 * blueprint-templates.ts, and with it aws-cdk-lib and the app, is imported only on a miss. The
 * config's account customization templates are part of the key (their files, e.g. under
 * test/fixtures/, are none of the sources the cache keys on).
 */
export async function deriveCatalog(config: PlatformConfig): Promise<{ catalog: PublishedBlueprint[]; moto: MotoCloudFormation }> {
  const synthesized: Array<{ version: string; blueprints: BlueprintTemplate[] }> = [];
  const customizations = readAccountCustomizations(config);
  for (const version of CATALOG_VERSIONS) {
    const blueprints = await cachedJsonAsync('blueprints', { config, version, ...(customizations.length ? { customizations } : {}) }, async () => (await import('./blueprint-templates.js')).synthesizeBlueprints(config, version));
    synthesized.push({ version, blueprints });
  }
  const moto = motoCloudFormation(synthesized.flatMap((s) => s.blueprints.flatMap((b) => attributesRead(b.template))));
  const catalog = synthesized.flatMap(({ version, blueprints }) =>
    blueprints.map((b) => {
      const { template, report } = deriveMotoBlueprint(b.template, moto);
      return { ...b, version, derived: template, report };
    }),
  );
  return { catalog, moto };
}

/** Puts every derived blueprint of `catalog` into `bucket`. */
export async function publishCatalog(s3: S3Client, bucket: string, catalog: readonly PublishedBlueprint[]): Promise<void> {
  for (const b of catalog) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `blueprints/${b.version}/${b.file}`, Body: JSON.stringify(b.derived), ContentType: 'application/json' }));
  }
}

/** Reads a template by its S3 URL (`https://<bucket>.s3.<region>.amazonaws.com/<key>`), as CloudFormation fetches TemplateURL. */
export async function readTemplateUrl(s3: S3Client, url: string): Promise<CfnTemplate> {
  const { hostname, pathname } = new URL(url);
  const bucket = hostname.split('.s3.')[0];
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: decodeURIComponent(pathname.slice(1)) }));
  return JSON.parse(await out.Body!.transformToString()) as CfnTemplate;
}

/**
 * Publishes the `from` version of `catalog` again as `version`, with `change` applied to the
 * blueprint named `name`: a controlled variant of the real blueprint (e.g. for a negative control).
 */
export async function publishVariant(s3: S3Client, bucket: string, catalog: readonly PublishedBlueprint[], input: { from: string; version: string; name: string; change(template: CfnTemplate): void }): Promise<void> {
  const base = catalog.filter((b) => b.version === input.from);
  if (!base.some((b) => b.name === input.name)) throw new Error(`no blueprint ${input.name} at ${input.from}`);
  await publishCatalog(s3, bucket, base.map((b) => {
    const derived = structuredClone(b.derived);
    if (b.name === input.name) input.change(derived);
    return { ...b, version: input.version, derived };
  }));
}
