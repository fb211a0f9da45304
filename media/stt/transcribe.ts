// A sound file to text: ffprobe says whether it has sound and how long it is, ffmpeg cuts the
// first audio stream to 16 kHz mono WAV (at most maxSeconds), and the providers are tried in
// order — the first that answers wins. Shared by the transcription activity and
// `switchyard media transcribe`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaError, unavailable, unreadable } from '../errors.js';
import { type FfmpegTools, probe, speechWav } from '../ffmpeg.js';
import { TranscriptionRefused } from './openai.js';

export interface SpeechProvider {
  /** `local`, or the `<provider>/<model>` reference. */
  name: string;
  transcribe(
    wavPath: string,
    options: { language?: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ text: string }>;
}

export interface TranscribeOptions {
  tools: FfmpegTools;
  providers: SpeechProvider[];
  /** Only this much sound is transcribed. */
  maxSeconds: number;
  language?: string;
  signal?: AbortSignal;
  /** Per provider call. */
  timeoutMs?: number;
}

export interface FileTranscript {
  text: string;
  /** The whole recording's length. */
  durationSec: number;
  /** Only the first maxSeconds were transcribed. */
  truncated: boolean;
  provider: string;
}

export async function transcribeFile(path: string, options: TranscribeOptions): Promise<FileTranscript> {
  const info = await probe(options.tools, path, { ...(options.signal ? { signal: options.signal } : {}) });
  if (!info.audio) throw unreadable('the file has no sound to transcribe');
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-stt-'));
  try {
    const wav = join(dir, 'speech.wav');
    await speechWav(options.tools, path, wav, {
      maxSeconds: options.maxSeconds,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const spoken = await transcribeWav(wav, options);
    return {
      ...spoken,
      durationSec: info.durationSec,
      truncated: info.durationSec > options.maxSeconds + 0.5,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The first provider's text. A refused key or a missing engine moves on to the next provider;
 * audio a provider cannot decode stops (the next would not do better). When every provider
 * failed, a passing failure among them makes the whole `unavailable` (worth trying again later).
 */
export async function transcribeWav(
  wav: string,
  options: Pick<TranscribeOptions, 'providers' | 'language' | 'signal' | 'timeoutMs'>,
): Promise<{ text: string; provider: string }> {
  if (options.providers.length === 0)
    throw unreadable('no speech-to-text provider is configured (media.transcription)');
  const failures: string[] = [];
  let passing = false;
  for (const provider of options.providers) {
    try {
      const { text } = await provider.transcribe(wav, {
        ...(options.language ? { language: options.language } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      return { text, provider: provider.name };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (error instanceof MediaError && error.reason === 'unreadable') throw error;
      if (error instanceof MediaError && error.reason === 'unavailable') passing = true;
      else if (!(error instanceof MediaError || error instanceof TranscriptionRefused)) passing = true;
      failures.push(`${provider.name}: ${(error as Error).message}`);
    }
  }
  const message = `no speech-to-text provider could transcribe it (${failures.join('; ')})`;
  if (passing) throw unavailable(message);
  throw new MediaError('missing-tool', message);
}
