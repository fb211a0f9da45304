// Documents as text: PDFs through pdf.js (media/pdf.ts), plain text, Markdown, CSV, JSON and the
// like decoded as UTF-8. At most maxChars characters are kept; the result says when it was cut.
import { unreadable } from './errors.js';
import { type PdfOptions, pdfText } from './pdf.js';
import { looksLikeText } from './sniff.js';

export interface DocumentText {
  text: string;
  format: 'pdf' | 'text';
  truncated: boolean;
  totalPages?: number;
  pagesRead?: number;
  likelyScanned?: boolean;
}

export async function documentText(
  bytes: Uint8Array,
  mime: string,
  options: PdfOptions,
): Promise<DocumentText> {
  if (mime === 'application/pdf') {
    const pdf = await pdfText(bytes, options);
    return {
      text: pdf.text,
      format: 'pdf',
      truncated: pdf.truncated,
      totalPages: pdf.totalPages,
      pagesRead: pdf.pagesRead,
      likelyScanned: pdf.likelyScanned,
    };
  }
  if (!looksLikeText(bytes.subarray(0, 64 * 1024))) throw unreadable(`a ${mime} file that is not text`);
  const text = new TextDecoder('utf-8')
    .decode(bytes.subarray(0, options.maxChars * 4))
    .replace(/^\uFEFF/, '');
  const truncated = text.length > options.maxChars || bytes.byteLength > options.maxChars * 4;
  return { text: text.slice(0, options.maxChars), format: 'text', truncated };
}
