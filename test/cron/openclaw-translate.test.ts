/**
 * OpenClaw cron jobs ↔ Switchyard tasks, without Temporal: what an OpenClaw app sends becomes the
 * task Switchyard schedules, a task reads back as the job the app shows, and what Switchyard
 * cannot do is refused with INVALID_REQUEST naming the field.
 */
import { describe, expect, it } from 'vitest';
import type { CronRun } from '../../client/cron/runs.js';
import type { CronTask } from '../../config/cron-task.js';
import { CronTaskError } from '../../config/cron-validate.js';
import {
  deliveryPreview,
  invalidTask,
  jobFromTask,
  jobIdFor,
  patchTask,
  runLogEntry,
  taskFromOpenclaw,
} from '../../gateway/openclaw/cron-translate.js';
import { GatewayMethodError } from '../../gateway/openclaw/protocol/services.js';

const schedule = { createdAtMs: 1000, updatedAtMs: 2000, paused: false, state: {} };

function refusal(work: () => unknown): GatewayMethodError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayMethodError);
    return error as GatewayMethodError;
  }
  throw new Error('expected INVALID_REQUEST, but it was accepted');
}

describe('an OpenClaw job becomes a Switchyard task', () => {
  it('keeps the name, schedule, payload, session and announce delivery', () => {
    const task = taskFromOpenclaw(
      {
        name: 'Morning brief',
        schedule: { kind: 'cron', expr: '0 7 * * *', tz: 'Europe/Berlin' },
        payload: { kind: 'agentTurn', message: 'Summarise my day', thinking: 'low' },
        sessionTarget: 'session:agent:main:telegram:direct:42',
        delivery: { mode: 'announce', channel: 'telegram', to: '42', threadId: 7 },
        enabled: true,
        wakeMode: 'now',
      },
      'morning-brief-1',
    );
    expect(task).toEqual({
      id: 'morning-brief-1',
      name: 'Morning brief',
      schedule: { kind: 'cron', expr: '0 7 * * *', tz: 'Europe/Berlin' },
      payload: { kind: 'agentTurn', message: 'Summarise my day', thinking: 'low' },
      sessionTarget: 'agent:main:telegram:direct:42',
      delivery: { mode: 'announce', channel: 'telegram', to: '42', threadId: '7' },
    });
  });

  it('reads an `at` time without an offset as UTC, as OpenClaw does', () => {
    const task = taskFromOpenclaw(
      {
        name: 'once',
        schedule: { kind: 'at', at: '2030-01-02T09:30' },
        payload: { kind: 'systemEvent', text: 'stand up' },
        sessionTarget: 'main',
      },
      'once-1',
    );
    expect(task.schedule).toEqual({ kind: 'at', at: '2030-01-02T09:30Z' });
    expect(task.payload).toEqual({ kind: 'systemEvent', text: 'stand up' });
  });

  it('turns a webhook delivery `to` into the task’s url', () => {
    const task = taskFromOpenclaw(
      {
        name: 'hook',
        schedule: { kind: 'every', everyMs: 60_000 },
        payload: { kind: 'agentTurn', message: 'ping' },
        sessionTarget: 'isolated',
        delivery: { mode: 'webhook', to: 'https://example.test/hook' },
      },
      'hook-1',
    );
    expect(task.delivery).toEqual({ mode: 'webhook', url: 'https://example.test/hook' });
  });

  it.each([
    [{ schedule: { kind: 'on-exit' } }, 'schedule.kind'],
    [{ payload: { kind: 'shell', command: 'ls' } }, 'payload.kind'],
    [{ payload: { kind: 'agentTurn', message: 'x', toolsAllow: ['web_fetch'] } }, 'payload.toolsAllow'],
    [{ wakeMode: 'next-heartbeat' }, 'wakeMode'],
    [{ sessionTarget: 'current' }, 'sessionTarget'],
    [{ delivery: { mode: 'announce', channel: 'last' } }, 'delivery.channel'],
    [
      { delivery: { mode: 'announce', channel: 'telegram', to: '1', bestEffort: true } },
      'delivery.bestEffort',
    ],
    [{ failureAlert: { after: 3 } }, 'failureAlert'],
  ])('refuses what Switchyard cannot do, naming the field (%j)', (change, field) => {
    const job = {
      name: 'x',
      schedule: { kind: 'every', everyMs: 1000 },
      payload: { kind: 'agentTurn', message: 'hi' },
      sessionTarget: 'isolated',
      ...change,
    };
    const error = refusal(() => taskFromOpenclaw(job, 'x-1'));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.details).toEqual({ field });
    expect(error.message).toContain(`${field} is not supported by Switchyard`);
  });

  it('makes a readable id from the job name', () => {
    expect(jobIdFor('Morning Brief: weekdays!', 'ab12cd34')).toBe('morning-brief-weekdays-ab12cd34');
    expect(jobIdFor('???', 'ab12cd34')).toBe('job-ab12cd34');
  });
});

describe('a cron.update patch', () => {
  const task: CronTask = {
    id: 't',
    name: 'old',
    description: 'keep me?',
    schedule: { kind: 'every', everyMs: 60_000 },
    payload: { kind: 'agentTurn', message: 'hello', model: 'openai/gpt-4.1' },
    delivery: { mode: 'announce', channel: 'telegram', to: '42' },
    overlap: 'bufferOne',
  };

  it('merges into the task, null clears a field, Switchyard-only fields stay', () => {
    const next = patchTask(task, {
      name: 'new',
      description: null,
      payload: { kind: 'agentTurn', message: 'bye' },
      delivery: { to: '43' },
    });
    expect(next).toEqual({
      id: 't',
      name: 'new',
      schedule: { kind: 'every', everyMs: 60_000 },
      payload: { kind: 'agentTurn', message: 'bye', model: 'openai/gpt-4.1' },
      delivery: { mode: 'announce', channel: 'telegram', to: '43' },
      overlap: 'bufferOne',
    });
  });

  it('drops the delivery when it is patched to null', () => {
    expect(patchTask(task, { delivery: null }).delivery).toBeUndefined();
  });
});

describe('a Switchyard task read back as an OpenClaw job', () => {
  it('shows what the app expects, with the Schedule’s pause as `enabled`', () => {
    const task: CronTask = {
      id: 'brief',
      schedule: { kind: 'cron', expr: '0 7 * * *' },
      payload: { kind: 'systemEvent', text: 'morning' },
      sessionTarget: 'agent:main:telegram:direct:42',
      delivery: {
        mode: 'webhook',
        url: 'https://example.test/hook',
        failureDestination: { channel: 'telegram', to: '42' },
      },
    };
    expect(jobFromTask('brief', task, { ...schedule, paused: true })).toEqual({
      id: 'brief',
      name: 'brief',
      enabled: false,
      agentId: 'main',
      createdAtMs: 1000,
      updatedAtMs: 2000,
      schedule: { kind: 'cron', expr: '0 7 * * *' },
      sessionTarget: 'session:agent:main:telegram:direct:42',
      wakeMode: 'now',
      payload: { kind: 'systemEvent', text: 'morning' },
      delivery: {
        mode: 'webhook',
        to: 'https://example.test/hook',
        failureDestination: { mode: 'announce', channel: 'telegram', to: '42' },
      },
      state: {},
    });
  });

  it('shows a pipeline task as an agentTurn naming the pipeline', () => {
    const task: CronTask = {
      id: 'p',
      schedule: { kind: 'every', everyMs: 1000 },
      payload: { kind: 'pipeline', name: 'digest', inputs: { days: 1 } },
    };
    const job = jobFromTask('p', task, schedule);
    expect(job.payload).toEqual({
      kind: 'agentTurn',
      message: `[Switchyard pipeline 'digest' with inputs {"days":1}]`,
    });
    expect(job.sessionTarget).toBe('isolated');
    expect(job.delivery).toEqual({ mode: 'none' });
  });

  it('round-trips a job through task and back', () => {
    const job = {
      name: 'Morning brief',
      schedule: { kind: 'every' as const, everyMs: 3_600_000, anchorMs: 0 },
      payload: { kind: 'agentTurn' as const, message: 'Summarise', timeoutSeconds: 120 },
      sessionTarget: 'main' as const,
      delivery: { mode: 'announce' as const, channel: 'telegram', to: '42', accountId: 'work' },
    };
    const back = jobFromTask('mb', taskFromOpenclaw(job, 'mb'), schedule);
    expect(back).toMatchObject({ ...job, enabled: true, wakeMode: 'now' });
  });

  it('writes a finished run as a run-log entry', () => {
    const task: CronTask = {
      id: 't',
      schedule: { kind: 'every', everyMs: 1000 },
      payload: { kind: 'agentTurn', message: 'x' },
      delivery: { mode: 'announce', channel: 'telegram', to: '42' },
    };
    const run: CronRun = {
      workflowId: 'cron:t-run',
      runId: 'r1',
      scheduledAt: new Date(5000),
      startedAt: new Date(5100),
      closedAt: new Date(6100),
      durationMs: 1000.4,
      status: 'error',
      delivered: false,
      deliveryNote: 'telegram said 403',
      error: 'the model failed',
    };
    expect(runLogEntry(run, 't', task, 'Brief')).toEqual({
      ts: 6100,
      jobId: 't',
      action: 'finished',
      status: 'error',
      error: 'the model failed',
      delivered: false,
      deliveryStatus: 'not-delivered',
      deliveryError: 'telegram said 403',
      runId: 'cron:t-run',
      runAtMs: 5000,
      durationMs: 1000,
      jobName: 'Brief',
    });
  });

  it('previews where results go', () => {
    expect(deliveryPreview(undefined)).toEqual({ label: 'none', detail: 'the result is not delivered' });
    expect(deliveryPreview({ mode: 'announce', channel: 'telegram', to: '42', threadId: '9' })).toEqual({
      label: 'announce → telegram',
      detail: 'chat 42 (thread 9)',
    });
  });
});

it('names OpenClaw’s field when Switchyard’s validation refuses a webhook url', () => {
  const error = invalidTask(new CronTaskError([{ path: 'delivery.url', message: 'must be an http(s) URL' }]));
  expect(error.code).toBe('INVALID_REQUEST');
  expect(error.message).toBe('invalid cron job: delivery.to: must be an http(s) URL');
});
