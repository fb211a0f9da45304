/**
 * The public face of a pipeline run: its input, result, signal and query. Clients (CLI,
 * gateway, tests) import this file; it holds no interpreter code.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineIR } from '../../engine/ir.js';

export interface PipelineRunInput {
  /** The compiled pipeline: the run never reads a file, so edits only affect new runs. */
  ir: PipelineIR;
  /** Content hash of `ir` (engine/hash.ts), recorded for humans and replays. */
  hash: string;
  inputs: Record<string, unknown>;
  /** The inbound message envelope (`message` in expressions). */
  message?: unknown;
  /** Values of the environment variables listed in `ir.env`, read by the starter (never here). */
  env?: Record<string, string>;
  /** The session key of the conversation, when the run is one of its turns. */
  session?: string;
  /**
   * `answer`: the caller takes the replies meant for the message's own chat (the session hands
   * them back as the answer of its `session.turn` update, for answer-only channels) instead of
   * `reply.send` posting them through the channel. Replies to other chats are still sent.
   */
  replyVia?: 'answer';
  /**
   * The turn already ran inside its session and failed with this: the run fails the same way at
   * once, so the failed turn is visible in the Temporal UI with its input. A reset of it (Reset
   * in the UI, `switchyard sessions retry`) runs the pipeline for real and reports back.
   */
  failedInline?: { type: string; message: string };
}

/** A reply the pipeline gave to the message's own chat, handed back instead of sent (`replyVia: 'answer'`). */
export interface CollectedReply {
  text: string;
  kind?: 'error';
}

/** A run returns its outputs object (declared outputs, overridden by `return:`). */
export type PipelineOutputs = Record<string, unknown>;

/** What a `wait_for:` step waits for: `name` matches `wait_for.signal`. */
export interface PipelineSignal {
  name: string;
  payload?: unknown;
}

/** `temporal workflow signal --name pipeline.signal --input '{"name":"approval","payload":…}'` */
export const pipelineSignal = defineSignal<[PipelineSignal]>('pipeline.signal');

export type StepRunStatus = 'running' | 'succeeded' | 'skipped' | 'failed';

export interface PipelineState {
  pipeline: string;
  hash: string;
  status: 'running' | 'completed' | 'failed';
  /** Latest status of each step id (a step inside foreach runs once per element). */
  steps: Record<string, { status: StepRunStatus; runs: number; error?: string }>;
  /** Signal names `wait_for:` steps are waiting for right now. */
  waitingFor: string[];
  /** Signals received and not yet consumed by a `wait_for:` step. */
  bufferedSignals: string[];
}

export const pipelineStateQuery = defineQuery<PipelineState>('pipeline.state');

/** Memo key of a turn's sends whose outcome was unknown (client/sessions.ts reads it). */
export const UNCERTAIN_SENDS_MEMO = 'uncertainSends';

/** One `reply.send` with chunks of unknown outcome, as the turn's memo records it. */
export interface UncertainSendRecord {
  step: string;
  channel: string;
  chat: string;
  chunks: number;
  /** Chunk indexes left unsent (policy `skip`): the person may not have them. */
  uncertain: number[];
  /** Chunk indexes sent again (policy `resend` or `notice`): the person may have them twice. */
  resent: number[];
  policy: 'skip' | 'resend' | 'notice';
}
