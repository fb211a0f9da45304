// Why a conversion did not produce anything, in words a person (and the agent) can act on.
// `unreadable`: the file itself is the problem (corrupt, encrypted, not what it claims) — trying
// again cannot help. `missing-tool`: this machine lacks ffmpeg or the speech engine — fix the
// install. `unavailable`: something passing (a provider down, the engine restarting) — try again.

export type MediaErrorReason = 'unreadable' | 'missing-tool' | 'unavailable';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly reason: MediaErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const unreadable = (message: string, cause?: unknown) =>
  new MediaError('unreadable', message, cause === undefined ? undefined : { cause });
export const missingTool = (message: string, cause?: unknown) =>
  new MediaError('missing-tool', message, cause === undefined ? undefined : { cause });
export const unavailable = (message: string, cause?: unknown) =>
  new MediaError('unavailable', message, cause === undefined ? undefined : { cause });
