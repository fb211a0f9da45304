/**
 * One turn, in its own cancellation scope so an `interrupt` can cancel it (and wait until it has
 * really stopped) without touching the session. An inline turn (engine/turn-placement.ts) runs
 * the pipeline right here in the session workflow; the others run as a child workflow
 * `turn:<session>:<message>`, with a handle so `steer` can signal into it. An inline turn that
 * fails leaves a failed child of that id behind, so the failure is visible in the Temporal UI
 * and can be re-run there (pipeline.ts).
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import type { InboundMessage } from '../../channels/envelope.js';
import { emptyUsage, type TurnUsage } from '../agent/turn.js';
import { describeFailure, type FailureInfo, failureInfo } from '../failure-text.js';
import { newRun, runPipeline } from '../pipeline/pipeline.js';
import type {
  CollectedReply,
  PipelineOutputs,
  PipelineRunInput,
  UncertainSendRecord,
} from '../pipeline/pipeline-api.js';
import { pipelineSteerSignal, type TurnRecord } from './session-api.js';

/** `uncertainSends`: an inline turn's replies whose send had an unknown outcome (none: absent). */
export type TurnOutcome = (
  | { status: 'completed'; outputs: PipelineOutputs; replies: CollectedReply[]; usage?: TurnUsage }
  | { status: 'failed'; error: FailureInfo; replies: CollectedReply[] }
  | { status: 'interrupted'; replies: CollectedReply[] }
) & { uncertainSends?: UncertainSendRecord[] };

export class RunningTurn {
  private readonly scope = new CancellationScope();
  private handle: ChildWorkflowHandle<(input: PipelineRunInput) => Promise<PipelineOutputs>> | undefined;
  private started = false;
  private finished = false;
  private interrupted = false;
  /** Answer keys (session-answers.ts) of messages steered into this turn: they get its answer too. */
  readonly steeredKeys: string[] = [];

  /**
   * `keys`: the answer keys of the messages it answers. `inline`: run the pipeline in the
   * session workflow (the IR allows it and the patch is in).
   */
  constructor(
    readonly record: TurnRecord,
    readonly input: PipelineRunInput,
    readonly keys: readonly string[],
    private readonly inline: boolean,
  ) {}

  /** Answers this message, or it was steered into it. */
  answers(key: string): boolean {
    return this.keys.includes(key) || this.steeredKeys.includes(key);
  }

  async run(): Promise<TurnOutcome> {
    const replies: CollectedReply[] = [];
    const usage = this.inline ? emptyUsage() : undefined;
    const uncertainSends: UncertainSendRecord[] = [];
    const uncertain = () => (uncertainSends.length > 0 ? { uncertainSends } : {});
    try {
      const outputs = await this.scope.run(async () => {
        this.started = true;
        if (this.inline) {
          const answering = this.input.replyVia === 'answer';
          const run = newRun(this.input, this.record.workflowId, {
            ...(answering ? { answers: replies } : {}),
            ...(usage ? { usage } : {}),
            uncertainSends,
          });
          return await runPipeline(run);
        }
        // A child posts its replies itself (the channel's sender ends a live client run).
        const { replyVia: _answeredByChannel, ...input } = this.input;
        this.handle = await startChild('pipelineWorkflow', {
          workflowId: this.record.workflowId,
          args: [input],
          // An interrupt waits until the turn has really stopped before the next one starts.
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          // The session never closes under a running turn (it waits before continue-as-new);
          // if it is terminated anyway, the turn still finishes and delivers its reply.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        return (await this.handle.result()) as PipelineOutputs;
      });
      return {
        status: 'completed',
        outputs,
        replies,
        ...(usage && usage.modelCalls > 0 ? { usage } : {}),
        ...uncertain(),
      };
    } catch (error) {
      if (this.interrupted && isCancellation(error)) {
        return { status: 'interrupted', replies: [], ...uncertain() };
      }
      // The session itself is being cancelled: let that through.
      if (isCancellation(error) && CancellationScope.current().consideredCancelled) throw error;
      return { status: 'failed', error: failureInfo(error), replies, ...uncertain() };
    } finally {
      this.finished = true;
    }
  }

  /**
   * An inline turn that failed becomes a failed child workflow with the turn's id and input:
   * visible in the Temporal UI (and `switchyard sessions show`), and re-runnable by a reset.
   */
  async leaveFailureRecord(error: FailureInfo): Promise<void> {
    if (!this.inline) return;
    const { replyVia: _replyWentBack, ...input } = this.input;
    try {
      await startChild('pipelineWorkflow', {
        workflowId: this.record.workflowId,
        args: [{ ...input, failedInline: { type: error.type || 'Error', message: error.message } }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: 'failed turn (re-run it with Reset)',
      });
    } catch (failure) {
      log.warn('the failed turn could not be recorded as a workflow', {
        turn: this.record.workflowId,
        error: describeFailure(failure),
      });
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
   * An inline turn takes it as it is: the session records it as steered into the turn.
   */
  async steer(message: InboundMessage): Promise<boolean> {
    if (this.finished || this.interrupted || !this.started) return false;
    if (this.inline) return true;
    if (!this.handle) return false;
    try {
      await this.handle.signal(pipelineSteerSignal, { message });
      return true;
    } catch {
      // The child finished between our check and the signal: nothing was lost, queue it.
      return false;
    }
  }
}
