import type { DevServer } from '../temporal/dev-server.js';
import type { FakeModel } from './fake-model.js';
import type { Stack } from './processes.js';

/** One line of the console table: a label and an already formatted value. */
export type Row = [metric: string, value: string];

export interface MeasurementOutput {
  /** Goes verbatim into results.<name> of the JSON file. Numbers in ms / MiB / req/s. */
  data: Record<string, unknown>;
  /** What the console table shows for this measurement. */
  rows: Row[];
}

/**
 * The shared gateway + worker, whose SWITCHYARD_HOME holds a switchyard.yaml pointing agent
 * `main` at `model`, a fake OpenAI-compatible server in the bench process (so turns work).
 */
export interface SharedStack extends Stack {
  model: FakeModel;
}

/** Everything a measurement may use. Processes started through it are stopped by run.ts. */
export interface BenchContext {
  /** Project root (where bin/switchyard.js lives). */
  root: string;
  /** A fresh temporary directory for this run; removed at the end. */
  tmp: string;
  /** The ONE Temporal dev server of the run. */
  temporal: DevServer;
  /** The fixed gateway token every Switchyard process of the run uses. */
  token: string;
  /**
   * The shared gateway + worker (started on first call, ready with workers >= 1, reused by
   * every later measurement, stopped at the end). Measurements run in registry order, so
   * the idle ones come before the ones that put load on it.
   */
  stack(): Promise<SharedStack>;
  log(message: string): void;
}

export interface Measurement {
  /** Used by `--only name`; also the key under results in the JSON file. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<MeasurementOutput>;
}
