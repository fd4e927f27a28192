import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { synthesizeBlueprints, type BlueprintTemplate } from './blueprint-templates.js';
import { attributesRead, deriveMotoBlueprint, type CfnTemplate, type DerivationReport } from './derive-moto-blueprint.js';
import { motoCloudFormation } from './moto-cloudformation.js';

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

/** Synthesizes, derives and returns the catalog for `config` (no AWS call). */
export function deriveCatalog(config: PlatformConfig): PublishedBlueprint[] {
  const synthesized = CATALOG_VERSIONS.map((version) => ({ version, blueprints: synthesizeBlueprints(config, version) }));
  const moto = motoCloudFormation(synthesized.flatMap((s) => s.blueprints.flatMap((b) => attributesRead(b.template))));
  return synthesized.flatMap(({ version, blueprints }) =>
    blueprints.map((b) => {
      const { template, report } = deriveMotoBlueprint(b.template, moto);
      return { ...b, version, derived: template, report };
    }),
  );
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
