/**
 * Webpack settings the workflow bundle needs for the agent loop (workflows/agent): pi-ai's
 * root pulls every provider SDK in through lazy imports, which the workflow sandbox can
 * neither bundle nor run. So `@mariozechner/pi-ai` becomes a small module re-exporting only
 * what the loop uses, and `@mariozechner/pi-agent-core` becomes its agent-loop file.
 * Spread into bundleWorkflowCode: `bundleWorkflowCode({ workflowsPath, ...bundlerOptions })`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  // Both packages export only `import` conditions, so find the directory rather than resolve an entry.
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`cannot find ${name} in node_modules (is it installed?)`);
}

/** Works from sources (vitest, .ts) and from dist (.js) alike. */
function sandboxModule(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../workflows/agent/pi-ai-sandbox${ext}`, import.meta.url));
}

export function agentAliases(): Record<string, string> {
  const piAi = join(packageDir('@mariozechner/pi-ai'), 'dist');
  return {
    '@mariozechner/pi-ai$': sandboxModule(),
    '@mariozechner/pi-agent-core$': join(packageDir('@mariozechner/pi-agent-core'), 'dist', 'agent-loop.js'),
    // Imported by the sandbox module above (typed by workflows/agent/pi-ai-internals.d.ts).
    '@switchyard/pi-ai-event-stream$': join(piAi, 'utils', 'event-stream.js'),
    '@switchyard/pi-ai-validation$': join(piAi, 'utils', 'validation.js'),
  };
}

export const bundlerOptions: Pick<BundleOptions, 'webpackConfigHook'> = {
  webpackConfigHook(config: WebpackConfig): WebpackConfig {
    const resolve = config.resolve ?? {};
    const alias = resolve.alias;
    if (Array.isArray(alias)) throw new Error('bundlerOptions: unexpected array-form resolve.alias');
    return { ...config, resolve: { ...resolve, alias: { ...alias, ...agentAliases() } } };
  },
};
