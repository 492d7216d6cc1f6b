#!/usr/bin/env node
// Send ONE RocketMQ remoting request (JSON header) and print the response, whose header may be
// JSON or ROCKETMQ (binary): a server started with -Drocketmq.serialize.type=ROCKETMQ answers
// every request in binary. Only node built-ins; runs on Node 20+. No dependencies.
//
// Usage: node probe.mjs HOST:PORT CODE [EXT_FIELDS_JSON] [options]
//   node probe.mjs 127.0.0.1:9876 106
//   node probe.mjs 127.0.0.1:9876 105 '{"topic":"DefaultCluster"}'
// Options:
//   --timeout MS     connect + response deadline (default 3000)
//   --body TEXT      send TEXT (UTF-8) as the request body (default: no body)
//   --body-out FILE  also write the raw response body bytes to FILE
//   --frame-out FILE also write the whole raw response frame (with length prefix) to FILE
//   --quiet          print nothing (exit code only)
//   --expect-code N  exit 3 if the response code differs (default: any code exits 0)
//   --expect-body S  exit 3 if the body text does not contain S
//   --brokers        for a GET_BROKER_CLUSTER_INFO (106) answer: print only the registered
//                    brokers, one "<brokerName>=<master address>" line each, sorted
//   --tls            speak TLS (a server with tls.server.mode=enforcing); the certificate is not
//                    checked (readiness only) unless --tls-ca is given
//   --tls-ca FILE    speak TLS and verify the server's certificate against the PEM CA in FILE
//
// Output (stdout): a line "code=<n> remark=<JSON string|null> opaque=<n> flag=<n> serializeType=<JSON|ROCKETMQ>",
// then "extFields=<json>" if present, then "body=<utf-8 text>" if present.
// Exit codes: 0 ok, 2 usage, 3 expectation failed, 4 connect error / timeout / bad frame.

import net from "node:net";
import tls from "node:tls";
import { readFileSync, writeFileSync } from "node:fs";

const usage = () => {
  process.stderr.write("usage: node probe.mjs HOST:PORT CODE [EXT_FIELDS_JSON] [--timeout MS] [--body TEXT] [--body-out FILE] [--frame-out FILE] [--quiet] [--expect-code N] [--expect-body S] [--brokers] [--tls] [--tls-ca FILE]\n");
  process.exit(2);
};

const positional = [];
const opts = { timeout: 3000, body: null, bodyOut: null, frameOut: null, quiet: false, expectCode: null, expectBody: null, brokers: false, tls: false, tlsCa: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--timeout") opts.timeout = Number(argv[++i]);
  else if (a === "--body") opts.body = argv[++i];
  else if (a === "--body-out") opts.bodyOut = argv[++i];
  else if (a === "--frame-out") opts.frameOut = argv[++i];
  else if (a === "--quiet") opts.quiet = true;
  else if (a === "--expect-code") opts.expectCode = Number(argv[++i]);
  else if (a === "--expect-body") opts.expectBody = argv[++i];
  else if (a === "--brokers") opts.brokers = true;
  else if (a === "--tls") opts.tls = true;
  else if (a === "--tls-ca") opts.tlsCa = argv[++i];
  else if (a.startsWith("--")) usage();
  else positional.push(a);
}
if (positional.length < 2 || positional.length > 3) usage();

const [addr, codeText, extText] = positional;
const sep = addr.lastIndexOf(":");
const host = sep > 0 ? addr.slice(0, sep) : "";
const port = Number(addr.slice(sep + 1));
const code = Number(codeText);
if (!host || !Number.isInteger(port) || !Number.isInteger(code) || !(opts.timeout > 0)) usage();

let extFields;
if (extText !== undefined) {
  try {
    extFields = JSON.parse(extText);
  } catch {
    usage();
  }
  // extFields values must be strings on the wire.
  for (const k of Object.keys(extFields)) extFields[k] = String(extFields[k]);
}

const fail = (msg) => {
  if (!opts.quiet) process.stderr.write(`probe: ${addr} code ${code}: ${msg}\n`);
  process.exit(4);
};

// ---- encode: int32 length (4 + H + B) | int32 (serializeType << 24 | H) | header | body
const opaque = Math.floor(Math.random() * 0x7fffffff);
const header = { code, language: "JAVA", version: 479, opaque, flag: 0, serializeTypeCurrentRPC: "JSON" };
if (extFields) header.extFields = extFields;
const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
const bodyBytes = Buffer.from(opts.body ?? "", "utf8");
const frame = Buffer.alloc(8 + headerBytes.length + bodyBytes.length);
frame.writeInt32BE(4 + headerBytes.length + bodyBytes.length, 0);
frame.writeInt32BE((0 << 24) | headerBytes.length, 4); // serializeType 0 = JSON
headerBytes.copy(frame, 8);
bodyBytes.copy(frame, 8 + headerBytes.length);

// ---- send and read one response frame
let socket;
if (opts.tls || opts.tlsCa !== null) {
  let ca;
  try {
    ca = opts.tlsCa === null ? undefined : readFileSync(opts.tlsCa);
  } catch (e) {
    fail(`cannot read --tls-ca ${opts.tlsCa}: ${e.message}`);
  }
  socket = tls.connect({ host, port, ca, rejectUnauthorized: ca !== undefined });
} else {
  socket = net.createConnection({ host, port });
}
socket.setNoDelay(true);
const timer = setTimeout(() => {
  socket.destroy();
  fail(`timeout after ${opts.timeout} ms`);
}, opts.timeout);

let buf = Buffer.alloc(0);
socket.on(socket instanceof tls.TLSSocket ? "secureConnect" : "connect", () => socket.write(frame));
socket.on("error", (e) => {
  clearTimeout(timer);
  fail(`${e.code ?? "error"}: ${e.message}`);
});
socket.on("close", () => {
  clearTimeout(timer);
  fail("connection closed before a complete response frame");
});
socket.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  if (buf.length < 4) return;
  const length = buf.readInt32BE(0);
  if (length < 4 || length > 16 * 1024 * 1024) fail(`bad frame length ${length}`);
  if (buf.length < 4 + length) return;
  clearTimeout(timer);
  socket.removeAllListeners("close");
  socket.destroy();
  if (opts.frameOut) writeFileSync(opts.frameOut, buf.subarray(0, 4 + length));
  handle(buf.subarray(4, 4 + length));
});

function handle(payload) {
  const marker = payload.readInt32BE(0);
  const serializeType = (marker >>> 24) & 0xff;
  const headerLen = marker & 0xffffff;
  if (headerLen > payload.length - 4) fail(`bad header length ${headerLen}`);
  const headerBytes = payload.subarray(4, 4 + headerLen);
  let res;
  if (serializeType === 0) {
    try {
      res = JSON.parse(headerBytes.toString("utf8"));
    } catch (e) {
      fail(`bad JSON header: ${e.message}`);
    }
    res.serializeTypeCurrentRPC = "JSON";
  } else if (serializeType === 1) {
    res = decodeBinaryHeader(headerBytes);
  } else {
    fail(`unknown serializeType ${serializeType}: the peer does not speak RocketMQ remoting`);
  }
  const body = payload.subarray(4 + headerLen);
  const bodyText = body.toString("utf8");
  if (opts.bodyOut) writeFileSync(opts.bodyOut, body);
  if (res.opaque !== opaque) fail(`opaque mismatch: sent ${opaque}, got ${res.opaque}`);
  if (opts.brokers) {
    if (res.code !== 0) fail(`code ${res.code} (${JSON.stringify(res.remark ?? null)}), no cluster info`);
    if (!opts.quiet) {
      const lines = registeredBrokers(bodyText);
      process.stdout.write(lines.length > 0 ? lines.join("\n") + "\n" : "");
    }
  } else if (!opts.quiet) {
    const lines = [`code=${res.code} remark=${JSON.stringify(res.remark ?? null)} opaque=${res.opaque} flag=${res.flag} serializeType=${res.serializeTypeCurrentRPC}`];
    if (res.extFields) lines.push(`extFields=${JSON.stringify(res.extFields)}`);
    if (body.length > 0) lines.push(`body=${bodyText}`);
    process.stdout.write(lines.join("\n") + "\n");
  }
  if (opts.expectCode !== null && res.code !== opts.expectCode) process.exit(3);
  if (opts.expectBody !== null && !bodyText.includes(opts.expectBody)) process.exit(3);
  process.exit(0);
}

// ROCKETMQ binary header: int16 code, byte language, int16 version, int32 opaque, int32 flag,
// int32 remark length + UTF-8 remark, int32 ext length + entries (int16 key length + key, int32
// value length + value). Every length is checked against what is left.
function decodeBinaryHeader(h) {
  if (h.length < 21) fail(`binary header of ${h.length} bytes; the fixed part alone is 21`);
  const res = {
    code: h.readInt16BE(0),
    language: h[2],
    version: h.readInt16BE(3),
    opaque: h.readInt32BE(5),
    flag: h.readInt32BE(9),
    serializeTypeCurrentRPC: "ROCKETMQ"
  };
  let pos = 13;
  const take = (length, what) => {
    if (length < 0 || length > h.length - pos) fail(`binary header: ${what} length ${length} exceeds the ${h.length - pos} bytes left`);
    const text = h.toString("utf8", pos, pos + length);
    pos += length;
    return text;
  };
  const remarkLength = h.readInt32BE(pos);
  pos += 4;
  const remark = take(remarkLength, "remark");
  if (remarkLength > 0) res.remark = remark;
  if (h.length - pos < 4) fail("binary header: no ext fields length");
  const extLength = h.readInt32BE(pos);
  pos += 4;
  if (extLength !== h.length - pos) fail(`binary header: ext fields length ${extLength}, but ${h.length - pos} bytes are left`);
  const ext = Object.create(null);
  while (pos < h.length) {
    if (h.length - pos < 2) fail("binary header: truncated ext key length");
    const keyLength = h.readInt16BE(pos);
    pos += 2;
    const key = take(keyLength, "ext key");
    if (h.length - pos < 4) fail("binary header: truncated ext value length");
    const valueLength = h.readInt32BE(pos);
    pos += 4;
    ext[key] = take(valueLength, "ext value");
  }
  if (Object.keys(ext).length > 0) res.extFields = ext;
  return res;
}

// The 106 body (ClusterInfo) as "<brokerName>=<address of brokerId 0>" lines. Java writes the
// brokerId keys bare ({0:"127.0.0.1:10911"}); they are quoted before JSON.parse.
function registeredBrokers(text) {
  let info;
  try {
    info = JSON.parse(text.replace(/([{,])\s*(-?\d+)\s*:/g, '$1"$2":'));
  } catch (e) {
    fail(`cluster info body is not JSON: ${e.message}`);
  }
  const table = info && typeof info.brokerAddrTable === "object" && info.brokerAddrTable !== null ? info.brokerAddrTable : {};
  const lines = [];
  for (const name of Object.keys(table)) {
    const master = table[name]?.brokerAddrs?.["0"];
    if (typeof master === "string") lines.push(`${name}=${master}`);
  }
  return lines.sort();
}
