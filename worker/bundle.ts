import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { projectRoot } from '../config/home.js';
import { bundlerOptions } from './bundler-options.js';

export function workflowBundlePath(root = projectRoot()): string {
  return join(root, 'dist', 'workflow-bundle.js');
}

/** Compiled workflow entry point (what `npm run build` bundles). */
export function compiledWorkflowsPath(root = projectRoot()): string {
  return join(root, 'dist', 'workflows', 'index.js');
}

/**
 * The prebuilt bundle when present (fast start); otherwise bundles the compiled workflows now.
 * Workflows are never bundled from TypeScript sources: `npm run build` produces both.
 */
export async function loadWorkflowBundle(root = projectRoot()): Promise<WorkflowBundleOption> {
  const prebuilt = workflowBundlePath(root);
  if (existsSync(prebuilt)) return { codePath: prebuilt };
  const entry = compiledWorkflowsPath(root);
  if (!existsSync(entry)) throw new Error(`No compiled workflows at ${entry}: run \`npm run build\` first.`);
  return bundleWorkflowCode({ workflowsPath: entry, ...bundlerOptions });
}
