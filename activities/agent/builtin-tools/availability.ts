/**
 * Whether the tools that need something of the machine or the config are on: `browser` (Chromium
 * installed, `tools.browser.enabled`), `exec` (`tools.exec.security` not deny, bubblewrap able to
 * build its sandbox) and the memory tools (`memory.enabled`). The worker offers them by it, skills are judged by it, `switchyard skills` and
 * `switchyard doctor` say it.
 */

import { findChromium, HOW_TO_GET_CHROMIUM } from '../../../config/chromium.js';
import type { Config } from '../../../config/config.js';
import { findBwrap, probeSandbox } from './exec-sandbox.js';

export interface MachineTools {
  chromium: string | undefined;
  bwrap: string | undefined;
  /** Why the sandbox cannot run (undefined: it can). Probed once. */
  sandboxProblem: string | undefined;
}

/** What this machine has, probed once (a sandbox that cannot start here will not start later). */
export function probeMachine(env: NodeJS.ProcessEnv = process.env): MachineTools {
  const bwrap = findBwrap(env);
  return { chromium: findChromium(env), bwrap, sandboxProblem: probeSandbox(bwrap) };
}

/** Why a tool is off with this config on this machine, or undefined when it is on. */
export function toolOff(name: string, config: Config, machine: MachineTools): string | undefined {
  if (name === 'browser') {
    if (!config.tools.browser.enabled) return 'off (tools.browser.enabled: false)';
    if (!machine.chromium) return `off: ${HOW_TO_GET_CHROMIUM}`;
  }
  if (name.startsWith('memory_') && !config.memory.enabled) return 'off (memory.enabled: false)';
  if (name === 'exec') {
    if (config.tools.exec.security === 'deny') {
      return 'off (tools.exec.security is deny; set it to allowlist or full to turn exec on)';
    }
    if (machine.sandboxProblem) return `off: ${machine.sandboxProblem}`;
  }
  return undefined;
}
