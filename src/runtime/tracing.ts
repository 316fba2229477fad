import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../logger.js';
import { VERSION } from './version.js';

/** A started tracer provider, or none. */
export interface Tracing {
  on: boolean;
  /** Exports what is pending and stops (a no-op when off). */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing when the standard variables ask for it, else leaves it off
 * (src/tracing.ts then records nothing). On when OTEL_TRACES_EXPORTER is `otlp` or
 * `console`, or an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); off with OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none. The exporter (OTLP over HTTP, JSON) and the batch processor
 * read their own OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables; the service is
 * OTEL_SERVICE_NAME (default herald).
 */
export function startTracing(env: Record<string, string | undefined>, log: Logger): Tracing {
  const off: Tracing = { on: false, shutdown: async () => {} };
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return off;
  const kind = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (kind === 'none' || (kind === undefined && !endpoint)) return off;
  let exporter: SpanExporter;
  if (kind === 'console') exporter = new ConsoleSpanExporter();
  else if (kind === undefined || kind === 'otlp') exporter = new OTLPTraceExporter();
  else {
    log.warn({ OTEL_TRACES_EXPORTER: kind }, 'unsupported OTEL_TRACES_EXPORTER (otlp, console or none); tracing stays off');
    return off;
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'herald', 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Global: the tracer in src/tracing.ts and the W3C trace-context propagator.
  provider.register();
  log.info({ exporter: kind ?? 'otlp' }, 'OpenTelemetry tracing on');
  return { on: true, shutdown: () => provider.shutdown() };
}
