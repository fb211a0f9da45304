// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PipelineState } from '../../workflows/pipeline/pipeline-api.js';
import { compile, type Harness, startHarness, testActivities } from './harness.js';

const approval = `
name: approve
outputs:
  decision: { value: "\${{ steps.approval.output }}" }
  note: { value: "\${{ has(vars.note) ? vars.note : 'none' }}" }
steps:
  - id: approval
    wait_for:
      signal: approval
      timeout: 400ms
      on_timeout:
        - set: { note: nobody answered }
`;

async function waitUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('timers, signals and child pipelines on a real Temporal server', () => {
  const recorder = testActivities();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject('temporalAddress'), 'signals', { extraActivities: recorder.activities });
  });
  afterAll(async () => h?.close());

  it('wait sleeps on a durable timer until a time, for a duration, or for a computed duration', async () => {
    const p = compile(`
name: timers
inputs: { pause: { type: string }, at: { type: string } }
steps:
  - wait: { until: "\${{ inputs.at }}" }
  - wait: 100ms
  - wait: { for: "\${{ inputs.pause }}" }
  - wait: { until: "2001-01-01T00:00:00Z" }
`);
    const started = Date.now();
    const handle = await h.start(p, { pause: '150ms', at: new Date(Date.now() + 1500).toISOString() });
    await handle.result();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    const timers = ((await handle.fetchHistory()).events ?? []).map((e) => e.timerStartedEventAttributes);
    const durations = timers
      .filter((t) => t)
      .map(
        (t) =>
          Number(t?.startToFireTimeout?.seconds ?? 0) * 1000 +
          Number(t?.startToFireTimeout?.nanos ?? 0) / 1e6,
      );
    // until: the remaining time (≤ 1.5 s); then 100 ms and 150 ms; a time in the past sets no timer.
    expect(durations).toHaveLength(3);
    expect(durations[0]).toBeGreaterThan(500);
    expect(durations[0]).toBeLessThanOrEqual(1500);
    expect(durations.slice(1)).toEqual([100, 150]);
  });

  it('wait_for receives the named pipeline.signal and its payload', async () => {
    const p = compile(approval.replace('400ms', '30s'));
    const handle = await h.start(p);
    const waiting = await waitUntil(
      () => handle.query<PipelineState>('pipeline.state'),
      (s) => s.waitingFor.includes('approval'),
    );
    expect(waiting.steps.approval?.status).toBe('running');
    await handle.signal('pipeline.signal', { name: 'unrelated', payload: 1 });
    await handle.signal('pipeline.signal', { name: 'approval', payload: { approved: true, by: 'owner' } });
    expect(await handle.result()).toEqual({
      decision: { timedOut: false, payload: { approved: true, by: 'owner' } },
      note: 'none',
    });
    const state = await handle.query<PipelineState>('pipeline.state');
    expect(state).toMatchObject({ status: 'completed', bufferedSignals: ['unrelated'], waitingFor: [] });
  });

  it('wait_for takes a signal that arrived before the step started', async () => {
    const p = compile(`
name: early_signal
outputs: { got: { value: "\${{ steps.w.output.payload }}" } }
steps:
  - wait: 300ms
  - id: w
    wait_for: { signal: go, timeout: 5s }
`);
    const handle = await h.start(p);
    await handle.signal('pipeline.signal', { name: 'go', payload: 'early' });
    expect(await handle.result()).toEqual({ got: 'early' });
  });

  it('wait_for times out into its on_timeout branch', async () => {
    const handle = await h.start(compile(approval));
    expect(await handle.result()).toEqual({
      decision: { timedOut: true, payload: null },
      note: 'nobody answered',
    });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.timerFiredEventAttributes)).toBe(true);
  });

  it('wait_for without on_timeout fails the step with Timeout', async () => {
    const p = compile(`
name: impatient
steps:
  - wait_for: { signal: never, timeout: 100ms }
`);
    const failure = await h.run(p).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'Timeout' });
  });

  it('call runs the other pipeline as a child workflow with its own IR and returns its outputs', async () => {
    const child = `
name: double
inputs: { n: { type: integer }, label: { type: string, default: twice } }
outputs: { result: { value: "\${{ inputs.label + '=' + string(steps.d.output) }}" } }
steps:
  - id: d
    uses: echo
    with: { value: "\${{ inputs.n * 2 }}" }
`;
    const p = compile(
      `
name: parent
outputs: { answer: { value: "\${{ steps.c.output.result }}" } }
steps:
  - id: c
    call: double
    with: { n: 21 }
`,
      undefined,
      { double: child },
    );
    const handle = await h.start(p);
    expect(await handle.result()).toEqual({ answer: 'twice=42' });
    const events = (await handle.fetchHistory()).events ?? [];
    const initiated = events.find(
      (e) => e.startChildWorkflowExecutionInitiatedEventAttributes,
    )?.startChildWorkflowExecutionInitiatedEventAttributes;
    expect(initiated?.workflowType?.name).toBe('pipelineWorkflow');
    const childId = initiated?.workflowId ?? '';
    expect(childId).toBe(`double-${handle.firstExecutionRunId}-c`);
    const description = await h.client.workflow.getHandle(childId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.parentExecution?.workflowId).toBe(handle.workflowId);
    expect(description.memo).toMatchObject({
      pipeline: 'double',
      hash: p.ir.steps[0]?.kind === 'call' ? p.ir.steps[0].hash : '',
    });
  });

  it('a failing child fails the call step with the child error name', async () => {
    const child = `
name: nope
steps:
  - raise: { error: ChildSaidNo, message: no }
`;
    const p = compile(
      `
name: parent2
outputs: { handled: { value: "\${{ steps.t.output }}" } }
steps:
  - id: t
    try:
      - call: nope
    catch:
      - uses: echo
        with: { value: "\${{ error.name }}" }
`,
      undefined,
      { nope: child },
    );
    expect(await h.run(p)).toEqual({ handled: 'ChildSaidNo' });
  });
});
