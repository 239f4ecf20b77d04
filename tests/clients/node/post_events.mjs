// post_events.mjs: the npm `cloudevents` SDK (a test tool, never part of the
// product) posts to switchboard's POST /v1/events:
//   one structured-mode event (HTTP.structured) -> 202 "accepted"
//   one binary-mode event (HTTP.binary: ce-* headers, JSON body) -> 202
//   both again -> 200 "duplicate" (a redelivery is recognised, not stored twice)
//
//   node post_events.mjs http://127.0.0.1:8080 TENANT
// Prints one line per request; exit status 0 when every check held, else 1.
import { CloudEvent, HTTP } from "cloudevents";
import { randomUUID } from "node:crypto";

const [base, tenant] = process.argv.slice(2);
if (!base || !tenant) {
  console.error("usage: node post_events.mjs BASE_URL TENANT");
  process.exit(2);
}

function event(n) {
  return new CloudEvent({
    id: `node-${n}-${randomUUID()}`,
    source: "/clients/node",
    type: "com.switchboard.interaction",
    tenant, // extension attribute: ce-tenant in binary mode
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    datacontenttype: "application/json",
    data: { channel: "app", customer: `node-${n}`, text: `Hello from the CloudEvents SDK (${n})` },
  });
}

let failed = 0;
async function post(label, message, wantStatus, wantResult, id) {
  const res = await fetch(`${base}/v1/events`, {
    method: "POST",
    headers: message.headers,
    body: message.body,
  });
  const text = await res.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  const ok = res.status === wantStatus && body.id === id && body.status === wantResult;
  console.log(`${ok ? "ok  " : "FAIL"} ${label}: ${res.status} ${text}`);
  if (!ok) failed++;
}

const structured = event("structured");
const binary = event("binary");
const s = HTTP.structured(structured);
const b = HTTP.binary(binary);
if (!b.headers["ce-tenant"] || !String(s.headers["content-type"]).startsWith("application/cloudevents+json")) {
  console.log("FAIL the SDK did not build the expected modes");
  process.exit(1);
}
await post("structured", s, 202, "accepted", structured.id);
await post("binary", b, 202, "accepted", binary.id);
await post("structured again", s, 200, "duplicate", structured.id);
await post("binary again", b, 200, "duplicate", binary.id);
process.exit(failed ? 1 : 0);
