-- OpenTelemetry (issue 10): the W3C traceparent of the span that published the event,
-- when tracing is on (null otherwise), so each delivery's span joins the publish's trace
-- although the worker sends later, maybe in another process.
alter table events add column trace_context text;
