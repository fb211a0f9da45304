// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax

import { WorkflowFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile, type Harness, startHarness, testActivities } from './harness.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ms = (t: HistoryEvent['eventTime']) =>
  Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

describe('per-step retry and timeout, as Temporal records them', () => {
  const recorder = testActivities();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject('temporalAddress'), 'retry', { extraActivities: recorder.activities });
  });
  afterAll(async () => h?.close());

  it('retries a failing activity with exponential backoff until it succeeds', async () => {
    const p = compile(`
name: flaky
outputs: { attempt: { value: "\${{ steps.f.output.attempt }}" } }
steps:
  - id: f
    uses: test.flaky
    with: { succeed_on: 3 }
    retry: { max_attempts: 5, initial_interval: 200ms, backoff_coefficient: 2, max_interval: 1s }
`);
    const handle = await h.start(p);
    expect(await handle.result()).toEqual({ attempt: 3 });
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes);
    const started = events.find((e) => e.activityTaskStartedEventAttributes);
    // The per-step options reach Temporal as the activity's retry policy…
    expect(scheduled?.activityTaskScheduledEventAttributes?.retryPolicy).toMatchObject({
      maximumAttempts: 5,
      backoffCoefficient: 2,
      initialInterval: { nanos: 200_000_000 },
      maximumInterval: { seconds: expect.anything() },
    });
    // …the history records the attempt that succeeded, the failure before it, and the backoff
    // (200 ms + 400 ms) between scheduling and that last start.
    const attrs = started?.activityTaskStartedEventAttributes;
    expect(attrs?.attempt).toBe(3);
    expect(attrs?.lastFailure?.message).toBe('attempt 2 fails');
    expect(ms(started?.eventTime) - ms(scheduled?.eventTime)).toBeGreaterThanOrEqual(550);
    const tries = recorder.log.filter((e) => e.step === 'f');
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    const [t1, t2, t3] = tries.map((t) => t.start) as [number, number, number];
    expect(t2 - t1).toBeGreaterThanOrEqual(180);
    expect(t3 - t2).toBeGreaterThanOrEqual(380);
  });

  it('gives up after max_attempts and fails the run with the error name', async () => {
    const p = compile(`
name: hopeless
steps:
  - id: h
    uses: test.flaky
    with: { succeed_on: 99, error: StillBroken }
    retry: { max_attempts: 3, initial_interval: 10ms }
`);
    const handle = await h.start(p);
    const failure = await handle.result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'StillBroken' });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(
      events.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes?.attempt,
    ).toBe(3);
    expect(events.some((e) => e.activityTaskFailedEventAttributes)).toBe(true);
  });

  it('does not retry an error listed in non_retryable', async () => {
    const p = compile(`
name: fatal
steps:
  - id: n
    uses: test.flaky
    with: { succeed_on: 99, error: Fatal }
    retry: { max_attempts: 5, initial_interval: 10ms, non_retryable: [Fatal] }
`);
    const failure = await h.run(p).catch((e: unknown) => e);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'Fatal' });
    expect(recorder.log.filter((e) => e.step === 'n').map((e) => e.attempt)).toEqual([1]);
  });

  it('a uses: timeout becomes the activity start-to-close timeout and fails the step with Timeout', async () => {
    const p = compile(`
name: slow
outputs: { caught: { value: "\${{ steps.g.output }}" } }
steps:
  - id: g
    try:
      - id: s
        uses: test.sleep
        timeout: 300ms
        retry: { max_attempts: 2, initial_interval: 10ms }
        with: { ms: 5000 }
    catch:
      errors: [Timeout]
      steps: [ { uses: echo, with: { value: "\${{ error.name + ' in ' + error.step }}" } } ]
`);
    const handle = await h.start(p);
    expect(await handle.result()).toEqual({ caught: 'Timeout in s' });
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled?.activityTaskScheduledEventAttributes?.startToCloseTimeout).toMatchObject({
      nanos: 300_000_000,
    });
    expect(events.some((e) => e.activityTaskTimedOutEventAttributes)).toBe(true);
    expect(recorder.log.filter((e) => e.step === 's')).toHaveLength(2); // timed out twice: both attempts
  });

  it('a timeout on a non-activity step cancels it and fails it with Timeout', async () => {
    const p = compile(`
name: slow_wait
steps:
  - id: w
    timeout: 150ms
    wait: 1h
`);
    const started = Date.now();
    const failure = await h.run(p).catch((e: unknown) => e);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'Timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
