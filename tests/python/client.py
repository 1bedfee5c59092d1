"""The upstream caller of tests/interop_python.rs: a CLIENT span with `user.id` baggage,
injected into the request headers with the SDK's propagators, as the guide's
`call_external_service` does.

Usage: client.py URL. Prints `{"response": <body>, "spans": [...]}` on stdout."""

import json
import sys
import urllib.request

from opentelemetry import baggage, context, trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from common import setup, span_json

exporter = InMemorySpanExporter()
tracer = setup("python-client", exporter)

token = context.attach(baggage.set_baggage("user.id", "42"))
try:
    with tracer.start_as_current_span("python-client", kind=trace.SpanKind.CLIENT):
        headers = {}
        inject(headers)
        request = urllib.request.Request(sys.argv[1], headers=headers)
        with urllib.request.urlopen(request, timeout=20) as response:
            body = response.read().decode()
finally:
    context.detach(token)

print(json.dumps({"response": body, "spans": [span_json(s) for s in exporter.get_finished_spans()]}))
