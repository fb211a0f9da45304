// Text out of a PDF with pdf.js (unpdf's build: pure JavaScript, no canvas, no native code), in a
// worker thread that is killed at the deadline: a hostile PDF can keep pdf.js busy in synchronous
// code (an AES-256 key check alone costs about a second), which no promise timeout could stop.
// At most `maxPages` pages and `maxChars` characters are read; the result says when it was cut.
import { Worker } from 'node:worker_threads';
import { unreadable } from './errors.js';

export interface PdfOptions {
  maxPages: number;
  maxChars: number;
  timeoutMs: number;
}

export const DEFAULT_PDF_OPTIONS: PdfOptions = { maxPages: 50, maxChars: 100_000, timeoutMs: 60_000 };

export interface PdfText {
  text: string;
  totalPages: number;
  pagesRead: number;
  /** Fewer pages or characters than the document has. */
  truncated: boolean;
  /** Pages with (almost) no text: probably scanned images. */
  likelyScanned: boolean;
}

// The worker's code. It runs as a CommonJS script (eval), so it needs no file of its own next to
// compiled or uncompiled sources; unpdf is imported from the path the parent resolved.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { getDocumentProxy } = await import(workerData.unpdf);
  const { bytes, maxPages, maxChars } = workerData;
  let pdf;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0, isEvalSupported: false, disableFontFace: true, useSystemFonts: false,
    });
  } catch (error) {
    const name = error && error.name;
    const code = error && error.code;
    parentPort.postMessage({ error: { name, code, message: String(error && error.message || error) } });
    return;
  }
  const total = pdf.numPages;
  const pages = [];
  let chars = 0;
  for (let i = 1; i <= Math.min(total, maxPages) && chars < maxChars; i++) {
    const page = await pdf.getPage(i);
    const content = await page.getTextContent();
    const text = content.items.map((it) => ('str' in it ? it.str + (it.hasEOL ? '\\n' : '') : '')).join('').trim();
    page.cleanup();
    pages.push(text);
    chars += text.length;
  }
  await pdf.destroy();
  parentPort.postMessage({ total, pages });
})().catch((error) => {
  parentPort.postMessage({ error: { name: error && error.name, message: String(error && error.message || error) } });
});
`;

const unpdfUrl = import.meta.resolve('unpdf');

export async function pdfText(
  bytes: Uint8Array,
  options: PdfOptions = DEFAULT_PDF_OPTIONS,
): Promise<PdfText> {
  if (bytes.byteLength === 0) throw unreadable('the PDF is empty');
  const answer = await runWorker(bytes, options);
  if ('error' in answer) throw describeFailure(answer.error);
  const { total, pages } = answer;
  let text = pages.join('\n\n');
  const cutChars = text.length > options.maxChars;
  if (cutChars) text = text.slice(0, options.maxChars);
  const visible = text.replace(/\s/g, '').length;
  return {
    text,
    totalPages: total,
    pagesRead: pages.length,
    truncated: pages.length < total || cutChars,
    likelyScanned: pages.length > 0 && visible < 20 * pages.length,
  };
}

type WorkerAnswer =
  | { total: number; pages: string[] }
  | { error: { name?: string; code?: number; message: string } };

function runWorker(bytes: Uint8Array, options: PdfOptions): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    // A copy the worker owns; the caller's buffer stays usable.
    const copy = new Uint8Array(bytes).buffer;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bytes: copy, maxPages: options.maxPages, maxChars: options.maxChars, unpdf: unpdfUrl },
      transferList: [copy],
      resourceLimits: { maxOldGenerationSizeMb: 512 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            unreadable(`reading the PDF took longer than ${Math.round(options.timeoutMs / 1000)} s; stopped`),
          ),
        ),
      options.timeoutMs,
    );
    worker.once('message', (message: WorkerAnswer) => finish(() => resolve(message)));
    worker.once('error', (error) =>
      finish(() => reject(unreadable(`the PDF could not be read (${error.message})`, error))),
    );
    worker.once('exit', (code) =>
      finish(() => reject(unreadable(`the PDF reader stopped (exit ${code}; out of memory?)`))),
    );
  });
}

function describeFailure(error: { name?: string; code?: number; message: string }): Error {
  if (error.name === 'PasswordException') {
    return unreadable('the PDF is password-protected; send it without a password (or paste the text)');
  }
  if (error.name === 'InvalidPDFException' || error.name === 'FormatError') {
    return unreadable(`not a readable PDF (${error.message})`);
  }
  return unreadable(`the PDF could not be read (${error.name ?? 'Error'}: ${error.message})`);
}
