import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../config/home.js';

/** Switchyard's version, from package.json. */
export const SWITCHYARD_VERSION: string = (
  JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }
).version;
