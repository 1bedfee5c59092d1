"""The downstream service of tests/interop_python.rs: continues the caller's trace from the
request headers, as the guide's middleware does, and answers with what it received.

Usage: server.py SPANS_FILE. Listens on 127.0.0.1 with an ephemeral port and prints
`PORT <n>` on stdout once it accepts connections."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import baggage, trace
from opentelemetry.propagate import extract

from common import JsonLinesExporter, setup

tracer = setup("python-server", JsonLinesExporter(sys.argv[1]))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        ctx = extract(self.headers)
        with tracer.start_as_current_span(
            f"GET {self.path}", context=ctx, kind=trace.SpanKind.SERVER
        ) as span:
            user_id = baggage.get_baggage("user.id", ctx)
            if user_id is not None:
                span.set_attribute("user.id", user_id)
            span.set_attribute("http.response.status_code", 200)
            body = json.dumps(
                {
                    "traceparent": self.headers.get("traceparent"),
                    "baggage": self.headers.get("baggage"),
                    "user.id": user_id,
                }
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format, *args):  # no access log on stderr
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
