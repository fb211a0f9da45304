/**
 * What reaches the console of `switchyard up`: Switchyard's own warnings and errors as one line
 * each; the SDK's bookkeeping and stack traces stay in the log files.
 */
import { describe, expect, it } from 'vitest';
import { consoleLine } from '../../cli/process-log.js';
import { gistOf } from '../../cli/supervisor.js';

const WARN = 40;
const ERROR = 50;

describe('a log entry on the console', () => {
  it('keeps the SDK’s own warnings and everything below warn in the file', () => {
    expect(
      consoleLine({ level: WARN, sdkComponent: 'worker', msg: 'No workflows registered' }),
    ).toBeUndefined();
    expect(consoleLine({ level: WARN, sdkComponent: 'core', msg: 'poll error' })).toBeUndefined();
    expect(consoleLine({ level: 30, sdkComponent: 'workflow', msg: 'turn started' })).toBeUndefined();
  });

  it('shows a workflow’s warning as one line: message, what it concerns, the error', () => {
    expect(
      consoleLine({
        level: WARN,
        sdkComponent: 'workflow',
        msg: 'turn failed',
        workflowType: 'sessionWorkflow',
        sessionKey: 'agent:main:main',
        error: "AgentFailed: agent 'main' has no model: set agents[].model\nmore detail",
      }),
    ).toBe(
      "turn failed (session agent:main:main): AgentFailed: agent 'main' has no model: set agents[].model",
    );
  });

  it('shows an error with its failure type and first line, never its stack', () => {
    const line = consoleLine({
      level: ERROR,
      msg: 'the worker could not start',
      err: {
        type: 'AgentConfigError',
        message: 'models.providers.x: unknown provider',
        stack: 'Error\n    at x',
      },
    });
    expect(line).toBe(
      'error: the worker could not start: AgentConfigError: models.providers.x: unknown provider',
    );
    expect(
      consoleLine({
        level: ERROR,
        sdkComponent: 'worker',
        msg: 'Worker failed',
        error: { type: 'Error', failureType: 'ModelAuthError', message: '401 invalid key' },
      }),
    ).toBe('error: Worker failed: ModelAuthError: 401 invalid key');
  });
});

describe('why a child exited, from its stderr', () => {
  it('is the error line of a stack trace, not the trace', () => {
    const stderr = [
      'file:///app/dist/worker/worker.js:12',
      '        throw new AgentConfigError(problems);',
      '        ^',
      '',
      'AgentConfigError: models.providers.openai.apiKey: not set',
      '    at loadAgentModelsConfig (file:///app/dist/activities/agent/config.js:80:15)',
      '    at productionDeps (file:///app/dist/worker/worker.js:40:5)',
      '',
      'Node.js v20.20.2',
    ];
    expect(gistOf(stderr)).toBe('AgentConfigError: models.providers.openai.apiKey: not set');
  });

  it('is the last line when there is no stack', () => {
    expect(gistOf(['Port 18789 is already in use (another gateway?). Stop it.'])).toBe(
      'Port 18789 is already in use (another gateway?). Stop it.',
    );
    expect(gistOf([])).toBeUndefined();
  });
});
