/**
 * Under `switchyard up`, children run in their own process group (so Ctrl-C reaches only the
 * supervisor, which stops them in order). If the supervisor dies without stopping us, exit
 * rather than linger as an orphan.
 */
export function watchParent(stop: () => void): void {
  if (process.env.SWITCHYARD_SUPERVISED !== '1') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop();
    }
  }, 1_000);
  timer.unref();
}
