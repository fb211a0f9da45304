// Speech to text over OpenAI's `POST /audio/transcriptions` (multipart: file, model), which
// OpenAI, Groq and local whisper servers (faster-whisper-server, whisper.cpp's server, LocalAI)
// all speak.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { unavailable, unreadable } from '../errors.js';

export interface OpenAITranscriptionTarget {
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  apiKey: string;
  model: string;
  headers?: Record<string, string>;
}

/** A provider that refused the key or the request: try the next provider, never again this one. */
export class TranscriptionRefused extends Error {
  override readonly name = 'TranscriptionRefused';
}

export async function transcribeOpenAI(
  target: OpenAITranscriptionTarget,
  wavPath: string,
  options: { language?: string; timeoutMs?: number; signal?: AbortSignal; fetch?: typeof fetch } = {},
): Promise<{ text: string }> {
  const form = new FormData();
  form.set('file', new Blob([await readFile(wavPath)], { type: 'audio/wav' }), basename(wavPath));
  form.set('model', target.model);
  form.set('response_format', 'json');
  if (options.language) form.set('language', options.language);
  const signals = [
    AbortSignal.timeout(options.timeoutMs ?? 5 * 60_000),
    ...(options.signal ? [options.signal] : []),
  ];
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(`${target.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.apiKey}`, ...target.headers },
      body: form,
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    throw unavailable(`could not reach ${target.baseUrl} (${(error as Error).message})`, error);
  }
  const body = await res.text();
  if (res.ok) {
    try {
      const json = JSON.parse(body) as { text?: unknown };
      if (typeof json.text === 'string') return { text: json.text.trim() };
    } catch {
      // fall through
    }
    throw unavailable(`${target.baseUrl} answered without a transcript`);
  }
  const detail = errorDetail(body);
  if (res.status === 401 || res.status === 403) {
    throw new TranscriptionRefused(`${target.baseUrl} refused the API key (${res.status}${detail})`);
  }
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    throw unavailable(`${target.baseUrl} is busy or failing (${res.status}${detail})`);
  }
  if (res.status === 400 || res.status === 413 || res.status === 415 || res.status === 422) {
    throw unreadable(`${target.baseUrl} could not transcribe the audio (${res.status}${detail})`);
  }
  throw new TranscriptionRefused(`${target.baseUrl} rejected the request (${res.status}${detail})`);
}

function errorDetail(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return `: ${message.slice(0, 160)}`;
  } catch {
    // not JSON
  }
  return '';
}
