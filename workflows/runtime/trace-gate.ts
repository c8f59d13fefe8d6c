// Tracing per case, decided once from the case's own history: in every bundle (worker/bundle.ts),
// it hands each interceptor call to the SDK's OpenTelemetry workflow interceptors only in a case
// whose start carried a trace context (a client with tracing on, client/tracing.ts), and passes
// every call straight through, synchronously, in any other.
//
// Why a gate and not the SDK's interceptors in the bundle whenever tracing is on: they wrap each
// activity, timer and update in async spans, which moves when commands are issued within an
// activation; a case started untraced then fails to replay on a traced worker (a timer's command
// met where history has an activity's), and a traced case on an untraced one. Deciding per case
// from the start's headers, which history keeps, makes both replay alike whatever a worker's
// setting: the cases started while tracing was off never change, nor do the traced ones.
//
// The SDK's module is loaded only when a traced case first needs it: loading it patches globals
// in the workflow's sandbox (performance, window), which no untraced case should see.
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the SDK's interceptors carry the trace context in (instrumentation.ts TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

type Otel = Required<Pick<WorkflowInterceptors, 'inbound' | 'outbound' | 'internals'>>;

function loadOtel(): Otel {
  // A require inside the function: webpack bundles the module but runs it only here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof import('@temporalio/interceptors-opentelemetry/lib/workflow');
  return {
    inbound: [new otel.OpenTelemetryInboundInterceptor()],
    outbound: [new otel.OpenTelemetryOutboundInterceptor()],
    internals: [new otel.OpenTelemetryInternalsInterceptor()],
  };
}

type Method<T> = { [K in keyof T]-?: T[K] extends ((input: infer I, next: infer N) => infer R) | undefined ? (input: I, next: N) => R : never };

/** An interceptor whose every listed method calls `target()`'s, or `next` while there is none. */
function gate<T extends object>(names: Array<keyof T>, target: () => T | undefined): T {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    out[name as string] = (input: unknown, next: (i: unknown) => unknown) => {
      const t = target() as Method<T> | undefined;
      const method = t?.[name] as ((i: unknown, n: unknown) => unknown) | undefined;
      return method ? method.call(t, input, next) : next(input);
    };
  }
  return out as T;
}

export const interceptors = (): WorkflowInterceptors => {
  let decided = false;
  let otel: Otel | undefined;
  const decide: WorkflowInternalsInterceptor = {
    activate(input, next) {
      if (!decided) {
        decided = true;
        const start = input.activation.jobs?.find((job) => job.initializeWorkflow)?.initializeWorkflow;
        if (start?.headers?.[TRACE_HEADER]) otel = loadOtel();
      }
      return next(input);
    },
  };
  return {
    inbound: [
      gate<WorkflowInboundCallsInterceptor>(['execute', 'handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'], () => otel?.inbound[0]),
    ],
    outbound: [
      gate<WorkflowOutboundCallsInterceptor>(
        ['scheduleActivity', 'scheduleLocalActivity', 'startNexusOperation', 'startChildWorkflowExecution', 'continueAsNew', 'signalWorkflow', 'getLogAttributes', 'getMetricTags'],
        () => otel?.outbound[0],
      ),
    ],
    internals: [decide, gate<WorkflowInternalsInterceptor>(['dispose'], () => otel?.internals[0])],
  };
};
