import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/**
 * OpenTelemetry tracing of an event's way from publish to each delivery (issue 10).
 * Off by default: without a tracer provider (runtime/tracing.ts starts one only when an
 * OTEL_* exporter variable asks for it) every span here is a no-op that records nothing,
 * `traceContextOf` gives null, and nothing is stored or sent.
 *
 * The outbox breaks the call chain (the worker sends later, maybe in another process), so
 * the publish span's W3C `traceparent` is stored with the event, and each delivery span is
 * its child; the delivery request carries the delivery span's own `traceparent`, so a
 * receiver that traces joins the same trace.
 */

const tracer = () => trace.getTracer('herald');

const traceparentOf = (span: Span): string | null => {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent ?? null;
};

/**
 * Records the publish of one event (a producer span, ended at once) and returns its
 * traceparent to store with the event; null when tracing is off.
 */
export function tracePublish(e: { eventName: string; organizationUuid: string; messageId: string }): string | null {
  const span = tracer().startSpan(`publish ${e.eventName}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'herald',
      'messaging.operation.type': 'publish',
      'messaging.destination.name': e.eventName,
      'messaging.message.id': e.messageId,
      'herald.organization_uuid': e.organizationUuid,
    },
  });
  if (!span.isRecording()) return null;
  const traceparent = traceparentOf(span);
  span.end();
  return traceparent;
}

export interface DeliverySpan {
  /** The traceparent header the delivery request carries (null when tracing is off). */
  traceparent: string | null;
  /** Ends the span with the attempt's result. */
  end(result: { status: number | null; errorClass: string | null; outcome: string }): void;
}

/** Starts the span of one delivery attempt, a child of the event's publish span when it was traced. */
export function traceDelivery(
  storedTraceparent: string | null,
  d: { eventName: string; messageId: string; subscriptionUuid: string; attempt: number; origin: string },
): DeliverySpan {
  const parent = storedTraceparent ? propagation.extract(context.active(), { traceparent: storedTraceparent }) : context.active();
  const span = tracer().startSpan(
    `deliver ${d.eventName}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'messaging.system': 'herald',
        'messaging.operation.type': 'process',
        'messaging.destination.name': d.eventName,
        'messaging.message.id': d.messageId,
        'herald.subscription_uuid': d.subscriptionUuid,
        'herald.attempt': d.attempt,
        'server.address': d.origin,
      },
    },
    parent,
  );
  if (!span.isRecording()) return { traceparent: null, end: () => {} };
  return {
    traceparent: traceparentOf(span),
    end(r) {
      if (r.status !== null) span.setAttribute('http.response.status_code', r.status);
      span.setAttribute('herald.outcome', r.outcome);
      if (r.errorClass) {
        span.setAttribute('error.type', r.errorClass);
        span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorClass });
      }
      span.end();
    },
  };
}
