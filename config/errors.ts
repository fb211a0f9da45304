export interface ConfigProblem {
  /** file:line:col or the environment variable that carried the value. */
  where: string;
  /** Dotted key, e.g. gateway.port. */
  key: string;
  message: string;
}

/** Thrown when switchyard.yaml or an environment override is invalid; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.where}: ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
