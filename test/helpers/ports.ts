// One free-port finder for tests and the bench (bench/util.ts).
export { freePort } from '../../bench/util.js';
