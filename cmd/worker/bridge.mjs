// The byte bridge between the entry module (entry.mjs) and the Go program
// (edge/workers_js.go): how a request reaches Go and its answer comes back.
//
// Every JavaScript object Go receives stays reachable from the Go runtime's
// value table until a Go garbage collection has run its finalizer, however
// short its use. Handing Go each request as fresh strings and arrays (and
// taking each answer as a fresh Uint8Array) kept every request's objects
// alive until the next collection, megabytes of JavaScript heap that the
// isolate's 128 MB also has to hold. So requests and answers cross through
// one long-lived byte buffer, binding.io, and the calls carry numbers only:
//
//   serve(id, n)        JavaScript → Go: binding.io[0:n] holds a request
//                       (below); Go copies it before returning, and returns
//                       null, or a string saying why it cannot take it.
//   grow(n)             Go → JavaScript: make binding.io at least n bytes.
//   done(id, status, n) Go → JavaScript: binding.io[0:n] holds the answer
//                       to request id; it is read before done returns.
//
// A request is, with u32 a little-endian uint32 and str a u32 byte length
// then that many UTF-8 bytes:
//
//   str method, str url, u32 header count H, H × (str name, str value),
//   u32 body length (0xFFFFFFFF: no body), the body's bytes.
//
// An answer is: u32 header count H, H × (str name, str value), then the
// body's bytes to the end.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// IO_START is binding.io's size to begin with: it holds any recommend
// request and answer; larger ones grow it (it never shrinks).
const IO_START = 64 << 10;

const NO_BODY = 0xffffffff;

// newBinding returns the object the Go program serves through: the entry
// module puts it in globalThis.context.binding before running Go, which
// adds serve().
export function newBinding() {
  const b = { io: new Uint8Array(IO_START), next: 1, pending: new Map() };
  b.grow = (n) => grow(b, n);
  b.done = (id, status, n) => {
    const answer = b.pending.get(id);
    if (answer === undefined) return; // given up on (timed out)
    b.pending.delete(id);
    let out;
    try {
      out = readAnswer(b.io, n);
    } catch (err) {
      answer(err);
      return;
    }
    answer(null, status, out);
  };
  return b;
}

// request hands one request to the Go program. onAnswer(null, status,
// {headers, body}) is called once, when Go answers: headers is a flat array
// [name, value, ...], body a Uint8Array; onAnswer(err) if the answer could
// not be read. It returns the request's id (for
// forget), or throws if the program refuses the call.
export function request(b, method, url, headers, body, onAnswer) {
  const n = writeRequest(b, method, url, headers, body);
  const id = b.next++;
  b.pending.set(id, onAnswer);
  const usage = b.serve(id, n);
  if (usage !== null && usage !== undefined) {
    b.pending.delete(id);
    throw new Error(String(usage));
  }
  return id;
}

// forget drops a request whose answer is no longer wanted.
export function forget(b, id) {
  b.pending.delete(id);
}

function grow(b, n) {
  if (b.io.byteLength >= n) return;
  let size = b.io.byteLength;
  while (size < n) size *= 2;
  b.io = new Uint8Array(size);
}

// writeRequest writes a request into b.io (growing it first if it might
// not fit) and returns its length.
function writeRequest(b, method, url, headers, body) {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  let need = 16 + 3 * (method.length + url.length) + (body === null ? 0 : body.byteLength);
  for (const s of headers) need += 4 + 3 * s.length;
  grow(b, need);
  const io = b.io;
  const view = new DataView(io.buffer, io.byteOffset, io.byteLength);
  let at = 0;
  const str = (s) => {
    const { written } = encoder.encodeInto(s, io.subarray(at + 4));
    view.setUint32(at, written, true);
    at += 4 + written;
  };
  str(method);
  str(url);
  view.setUint32(at, headers.length >> 1, true);
  at += 4;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    str(headers[i]);
    str(headers[i + 1]);
  }
  if (body === null) {
    view.setUint32(at, NO_BODY, true);
    return at + 4;
  }
  view.setUint32(at, body.byteLength, true);
  io.set(body, at + 4);
  return at + 4 + body.byteLength;
}

// readAnswer reads an answer of n bytes from io; the body is a copy.
function readAnswer(io, n) {
  if (n < 4 || n > io.byteLength) throw new Error(`aisle bridge: answer of ${n} bytes in a ${io.byteLength}-byte buffer`);
  const view = new DataView(io.buffer, io.byteOffset, n);
  const count = view.getUint32(0, true);
  let at = 4;
  const headers = [];
  for (let i = 0; i < 2 * count; i++) {
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > n) throw new Error("aisle bridge: answer headers run past its end");
    headers.push(decoder.decode(io.subarray(at, at + len)));
    at += len;
  }
  return { headers, body: io.slice(at, n) };
}
