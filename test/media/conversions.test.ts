// The conversions on their own, with real sharp, ffmpeg, pdf.js and bad input of every kind.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../media/errors.js';
import { ffmpegTools, probe, speechWav, stills } from '../../media/ffmpeg.js';
import { prepareImage } from '../../media/image.js';
import { pdfText } from '../../media/pdf.js';
import { sniff } from '../../media/sniff.js';
import { pdf, photo, testVideo, voiceNote } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-conv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const reason = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaError);
  return error as MediaError;
};

describe('images', () => {
  it('turns a sideways 12 MP phone photo upright, caps the long side at 1200 px and strips metadata', async () => {
    // Stored 4000×3000 with EXIF orientation 6: the camera was held upright, so it is 3000×4000.
    const input = await photo(4000, 3000, 6);
    expect((await sharp(input).metadata()).exif).toBeDefined();
    const ready = await prepareImage(input);
    expect(ready).toMatchObject({ mime: 'image/jpeg', width: 900, height: 1200 });
    expect(ready.original).toEqual({ width: 3000, height: 4000, format: 'JPEG' });
    const out = await sharp(ready.data).metadata();
    expect(out).toMatchObject({ format: 'jpeg', width: 900, height: 1200 });
    expect(out.exif).toBeUndefined();
    expect(out.orientation).toBeUndefined();
    // The red marker (top-left of the stored pixels) is now at the top right: really rotated.
    const { data, info } = await sharp(ready.data).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(px(info.width - 10, 10)).toBeGreaterThan(200);
    expect(px(10, 10)).toBeLessThan(100);
  });

  it('never enlarges a small image', async () => {
    const ready = await prepareImage(
      await sharp({ create: { width: 300, height: 200, channels: 4, background: '#0000' } })
        .png()
        .toBuffer(),
    );
    expect(ready).toMatchObject({ width: 300, height: 200, original: { format: 'PNG' } });
  });

  it('refuses a corrupt image, and a decompression bomb before decoding it', async () => {
    const good = await photo(800, 600);
    expect((await reason(prepareImage(good.subarray(0, 400)))).reason).toBe('unreadable');
    expect((await reason(prepareImage(Buffer.from('not an image at all')))).message).toMatch(
      /^the image is damaged or not an image/,
    );
    const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const error = await reason(prepareImage(bomb, { maxSide: 1200, quality: 80, maxPixels: 50_000_000 }));
    expect(error.message).toMatch(/10000×10000|pixel limit/);
  });
});

describe('what a file really is', () => {
  it('goes by the bytes, not the name or the declared type', async () => {
    expect(await sniff(await pdf(1))).toEqual({ mime: 'application/pdf', kind: 'document' });
    expect(await sniff(await photo(64, 64))).toEqual({ mime: 'image/jpeg', kind: 'image' });
    expect(await sniff(voiceNote('hi'), 'audio/ogg')).toMatchObject({
      mime: expect.stringMatching(/^audio\//),
      kind: 'audio',
    });
    expect(await sniff(Buffer.from('name,amount\nmilk,2\n'), 'text/csv')).toEqual({
      mime: 'text/csv',
      kind: 'document',
    });
    expect(await sniff(Buffer.from('plain words'), 'image/jpeg')).toEqual({
      mime: 'text/plain',
      kind: 'document',
    });
    expect(await sniff(Buffer.from([0, 1, 2, 3, 0, 0, 7]))).toBeUndefined();
  });
});

describe('sound and video with ffmpeg', () => {
  const tools = ffmpegTools();

  it('probes a voice note and cuts it to 16 kHz mono WAV for speech to text', async () => {
    const ogg = file('voice.ogg', voiceNote('Remind me to water the tomatoes tomorrow morning.'));
    const info = await probe(tools, ogg);
    expect(info.audio).toMatchObject({ codec: 'opus', channels: 1 });
    expect(info.video).toBeUndefined();
    expect(info.durationSec).toBeGreaterThan(1.5);
    const wav = join(dir, 'voice.wav');
    await speechWav(tools, ogg, wav, { maxSeconds: 600 });
    expect(await probe(tools, wav)).toMatchObject({
      audio: { codec: 'pcm_s16le', sampleRate: 16000, channels: 1 },
    });
  });

  it('takes stills from a video', async () => {
    const mp4 = file('clip.mp4', testVideo(3));
    const info = await probe(tools, mp4);
    expect(info).toMatchObject({ video: { width: 640, height: 360 }, audio: { codec: 'aac' } });
    const out = mkdtempSync(join(dir, 'stills-'));
    const frames = await stills(tools, mp4, out, { count: 3, maxSide: 320, durationSec: info.durationSec });
    expect(frames).toHaveLength(3);
    expect(await sharp(frames[0]!).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 180 });
    expect(readdirSync(out)).toHaveLength(3);
  });

  it('says clearly what it cannot decode, and when ffmpeg is missing', async () => {
    const junk = file('junk.ogg', Buffer.from('OggS but then nothing that makes sense'.repeat(20)));
    expect((await reason(probe(tools, junk))).reason).toBe('unreadable');
    const missing = await reason(probe({ ffmpeg: '/nowhere/ffmpeg', ffprobe: '/nowhere/ffprobe' }, junk));
    expect(missing.reason).toBe('missing-tool');
    expect(missing.message).toMatch(/apt-get install ffmpeg/);
  });
});

describe('PDF text', () => {
  it('reads the text of every page', async () => {
    const result = await pdfText(await pdf(3));
    expect(result).toMatchObject({ totalPages: 3, pagesRead: 3, truncated: false, likelyScanned: false });
    expect(result.text).toContain('Page 2. The invoice total is 200 euros.');
  });

  it('stops at the page limit of a 500-page PDF and says so', async () => {
    const result = await pdfText(await pdf(500), { maxPages: 50, maxChars: 100_000, timeoutMs: 60_000 });
    expect(result).toMatchObject({ totalPages: 500, pagesRead: 50, truncated: true });
    expect(result.text).toContain('Page 50.');
    expect(result.text).not.toContain('Page 51.');
  });

  it('refuses a password-protected PDF, a corrupt one and an empty one with a reason', async () => {
    expect((await reason(pdfText(await pdf(2, { password: 'secret' })))).message).toMatch(
      /password-protected/,
    );
    const good = await pdf(3);
    expect((await reason(pdfText(good.subarray(0, good.length / 2)))).reason).toBe('unreadable');
    expect((await reason(pdfText(Buffer.from('hello, I am text')))).message).toMatch(/not a readable PDF/);
    expect((await reason(pdfText(Buffer.alloc(0)))).message).toBe('the PDF is empty');
  });

  it('stops a reader that takes too long', async () => {
    const error = await reason(
      pdfText(await pdf(300), { maxPages: 300, maxChars: 10_000_000, timeoutMs: 50 }),
    );
    expect(error.message).toMatch(/took longer than/);
  });
});
