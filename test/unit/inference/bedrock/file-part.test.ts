import { describe, expect, it } from 'vitest';
import { documentBlock, documentNamer, sanitizeDocumentName } from '../../../../lambdas/inference/providers/bedrock/file-part.js';
import { expectInvalid, expectUnsupported } from './refusal.js';

const pdf = 'data:application/pdf;base64,JVBERi0=';
const part = (file: Record<string, string>) => ({ type: 'file' as const, file });

describe('documentBlock', () => {
  it('maps a PDF data URL to a document named after the file', () => {
    expect(documentBlock(part({ file_data: pdf, filename: 'Q3 report.pdf' }), 'messages[0].content[0]', documentNamer()))
      .toEqual({ document: { format: 'pdf', name: 'Q3 report', source: { bytes: new Uint8Array(Buffer.from('%PDF-')) } } });
  });

  it('takes the other Converse formats by media type, and bare base64 by extension', () => {
    const names = documentNamer();
    expect(documentBlock(part({ file_data: 'data:text/csv;base64,YSxi', filename: 'data.csv' }), 'p', names)).toMatchObject({ document: { format: 'csv', name: 'data' } });
    expect(documentBlock(part({ file_data: 'JVBERi0=', filename: 'notes.pdf' }), 'p', names)).toMatchObject({ document: { format: 'pdf', name: 'notes' } });
  });

  it('refuses file ids, unknown types and missing data, naming the path', () => {
    expectUnsupported(() => documentBlock(part({ file_id: 'file-abc' }), 'messages[1].content[0]', documentNamer()), 'messages[1].content[0].file.file_id');
    expectUnsupported(() => documentBlock(part({ file_data: 'data:application/zip;base64,UEs=' }), 'p', documentNamer()), 'p.file');
    expectInvalid(() => documentBlock(part({ filename: 'a.pdf' }), 'p', documentNamer()), 'p.file');
    expectInvalid(() => documentBlock(part({ file_data: 'JVBERi0=', filename: 'blob' }), 'p', documentNamer()), 'p.file.file_data');
  });
});

describe('document names', () => {
  it('keeps only the characters Converse allows, one whitespace at a time, at most 200', () => {
    expect(sanitizeDocumentName("John's report_v2.final.pdf")).toBe('John s report v2 final');
    expect(sanitizeDocumentName('a  \t b (draft) [1].docx')).toBe('a b (draft) [1]');
    expect(sanitizeDocumentName('分析.pdf')).toBe('document');
    expect(sanitizeDocumentName('')).toBe('document');
    expect(sanitizeDocumentName('x'.repeat(300))).toHaveLength(200);
  });

  it('gives each document of a request its own name', () => {
    const names = documentNamer();
    expect([names('report.pdf'), names('report.docx'), names(undefined), names(undefined), names('Report.pdf')])
      .toEqual(['report', 'report (2)', 'document', 'document (2)', 'Report (3)']);
  });
});
