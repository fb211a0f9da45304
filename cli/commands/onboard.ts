import type { Command } from 'commander';
import { defaultAgentId } from '../../channels/routing.js';
import { bundledLocalModel } from '../../config/bundled-model.js';
import { loadConfig } from '../../config/load.js';
import { createOnboarding, setupReason } from '../../gateway/onboarding.js';
import { loadConfigOrExit } from '../load.js';
import { runSetupInTerminal, terminalIO } from '../setup-terminal.js';

/**
 * `switchyard onboard`: give an agent a working model from a terminal — the web chat's
 * onboarding dialogue (gateway/onboarding.ts), without a running gateway. A running worker and
 * gateway pick the new config up by themselves.
 */
export function registerOnboardCommand(program: Command): void {
  program
    .command('onboard')
    .description(
      'set up the model an agent answers with: provider, key (kept in the secrets file), a test call',
    )
    .option('--agent <id>', 'the agent to set up (default: the default agent)')
    .option('--provider <id>', 'anthropic, openai, google, openrouter, openai-compatible or local')
    .option('--model <id>', 'the model id (default: the provider’s suggestion)')
    .option('--base-url <url>', 'the API URL (openai-compatible) or a custom endpoint')
    .addHelpText(
      'after',
      '\nThe key is asked for (not echoed), or read as a line from stdin when it is not a terminal; it is never a flag.',
    )
    .action(async (opts: { agent?: string; provider?: string; model?: string; baseUrl?: string }) => {
      const initial = loadConfigOrExit();
      const current = () => {
        try {
          return loadConfig({ home: initial.home });
        } catch {
          return initial;
        }
      };
      const agentId = opts.agent ?? defaultAgentId(initial.routing);
      const reason = setupReason(initial, agentId) ?? 'it has a working model now; this replaces it';
      const session = createOnboarding(
        { config: current, context: 'command', localModel: bundledLocalModel },
        agentId,
        reason,
      );
      const io = terminalIO();
      try {
        await runSetupInTerminal(
          session.view(),
          async (frame) => {
            if (frame.action === 'choose') return session.choose(frame.provider);
            if (frame.action === 'submit') return session.submit(frame.values);
            return session.back();
          },
          io,
          {
            ...(opts.provider ? { provider: opts.provider } : {}),
            ...(opts.model ? { model: opts.model } : {}),
            ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
          },
        );
      } catch (err) {
        console.error(`Setup not finished: ${(err as Error).message}. Nothing was written.`);
        process.exitCode = 1;
      } finally {
        io.close();
      }
    });
}
