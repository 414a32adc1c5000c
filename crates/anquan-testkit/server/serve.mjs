#!/usr/bin/env node
// anquan-testkit: a small OpenAI-compatible chat server around node-llama-cpp, for tests and the
// README's main job. Loopback only by default; plain node:http, no framework.
//
//   node serve.mjs --model PATH [--host 127.0.0.1] [--port 0] [--threads 1] [--ctx 2048]
//                  [--alias qwen2.5-coder-0.5b] [--parallel 1]
//
// When the model is loaded and the socket is bound it prints exactly one line to stdout:
//   {"event":"listening","url":"http://127.0.0.1:PORT","model":"ALIAS"}
// Everything else goes to stderr. Endpoints: GET /health, GET /v1/models,
// POST /v1/chat/completions (non-streaming and SSE streaming). SIGTERM/SIGINT: exit 0.
//
// Needs node-llama-cpp 3.21.1 (scripts/setup-model installs it and prints ANQUAN_NODE_MODULES);
// it is looked up in $ANQUAN_NODE_MODULES, then in the setup script's cache
// (${ANQUAN_CACHE_DIR:-~/.cache/anquan}/node-llama-cpp-3.21.1/node_modules), then beside this file.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

// Library code must never write to stdout: the single "listening" line is the protocol.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const USAGE =
  "usage: serve.mjs --model PATH [--host 127.0.0.1] [--port 0] [--threads 1] [--ctx 2048] " +
  "[--alias qwen2.5-coder-0.5b] [--parallel 1] [--max-body-bytes 8388608]";
const MAX_HEADER_WAIT_MS = 30_000;
const NODE_LLAMA_CPP_VERSION = "3.21.1";

function log(message) {
  process.stderr.write(`[serve.mjs] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`serve.mjs: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    model: null,
    host: "127.0.0.1",
    port: 0,
    threads: 1,
    ctx: 2048,
    alias: "qwen2.5-coder-0.5b",
    parallel: 1,
    maxBodyBytes: 8 * 1024 * 1024,
  };
  const ints = { port: "port", threads: "threads", ctx: "ctx", parallel: "parallel", "max-body-bytes": "maxBodyBytes" };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    }
    let key;
    let value;
    if (arg.startsWith("--") && arg.includes("=")) {
      key = arg.slice(2, arg.indexOf("="));
      value = arg.slice(arg.indexOf("=") + 1);
    } else if (arg.startsWith("--")) {
      key = arg.slice(2);
      value = argv[i + 1];
      i += 1;
      if (value === undefined) fail(`missing value for --${key}`);
    } else {
      fail(`unexpected argument ${JSON.stringify(arg)}`);
    }
    if (key === "model" || key === "host" || key === "alias") {
      opts[key] = value;
    } else if (key in ints) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(`--${key} needs a non-negative integer, got ${JSON.stringify(value)}`);
      opts[ints[key]] = n;
    } else {
      fail(`unknown option --${key}`);
    }
  }
  if (!opts.model) fail("--model PATH is required");
  if (opts.port > 65535) fail("--port must be at most 65535");
  if (opts.threads < 1) fail("--threads must be at least 1");
  if (opts.parallel < 1) fail("--parallel must be at least 1");
  if (opts.ctx < 64) fail("--ctx must be at least 64");
  return opts;
}

async function importNodeLlamaCpp() {
  const candidates = [];
  if (process.env.ANQUAN_NODE_MODULES) {
    candidates.push(path.join(process.env.ANQUAN_NODE_MODULES, "node-llama-cpp", "dist", "index.js"));
  }
  // The default place scripts/setup-model installs to.
  const cacheRoot = process.env.ANQUAN_CACHE_DIR || path.join(os.homedir(), ".cache", "anquan");
  candidates.push(path.join(cacheRoot, `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`, "node_modules", "node-llama-cpp", "dist", "index.js"));
  candidates.push(path.join(path.dirname(fileURLToPath(import.meta.url)), "node_modules", "node-llama-cpp", "dist", "index.js"));
  for (const candidate of candidates) {
    try {
      return await import(pathToFileURL(candidate).href);
    } catch (err) {
      if (err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    }
  }
  try {
    return await import("node-llama-cpp");
  } catch {
    fail(
      `cannot find node-llama-cpp ${NODE_LLAMA_CPP_VERSION}; run scripts/setup-model and pass its ANQUAN_NODE_MODULES ` +
        `in the environment (looked in: ${candidates.join(", ")})`,
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// OpenAI-shaped responses

class HttpError extends Error {
  constructor(status, message, { type = "invalid_request_error", code = null, param = null } = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }
}

function sendJson(res, status, body) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": data.length });
  res.end(data);
}

function sendError(res, err) {
  const status = err instanceof HttpError ? err.status : 500;
  const body = {
    error: {
      message: err instanceof HttpError ? err.message : `internal error: ${err?.message ?? String(err)}`,
      type: err instanceof HttpError ? err.type : "server_error",
      param: err instanceof HttpError ? err.param : null,
      code: err instanceof HttpError ? err.code : null,
    },
  };
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  sendJson(res, status, body);
}

function readBody(req, res, limit) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      // Answer 413, then drop the connection rather than read the rest of the body.
      res.setHeader("connection", "close");
      res.once("finish", () => req.destroy());
      reject(new HttpError(413, `request body larger than ${limit} bytes`));
    };
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      tooLarge();
      return;
    }
    const chunks = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Request validation

function textOf(content, index) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    let text = "";
    for (const part of content) {
      if (part && part.type === "text" && typeof part.text === "string") {
        text += part.text;
      } else {
        throw new HttpError(400, `messages[${index}].content: only text parts are supported`, {
          param: `messages[${index}].content`,
        });
      }
    }
    return text;
  }
  if (content === null || content === undefined) return "";
  throw new HttpError(400, `messages[${index}].content must be a string or an array of text parts`, {
    param: `messages[${index}].content`,
  });
}

function parseChatRequest(body, ctxSize) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HttpError(400, "messages must be a non-empty array", { param: "messages" });
  }
  const history = [];
  messages.forEach((message, index) => {
    if (message === null || typeof message !== "object") {
      throw new HttpError(400, `messages[${index}] must be an object`, { param: `messages[${index}]` });
    }
    const text = textOf(message.content, index);
    switch (message.role) {
      case "system":
      case "developer":
        history.push({ type: "system", text });
        break;
      case "user":
        history.push({ type: "user", text });
        break;
      case "assistant":
        history.push({ type: "model", response: [text] });
        break;
      default:
        throw new HttpError(400, `messages[${index}].role must be system, user or assistant`, {
          param: `messages[${index}].role`,
        });
    }
  });
  if (history[history.length - 1].type === "model") {
    throw new HttpError(400, "the last message must not be from the assistant", { param: "messages" });
  }
  history.push({ type: "model", response: [] });

  const number = (name, { min = -Infinity, max = Infinity, integer = false } = {}) => {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw new HttpError(400, `${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}]`, {
        param: name,
      });
    }
    return v;
  };
  const maxTokens = number("max_tokens", { min: 1, max: ctxSize, integer: true }) ??
    number("max_completion_tokens", { min: 1, max: ctxSize, integer: true });
  const temperature = number("temperature", { min: 0, max: 2 }) ?? 1;
  const topP = number("top_p", { min: 0, max: 1 });
  const seed = number("seed", { integer: true });
  number("n", { min: 1, max: 1, integer: true }); // only one choice is supported
  let stop = body.stop ?? [];
  if (typeof stop === "string") stop = [stop];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== "string" || s.length === 0) || stop.length > 16) {
    throw new HttpError(400, "stop must be a string or an array of up to 16 non-empty strings", { param: "stop" });
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") {
    throw new HttpError(400, "stream must be a boolean", { param: "stream" });
  }
  const includeUsage = Boolean(body.stream_options && body.stream_options.include_usage);
  return {
    history,
    maxTokens,
    temperature,
    topP,
    seed,
    stop,
    stream: body.stream === true,
    includeUsage,
  };
}

// ---------------------------------------------------------------------------------------------
// A FIFO pool of context sequences: requests beyond --parallel wait their turn.

class SequencePool {
  constructor(sequences) {
    this.free = [...sequences];
    this.waiters = [];
  }

  acquire(signal) {
    if (signal.aborted) return Promise.reject(signal.reason);
    const free = this.free.shift();
    if (free) return Promise.resolve(free);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      waiter.resolve = (seq) => {
        signal.removeEventListener("abort", onAbort);
        resolve(seq);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence) {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(sequence);
    else this.free.push(sequence);
  }

  get queued() {
    return this.waiters.length;
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.model)) {
    process.stderr.write(`serve.mjs: no model file at ${opts.model}; run scripts/setup-model\n`);
    process.exit(1);
  }
  // Exit 0 on SIGTERM/SIGINT from the start, also while the model is loading.
  let onSignal = (signal) => {
    log(`${signal} during start-up: exiting`);
    process.exit(0);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  const started = performance.now();
  const startedAt = Math.floor(Date.now() / 1000);
  const nlc = await importNodeLlamaCpp();
  const { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } = nlc;

  const llama = await getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    maxThreads: opts.threads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${String(message).trimEnd()}\n`),
  });
  const model = await llama.loadModel({ modelPath: path.resolve(opts.model), gpuLayers: 0 });
  // The chat template that ships inside the GGUF, rendered by node-llama-cpp's Jinja engine.
  const chatWrapper = resolveChatWrapper(model, { type: "jinjaTemplate" }) ?? resolveChatWrapper(model);
  const context = await model.createContext({
    contextSize: opts.ctx,
    sequences: opts.parallel,
    threads: opts.threads,
  });
  const sequences = [];
  for (let i = 0; i < opts.parallel; i += 1) sequences.push(context.getSequence());
  const pool = new SequencePool(sequences);
  const ctxSize = context.contextSize;
  log(
    `loaded ${opts.model} in ${Math.round(performance.now() - started)} ms ` +
      `(chat template: ${chatWrapper.wrapperName}, ctx ${ctxSize} per sequence, ` +
      `${opts.parallel} sequence(s), ${opts.threads} thread(s))`,
  );

  const inflight = new Set();
  let nextId = 0;

  async function chatCompletion(req, res) {
    const raw = await readBody(req, res, opts.maxBodyBytes);
    let body;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      throw new HttpError(400, `request body is not valid JSON: ${err.message}`);
    }
    const r = parseChatRequest(body, ctxSize);
    const id = `chatcmpl-${randomBytes(12).toString("hex")}`;
    const created = Math.floor(Date.now() / 1000);
    const reqNo = (nextId += 1);

    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort(new Error("client disconnected"));
    };
    res.on("close", onClose);
    inflight.add(abort);

    let sequence;
    try {
      sequence = await pool.acquire(abort.signal);
    } catch (err) {
      inflight.delete(abort);
      res.off("close", onClose);
      if (!abort.signal.aborted) throw err;
      log(`#${reqNo} aborted while queued`);
      if (!res.writableEnded) res.end();
      return;
    }
    const t0 = performance.now();
    let chat;
    let completionTokens = 0;
    let firstTokenMs = null;
    try {
      // Fresh state for every request: no KV reuse between requests, so identical greedy
      // requests give identical answers whatever came before.
      await sequence.clearHistory();
      const state = chatWrapper.generateContextState({ chatHistory: r.history });
      const promptTokens = state.contextText.tokenize(model.tokenizer).length;
      if (promptTokens >= ctxSize) {
        throw new HttpError(
          400,
          `the messages take ${promptTokens} tokens; this server's context is ${ctxSize} tokens`,
          { code: "context_length_exceeded", param: "messages" },
        );
      }
      const room = ctxSize - promptTokens;
      const maxTokens = Math.min(r.maxTokens ?? room, room);

      const streamChunk = (delta, finishReason = null) => {
        const chunk = {
          id,
          object: "chat.completion.chunk",
          created,
          model: opts.alias,
          choices: [{ index: 0, delta, finish_reason: finishReason }],
        };
        if (r.includeUsage) chunk.usage = null;
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      };
      if (r.stream) {
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          connection: "keep-alive",
        });
        res.flushHeaders();
        streamChunk({ role: "assistant" });
      }

      chat = new LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
      const result = await chat.generateResponse(r.history, {
        maxTokens,
        temperature: r.temperature,
        topP: r.topP,
        seed: r.seed,
        customStopTriggers: r.stop.length > 0 ? r.stop : undefined,
        signal: abort.signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => {
          if (firstTokenMs === null) firstTokenMs = performance.now() - t0;
          completionTokens += tokens.length;
        },
        onTextChunk: r.stream
          ? (text) => {
              if (text.length > 0 && !res.destroyed && !res.writableEnded) streamChunk({ content: text });
            }
          : undefined,
      });
      const finishReason = result.metadata.stopReason === "maxTokens" ? "length" : "stop";
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
      const totalMs = performance.now() - t0;
      log(
        `#${reqNo} ${abort.signal.aborted ? "aborted" : finishReason} prompt=${promptTokens} ` +
          `completion=${completionTokens} first_token_ms=${firstTokenMs === null ? "-" : Math.round(firstTokenMs)} ` +
          `total_ms=${Math.round(totalMs)} stream=${r.stream} queued=${pool.queued}`,
      );
      if (abort.signal.aborted) {
        if (!res.writableEnded) res.end();
        return;
      }
      if (r.stream) {
        streamChunk({}, finishReason);
        if (r.includeUsage) {
          res.write(
            `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: opts.alias, choices: [], usage })}\n\n`,
          );
        }
        res.end("data: [DONE]\n\n");
      } else {
        sendJson(res, 200, {
          id,
          object: "chat.completion",
          created,
          model: opts.alias,
          choices: [
            { index: 0, message: { role: "assistant", content: result.response }, finish_reason: finishReason },
          ],
          usage,
        });
      }
    } catch (err) {
      if (abort.signal.aborted) {
        log(`#${reqNo} aborted (${abort.signal.reason?.message ?? "aborted"}) after ${completionTokens} token(s)`);
        if (!res.writableEnded) res.end();
        return;
      }
      throw err;
    } finally {
      chat?.dispose({ disposeSequence: false });
      inflight.delete(abort);
      res.off("close", onClose);
      pool.release(sequence);
    }
  }

  const server = http.createServer({ requestTimeout: 0, headersTimeout: MAX_HEADER_WAIT_MS }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${url.pathname.replace(/\/+$/, "") || "/"}`;
    const handle = async () => {
      switch (route) {
        case "GET /health":
          sendJson(res, 200, { status: "ok" });
          return;
        case "GET /v1/models":
          sendJson(res, 200, {
            object: "list",
            data: [{ id: opts.alias, object: "model", created: startedAt, owned_by: "anquan-testkit" }],
          });
          return;
        case "POST /v1/chat/completions":
          await chatCompletion(req, res);
          return;
        default:
          if (["/health", "/v1/models", "/v1/chat/completions"].includes(url.pathname)) {
            throw new HttpError(405, `method ${req.method} not allowed on ${url.pathname}`);
          }
          throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
      }
    };
    handle().catch((err) => {
      if (!(err instanceof HttpError)) log(`error on ${route}: ${err?.stack ?? err}`);
      sendError(res, err);
    });
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    for (const abort of inflight) abort.abort(new Error("server shutting down"));
    server.close();
    server.closeAllConnections();
    // The native side needs no orderly teardown to exit; do not let it delay the exit.
    setTimeout(() => process.exit(0), 200).unref();
    context
      .dispose()
      .then(() => model.dispose())
      .then(() => llama.dispose())
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  onSignal = stop;

  server.on("error", (err) => {
    process.stderr.write(`serve.mjs: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
    process.stdout.write(`${JSON.stringify({ event: "listening", url: `http://${host}:${port}`, model: opts.alias })}\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`serve.mjs: ${err?.stack ?? err}\n`);
  process.exit(1);
});
