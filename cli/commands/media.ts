// `switchyard media transcribe <file>` and `switchyard media describe <file>`: the media stage's
// conversions by hand, on this machine, without Temporal — to try a provider, check the local
// speech engine, or see what the agent would be told about a file.
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAgentModelsConfig } from '../../activities/agent/config.js';
import { describeImage } from '../../activities/media/describe.js';
import { speechProviders } from '../../activities/media/speech.js';
import { formatBytes } from '../../channels/attachments.js';
import type { Config } from '../../config/config.js';
import { documentText } from '../../media/document.js';
import { MediaError } from '../../media/errors.js';
import { ffmpegTools, probe } from '../../media/ffmpeg.js';
import { prepareImage } from '../../media/image.js';
import { sniff } from '../../media/sniff.js';
import { LocalWhisper } from '../../media/stt/local.js';
import { transcribeFile } from '../../media/stt/transcribe.js';
import { clock } from '../../workflows/media/media-api.js';
import { loadConfigOrExit } from '../load.js';
import { printLine } from '../output.js';

export function registerMediaCommands(program: Command): void {
  const media = program
    .command('media')
    .description(
      'try the media stage by hand: transcribe a recording, see what the agent is told about a file',
    );

  media
    .command('transcribe')
    .description('speech to text with the configured providers (media.transcription), in order')
    .argument('<file>', 'a voice note, audio or video file')
    .option('--provider <ref...>', 'providers to use instead: local, or <provider>/<model>')
    .option('--language <code>', 'spoken language (ISO 639-1), for providers that take one')
    .action(async (file: string, opts: { provider?: string[]; language?: string }, cmd: Command) => {
      const config = loadConfigOrExit();
      const local = new LocalWhisper();
      const started = Date.now();
      try {
        const names = opts.provider ?? config.media.transcription;
        const heard = await transcribeFile(resolve(file), {
          tools: ffmpegTools(config.media.ffmpeg),
          providers: speechProviders(names, { local, models: () => modelsOf(config), env: process.env }),
          maxSeconds: config.media.audio.maxSeconds,
          ...(opts.language ? { language: opts.language } : {}),
        });
        printLine(cmd, heard.text || '(no speech recognised)');
        const seconds = (Date.now() - started) / 1000;
        console.error(
          `[${heard.provider}, ${clock(heard.durationSec)}${heard.truncated ? `, only the first ${clock(config.media.audio.maxSeconds)}` : ''}, ${seconds.toFixed(1)} s]`,
        );
      } catch (error) {
        fail(error);
      } finally {
        await local.close();
      }
    });

  media
    .command('describe')
    .description('what the media stage makes of a file: its real type, and its picture, words or text')
    .argument('<file>', 'any file')
    .option('--vision <model>', 'describe an image with this vision model (default media.vision)')
    .action(async (file: string, opts: { vision?: string }, cmd: Command) => {
      const config = loadConfigOrExit();
      const say = (line: string) => printLine(cmd, line);
      const local = new LocalWhisper();
      try {
        const path = resolve(file);
        const size = (await stat(path)).size;
        const bytes = await readFile(path);
        const found = await sniff(bytes.subarray(0, 4100));
        say(
          `${basename(path)}: ${found ? `${found.kind}, ${found.mime}` : 'unknown type'}, ${formatBytes(size)}`,
        );
        switch (found?.kind) {
          case 'image': {
            const ready = await prepareImage(bytes, config.media.image);
            say(
              `model-ready: ${ready.original.width}×${ready.original.height} ${ready.original.format} → ` +
                `${ready.width}×${ready.height} JPEG, ${formatBytes(ready.data.length)}, metadata stripped`,
            );
            const vision = opts.vision ?? config.media.vision;
            if (vision) {
              say(
                `${vision}: ${await describeImage(vision, modelsOf(config), process.env, ready.data, ready.mime)}`,
              );
            } else {
              say('not described: no vision model (--vision <model>, or media.vision)');
            }
            return;
          }
          case 'audio':
          case 'video': {
            const tools = ffmpegTools(config.media.ffmpeg);
            const info = await probe(tools, path);
            const picture = info.video
              ? `, ${info.video.width}×${info.video.height} ${info.video.codec}`
              : '';
            say(
              `${clock(info.durationSec)}${picture}${info.audio ? `, sound: ${info.audio.codec}` : ', no sound'}`,
            );
            if (!info.audio) return;
            const heard = await transcribeFile(path, {
              tools,
              providers: speechProviders(config.media.transcription, {
                local,
                models: () => modelsOf(config),
                env: process.env,
              }),
              maxSeconds: config.media.audio.maxSeconds,
            });
            say(`transcribed by ${heard.provider}: ${heard.text || '(no speech recognised)'}`);
            return;
          }
          case 'document': {
            const doc = await documentText(bytes, found.mime, {
              ...config.media.documents,
              timeoutMs: 90_000,
            });
            if (doc.format === 'pdf') {
              say(
                `PDF, ${doc.pagesRead} of ${doc.totalPages} pages read${doc.truncated ? ' (cut at the limit)' : ''}` +
                  `${doc.likelyScanned ? '; almost no text: probably scanned' : ''}`,
              );
            }
            say(doc.text);
            return;
          }
          default:
            say('not read: the agent is told its name, type and size');
        }
      } catch (error) {
        fail(error);
      } finally {
        await local.close();
      }
    });
}

function modelsOf(config: Config) {
  return loadAgentModelsConfig(config.models, { home: config.home });
}

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  console.error(error instanceof MediaError ? `cannot: ${message}` : `error: ${message}`);
  process.exit(1);
}
