// Signals that reach a run before its workflow function has started (those sent while a scheme's
// ledger continues as new, for one) wait in the SDK's buffer, and the SDK hands them out as each
// handler is registered: every buffered signal for the first name registered, then every one for
// the second. Arrival order is lost across names, so a case's release followed by its new request
// was applied request-first: the request was answered from the place about to be released, and the
// release then dropped the case from the ledger altogether. A default handler registered first
// takes the whole buffer in arrival order; the named handlers then take what arrives afterwards.
import { log, setDefaultSignalHandler, setHandler, type SignalDefinition } from '@temporalio/workflow';

export interface SignalRoute {
  readonly name: string;
  readonly register: () => void;
  readonly handle: (args: unknown[]) => void;
}

/** One signal and its handler, typed together. */
export function route<Args extends unknown[]>(signal: SignalDefinition<Args>, handler: (...args: Args) => void): SignalRoute {
  return {
    name: signal.name,
    register: () => setHandler(signal, handler),
    handle: (args) => handler(...(args as Args)),
  };
}

export function setSignalHandlersInOrder(routes: readonly SignalRoute[]): void {
  const byName = new Map(routes.map((r) => [r.name, r]));
  setDefaultSignalHandler((name, ...args) => {
    const found = byName.get(name);
    // Only buffered signals come this way; a name no handler knows would have waited forever.
    if (found) found.handle(args);
    else log.warn('signal with no handler dropped', { signal: name });
  });
  for (const r of routes) r.register();
  setDefaultSignalHandler(undefined);
}
