import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { isScalar, parseDocument, type Document, type YAMLError } from 'yaml';

/**
 * One strict reader of a YAML (or JSON) file a command is given, shared by `tessera tenants apply -f` and
 * `tessera serve --tenants-file`; each command keeps its own schema of what the file holds. The bytes must be UTF-8
 * and one YAML 1.2 document (JSON is YAML 1.2), read whole only up to a size cap; every refusal names the file and,
 * inside it, the line and column with the text of that line.
 */

/** The largest file read (bytes): 100,000 tenants of ~150 bytes are under 16 MiB; a device that never ends is cut there. */
export const MAX_YAML_FILE_BYTES = 16 * 1024 * 1024;

/** How messages name a file: as given, the standard input (`-`) as `<stdin>`. */
export const fileLabel = (file: string) => (file === '-' ? '<stdin>' : file);

/** Every problem of a file read by {@link readStrictYamlFile}, each line naming the file; nothing of the file was used. */
export class YamlFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'YamlFileError';
  }
}

/** How the reader names the file and what it adds to a refusal: the command's words. */
export interface YamlFileNaming {
  /** Names the file in a refusal to read it (missing, a directory, too large), e.g. `-f tenants.yaml`, `--tenants-file t.yaml`. */
  source: string;
  /** What the file holds, for the refusal of an empty file, e.g. `it holds tenants: [{ tenantId, name, tier, adminEmail }]`. */
  holds: string;
  /** Who reads it, for the refusal of a tag, e.g. `apply` (`apply reads plain YAML: remove the tag`). */
  reader: string;
  /** Names the file in a refusal of what it holds. @default fileLabel(file): as given, `<stdin>` for `-` */
  label?: string;
}

/** A file that passed: its text, the parsed document (for how a value was written: {@link writtenAs}) and its value. */
export interface StrictYaml {
  text: string;
  doc: Document.Parsed;
  /** The document as plain data (`toJS`): never undefined (an empty file is refused). */
  value: unknown;
}

/** A value in a message: `missing`, else its JSON (at most 100 characters). */
export const shown = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 100));

/**
 * The bytes of `file` (`-`: `stdin`), at most MAX_YAML_FILE_BYTES.
 * @throws YamlFileError naming `naming.source`: no such file, a directory, a file it cannot read (EACCES, ELOOP, ...), one
 *   larger than MAX_YAML_FILE_BYTES (read no further: `/dev/zero` ends)
 */
async function readSource(file: string, stdin: NodeJS.ReadableStream | undefined, source: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // process.stdin is made on first read of it (a socket or pipe to end): only for `-`.
  const stream = file === '-' ? (stdin ?? process.stdin) : createReadStream(file);
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      if (size > MAX_YAML_FILE_BYTES) {
        throw new YamlFileError([`${source}: larger than ${MAX_YAML_FILE_BYTES / 1024 / 1024} MiB; a tenants file of 100,000 entries is far smaller`]);
      }
      chunks.push(b);
    }
  } catch (e) {
    if (e instanceof YamlFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new YamlFileError([`${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (e as Error).message})`}`]);
  } finally {
    if (file !== '-') (stream as ReturnType<typeof createReadStream>).destroy();
  }
  return Buffer.concat(chunks);
}

/**
 * The first byte of `bytes` (not UTF-8: isUtf8 false) that starts no UTF-8 character: `offset`, the character offset of
 * its U+FFFD in the text decoded with replacement, and `byte`. A U+FFFD written in the file (EF BF BD, valid UTF-8, as
 * a file once decoded with replacement and saved holds) comes before it in the text but is passed over: before the
 * first bad byte the text and the bytes agree, so each U+FFFD is checked at its byte offset.
 */
function firstNonUtf8(bytes: Buffer): { offset: number; byte: number } {
  const lossy = bytes.toString('utf8');
  for (let offset = lossy.indexOf('\uFFFD'); offset >= 0; offset = lossy.indexOf('\uFFFD', offset + 1)) {
    const at = Buffer.byteLength(lossy.slice(0, offset));
    if (!(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) return { offset, byte: bytes[at]! };
  }
  throw new Error('firstNonUtf8: every U+FFFD of the text is written in the file, so the bytes are UTF-8');
}

/** `line L, column C` of a character offset of `text` (1-based, as the yaml package's linePos), and that line's text. */
function lineColumn(text: string, offset: number): { line: number; col: number; text: string } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', offset);
  return { line: before.split('\n').length, col: offset - lineStart + 1, text: text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).replace(/\r$/, '') };
}

/** A YAMLError or YAMLWarning as one line: `line L, column C: <message>: "<the line, trimmed>"`. */
function yamlProblem(text: string, e: YAMLError, note = ''): string {
  const at = lineColumn(text, e.pos[0]);
  const message = e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
  return `line ${at.line}, column ${at.col}: ${message}${note}: ${JSON.stringify(at.text.trim().slice(0, 100))}`;
}

/**
 * How a value YAML resolved to a non-string was written, and what YAML made of it: `0123 (YAML reads it as 123; quote it
 * for the text: "0123")`, `!!binary YWNtZQ== (YAML reads it as ...; write the text without the tag)`; undefined for a
 * string, a missing value, or a path that is not a scalar of the document.
 * @param path the value's path in the document (keys and list indexes)
 * @param refusedAsText the caller's schema message for the text as written (quoted), or undefined when the schema takes it:
 *   a text it refuses too is said at once (`0123 (YAML reads it as 123; quoted, "0123" is refused too: ...)`), not after
 *   the user has quoted it
 */
export function writtenAs(file: StrictYaml, path: readonly PropertyKey[], value: unknown, refusedAsText?: (text: string) => string | undefined): string | undefined {
  if (typeof value === 'string' || value === undefined) return undefined;
  const node = file.doc.getIn(path as unknown[], true);
  if (!isScalar(node) || !node.range) return undefined;
  const written = file.text.slice(node.range[0], node.range[1]);
  // An explicit tag (`!!binary YWNtZQ==`) asked for the type; a plain scalar got it from YAML's core schema (or 1.1's, after `%YAML 1.1`).
  if (node.tag) return `${node.tag.replace(/^tag:yaml\.org,2002:/, '!!')} ${written} (YAML reads it as ${shown(value)}; write the text without the tag)`;
  const refused = refusedAsText?.(written);
  if (refused) return `${written} (YAML reads it as ${shown(value)}; quoted, ${JSON.stringify(written)} is refused too: ${refused})`;
  return `${written} (YAML reads it as ${shown(value)}; quote it for the text: ${JSON.stringify(written)})`;
}

/**
 * Reads `file` (`-`: the standard input) strictly as YAML 1.2 (JSON is YAML 1.2):
 * - at most MAX_YAML_FILE_BYTES, read no further (readSource), refused naming `naming.source` when it cannot be read;
 * - bytes that are not UTF-8 are refused with the line, column and byte (decoded, one would be read as U+FFFD and sent on
 *   in a name); a UTF-8 BOM is dropped (TextDecoder);
 * - a YAML error is refused with the line, column and text of its line (the first, and how many more); the yaml
 *   package refuses a key given twice (`uniqueKeys`);
 * - any warning is refused: chiefly a tag it cannot resolve (`TAG_RESOLVE_FAILED`: the yaml package drops the tag, takes
 *   the text after it and warns on Node's stderr);
 * - aliases that expand past `maxAliasCount` (100: an alias bomb) are refused;
 * - an empty document (nothing, or only comments) is refused.
 * A value YAML reads as a number, boolean or null where the command's schema wants text is the caller's to show as
 * written ({@link writtenAs}), with its schema's message.
 * @param file the path as the user gave it: every message names the file so (`fileLabel`), never by its base name
 * @param stdin what `-` reads @default process.stdin
 * @throws YamlFileError (every line naming the file) for any of the above
 */
export async function readStrictYamlFile(file: string, naming: YamlFileNaming, stdin?: NodeJS.ReadableStream): Promise<StrictYaml> {
  const bytes = await readSource(file, stdin, naming.source);
  const label = naming.label ?? fileLabel(file);
  if (!isUtf8(bytes)) {
    const { offset, byte } = firstNonUtf8(bytes);
    const at = lineColumn(bytes.toString('utf8'), offset);
    throw new YamlFileError([`${label}: line ${at.line}, column ${at.col}: byte 0x${byte.toString(16).padStart(2, '0')} is not UTF-8; save the file as UTF-8`]);
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    throw new YamlFileError([`${label}: not valid YAML or JSON: ${yamlProblem(text, doc.errors[0]!)}${more}`]);
  }
  if (doc.warnings.length) {
    throw new YamlFileError(doc.warnings.map((w) => `${label}: ${yamlProblem(text, w, w.code === 'TAG_RESOLVE_FAILED' ? ` (${naming.reader} reads plain YAML: remove the tag)` : '')}`));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias bomb ("billion laughs"): the yaml package counts the aliases it expands and stops past maxAliasCount.
    const bomb = e instanceof ReferenceError && /alias count/i.test(e.message) ? ' (aliases expand past the yaml package\'s maxAliasCount, 100: an alias bomb)' : '';
    throw new YamlFileError([`${label}: not valid YAML or JSON: ${(e as Error).message}${bomb}`]);
  }
  if (doc.contents === null) throw new YamlFileError([`${label}: the file is empty (${naming.holds})`]);
  return { text, doc, value };
}
