/**
 * The media stage's activities, one per conversion, each given its own timeout and retry policy
 * by the workflow (workflows/media). They read files from the blob store by sha256, write what
 * they make (normalised images, video stills) back to it, and return only addresses and text.
 * A file that cannot be read fails with MediaUnreadable (never retried); a missing tool with
 * MediaToolMissing; a passing problem with MediaUnavailable (retried).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { MediaConfig } from '../../config/config.js';
import { Failures } from '../../engine/failures.js';
import { BlobNotFoundError, type BlobStore } from '../../media/blob-store.js';
import { documentText } from '../../media/document.js';
import { MediaError } from '../../media/errors.js';
import { ffmpegTools, probe, stills } from '../../media/ffmpeg.js';
import { prepareImage } from '../../media/image.js';
import { sniff } from '../../media/sniff.js';
import type { LocalWhisper } from '../../media/stt/local.js';
import { transcribeOpenAI } from '../../media/stt/openai.js';
import { type SpeechProvider, transcribeFile } from '../../media/stt/transcribe.js';
import type {
  DescribeInput,
  DocumentInput,
  DocumentResult,
  ImageInput,
  ImageRef,
  InspectResult,
  MediaFile,
  TranscribeInput,
  TranscribeResult,
  VideoInput,
  VideoResult,
} from '../../workflows/media/media-api.js';
import type { AgentModelsConfig } from '../agent/config.js';
import { describeImage } from './describe.js';
import { speechProviders } from './speech.js';

export interface MediaActivityDeps {
  store: BlobStore;
  /** The media settings as they are now (switchyard.yaml `media:`). */
  settings: () => MediaConfig;
  /** Per-agent media settings (agents[].media), read at each call. */
  agentMedia?: (agent: string) => { transcription?: string[]; vision?: string } | undefined;
  /** Providers and their keys, for transcription and vision models. */
  models?: () => AgentModelsConfig;
  /** The local speech engine, owned by the worker (started on first use, killed on shutdown). */
  local?: LocalWhisper;
  env?: NodeJS.ProcessEnv;
}

const HEARTBEAT_MS = 5_000;

export function createMediaActivities(deps: MediaActivityDeps) {
  const env = deps.env ?? process.env;
  const tools = () => ffmpegTools(deps.settings().ffmpeg);

  /** The file's bytes; MediaNotFound when the store no longer has them. */
  async function bytesOf(file: { sha256: string }): Promise<Buffer> {
    try {
      return await deps.store.read(file.sha256);
    } catch (error) {
      throw asFailure(error);
    }
  }

  async function storeImage(data: Buffer): Promise<string> {
    return (await deps.store.putDerived(data)).sha256;
  }

  function providersFor(input: TranscribeInput): SpeechProvider[] {
    const names =
      input.providers ??
      (input.agent ? deps.agentMedia?.(input.agent)?.transcription : undefined) ??
      deps.settings().transcription;
    return speechProviders(names, {
      ...(deps.local ? { local: deps.local } : {}),
      ...(deps.models ? { models: deps.models } : {}),
      env,
    });
  }

  return {
    /** What the bytes really are (a MIME type may lie), and how big the file is. */
    async mediaInspect(file: MediaFile): Promise<InspectResult> {
      const stat = await deps.store.stat(file.sha256);
      if (!stat) throw asFailure(new BlobNotFoundError(file.sha256));
      const found = await sniff(await deps.store.head(file.sha256), file.mime);
      return { size: stat.size, ...(found ? { mime: found.mime, kind: found.kind } : {}) };
    },

    /** A model-ready JPEG (upright, long side capped, metadata stripped), stored beside the original. */
    async mediaImage(input: ImageInput): Promise<ImageRef> {
      const settings = deps.settings().image;
      try {
        const ready = await prepareImage(await bytesOf(input.file), {
          ...settings,
          ...(input.maxSide ? { maxSide: input.maxSide } : {}),
        });
        return {
          sha256: await storeImage(ready.data),
          mime: ready.mime,
          width: ready.width,
          height: ready.height,
          ...(input.file.name ? { name: input.file.name } : {}),
          source: input.file.sha256,
          original: ready.original,
        };
      } catch (error) {
        throw asFailure(error);
      }
    },

    /** Speech to text: ffmpeg to 16 kHz WAV, then the agent's providers in order. Heartbeats while it works. */
    async mediaTranscribe(input: TranscribeInput): Promise<TranscribeResult> {
      const context = Context.current();
      const pulse = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      try {
        const path = deps.store.path(input.file.sha256);
        if (!(await deps.store.stat(input.file.sha256))) throw new BlobNotFoundError(input.file.sha256);
        return await transcribeFile(path, {
          tools: tools(),
          providers: providersFor(input),
          maxSeconds: deps.settings().audio.maxSeconds,
          signal: context.cancellationSignal,
          ...(input.language ? { language: input.language } : {}),
        });
      } catch (error) {
        throw asFailure(error);
      } finally {
        clearInterval(pulse);
      }
    },

    /** A video's length, size and a few stills (stored as model-ready images). Its sound is transcribed separately. */
    async mediaVideo(input: VideoInput): Promise<VideoResult> {
      const context = Context.current();
      const settings = deps.settings();
      const pulse = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      const dir = await mkdtemp(join(tmpdir(), 'switchyard-video-'));
      try {
        const path = deps.store.path(input.file.sha256);
        if (!(await deps.store.stat(input.file.sha256))) throw new BlobNotFoundError(input.file.sha256);
        const info = await probe(tools(), path, { signal: context.cancellationSignal });
        const count = input.stills ?? settings.video.keyframes;
        const files = info.video
          ? await stills(tools(), path, dir, {
              count,
              maxSide: settings.image.maxSide,
              durationSec: info.durationSec,
              signal: context.cancellationSignal,
            })
          : [];
        const images: ImageRef[] = [];
        for (const [i, f] of files.entries()) {
          const ready = await prepareImage(await readFile(f), settings.image);
          images.push({
            sha256: await storeImage(ready.data),
            mime: ready.mime,
            width: ready.width,
            height: ready.height,
            name: `${input.file.name ?? 'video'} still ${i + 1}`,
            source: input.file.sha256,
            original: { width: info.video!.width, height: info.video!.height, format: '' },
          });
        }
        return {
          durationSec: info.durationSec,
          ...(info.video ? { width: info.video.width, height: info.video.height } : {}),
          hasSound: info.audio !== undefined,
          stills: images,
        };
      } catch (error) {
        throw asFailure(error);
      } finally {
        clearInterval(pulse);
        await rm(dir, { recursive: true, force: true });
      }
    },

    /** Text of a PDF (page and character limits) or of a text file (Markdown, CSV, JSON…). */
    async mediaDocument(input: DocumentInput): Promise<DocumentResult> {
      const settings = deps.settings().documents;
      try {
        return await documentText(await bytesOf(input.file), input.file.mime, {
          maxPages: input.maxPages ?? settings.maxPages,
          maxChars: input.maxChars ?? settings.maxChars,
          timeoutMs: 90_000,
        });
      } catch (error) {
        throw asFailure(error);
      }
    },

    /** A short description of an image by a vision model, for an agent whose model cannot see. */
    async mediaDescribe(input: DescribeInput): Promise<{ text: string; model: string }> {
      const config = deps.models?.();
      if (!config) {
        throw ApplicationFailure.nonRetryable(
          'no providers are configured for the vision model',
          Failures.MediaToolMissing,
        );
      }
      const data = await bytesOf(input.image);
      const text = await describeImage(input.model, config, env, data, input.image.mime, {
        signal: Context.current().cancellationSignal,
      });
      return { text, model: input.model };
    },
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;

/** The failure a pipeline (and the media stage's note) sees. */
function asFailure(error: unknown): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof BlobNotFoundError) {
    return ApplicationFailure.nonRetryable(error.message, Failures.MediaNotFound);
  }
  if (error instanceof MediaError) {
    switch (error.reason) {
      case 'unreadable':
        return ApplicationFailure.nonRetryable(error.message, Failures.MediaUnreadable);
      case 'missing-tool':
        return ApplicationFailure.nonRetryable(error.message, Failures.MediaToolMissing);
      case 'unavailable':
        return ApplicationFailure.retryable(error.message, Failures.MediaUnavailable);
    }
  }
  return error instanceof Error ? error : new Error(String(error));
}
