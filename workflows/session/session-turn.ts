/**
 * One turn: the pipeline run as a child workflow, in its own cancellation scope so an
 * `interrupt` can cancel it (and wait until it has really stopped) without touching the
 * session, and with a handle so `steer` can signal into it.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import type { InboundMessage } from '../../channels/envelope.js';
import type { PipelineOutputs, PipelineRunInput } from '../pipeline/pipeline-api.js';
import { pipelineSteerSignal, type TurnRecord } from './session-api.js';

export type TurnOutcome =
  | { status: 'completed'; outputs: PipelineOutputs }
  | { status: 'failed'; error: string }
  | { status: 'interrupted' };

export class RunningTurn {
  private readonly scope = new CancellationScope();
  private handle: ChildWorkflowHandle<(input: PipelineRunInput) => Promise<PipelineOutputs>> | undefined;
  private finished = false;
  private interrupted = false;

  constructor(
    readonly record: TurnRecord,
    private readonly input: PipelineRunInput,
  ) {}

  async run(): Promise<TurnOutcome> {
    try {
      const outputs = await this.scope.run(async () => {
        this.handle = await startChild('pipelineWorkflow', {
          workflowId: this.record.workflowId,
          args: [this.input],
          // An interrupt waits until the turn has really stopped before the next one starts.
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          // The session never closes under a running turn (it waits before continue-as-new);
          // if it is terminated anyway, the turn still finishes and delivers its reply.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        return (await this.handle.result()) as PipelineOutputs;
      });
      return { status: 'completed', outputs };
    } catch (error) {
      if (this.interrupted && isCancellation(error)) return { status: 'interrupted' };
      // The session itself is being cancelled: let that through.
      if (isCancellation(error) && CancellationScope.current().consideredCancelled) throw error;
      return { status: 'failed', error: describeFailure(error) };
    } finally {
      this.finished = true;
    }
  }

  /**
   * Cancels the turn (queue mode `interrupt`, `session.abort`); `run()` then settles as
   * interrupted. False when it had already finished or was already being cancelled.
   */
  interrupt(): boolean {
    if (this.finished || this.interrupted) return false;
    this.interrupted = true;
    this.scope.cancel();
    return true;
  }

  /**
   * Hands a message to the running turn (queue mode `steer`). False when the turn is not
   * running (not started yet, finished, or being interrupted): the caller queues it instead.
   */
  async steer(message: InboundMessage): Promise<boolean> {
    if (!this.handle || this.finished || this.interrupted) return false;
    try {
      await this.handle.signal(pipelineSteerSignal, { message });
      return true;
    } catch {
      // The child finished between our check and the signal: nothing was lost, queue it.
      return false;
    }
  }
}

function describeFailure(error: unknown): string {
  let current: unknown = error;
  // A child failure wraps the pipeline's own error; the innermost message is the useful one.
  while (current instanceof Error && 'cause' in current && current.cause instanceof Error) {
    current = current.cause;
  }
  if (current instanceof ApplicationFailure && current.type) return `${current.type}: ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}
