/**
 * Where Chromium is on this machine: `SWITCHYARD_CHROMIUM`, else the first of `chromium`,
 * `chromium-browser`, `google-chrome`, `google-chrome-stable` on PATH. Used by `switchyard doctor`
 * and by anything that drives a browser (playwright-core needs the executable's path).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export const HOW_TO_GET_CHROMIUM =
  'Chromium was not found: apt-get install chromium (Debian/Ubuntu), or set SWITCHYARD_CHROMIUM=/path/to/chromium';

/** The path of a Chromium executable, or undefined when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SWITCHYARD_CHROMIUM)
    return isExecutable(env.SWITCHYARD_CHROMIUM) ? env.SWITCHYARD_CHROMIUM : undefined;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
