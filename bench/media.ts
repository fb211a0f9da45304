/**
 * Media: what the media stage costs on this machine.
 * - Image: a 12 MP (4000×3000) JPEG to a model-ready image (prepareImage: EXIF upright, long side
 *   1200, JPEG q80, metadata stripped), p50/p90 of 20, beside a plain `sharp().resize()` baseline
 *   (same size, default JPEG) in the same run; the ratio is the figure to compare across machines.
 * - Speech: the local engine (faster-whisper, Whisper tiny.en, 2 threads) on ~34 s of espeak-ng
 *   speech (five different sentences): model load, then the real-time factor (processing time /
 *   audio length) of 3 runs.
 *   Skipped, and said so, without espeak-ng or the engine (`npm run setup`).
 * - PDF: a 200-page text PDF (pdfkit) read whole by pdfText (unpdf in a worker thread): pages/s.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { ffmpegTools, speechWav } from '../media/ffmpeg.js';
import { prepareImage } from '../media/image.js';
import { pdfText } from '../media/pdf.js';
import { LocalWhisper } from '../media/stt/local.js';
import type { Measurement, Row } from './types.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function twelveMegapixels(): Promise<Buffer> {
  // Noise compresses like a photo does (a flat colour would make decoding unrealistically cheap).
  const width = 4000;
  const height = 3000;
  const raw = Buffer.alloc(width * height * 3);
  let s = 7;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    raw[i] = (s >>> 16) & 0xff;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .blur(2)
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

async function imageFigures(rows: Row[]) {
  const input = await twelveMegapixels();
  const runs = 20;
  const ready: number[] = [];
  const baseline: number[] = [];
  await prepareImage(input); // warm-up (libvips start-up)
  for (let i = 0; i < runs; i++) {
    ready.push(await time(() => prepareImage(input)));
    baseline.push(await time(() => sharp(input).resize(1200, 1200, { fit: 'inside' }).jpeg().toBuffer()));
  }
  const data = {
    inputMB: round(input.length / 1024 / 1024, 2),
    modelReadyP50Ms: round(pct(ready, 0.5)),
    modelReadyP90Ms: round(pct(ready, 0.9)),
    baselineP50Ms: round(pct(baseline, 0.5)),
    ratio: round(pct(ready, 0.5) / pct(baseline, 0.5), 2),
  };
  rows.push(
    ['12 MP JPEG → model-ready, p50 / p90', `${data.modelReadyP50Ms} / ${data.modelReadyP90Ms} ms`],
    ['  plain sharp().resize() baseline, p50', `${data.baselineP50Ms} ms`],
    ['  ratio to the baseline', `${data.ratio}×`],
  );
  return data;
}

async function speechFigures(rows: Row[], tmp: string) {
  const has = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const whisper = new LocalWhisper();
  if (!has('espeak-ng') || !has('ffmpeg') || !whisper.installed()) {
    const why = 'not run: needs espeak-ng, ffmpeg and the local engine (npm run setup)';
    rows.push(['local transcription', why]);
    return { skipped: why };
  }
  try {
    // Varied sentences: a sentence said over and over compresses so well that Whisper takes it for
    // a decoding loop and decodes again at higher temperatures (about 7× slower here), which
    // measures that fallback rather than transcription.
    const text = [
      'The meeting moved to Thursday at three in the afternoon, in the room next to the kitchen.',
      'Bring the quarterly figures and the draft budget for the new office.',
      'Maria will present the hiring plan, and Tom wants to discuss the delayed shipment from the supplier in Rotterdam.',
      'After lunch we will review the customer survey, which showed that most people like the new app but find the settings page confusing.',
      'Please send your comments on the contract before Friday evening, and remember that the car park is closed for repairs next week.',
    ].join(' ');
    const spoken = join(tmp, 'speech.wav');
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', spoken, text]);
    const wav = join(tmp, 'speech16k.wav');
    await speechWav(ffmpegTools(), spoken, wav, { maxSeconds: 600 });
    const load = await time(() => whisper.transcribe(wav, {}));
    const rtf: number[] = [];
    let seconds = 0;
    for (let i = 0; i < 3; i++) {
      const heard = await whisper.transcribe(wav, {});
      seconds = heard.durationSec;
      rtf.push(heard.ms / 1000 / heard.durationSec);
    }
    const data = {
      audioSec: round(seconds),
      firstCallMs: Math.round(load),
      rtfP50: round(pct(rtf, 0.5), 3),
    };
    rows.push(
      ['local transcription: audio length', `${data.audioSec} s`],
      ['  first call (model load + transcription)', `${data.firstCallMs} ms`],
      ['  real-time factor, p50 of 3 (lower is faster)', `${data.rtfP50}`],
    );
    return data;
  } finally {
    await whisper.close();
  }
}

async function pdfFigures(rows: Row[]) {
  const pages = 200;
  const doc = new PDFDocument({ autoFirstPage: false });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  for (let p = 1; p <= pages; p++) {
    doc.addPage();
    doc
      .fontSize(11)
      .text(
        Array.from(
          { length: 25 },
          (_, l) => `Page ${p}, line ${l}: the invoice lists items, totals and terms.`,
        ).join('\n'),
      );
  }
  doc.end();
  await done;
  const bytes = Buffer.concat(chunks);
  const options = { maxPages: pages, maxChars: 10_000_000, timeoutMs: 300_000 };
  await pdfText(bytes, options); // warm-up (worker thread, pdf.js load)
  let read = 0;
  const ms = await time(async () => {
    read = (await pdfText(bytes, options)).pagesRead;
  });
  const data = { pages: read, ms: Math.round(ms), pagesPerSec: round((read / ms) * 1000) };
  rows.push([`PDF text, ${read} pages`, `${data.ms} ms (${data.pagesPerSec} pages/s)`]);
  return data;
}

export const media: Measurement = {
  name: 'media',
  description: '12 MP JPEG → model-ready image vs a sharp baseline, local transcription RTF, PDF pages/s',
  async run(ctx) {
    const rows: Row[] = [];
    const tmp = mkdtempSync(join(ctx.tmp, 'media-'));
    try {
      const image = await imageFigures(rows);
      const speech = await speechFigures(rows, tmp);
      const pdf = await pdfFigures(rows);
      return { data: { image, speech, pdf }, rows };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
