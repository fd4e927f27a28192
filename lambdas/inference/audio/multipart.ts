/**
 * A multipart/form-data body (RFC 7578) read only as far as the gateway must: each part's name, whether it is a file
 * (a `filename` parameter or a Content-Type of its own), and where its content lies in the body. The body itself is
 * relayed byte for byte: `withField` replaces one text part's content and copies every other byte as it came.
 */
export interface FormPart {
  name: string;
  /** The part's `filename` parameter; undefined for a text field. */
  filename?: string;
  /** Whether the part has a Content-Type header (a file part the Node client sends with no filename has one). */
  typed: boolean;
  /** Offsets of the part's content in the body: [start, end). */
  start: number;
  end: number;
}

/** The boundary of a multipart/form-data Content-Type, or undefined when it is not one (or has none). */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * The parts of `body`, in order.
 * @throws Error naming what is malformed (no opening delimiter, a part without headers' end or a name, no closing delimiter)
 */
export function formParts(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error(`no part opens with the boundary "${boundary.slice(0, 70)}"`);
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // `--boundary--`: the end
    const headersStart = body.indexOf('\r\n', at) + 2;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart);
    if (headersStart < 2 || headersEnd < 0) throw new Error(`part ${parts.length + 1} has no end of its headers`);
    const headers = body.subarray(headersStart, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw new Error(`part ${parts.length + 1} is not closed by the boundary`);
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw new Error(`part ${parts.length + 1} has no name in its Content-Disposition`);
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ name, filename, typed: /^content-type:/im.test(headers), start: headersEnd + 4, end: next });
    at = next + 2;
  }
}

/** A text part's value (UTF-8). */
export const textOf = (body: Buffer, part: FormPart) => body.subarray(part.start, part.end).toString('utf8');

/** `body` with `part`'s content replaced by `value` (UTF-8); every other byte as it was. */
export function withField(body: Buffer, part: FormPart, value: string): Buffer {
  return Buffer.concat([body.subarray(0, part.start), Buffer.from(value, 'utf8'), body.subarray(part.end)]);
}

/**
 * `body` with each part's content replaced (UTF-8), the later parts first so the earlier offsets hold; every other
 * byte as it came. @param changes parts of `body` (formParts) and their new content
 */
export function withFields(body: Buffer, changes: ReadonlyArray<readonly [FormPart, string]>): Buffer {
  const sorted = [...changes].sort((a, b) => b[0].start - a[0].start);
  const pieces: Buffer[] = [];
  let end = body.length;
  for (const [part, value] of sorted) {
    pieces.unshift(Buffer.from(value, 'utf8'), body.subarray(part.end, end));
    end = part.start;
  }
  pieces.unshift(body.subarray(0, end));
  return Buffer.concat(pieces);
}
