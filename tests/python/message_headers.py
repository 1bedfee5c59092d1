"""The publisher of tests/it/messaging_python.rs: a PRODUCER span with `user.id` baggage, its
context injected into a dict of message headers by the SDK's global propagator (W3C trace
context and baggage), as an instrumented publisher does before handing the headers to its broker
client.

Usage: message_headers.py. Prints `{"headers": {...}, "spans": [...]}` on stdout."""

import json

from opentelemetry import baggage, context, trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from common import setup, span_json

exporter = InMemorySpanExporter()
tracer = setup("python-publisher", exporter)

token = context.attach(baggage.set_baggage("user.id", "42"))
try:
    with tracer.start_as_current_span("publish orders", kind=trace.SpanKind.PRODUCER):
        headers = {}
        inject(headers)
finally:
    context.detach(token)

print(json.dumps({"headers": headers, "spans": [span_json(s) for s in exporter.get_finished_spans()]}))
