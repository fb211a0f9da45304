/** The logging a connector needs; pino and fastify's `app.log` fit as they are. Shared by every connector. */
export interface ConnectorLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
