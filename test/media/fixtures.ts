// Media made in the test, with real tools: photos with sharp, voice notes spoken by espeak-ng and
// encoded by ffmpeg, PDFs with pdfkit, a short video with ffmpeg's test sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';

/** A photo of width × height (as stored) with EXIF orientation `orientation` and a GPS-ish comment. */
export async function photo(width: number, height: number, orientation = 1): Promise<Buffer> {
  // A gradient with a marker in the top-left corner, so rotation is visible in the pixels.
  const base = sharp({
    create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } },
  }).composite([
    {
      input: await sharp({
        create: {
          width: Math.round(width / 4),
          height: Math.round(height / 4),
          channels: 3,
          background: '#ff0000',
        },
      })
        .png()
        .toBuffer(),
      top: 0,
      left: 0,
    },
  ]);
  return base
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Make: 'TestCam', Model: 'Secret Model', Copyright: 'owner' } })
    .withMetadata({ orientation })
    .toBuffer();
}

export function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-media-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** espeak-ng speaks `text`; ffmpeg encodes it as a Telegram-style voice note (OGG/Opus, mono). */
export function voiceNote(text: string): Buffer {
  return withTemp((dir) => {
    const wav = join(dir, 'speech.wav');
    const ogg = join(dir, 'voice.ogg');
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, text]);
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      wav,
      '-ac',
      '1',
      '-c:a',
      'libopus',
      '-b:a',
      '32k',
      ogg,
    ]);
    return readFileSync(ogg);
  });
}

/** A few seconds of ffmpeg's test picture with a tone (H.264 + AAC in MP4), keyframe every second. */
export function testVideo(seconds = 3, withSound = true): Buffer {
  return withTemp((dir) => {
    const out = join(dir, 'clip.mp4');
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=640x360:rate=25:duration=${seconds}`,
      ...(withSound ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`] : []),
      '-c:v',
      'libx264',
      '-g',
      '25',
      '-pix_fmt',
      'yuv420p',
      ...(withSound ? ['-c:a', 'aac'] : []),
      '-shortest',
      out,
    ]);
    return readFileSync(out);
  });
}

/** A PDF with `pages` pages of text; `password` encrypts it. */
export async function pdf(
  pages: number,
  options: { password?: string; text?: (page: number) => string } = {},
): Promise<Buffer> {
  const doc = new PDFDocument({
    autoFirstPage: false,
    ...(options.password
      ? { userPassword: options.password, ownerPassword: 'owner', pdfVersion: '1.7' as const }
      : {}),
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  for (let p = 1; p <= pages; p++) {
    doc.addPage();
    doc.fontSize(12).text(options.text?.(p) ?? `Page ${p}. The invoice total is ${p * 100} euros.`);
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
