// What a file really is, from its first bytes: a MIME type may lie (a PDF named photo.jpg, an
// executable sent as a "voice note"). file-type knows the binary formats; text is recognised as
// valid UTF-8 without NUL bytes.
import { fileTypeFromBuffer } from 'file-type';
import { type AttachmentKind, kindFromMime } from '../channels/attachments.js';

export interface Sniffed {
  mime: string;
  kind: AttachmentKind;
}

/** Containers file-type names by their video flavour that often hold only sound. */
const AUDIO_CONTAINERS: Record<string, string> = { 'video/ogg': 'audio/ogg', 'video/webm': 'audio/webm' };

/**
 * The type the bytes say, or undefined when they say nothing recognisable. `declared` settles
 * what the bytes cannot: an Ogg or WebM file declared as audio is audio.
 */
export async function sniff(head: Uint8Array, declared?: string): Promise<Sniffed | undefined> {
  const found = await fileTypeFromBuffer(head);
  if (found) {
    let mime = found.mime as string;
    if (AUDIO_CONTAINERS[mime] && declared?.startsWith('audio/')) mime = AUDIO_CONTAINERS[mime]!;
    // file-type has no "text" types except a few; everything it names by MIME maps the usual way.
    return { mime, kind: kindFromMime(mime) };
  }
  if (looksLikeText(head)) {
    const mime =
      declared && kindFromMime(declared) === 'document' && !declared.includes('pdf')
        ? declared
        : 'text/plain';
    return { mime, kind: 'document' };
  }
  return undefined;
}

/** UTF-8 that decodes cleanly (a cut multi-byte sequence at the very end is fine) and has no NUL. */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  if (head.includes(0)) return false;
  // Drop up to 3 trailing bytes that may be a cut character.
  for (let cut = 0; cut <= Math.min(3, head.length - 1); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}
