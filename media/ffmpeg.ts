// ffmpeg and ffprobe (Debian's `ffmpeg` package, found at run time), always as argument arrays
// with a timeout and a bounded output: probe a file, cut its sound to 16 kHz mono WAV for speech
// to text, take still images from a video.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { missingTool, unreadable } from './errors.js';

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

/** ffprobe beside the configured ffmpeg when it is a path, else on PATH. */
export function ffmpegTools(ffmpeg = 'ffmpeg'): FfmpegTools {
  const beside = ffmpeg.includes('/') ? join(dirname(ffmpeg), 'ffprobe') : undefined;
  return { ffmpeg, ffprobe: beside && existsSync(beside) ? beside : 'ffprobe' };
}

export interface Probe {
  durationSec: number;
  /** Container, as ffprobe names it (`ogg`, `mov,mp4,m4a,3gp,3g2,mj2`, …). */
  container: string;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string; sampleRate: number; channels: number };
}

interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

function run(program: string, args: string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      {
        timeout: options.timeoutMs,
        maxBuffer: 8 * 1024 * 1024,
        killSignal: 'SIGKILL',
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          return reject(
            missingTool(
              `${program} is not installed (Debian/Ubuntu: apt-get install ffmpeg; or set media.ffmpeg)`,
              error,
            ),
          );
        }
        if ((error as { killed?: boolean }).killed && !options.signal?.aborted) {
          return reject(
            unreadable(`${program} took longer than ${Math.round(options.timeoutMs / 1000)} s`, error),
          );
        }
        if (options.signal?.aborted) return reject(error);
        const why = String(stderr).trim().split('\n').filter(Boolean).at(-1) ?? error.message;
        reject(unreadable(why.slice(0, 200), error));
      },
    );
  });
}

/** What is in a media file; `unreadable` when ffprobe cannot make sense of it. */
export async function probe(
  tools: FfmpegTools,
  file: string,
  options: Partial<RunOptions> = {},
): Promise<Probe> {
  const out = await run(
    tools.ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
    { timeoutMs: options.timeoutMs ?? 30_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  let json: {
    format?: { format_name?: string; duration?: string };
    streams?: Array<Record<string, unknown>>;
  };
  try {
    json = JSON.parse(out);
  } catch (error) {
    throw unreadable('ffprobe gave no answer about the file', error);
  }
  const streams = json.streams ?? [];
  // A cover picture inside an audio file is a "video" stream; it is not a video.
  const video = streams.find(
    (s) =>
      s.codec_type === 'video' && !(s.disposition as { attached_pic?: number } | undefined)?.attached_pic,
  );
  const audio = streams.find((s) => s.codec_type === 'audio');
  const duration = Number(json.format?.duration ?? video?.duration ?? audio?.duration ?? Number.NaN);
  if (!video && !audio) throw unreadable('the file holds neither sound nor pictures ffmpeg can read');
  return {
    durationSec: Number.isFinite(duration) ? duration : 0,
    container: json.format?.format_name ?? 'unknown',
    ...(video
      ? {
          video: {
            codec: String(video.codec_name),
            width: Number(video.width),
            height: Number(video.height),
          },
        }
      : {}),
    ...(audio
      ? {
          audio: {
            codec: String(audio.codec_name),
            sampleRate: Number(audio.sample_rate),
            channels: Number(audio.channels),
          },
        }
      : {}),
  };
}

/** The first audio stream as 16 kHz mono 16-bit WAV, at most `maxSeconds` long (what Whisper reads). */
export async function speechWav(
  tools: FfmpegTools,
  input: string,
  output: string,
  options: { maxSeconds: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  await run(
    tools.ffmpeg,
    [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      input,
      '-map',
      '0:a:0',
      '-vn',
      '-t',
      String(options.maxSeconds),
      '-ac',
      '1',
      '-ar',
      '16000',
      '-c:a',
      'pcm_s16le',
      output,
    ],
    { timeoutMs: options.timeoutMs ?? 120_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/**
 * Up to `count` still images of a video as JPEG files in `outDir`: keyframes first (one decoding
 * pass), else evenly spaced seeks when the video has too few keyframes (a long GOP).
 */
export async function stills(
  tools: FfmpegTools,
  input: string,
  outDir: string,
  options: { count: number; maxSide: number; durationSec: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<string[]> {
  if (options.count <= 0) return [];
  const scale = `scale=w=${options.maxSide}:h=${options.maxSide}:force_original_aspect_ratio=decrease`;
  const run1 = {
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  await run(
    tools.ffmpeg,
    [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-skip_frame',
      'nokey',
      '-i',
      input,
      '-an',
      '-fps_mode',
      'vfr',
      '-frames:v',
      String(options.count),
      '-vf',
      scale,
      '-q:v',
      '4',
      join(outDir, 'key_%02d.jpg'),
    ],
    run1,
  );
  let found = (await readdir(outDir)).filter((f) => f.startsWith('key_')).sort();
  if (found.length < Math.min(options.count, 2) && options.durationSec > 1) {
    for (let i = 0; i < options.count; i++) {
      const at = (options.durationSec * (i + 0.5)) / options.count;
      await run(
        tools.ffmpeg,
        [
          '-nostdin',
          '-v',
          'error',
          '-y',
          '-ss',
          at.toFixed(3),
          '-i',
          input,
          '-frames:v',
          '1',
          '-vf',
          scale,
          '-q:v',
          '4',
          join(outDir, `seek_${String(i + 1).padStart(2, '0')}.jpg`),
        ],
        run1,
      );
    }
    found = (await readdir(outDir)).filter((f) => f.startsWith('seek_')).sort();
  }
  return found.map((f) => join(outDir, f));
}
