// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile, type Harness, startHarness, testActivities } from './harness.js';

describe('pipeline control flow on a real Temporal server', () => {
  const recorder = testActivities();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject('temporalAddress'), 'control', { extraActivities: recorder.activities });
  });
  afterAll(async () => h?.close());

  it('skips a step whose if is false and runs the one whose if is true', async () => {
    const p = compile(`
name: cond
inputs: { n: { type: integer } }
outputs:
  big: { value: "\${{ steps.big.status }}" }
  small: { value: "\${{ steps.small.status }}" }
steps:
  - id: big
    if: inputs.n > 10
    uses: echo
    with: { value: big }
  - id: small
    if: inputs.n <= 10
    uses: echo
    with: { value: small }
`);
    expect(await h.run(p, { n: 3 })).toEqual({ big: 'skipped', small: 'succeeded' });
  });

  it('switch runs the first matching case, else default, and its vars are visible after it', async () => {
    const p = compile(`
name: sw
inputs: { text: { type: string } }
outputs:
  route: { value: "\${{ steps.route.output.case }}" }
  agent: { value: "\${{ vars.agent }}" }
steps:
  - id: route
    switch:
      cases:
        - name: command
          when: inputs.text.startsWith('/')
          steps: [ { set: { agent: commands } } ]
        - name: question
          when: inputs.text.endsWith('?')
          steps: [ { set: { agent: oracle } } ]
      default:
        - set: { agent: main }
`);
    expect(await h.run(p, { text: '/help' })).toEqual({ route: 'command', agent: 'commands' });
    expect(await h.run(p, { text: 'why?' })).toEqual({ route: 'question', agent: 'oracle' });
    expect(await h.run(p, { text: 'hi' })).toEqual({ route: 'default', agent: 'main' });
  });

  it('set assigns variables and return ends the run early with its outputs', async () => {
    const p = compile(`
name: early
outputs:
  greeting: { value: "\${{ vars.greeting }}" }
  never: { value: "\${{ steps.after.output }}" }
steps:
  - set: { greeting: "hello \${{ 'world' }}" }
  - return: { greeting: "\${{ vars.greeting + '!' }}" }
  - id: after
    uses: test.sleep
    with: { ms: 1, value: ran }
`);
    const handle = await h.start(p);
    expect(await handle.result()).toEqual({ greeting: 'hello world!', never: null });
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  });

  it('needs: makes a DAG — independent steps run side by side, the join waits for both', async () => {
    const p = compile(`
name: dag
outputs:
  both: { value: "\${{ [steps.a.output, steps.b.output] }}" }
steps:
  - id: a
    uses: test.sleep
    with: { ms: 400, value: A }
  - id: b
    needs: []
    uses: test.sleep
    with: { ms: 400, value: B }
  - id: join
    needs: [a, b]
    uses: noop
`);
    expect(await h.run(p)).toEqual({ both: ['A', 'B'] });
    const [a, b] = ['a', 'b'].map((s) => recorder.log.find((e) => e.step === s));
    // Each sleeps 400 ms; started together they overlap instead of running back to back.
    expect(Math.abs((a?.start ?? 0) - (b?.start ?? 1e9))).toBeLessThan(300);
  });

  it('parallel join all waits for every branch and returns per-branch outputs', async () => {
    const p = compile(`
name: par_all
outputs: { out: { value: "\${{ steps.p.output }}" } }
steps:
  - id: p
    parallel:
      branches:
        one: [ { uses: test.sleep, with: { ms: 50, value: 1 } } ]
        two: [ { set: { x: 2 } }, { uses: echo, with: { value: "\${{ vars.x }}" } } ]
`);
    expect(await h.run(p)).toEqual({ out: { one: 1, two: 2 } });
  });

  it('parallel branches get their own copies of vars: a branch never sees another branch set', async () => {
    const p = compile(`
name: par_vars
outputs: { out: { value: "\${{ steps.p.output }}" }, after: { value: "\${{ vars.x }}" } }
steps:
  - set: { x: outer }
  - id: p
    parallel:
      branches:
        left: [ { set: { x: left } }, { uses: test.sleep, with: { ms: 100, value: "\${{ vars.x }}" } } ]
        right: [ { uses: test.sleep, with: { ms: 50 } }, { set: { x: right } }, { uses: echo, with: { value: "\${{ vars.x }}" } } ]
`);
    expect(await h.run(p)).toEqual({ out: { left: 'left', right: 'right' }, after: 'outer' });
  });

  it('parallel join any takes the first branch to finish and cancels the rest', async () => {
    const p = compile(`
name: par_any
outputs: { out: { value: "\${{ steps.p.output }}" } }
steps:
  - id: p
    parallel:
      join: any
      branches:
        slow: [ { id: slow_any, uses: test.sleep, with: { ms: 5000, value: slow } } ]
        fast: [ { uses: test.sleep, with: { ms: 20, value: fast } } ]
`);
    const started = Date.now();
    const handle = await h.start(p);
    expect(await handle.result()).toEqual({ out: { fast: 'fast' } });
    expect(Date.now() - started).toBeLessThan(4000);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  });

  it('parallel join first-successful ignores a failing branch and fails only when all fail', async () => {
    const p = compile(`
name: par_first
inputs: { fail_both: { type: boolean, default: false } }
outputs: { out: { value: "\${{ steps.p.output }}" } }
steps:
  - id: p
    parallel:
      join: first-successful
      branches:
        broken: [ { uses: test.sleep, with: { ms: 10, fail: Broken } } ]
        ok:
          - uses: test.sleep
            with: { ms: 150, value: fine, fail: "\${{ inputs.fail_both ? 'AlsoBroken' : '' }}" }
`);
    expect(await h.run(p)).toEqual({ out: { ok: 'fine' } });
    const failed = await h.run(p, { fail_both: true }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect((failed as WorkflowFailedError).cause?.message).toMatch(/every branch failed.*Broken.*AlsoBroken/);
  });

  it('foreach runs each item with at most `concurrency` in flight and keeps the item order', async () => {
    const p = compile(`
name: each
inputs: { items: { type: array, items: { type: integer } } }
outputs: { out: { value: "\${{ steps.loop.output }}" } }
steps:
  - id: loop
    foreach:
      items: \${{ inputs.items }}
      as: n
      concurrency: 2
      steps:
        - id: work
          uses: test.sleep
          with: { ms: "\${{ 60 + (n % 3) * 40 }}", value: "\${{ n * 10 + index }}" }
`);
    const before = recorder.log.length;
    expect(await h.run(p, { items: [1, 2, 3, 4, 5, 6] })).toEqual({ out: [10, 21, 32, 43, 54, 65] });
    const runs = recorder.log.slice(before).filter((e) => e.step === 'work');
    expect(runs).toHaveLength(6);
    const maxOverlap = Math.max(
      ...runs.map((r) => runs.filter((o) => o.start <= r.start && (o.end ?? 0) > r.start).length),
    );
    expect(maxOverlap).toBe(2);
  });

  it('try/catch/finally: a named error runs catch with error, finally always runs', async () => {
    const p = compile(`
name: guarded
inputs: { error: { type: string } }
outputs:
  caught: { value: "\${{ steps.g.output }}" }
  cleaned: { value: "\${{ vars.cleaned }}" }
steps:
  - id: g
    try:
      - id: risky
        uses: test.sleep
        with: { ms: 5, fail: "\${{ inputs.error }}" }
    catch:
      errors: [Expected]
      steps:
        - uses: echo
          with: { value: "\${{ error.name + ' at ' + error.step + ': ' + error.message }}" }
    finally:
      - id: cleanup
        set: { cleaned: true }
`);
    expect(await h.run(p, { error: 'Expected' })).toEqual({
      caught: 'Expected at risky: risky failed on purpose',
      cleaned: true,
    });
    // An error not listed in catch.errors is not caught, but finally still runs (and the run fails).
    const handle = await h.start(p, { error: 'Surprise' });
    const failure = await handle.result().catch((e: unknown) => e);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'Surprise' });
    const state = await handle.query<{ steps: Record<string, { status: string }> }>('pipeline.state');
    expect(state.steps.risky).toMatchObject({ status: 'failed', error: 'Surprise' });
    expect(state.steps.cleanup?.status).toBe('succeeded');
    expect(state.steps.g?.status).toBe('failed');
  });

  it('raise fails the run with a non-retryable error named as written', async () => {
    const p = compile(`
name: refuse
steps:
  - raise: { error: NotAllowed, message: "refused \${{ 1 + 1 }}" }
`);
    const failure = await h.run(p).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'NotAllowed',
      message: 'refused 2',
      nonRetryable: true,
    });
  });
});
