/**
 * Cleanups that must run however the process ends: on exit, and on SIGTERM, SIGHUP or an
 * unhandled SIGINT (Node's default for those signals is to die without running anything).
 * Locks are released and staging folders removed this way, so a stopped run leaves nothing
 * that blocks or confuses the next one. Cleanups are synchronous.
 */
const pending = new Set<() => void>();
const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
let installed = false;

function runAll(): void {
  for (const f of [...pending]) {
    pending.delete(f);
    try {
      f();
    } catch {
      // a cleanup that fails must not stop the others
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const [name, num] of Object.entries(SIGNALS)) {
    process.on(name as NodeJS.Signals, () => {
      // A job's own Ctrl-C handler (stop between batches) takes precedence over dying at once.
      if (name === 'SIGINT' && process.listenerCount('SIGINT') > 1) return;
      runAll();
      process.exit(128 + num);
    });
  }
}

/**
 * Registers `f` to run once when the process exits or is stopped by a signal; returns a
 * function that unregisters it (call it when the work is done and `f` no longer applies).
 * @example
 * const forget = onExit(() => rmSync(staging, { recursive: true, force: true }));
 * ... publish ...
 * forget();
 */
export function onExit(f: () => void): () => void {
  install();
  pending.add(f);
  return () => {
    pending.delete(f);
  };
}
