// `npm run build` step: bundle dist/workflows once, so workers start without running webpack.
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { compiledWorkflowsPath, workflowBundlePath } from './bundle.js';
import { bundlerOptions } from './bundler-options.js';

const { code } = await bundleWorkflowCode({
  workflowsPath: compiledWorkflowsPath(),
  ...bundlerOptions,
  logger: quietLogger(),
});
writeFileSync(workflowBundlePath(), code);
console.log(`workflow bundle: ${workflowBundlePath()} (${(code.length / 1024).toFixed(0)} KiB)`);

function quietLogger() {
  const noop = () => {};
  return { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
}
