/**
 * The proactive task model, compatible with OpenClaw's cron jobs (schedule kinds at / every /
 * cron, payload kinds agentTurn / systemEvent, session target, delivery) plus Switchyard's
 * `pipeline` payload and the Temporal Schedule policies (overlap, catch-up window, pause on
 * failure). Validated at the door by config/cron-validate.ts (schemas/cron.schema.json).
 */

/** When a task fires. */
export type CronSchedule =
  /** Once, at an ISO 8601 timestamp with an offset or `Z` (`2026-12-24T09:00:00+01:00`). */
  | { kind: 'at'; at: string }
  /** Every `everyMs`, aligned so that one occurrence falls on `anchorMs` (epoch ms; default: the epoch). */
  | { kind: 'every'; everyMs: number; anchorMs?: number }
  /**
   * A 5-field (`m h dom mon dow`) or 6-field (`s m h dom mon dow`) cron expression, in `tz`
   * (IANA name; default UTC). `staggerMs` spreads each occurrence randomly over that window.
   */
  | { kind: 'cron'; expr: string; tz?: string; staggerMs?: number };

/** What a task does when it fires. */
export type CronPayload =
  /** A message to an agent; its reply is what delivery announces. */
  | {
      kind: 'agentTurn';
      message: string;
      model?: string;
      thinking?: string;
      timeoutSeconds?: number;
    }
  /** Run a named pipeline (the version current when the run starts) with these inputs. */
  | { kind: 'pipeline'; name: string; inputs?: Record<string, unknown> }
  /** Text injected into a session (the main one by default), as a message from the system. */
  | { kind: 'systemEvent'; text: string };

/** `main` (the agent's main session), `isolated` (a run of its own), or a session key. */
export type CronSessionTarget = 'main' | 'isolated' | (string & {});

/** Where a result (or a failure notice) goes. */
export interface CronDestination {
  /** `announce` posts to a chat through the channel's connector; `webhook` POSTs JSON to `url`. */
  mode?: 'announce' | 'webhook';
  /** Connector id (telegram, slack, ...), for announce. */
  channel?: string;
  /** Chat id on that channel, for announce. */
  to?: string;
  accountId?: string;
  threadId?: string;
  /** For webhook. */
  url?: string;
}

export interface CronDelivery extends Omit<CronDestination, 'mode'> {
  mode: 'none' | 'announce' | 'webhook';
  /** Where failures are reported; default: the announce/webhook target itself. */
  failureDestination?: CronDestination;
}

/** Temporal's overlap policies, for a run that is due while the previous one still runs. */
export type CronOverlap = 'skip' | 'bufferOne' | 'bufferAll' | 'cancelOther' | 'terminateOther' | 'allowAll';

export interface CronTask {
  /** Letters, digits, `.`, `_`, `-`; the Schedule id is `cron:<id>`. */
  id: string;
  name?: string;
  description?: string;
  /** false: the Schedule exists but is paused. Default true. */
  enabled?: boolean;
  /** The agent whose turn (or main session) this is. Default `main`. */
  agentId?: string;
  schedule: CronSchedule;
  payload: CronPayload;
  sessionTarget?: CronSessionTarget;
  delivery?: CronDelivery;
  /** Default `skip`: a run that is due while the previous one still runs does not start. */
  overlap?: CronOverlap;
  /** How late a missed run may still start (after downtime): a duration like `1h`, or ms. Default `1h`. */
  catchupWindow?: string | number;
  /** Pause the Schedule when a run fails (resume with `switchyard cron resume`). Default false. */
  pauseOnFailure?: boolean;
}

/** The `cron:` section of switchyard.yaml. */
export interface CronConfig {
  tasks?: CronTask[];
  heartbeat?: HeartbeatConfig;
}

/** OpenClaw's heartbeat: a periodic agent turn reading HEARTBEAT.md; `HEARTBEAT_OK` is not delivered. */
export interface HeartbeatConfig {
  /** Off by default. */
  enabled?: boolean;
  /** Interval, e.g. `30m` (default) or ms. */
  every?: string | number;
  agentId?: string;
  /** The checklist file; default `<agent workspace>/HEARTBEAT.md`. */
  file?: string;
  /** Prompt placed before the file's content. */
  prompt?: string;
  /** A reply that is `HEARTBEAT_OK` plus at most this many other characters is not delivered. Default 300. */
  ackMaxChars?: number;
  delivery?: CronDelivery;
}

export const CRON_DEFAULTS = {
  agentId: 'main',
  sessionTarget: 'isolated',
  overlap: 'skip',
  catchupWindow: '1h',
  pauseOnFailure: false,
  heartbeatEvery: '30m',
  heartbeatAckMaxChars: 300,
} as const;

/** Schedules Switchyard owns have this id prefix (and the memo marker below). */
export const SCHEDULE_ID_PREFIX = 'cron:';
export const scheduleIdOf = (taskId: string) => `${SCHEDULE_ID_PREFIX}${taskId}`;
export const taskIdOf = (scheduleId: string) =>
  scheduleId.startsWith(SCHEDULE_ID_PREFIX) ? scheduleId.slice(SCHEDULE_ID_PREFIX.length) : undefined;

/** Where a task came from: reconcile only ever deletes `config` tasks. */
export type CronTaskSource = 'config' | 'runtime' | 'heartbeat';
