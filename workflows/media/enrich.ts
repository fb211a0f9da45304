/**
 * `media.enrich`: every attachment of a message becomes something the agent can use — images
 * made model-ready, voice notes and audio transcribed, videos' sound transcribed and a few
 * stills taken, documents read — each conversion its own activity. Nothing here fails the turn:
 * an attachment that cannot be read becomes a note saying why ("could not read the attachment
 * …"), logged, and the agent answers the rest.
 */
import { log } from '@temporalio/workflow';
import type { AttachmentKind, AttachmentRef } from '../../channels/envelope.js';
import { failureText } from '../agent/activity-options.js';
import {
  documentActivity,
  imageActivity,
  inspectActivity,
  transcribeActivity,
  videoActivity,
} from './media-activities.js';
import {
  clock,
  imageSize,
  type MediaEnrichArgs,
  type MediaEnrichResult,
  type MediaFile,
  type MediaItem,
} from './media-api.js';

export async function enrichMedia(args: MediaEnrichArgs): Promise<MediaEnrichResult> {
  const attachments = Array.isArray(args.attachments) ? args.attachments : [];
  const items = await Promise.all(attachments.map((ref) => enrichOne(ref, args)));
  return {
    items,
    text: items.map((i) => i.text).join('\n\n'),
    images: items.flatMap((i) => i.images ?? []),
    summary: items.map((i) => i.summary).join('\n'),
  };
}

const NOUNS: Record<AttachmentKind, string> = {
  image: 'image',
  voice: 'voice note',
  audio: 'audio',
  video: 'video',
  document: 'document',
  file: 'file',
};

function label(kind: AttachmentKind, name: string | undefined): string {
  return name ? `${NOUNS[kind]} ${name}` : NOUNS[kind];
}

async function enrichOne(ref: AttachmentRef, args: MediaEnrichArgs): Promise<MediaItem> {
  const base = {
    id: ref.id,
    kind: ref.kind,
    mime: ref.mime,
    ...(ref.name ? { name: ref.name } : {}),
    ...(ref.sha256 ? { sha256: ref.sha256 } : {}),
  };
  const what = label(ref.kind, ref.name);
  const failed = (reason: string): MediaItem => {
    log.warn('media: could not read an attachment', { id: ref.id, kind: ref.kind, reason });
    return {
      ...base,
      status: 'failed',
      text: `[could not read the attachment (${what}): ${reason}]`,
      summary: `[${what}: could not be read]`,
    };
  };
  if (ref.error) return failed(ref.error);
  if (!ref.sha256) return failed('the file was not downloaded');

  let file: MediaFile = {
    sha256: ref.sha256,
    mime: ref.mime,
    kind: ref.kind,
    ...(ref.name ? { name: ref.name } : {}),
  };
  let lied = '';
  try {
    const seen = await inspectActivity(`inspect ${what}`)(file);
    if (seen.kind && seen.mime) {
      // The bytes win. A voice note stays a voice note when it is indeed sound.
      const kind = ref.kind === 'voice' && seen.kind === 'audio' ? 'voice' : seen.kind;
      // A `file` was declared as nothing in particular: whatever it is, it told no lie.
      if (ref.kind !== 'file' && seen.kind !== family(ref.kind)) {
        lied = ` (sent as ${ref.mime}, but the file is ${seen.mime})`;
      }
      file = { ...file, kind, mime: seen.mime };
    } else if (ref.kind !== 'file') {
      return failed(`the file is not ${article(NOUNS[ref.kind])} (its bytes match no format known here)`);
    }
  } catch (error) {
    return failed(failureText(error));
  }

  const name = ref.name;
  const said = label(file.kind, name);
  try {
    switch (file.kind) {
      case 'image': {
        if (args.describe === false) return skipped(base, file, `[${said}: not looked at]`);
        const image = await imageActivity({ summary: `image ${name ?? ''}`.trim() })({ file });
        return {
          ...base,
          kind: file.kind,
          mime: file.mime,
          status: 'read',
          text: `[${said}: ${imageSize(image)}${lied}]`,
          summary: `[${said}]`,
          images: [image],
        };
      }
      case 'voice':
      case 'audio': {
        if (args.transcribe === false) return skipped(base, file, `[${said}: not transcribed]`);
        const heard = await transcribeActivity({ summary: `transcribe ${said}` })({
          file,
          ...(args.agent ? { agent: args.agent } : {}),
        });
        const cut = heard.truncated ? ', only the start transcribed' : '';
        const words = heard.text || '(no speech recognised)';
        return {
          ...base,
          kind: file.kind,
          mime: file.mime,
          status: 'read',
          text: `[${said}, ${clock(heard.durationSec)}${cut}${lied}, transcribed] ${words}`,
          summary: `[${said}] ${words}`,
          durationSec: heard.durationSec,
        };
      }
      case 'video': {
        const video =
          args.describe === false
            ? undefined
            : await videoActivity({ summary: `video ${name ?? ''}`.trim() })({ file });
        let sound = '';
        if (args.transcribe !== false && (video === undefined || video.hasSound)) {
          try {
            const heard = await transcribeActivity({ summary: `transcribe ${said}` })({
              file,
              ...(args.agent ? { agent: args.agent } : {}),
            });
            sound = `; its sound, transcribed: ${heard.text || '(no speech recognised)'}`;
          } catch (error) {
            sound = `; its sound could not be transcribed: ${failureText(error)}`;
          }
        } else if (video && !video.hasSound) {
          sound = '; no sound';
        }
        const stills = video?.stills ?? [];
        const facts = video
          ? `${clock(video.durationSec)}${video.width ? `, ${video.width}×${video.height}` : ''}, ${stills.length} still${stills.length === 1 ? '' : 's'} attached`
          : 'not looked at';
        return {
          ...base,
          kind: file.kind,
          mime: file.mime,
          status: 'read',
          text: `[${said}: ${facts}${lied}${sound}]`,
          summary: `[${said}]`,
          ...(stills.length ? { images: stills } : {}),
          ...(video ? { durationSec: video.durationSec } : {}),
        };
      }
      case 'document': {
        const doc = await documentActivity({ summary: `read ${said}` })({ file });
        const pages =
          doc.format === 'pdf'
            ? `PDF, ${doc.pagesRead} of ${doc.totalPages} page${doc.totalPages === 1 ? '' : 's'} read`
            : 'text';
        const notes = [
          pages,
          doc.truncated ? 'cut at the limit (media.documents)' : '',
          doc.likelyScanned ? 'almost no text: probably scanned images' : '',
        ].filter(Boolean);
        return {
          ...base,
          kind: file.kind,
          mime: file.mime,
          status: 'read',
          text: `[${said}: ${notes.join('; ')}${lied}]\n${doc.text}`,
          summary: `[${said}]`,
          ...(doc.totalPages !== undefined ? { pages: doc.totalPages } : {}),
        };
      }
      default:
        return skipped(base, file, `[${said}: ${file.mime}, not read (no reader for this type)${lied}]`);
    }
  } catch (error) {
    return failed(failureText(error));
  }
}

function skipped(
  base: Omit<MediaItem, 'status' | 'text' | 'summary'>,
  file: MediaFile,
  text: string,
): MediaItem {
  return { ...base, kind: file.kind, mime: file.mime, status: 'skipped', text, summary: text };
}

/** Voice notes are sound; the bytes can only say "audio". */
function family(kind: AttachmentKind): AttachmentKind {
  return kind === 'voice' ? 'audio' : kind;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
