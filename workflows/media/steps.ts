/**
 * The media step types besides `media.enrich`, for pipeline authors who want the pieces:
 * `media.image`, `media.transcribe`, `media.pdf`. Unlike media.enrich they fail the step with
 * a named failure (MediaNotFound, MediaUnreadable, MediaToolMissing, MediaUnavailable) for
 * `catch:` to handle. The step's `timeout:` bounds one attempt, its `retry:` the attempts.
 */
import type { AttachmentRef } from '../../channels/envelope.js';
import { Failures } from '../../engine/failures.js';
import type { UsesStep } from '../../engine/ir.js';
import { stepFailure } from '../pipeline/pipeline-errors.js';
import { temporalRetry } from '../pipeline/pipeline-retry.js';
import {
  documentActivity,
  imageActivity,
  type MediaCallOptions,
  transcribeActivity,
} from './media-activities.js';
import type { MediaFile } from './media-api.js';

export function runMediaStep(step: UsesStep, args: Record<string, unknown>): Promise<unknown> {
  const file = fileOf(step, args.attachment);
  const retry = temporalRetry(step.retry);
  const options: MediaCallOptions = {
    ...(step.timeout !== undefined ? { timeoutMs: step.timeout } : {}),
    retry: {
      ...retry,
      nonRetryableErrorTypes: [
        ...(retry.nonRetryableErrorTypes ?? []),
        Failures.MediaUnreadable,
        Failures.MediaNotFound,
        Failures.MediaToolMissing,
      ],
    },
    summary: step.name ?? step.id,
  };
  switch (step.type) {
    case 'media.image':
      return imageActivity(options)({
        file,
        ...(typeof args.max_side === 'number' ? { maxSide: args.max_side } : {}),
      });
    case 'media.transcribe':
      return transcribeActivity(options)({
        file,
        ...(typeof args.agent === 'string' ? { agent: args.agent } : {}),
        ...(Array.isArray(args.providers) ? { providers: args.providers.map(String) } : {}),
        ...(typeof args.language === 'string' ? { language: args.language } : {}),
      });
    case 'media.pdf':
      return documentActivity(options)({
        file: { ...file, mime: 'application/pdf' },
        ...(typeof args.max_pages === 'number' ? { maxPages: args.max_pages } : {}),
        ...(typeof args.max_chars === 'number' ? { maxChars: args.max_chars } : {}),
      });
    default:
      throw stepFailure(
        Failures.UnknownStepType,
        `no media step type '${step.type}' in this worker`,
        step.id,
      );
  }
}

/** An attachment of the message (or any `{sha256, mime}`) as the activities take it. */
function fileOf(step: UsesStep, value: unknown): MediaFile {
  const ref = (value ?? {}) as Partial<AttachmentRef>;
  if (typeof ref.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256)) {
    const why = ref.error ? `: ${ref.error}` : ' (no sha256: it was not stored)';
    throw stepFailure(
      Failures.MediaNotFound,
      `${step.type}: the attachment is not in the media store${why}`,
      step.id,
    );
  }
  return {
    sha256: ref.sha256,
    mime: typeof ref.mime === 'string' ? ref.mime : 'application/octet-stream',
    kind: ref.kind ?? 'file',
    ...(typeof ref.name === 'string' ? { name: ref.name } : {}),
  };
}
