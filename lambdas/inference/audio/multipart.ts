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
 * The parts of `body`, in order, read strictly (RFC 2046 §5.1.1, RFC 7578): anything another parser (the upstream's:
 * python-multipart, busboy) could read otherwise is refused rather than guessed, since the body is relayed byte for
 * byte and the gateway screens only what it reads. Refused: a first delimiter that does not start a line; a line that
 * starts with the delimiter and goes on with other than spaces or tabs (`--boundaryX`: content to a strict parser, a
 * new part to a lax one); header lines ended by a bare CR or LF; a part with no or two Content-Disposition headers, a
 * disposition other than `form-data; name=…[; filename=…]` (a parameter twice, RFC 5987's `name*`/`filename*`, which
 * RFC 7578 §4.2 forbids, a name with a backslash); a Content-Transfer-Encoding other than 7bit, 8bit or binary (RFC
 * 7578 §4.7: senders must not send one; a parser that decodes base64 would read text the gateway did not).
 * @throws Error naming what is malformed or ambiguous (the part's number, the header)
 */
export function formParts(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error(`no part opens with the boundary "${boundary.slice(0, 70)}"`);
  if (at > 0 && !(body[at - 2] === 0x0d && body[at - 1] === 0x0a)) throw new Error(`the first boundary delimiter does not start a line (byte ${at})`);
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // `--boundary--`: the end
    let eol = at;
    while (body[eol] === 0x20 || body[eol] === 0x09) eol++; // transport padding
    if (body[eol] !== 0x0d || body[eol + 1] !== 0x0a) {
      throw new Error(`a line starts with the boundary "--${boundary.slice(0, 70)}" and goes on (byte ${at}): a boundary delimiter must end its line; choose a boundary that is not in the content`);
    }
    const headersStart = eol + 2;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart - 2);
    if (headersEnd < 0) throw new Error(`part ${parts.length + 1} has no end of its headers`);
    const headers = headersEnd < headersStart ? '' : body.subarray(headersStart, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw new Error(`part ${parts.length + 1} is not closed by the boundary`);
    const { name, filename, typed } = partHeaders(headers, parts.length + 1);
    parts.push({ name, filename, typed, start: headersEnd + 4, end: next });
    at = next + 2;
  }
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PARAM = new RegExp(`;\\s*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\\\r\\n]|\\\\[^\\r\\n])*)"|(${TOKEN}))\\s*`, 'gy');

/**
 * A part's name, filename and whether it has a Content-Type, from its header lines (CRLF-separated), strictly.
 * @throws Error naming the part's number and what is ambiguous or missing
 */
function partHeaders(headers: string, n: number): { name: string; filename?: string; typed: boolean } {
  const lines = headers ? headers.split('\r\n') : [];
  let disposition: string | undefined;
  let typed = false;
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw new Error(`part ${n} has a header line ended by a bare CR or LF; end each with CRLF`);
    const colon = line.indexOf(':');
    const field = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (colon <= 0 || !new RegExp(`^${TOKEN}$`).test(field)) throw new Error(`part ${n} has a header line that is not a header: ${JSON.stringify(line.slice(0, 80))}`);
    if (field === 'content-disposition') {
      if (disposition !== undefined) throw new Error(`part ${n} has two Content-Disposition headers`);
      disposition = value;
    } else if (field === 'content-type') {
      typed = true;
    } else if (field === 'content-transfer-encoding' && !/^(7bit|8bit|binary)$/i.test(value)) {
      throw new Error(`part ${n} has Content-Transfer-Encoding: ${value.slice(0, 40)}; multipart/form-data parts are sent as they are (RFC 7578 §4.7): send the content without an encoding`);
    }
  }
  if (disposition === undefined) throw new Error(`part ${n} has no Content-Disposition header`);
  const type = /^form-data\s*/i.exec(disposition);
  if (!type) throw new Error(`part ${n}'s Content-Disposition is not form-data: ${JSON.stringify(disposition.slice(0, 80))}`);
  const params = new Map<string, string>();
  let pos = type[0].length;
  for (let m: RegExpExecArray | null; (PARAM.lastIndex = pos), (m = PARAM.exec(disposition)); pos = PARAM.lastIndex) {
    const key = m[1]!.toLowerCase();
    if (params.has(key)) throw new Error(`part ${n}'s Content-Disposition has ${key} twice`);
    if (key.endsWith('*')) throw new Error(`part ${n}'s Content-Disposition has ${key}, which multipart/form-data does not take (RFC 7578 §4.2): send ${key.slice(0, -1)}="..." in UTF-8`);
    params.set(key, m[2] !== undefined ? m[2] : m[3]!);
  }
  if (!/^;?\s*$/.test(disposition.slice(pos))) throw new Error(`part ${n}'s Content-Disposition could not be read from ${JSON.stringify(disposition.slice(pos, pos + 60))}`);
  const name = params.get('name');
  if (name === undefined) throw new Error(`part ${n} has no name in its Content-Disposition`);
  if (name.includes('\\')) throw new Error(`part ${n}'s name has a backslash, which parsers read differently: ${JSON.stringify(name.slice(0, 60))}`);
  const filename = params.get('filename');
  return { name, ...(filename !== undefined ? { filename: filename.replace(/\\(.)/g, '$1') } : {}), typed };
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
