import { createHash } from 'node:crypto';

/**
 * The pure part of the offboarding export (export-tenant-data.ts): where each version goes in the
 * archive, how a large object is cut into parts, what a manifest line holds, and the comparison
 * of source, manifest and archive that decides whether the export is complete. No AWS I/O here.
 */

const MiB = 1024 * 1024;

/** Objects above this size are copied by a multipart upload fed by ranged reads; smaller ones in one GetObject/PutObject. */
export const MULTIPART_THRESHOLD = 16 * MiB;
/** Part size of those uploads (raised for objects above 80 GB so that they fit S3's 10,000 parts). */
export const PART_SIZE = 8 * MiB;
/** S3's limits on multipart uploads: every part but the last at least 5 MiB, at most 10,000 parts. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PARTS = 10_000;
/** S3's limit on a key's length in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** Key areas of one export prefix that hold copies of tenant objects (the rest is manifest and records). */
export const DATA_AREAS = ['s3/', 'noncurrent/', 'long-keys/'] as const;

/** A version or delete marker as ListObjectVersions reports it. */
export interface SourceEntry {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  /** Bytes of the version; 0 for a delete marker. */
  size: number;
  /** The source ETag without quotes; null for a delete marker. */
  etag: string | null;
  lastModified: string | null;
}

/** One line of a manifest part (`<prefix>manifest/part-<nnnnn>.jsonl`): one object version or delete marker. */
export interface ManifestLine extends SourceEntry {
  /** Where the copy is in the archive; null for a delete marker, which has no content. */
  archiveKey: string | null;
}

interface ListedVersion { Key?: string; VersionId?: string; IsLatest?: boolean; Size?: number; ETag?: string; LastModified?: Date }
interface ListedMarker { Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }

const unquote = (etag?: string) => (etag ? etag.replace(/^"|"$/g, '') : null);
const byKey = (a: SourceEntry, b: SourceEntry) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

/**
 * The entries of one ListObjectVersions page in a fixed order (keys in S3's byte order; within a
 * key, versions as listed, then delete markers): the export resumes a page by its position in
 * this order, so the same page must always give the same order.
 */
export function entriesOf(page: { Versions?: ListedVersion[]; DeleteMarkers?: ListedMarker[] }): SourceEntry[] {
  const versions = (page.Versions ?? []).map((v): SourceEntry => ({
    key: v.Key!, versionId: v.VersionId ?? 'null', isLatest: v.IsLatest === true, deleteMarker: false,
    size: v.Size ?? 0, etag: unquote(v.ETag), lastModified: v.LastModified?.toISOString() ?? null,
  }));
  const markers = (page.DeleteMarkers ?? []).map((m): SourceEntry => ({
    key: m.Key!, versionId: m.VersionId ?? 'null', isLatest: m.IsLatest === true, deleteMarker: true,
    size: 0, etag: null, lastModified: m.LastModified?.toISOString() ?? null,
  }));
  return [...versions, ...markers].sort(byKey); // Array.prototype.sort is stable
}

/**
 * Where a version goes: the current version of a key at `<prefix>s3/<key>` (browseable as the
 * bucket was), each noncurrent version at `<prefix>noncurrent/<versionId>/<key>`. A key that would
 * exceed S3's 1,024 bytes goes to `<prefix>long-keys/<sha256 of key and version>`; the manifest
 * line maps it back.
 */
export function archiveKeyOf(prefix: string, entry: Pick<SourceEntry, 'key' | 'versionId' | 'isLatest'>): string {
  const key = entry.isLatest ? `${prefix}s3/${entry.key}` : `${prefix}noncurrent/${entry.versionId}/${entry.key}`;
  if (Buffer.byteLength(key) <= MAX_KEY_BYTES) return key;
  return `${prefix}long-keys/${createHash('sha256').update(`${entry.key}\0${entry.versionId}`).digest('hex')}`;
}

export function manifestLineOf(prefix: string, entry: SourceEntry): ManifestLine {
  return { ...entry, archiveKey: entry.deleteMarker ? null : archiveKeyOf(prefix, entry) };
}

export const manifestPartKey = (prefix: string, index: number) => `${prefix}manifest/part-${String(index).padStart(5, '0')}.jsonl`;

/** Part size for an object of `size` bytes: PART_SIZE, or the smallest whole MiB that keeps it within MAX_PARTS. */
export function partSizeFor(size: number): number {
  return Math.max(PART_SIZE, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** The inclusive byte range of part `n` (1-based) for a ranged GetObject: `bytes=a-b`. */
export function partRange(n: number, partSize: number, size: number): { start: number; end: number; range: string } {
  const start = (n - 1) * partSize;
  const end = Math.min(n * partSize, size) - 1;
  return { start, end, range: `bytes=${start}-${end}` };
}

export const partCount = (size: number, partSize: number) => Math.max(1, Math.ceil(size / partSize));

/** Totals of a set of versions and delete markers. */
export interface Tally { versions: number; deleteMarkers: number; bytes: number }

export interface ExportComparison {
  source: Tally;
  manifest: Tally;
  /** Objects the manifest says the archive holds, and what it holds (data areas only). */
  archive: { expected: number; found: number; expectedBytes: number; foundBytes: number };
  /** Every difference, as `<what>: <how>` (the error names the first few). */
  differences: string[];
}

const tally = (entries: Array<{ deleteMarker: boolean; size: number }>): Tally => ({
  versions: entries.filter((e) => !e.deleteMarker).length,
  deleteMarkers: entries.filter((e) => e.deleteMarker).length,
  bytes: entries.reduce((n, e) => n + (e.deleteMarker ? 0 : e.size), 0),
});

const id = (e: { key: string; versionId: string }) => `${e.key}\0${e.versionId}`;
const label = (e: { key: string; versionId: string; deleteMarker?: boolean }) => `${e.key}@${e.versionId}${e.deleteMarker ? ' (delete marker)' : ''}`;

/**
 * Compares the source bucket's versions (a fresh listing), the manifest lines and the archive's
 * objects under the export prefix: the same versions and delete markers, each version with the
 * same size and ETag, each copy in the archive with the size the manifest records, and nothing
 * else in the archive's data areas.
 */
export function compareExport(source: SourceEntry[], manifest: ManifestLine[], archived: Array<{ key: string; size: number }>): ExportComparison {
  const differences: string[] = [];
  const recorded = new Map<string, ManifestLine>();
  for (const line of manifest) {
    if (recorded.has(id(line))) differences.push(`${label(line)}: recorded twice in the manifest`);
    recorded.set(id(line), line);
  }
  const listed = new Set<string>();
  for (const entry of source) {
    listed.add(id(entry));
    const line = recorded.get(id(entry));
    if (!line) differences.push(`${label(entry)}: in the source bucket, not in the manifest`);
    else if (line.deleteMarker !== entry.deleteMarker) differences.push(`${label(entry)}: a ${entry.deleteMarker ? 'delete marker' : 'version'} in the source, the manifest says otherwise`);
    else if (line.size !== entry.size) differences.push(`${label(entry)}: ${entry.size} bytes in the source, ${line.size} in the manifest`);
    else if (line.etag !== entry.etag) differences.push(`${label(entry)}: ETag ${entry.etag} in the source, ${line.etag} in the manifest`);
    else if (line.isLatest !== entry.isLatest) differences.push(`${label(entry)}: ${entry.isLatest ? 'current' : 'noncurrent'} in the source, ${line.isLatest ? 'current' : 'noncurrent'} in the manifest`);
  }
  for (const line of recorded.values()) if (!listed.has(id(line))) differences.push(`${label(line)}: in the manifest, no longer in the source bucket`);

  const found = new Map(archived.map((o) => [o.key, o.size]));
  const expected = new Map<string, ManifestLine>();
  for (const line of recorded.values()) if (line.archiveKey) expected.set(line.archiveKey, line);
  for (const [key, line] of expected) {
    const size = found.get(key);
    if (size === undefined) differences.push(`${label(line)}: not in the archive (${key})`);
    else if (size !== line.size) differences.push(`${label(line)}: ${line.size} bytes in the manifest, ${size} in the archive (${key})`);
  }
  for (const key of found.keys()) if (!expected.has(key)) differences.push(`${key}: in the archive, not in the manifest`);

  const expectedLines = [...expected.values()];
  return {
    source: tally(source),
    manifest: tally(manifest),
    archive: {
      expected: expected.size, found: found.size,
      expectedBytes: expectedLines.reduce((n, l) => n + l.size, 0), foundBytes: [...found.values()].reduce((n, s) => n + s, 0),
    },
    differences,
  };
}

/** The ExportIncomplete message: counts expected vs found, then the first few differences. */
export function describeMismatch(bucket: string, archiveUri: string, c: ExportComparison, shown = 5): string {
  const t = (x: Tally) => `${x.versions} versions, ${x.deleteMarkers} delete markers, ${x.bytes} bytes`;
  const more = c.differences.length > shown ? ` (and ${c.differences.length - shown} more)` : '';
  return `export of s3://${bucket} to ${archiveUri} is incomplete: the source holds ${t(c.source)}; the manifest records ${t(c.manifest)}; `
    + `the archive holds ${c.archive.found} objects, ${c.archive.foundBytes} bytes (the manifest expects ${c.archive.expected}, ${c.archive.expectedBytes} bytes); `
    + `${c.differences.length} differences, first: ${c.differences.slice(0, shown).join('; ')}${more}`;
}
