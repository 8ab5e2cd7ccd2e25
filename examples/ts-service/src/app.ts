import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { v4 as uuid } from "uuid";

import { greeting } from "./greeting.js";

// handle answers one request: a health endpoint for the platform's probes
// and a greeting.
export function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  res.setHeader("x-request-id", uuid());
  if (req.method !== "GET") {
    send(res, 405, { error: "method not allowed" });
    return;
  }
  switch (url.pathname) {
    case "/healthz":
      send(res, 200, { status: "ok" });
      return;
    case "/hello":
      send(res, 200, { message: greeting(url.searchParams.get("name")) });
      return;
    default:
      send(res, 404, { error: "not found" });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export function server(): Server {
  return createServer(handle);
}
