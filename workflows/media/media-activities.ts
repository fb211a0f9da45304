/**
 * The media activities as the workflow calls them, each with a timeout and retry policy suited to
 * its cost. A file that cannot be read (MediaUnreadable), is gone (MediaNotFound) or needs a tool
 * this machine lacks (MediaToolMissing) is never retried; everything else is, a few times. The
 * long ones heartbeat, so a worker that dies mid-transcription is noticed within 30 s and the
 * conversion starts again on another worker.
 */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { MediaActivities } from '../../activities/media/index.js';
import { Failures } from '../../engine/failures.js';

const final = [Failures.MediaUnreadable, Failures.MediaNotFound, Failures.MediaToolMissing];

const retry = (maximumAttempts: number, initialInterval: number): RetryPolicy => ({
  maximumAttempts,
  initialInterval,
  backoffCoefficient: 2,
  maximumInterval: 60_000,
  nonRetryableErrorTypes: final,
});

export interface MediaCallOptions {
  /** startToClose of one attempt, in ms (a step's `timeout:`). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  summary?: string;
}

export function inspectActivity(summary: string) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: '30 seconds',
    retry: retry(3, 1_000),
    summary,
  }).mediaInspect;
}

export function imageActivity(options: MediaCallOptions = {}) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: options.timeoutMs ?? 60_000,
    retry: options.retry ?? retry(3, 2_000),
    ...(options.summary ? { summary: options.summary } : {}),
  }).mediaImage;
}

/** Minutes of sound through ffmpeg and a speech engine: a long deadline, a short heartbeat. */
export function transcribeActivity(options: MediaCallOptions = {}) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: options.timeoutMs ?? 15 * 60_000,
    heartbeatTimeout: '30 seconds',
    retry: options.retry ?? retry(4, 3_000),
    ...(options.summary ? { summary: options.summary } : {}),
  }).mediaTranscribe;
}

export function videoActivity(options: MediaCallOptions = {}) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: options.timeoutMs ?? 5 * 60_000,
    heartbeatTimeout: '30 seconds',
    retry: options.retry ?? retry(3, 3_000),
    ...(options.summary ? { summary: options.summary } : {}),
  }).mediaVideo;
}

export function documentActivity(options: MediaCallOptions = {}) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: options.timeoutMs ?? 3 * 60_000,
    retry: options.retry ?? retry(2, 2_000),
    ...(options.summary ? { summary: options.summary } : {}),
  }).mediaDocument;
}

/** A vision model call: retried on rate limits and outages like any model call. */
export function describeActivity(summary: string) {
  return proxyActivities<MediaActivities>({
    startToCloseTimeout: '2 minutes',
    retry: {
      maximumAttempts: 3,
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      nonRetryableErrorTypes: [
        ...final,
        Failures.ModelAuthError,
        Failures.ModelRequestInvalid,
        Failures.ModelConfigError,
      ],
    },
    summary,
  }).mediaDescribe;
}
