import { describe, expect, it } from 'vitest';
import {
  buildSchedule,
  cronExpressionProblem,
  declaredTasks,
  temporalCron,
  validateCronConfig,
  validateCronTask,
} from '../../client/cron/index.js';
import { mergeTask } from '../../client/cron/manage.js';
import type { CronTask } from '../../config/cron-task.js';
import { isEffectivelyEmpty, isHeartbeatAck } from '../../workflows/schedule/schedule-api.js';

const base: CronTask = {
  id: 'briefing',
  schedule: { kind: 'cron', expr: '0 9 * * *', tz: 'Europe/Berlin' },
  payload: { kind: 'agentTurn', message: 'morning briefing' },
};
const errorsOf = (value: unknown) => {
  const result = validateCronTask(value);
  return result.ok ? [] : result.errors;
};

describe('the task model and its validation', () => {
  it('accepts OpenClaw-shaped jobs of every schedule and payload kind', () => {
    const tasks: CronTask[] = [
      base,
      {
        id: 'at',
        schedule: { kind: 'at', at: '2027-01-01T09:00:00+01:00' },
        payload: { kind: 'agentTurn', message: 'hi' },
      },
      {
        id: 'every',
        schedule: { kind: 'every', everyMs: 1_800_000, anchorMs: 60_000 },
        payload: { kind: 'pipeline', name: 'digest', inputs: { chat: 'me' } },
        delivery: { mode: 'webhook', url: 'https://example.com/hook' },
        overlap: 'bufferOne',
        catchupWindow: '2h',
        pauseOnFailure: true,
      },
      {
        id: 'event',
        schedule: { kind: 'cron', expr: '*/15 * * * *' },
        payload: { kind: 'systemEvent', text: 'check mail' },
        sessionTarget: 'main',
      },
    ];
    for (const task of tasks) expect(errorsOf(task)).toEqual([]);
  });

  it('names the cron field that is wrong, and why', () => {
    expect(errorsOf({ ...base, schedule: { kind: 'cron', expr: '0 25 * * *' } })).toEqual([
      {
        path: 'schedule.expr',
        message: "hour field '25' (field 2) is not valid: Invalid value for hour: 25",
      },
    ]);
    expect(cronExpressionProblem('0 9 * 13 *')).toMatch(/^month field '13' \(field 4\)/);
    expect(cronExpressionProblem('0 9 * * MON-XYZ')).toMatch(/^day of week field 'MON-XYZ' \(field 5\)/);
    expect(cronExpressionProblem('61 0 9 * * *')).toMatch(/^second field '61' \(field 1\)/);
    expect(cronExpressionProblem('0 9 * *')).toMatch(/has 4 fields; expected 5/);
    expect(cronExpressionProblem('@daily')).toBeUndefined();
  });

  it('explains bad fields, time zones, timestamps and combinations that cannot work', () => {
    expect(
      errorsOf({
        ...base,
        schedule: { kind: 'cron', expr: '0 9 * * *', tz: 'Europe/Atlantis' },
        delivery: { mode: 'announce', channel: 'telegram' },
        catchupWindow: '5s',
      }),
    ).toEqual([
      {
        path: 'schedule.tz',
        message: expect.stringMatching(/'Europe\/Atlantis' is not a known IANA time zone/),
      },
      { path: 'catchupWindow', message: expect.stringMatching(/at least 10s/) },
      { path: 'delivery.to', message: 'is required for announce (the chat id)' },
    ]);
    expect(errorsOf({ ...base, schedule: { kind: 'at', at: 'tomorrow 9am' } })[0]).toMatchObject({
      path: 'schedule.at',
      message: expect.stringMatching(/not an ISO 8601 timestamp with a time zone/),
    });
    expect(errorsOf({ ...base, schedule: { kind: 'every', everyMs: 1500 } })[0]?.message).toMatch(
      /whole seconds/,
    );
    expect(errorsOf({ ...base, schedule: { kind: 'every', every: 5 } })).toEqual([
      { path: 'schedule.everyMs', message: 'is required' },
      {
        path: 'schedule.every',
        message: 'is not a known field; known fields: kind, everyMs, anchorMs',
        atKey: true,
      },
    ]);
    expect(errorsOf({ ...base, payload: { kind: 'systemEvent', text: 'x' } })[0]).toMatchObject({
      path: 'sessionTarget',
    });
    expect(
      errorsOf({ ...base, sessionTarget: 'main', delivery: { mode: 'announce', channel: 't', to: '1' } })[0],
    ).toMatchObject({
      path: 'delivery.mode',
    });
  });

  it('checks the whole cron: section, with duplicate ids named', () => {
    const result = validateCronConfig({
      tasks: [base, { ...base }],
      heartbeat: { enabled: true, every: '30m' },
    });
    expect(result.ok ? [] : result.errors).toEqual([
      { path: 'tasks[1].id', message: "'briefing' is already used by tasks[0]" },
    ]);
    expect(validateCronConfig(undefined).ok).toBe(true);
  });

  it('builds Temporal Schedule specs from each schedule kind', () => {
    const target = { taskQueue: 'q' };
    expect(buildSchedule(base, 'config', target).options.spec).toEqual({
      cronExpressions: ['0 9 * * *'],
      timezone: 'Europe/Berlin',
    });
    expect(
      buildSchedule(
        { ...base, schedule: { kind: 'every', everyMs: 60_000, anchorMs: 90_000 } },
        'config',
        target,
      ).options.spec,
    ).toEqual({ intervals: [{ every: 60_000, offset: 30_000 }] });
    const at = buildSchedule(
      { ...base, schedule: { kind: 'at', at: '2027-03-28T03:30:15+02:00' } },
      'config',
      target,
    );
    expect(at.options.spec.calendars?.[0]).toMatchObject({
      year: 2027,
      month: 'MARCH',
      dayOfMonth: 28,
      hour: 1,
      minute: 30,
      second: 15,
    });
    expect(at.options.state).toMatchObject({ remainingActions: 1 });
    const built = buildSchedule(
      { ...base, overlap: 'allowAll', catchupWindow: '90m', pauseOnFailure: true },
      'config',
      target,
    );
    expect(built.scheduleId).toBe('cron:briefing');
    expect(built.options.policies).toEqual({
      overlap: 'ALLOW_ALL',
      catchupWindow: 5_400_000,
      pauseOnFailure: true,
    });
    expect(built.options.action).toMatchObject({
      workflowType: 'scheduledTaskWorkflow',
      workflowId: 'cron:briefing',
      taskQueue: 'q',
    });
    // Defaults: skip overlapping runs, catch up within an hour.
    expect(buildSchedule(base, 'config', target).options.policies).toEqual({
      overlap: 'SKIP',
      catchupWindow: 3_600_000,
      pauseOnFailure: false,
    });
    // Same definition, same hash; any change, another.
    expect(buildSchedule(base, 'config', target).input.definitionHash).toBe(
      buildSchedule({ ...base }, 'config', target).input.definitionHash,
    );
    expect(buildSchedule(base, 'config', target).input.definitionHash).not.toBe(built.input.definitionHash);
  });

  it('gives 6-field (seconds-first) expressions Temporal an explicit year field', () => {
    expect(temporalCron('30 0 9 * * *')).toBe('30 0 9 * * * *');
    expect(temporalCron('0 9 * * *')).toBe('0 9 * * *');
    expect(temporalCron('@hourly')).toBe('@hourly');
  });

  it('merges edits into the task, replacing a schedule whose kind changes', () => {
    expect(mergeTask(base, { schedule: { kind: 'cron', expr: '0 8 * * *' } }).schedule).toEqual({
      kind: 'cron',
      expr: '0 8 * * *',
      tz: 'Europe/Berlin',
    });
    expect(mergeTask(base, { schedule: { kind: 'every', everyMs: 60_000 } }).schedule).toEqual({
      kind: 'every',
      everyMs: 60_000,
    });
  });

  it('declares the heartbeat only when enabled, every 30 minutes by default', () => {
    expect(declaredTasks({ tasks: [base] }, '/ws')).toEqual([{ task: base, source: 'config' }]);
    const [, hb] = declaredTasks({ tasks: [base], heartbeat: { enabled: true } }, '/ws');
    expect(hb?.task.schedule).toEqual({ kind: 'every', everyMs: 1_800_000 });
    expect(hb?.heartbeat).toMatchObject({ file: '/ws/HEARTBEAT.md', ackMaxChars: 300 });
  });

  it('treats HEARTBEAT_OK with little else as nothing to deliver', () => {
    expect(isHeartbeatAck('HEARTBEAT_OK', 300)).toBe(true);
    expect(isHeartbeatAck('**HEARTBEAT_OK**', 300)).toBe(true);
    expect(isHeartbeatAck('All quiet. HEARTBEAT_OK', 300)).toBe(true);
    expect(isHeartbeatAck(`HEARTBEAT_OK ${'x'.repeat(301)}`, 300)).toBe(false);
    expect(isHeartbeatAck('Your flight leaves at 9.', 300)).toBe(false);
    expect(isEffectivelyEmpty('# Heartbeat\n\n- [ ]\n')).toBe(true);
    expect(isEffectivelyEmpty('# Heartbeat\n- call the bank\n')).toBe(false);
  });
});
