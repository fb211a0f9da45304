/**
 * The contract between the media stage (workflows/media, run by the pipeline interpreter) and
 * its activities (activities/media). Plain JSON: everything here crosses Temporal history, so a
 * file is only ever its address in the blob store (sha256) and text taken from it.
 */
import type { AttachmentKind, AttachmentRef } from '../../channels/envelope.js';

/** A stored file an activity reads. */
export interface MediaFile {
  sha256: string;
  /** As declared (checked against the bytes by mediaInspect). */
  mime: string;
  kind: AttachmentKind;
  name?: string;
}

/** A model-ready image in the blob store (JPEG, long side capped), and what it was made from. */
export interface ImageRef {
  sha256: string;
  mime: 'image/jpeg';
  width: number;
  height: number;
  name?: string;
  /** sha256 of the file it was made from (the photo as sent, or the video of a still). */
  source?: string;
  /** The picture as sent: size and format (a video still has its video's name and no format). */
  original?: { width: number; height: number; format: string };
}

export interface InspectResult {
  size: number;
  /** What the bytes are; undefined when they match nothing known. */
  mime?: string;
  kind?: AttachmentKind;
}

export interface ImageInput {
  file: MediaFile;
  /** Longest side; default media.image.maxSide. */
  maxSide?: number;
}

export interface TranscribeInput {
  file: MediaFile;
  /** Whose speech-to-text providers (agents[].media.transcription); default media.transcription. */
  agent?: string;
  /** Providers for this call, overriding the agent's. */
  providers?: string[];
  language?: string;
}

export interface TranscribeResult {
  text: string;
  durationSec: number;
  /** Longer than media.audio.maxMinutes: only the start was transcribed. */
  truncated: boolean;
  provider: string;
}

export interface VideoInput {
  file: MediaFile;
  /** Stills to take; default media.video.keyframes. */
  stills?: number;
}

export interface VideoResult {
  durationSec: number;
  width?: number;
  height?: number;
  hasSound: boolean;
  stills: ImageRef[];
}

export interface DocumentInput {
  file: MediaFile;
  maxPages?: number;
  maxChars?: number;
}

export interface DocumentResult {
  text: string;
  format: 'pdf' | 'text';
  truncated: boolean;
  totalPages?: number;
  pagesRead?: number;
  likelyScanned?: boolean;
}

export interface DescribeInput {
  image: ImageRef;
  /** The vision model, `<provider>/<model>`. */
  model: string;
}

/** One attachment after enrichment: what the agent reads about it. */
export interface MediaItem {
  id: string;
  /** What it turned out to be (the bytes win over the declared type). */
  kind: AttachmentKind;
  mime: string;
  name?: string;
  sha256?: string;
  /** `read`: turned into text or images; `failed`: could not be (the text says why); `skipped`: not tried. */
  status: 'read' | 'failed' | 'skipped';
  /** The block the agent reads. */
  text: string;
  /** A short line for the conversation's transcript (a voice note's words, a file's name). */
  summary: string;
  images?: ImageRef[];
  durationSec?: number;
  pages?: number;
}

export interface MediaEnrichArgs {
  attachments: AttachmentRef[];
  /** Whose settings apply (transcription providers). */
  agent?: string;
  /** Transcribe voice notes, audio and videos' sound. Default true. */
  transcribe?: boolean;
  /** Make images model-ready (and take video stills). Default true. */
  describe?: boolean;
}

export interface MediaEnrichResult {
  items: MediaItem[];
  /** What the agent reads: one block per attachment. */
  text: string;
  /** Model-ready images (photos, video stills), for a model that can see. */
  images: ImageRef[];
  /** Short lines for the session's transcript: what was said in voice notes, what files came. */
  summary: string;
}

/** `m:ss` or `h:mm:ss`. */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** `1280×960 JPEG` */
export function imageSize(image: ImageRef): string {
  const o = image.original;
  return o ? `${o.width}×${o.height}${o.format ? ` ${o.format}` : ''}` : `${image.width}×${image.height}`;
}
