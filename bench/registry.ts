import { echoLoad } from './echo-load.js';
import { localModel } from './local-model.js';
import { media } from './media.js';
import { memory } from './memory.js';
import { pipelineCompile, stepOverhead } from './pipeline-measurements.js';
import { rss } from './rss.js';
import { rssAfterTurns } from './rss-after-turns.js';
import { startup } from './startup.js';
import { turns } from './turns.js';
import type { Measurement } from './types.js';
import { wsColdStart } from './ws-cold-start.js';
import { wsTurns } from './ws-turns.js';

/**
 * Every measurement, in the order they run (`--only` keeps this order). Idle measurements come
 * before the ones that load the shared stack, and `rss-after-turns` (1,000 turns) comes last. To
 * add one: write bench/<name>.ts exporting a Measurement and append it here.
 */
export const measurements: Measurement[] = [
  startup,
  rss,
  pipelineCompile,
  echoLoad,
  stepOverhead,
  memory,
  media,
  localModel,
  wsColdStart,
  turns,
  wsTurns,
  rssAfterTurns,
];
