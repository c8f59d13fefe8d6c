// OpenTelemetry traces, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is
// set: then one tracer provider per process exports spans over OTLP/HTTP (JSON), the client's
// interceptor opens a span for each start, update and query and carries its context in the
// workflow's headers, and a worker (worker/create.ts) continues the trace in the workflow and its
// activities. Off, nothing here is loaded or run.
//
// Spans carry what the SDK's interceptors put on them: operation and type names, workflow, run,
// update and activity ids. Those ids are refused if they hold an NHS number or a date
// (machines/ids.ts), and payloads never reach a span, so no personal data leaves in a trace.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, ContextManager } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';

export interface Tracing {
  /** Receives every span, the workflow's too (through the worker's sink). */
  spanProcessor: SpanProcessor;
  /** The process's resource (`service.name`), for the workflow span sink. */
  resource: unknown;
  /** The client interceptor that starts each trace and passes it on in headers. */
  clientInterceptor(): WorkflowClientInterceptor;
  /** Sends what is buffered; a test or a host shutting down awaits it. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Where spans go, or undefined when tracing is off. */
export function tracesEndpoint(env: Record<string, string | undefined> = process.env): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Active contexts across awaits: without one, the API's default manager drops the client span
 * before its context is written into the workflow's headers, and every trace would stop at the client.
 */
class AsyncContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  constructor(private readonly root: Context) {}
  active(): Context {
    return this.#storage.getStore() ?? this.root;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...a: unknown[]) => unknown;
    return ((...a: unknown[]) => this.with(context, () => fn(...a))) as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

let installed: Promise<Tracing> | undefined;

/**
 * The process's tracing when the environment turns it on (installed once, as the global tracer
 * provider, whoever asks first: a client, a worker or both in one process), else undefined.
 */
export function tracingFromEnv(env: Record<string, string | undefined> = process.env): Promise<Tracing> | undefined {
  const url = tracesEndpoint(env);
  if (!url) return undefined;
  installed ??= install(url, env.OTEL_SERVICE_NAME?.trim() || 'social-prescribing');
  return installed;
}

async function install(url: string, serviceName: string): Promise<Tracing> {
  const [api, base, resources, otlp, { OpenTelemetryWorkflowClientInterceptor }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    // The tracer SDK's own dependency (same version), for the resource naming this service.
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const spanProcessor = new base.BatchSpanProcessor(new otlp.OTLPTraceExporter({ url }), { scheduledDelayMillis: 1_000 });
  const resource = new resources.Resource({ 'service.name': serviceName });
  const provider = new base.BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncContextManager(api.ROOT_CONTEXT) });
  return {
    spanProcessor,
    resource: provider.resource,
    clientInterceptor: () => new OpenTelemetryWorkflowClientInterceptor(),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
