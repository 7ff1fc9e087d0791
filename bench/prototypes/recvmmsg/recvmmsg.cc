// Prototype (issue 11): a UDP socket read with recvmmsg and answered with sendmmsg, driven by
// libuv (uv_poll on the non-blocking fd). Each readable event reads up to `batch` datagrams into
// fixed 2048-byte slots of one ArrayBuffer, calls JS once with the count, and sends the answers JS
// wrote into the output slots with one sendmmsg. IPv4 only; not part of the product.
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int SLOT = 2048;
static const int META = 3;  // per slot: length, IPv4 address (network order), port

struct BatchSocket {
  int fd = -1;
  int batch = 0;
  uv_poll_t poll;
  napi_env env = nullptr;
  napi_ref onBatch = nullptr;
  napi_async_context context = nullptr;
  uint8_t *in = nullptr, *out = nullptr;
  int32_t *inMeta = nullptr, *outMeta = nullptr;
  napi_ref buffers[4] = {nullptr, nullptr, nullptr, nullptr};
  mmsghdr *rmsgs = nullptr, *smsgs = nullptr;
  iovec *riov = nullptr, *siov = nullptr;
  sockaddr_in *raddr = nullptr, *saddr = nullptr;
  double batches = 0, datagrams = 0, sendFailures = 0;
};

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, nullptr, "napi call failed: " #call);       \
      return nullptr;                                                   \
    }                                                                   \
  } while (0)

/** sendmmsg the first `count` output slots; returns how many went out (the rest are dropped). */
static int sendSlots(BatchSocket *s, int count) {
  for (int i = 0; i < count; i++) {
    s->siov[i].iov_base = s->out + (size_t)i * SLOT;
    s->siov[i].iov_len = (size_t)s->outMeta[i * META];
    memset(&s->saddr[i], 0, sizeof(sockaddr_in));
    s->saddr[i].sin_family = AF_INET;
    s->saddr[i].sin_addr.s_addr = (in_addr_t)s->outMeta[i * META + 1];
    s->saddr[i].sin_port = htons((uint16_t)s->outMeta[i * META + 2]);
    memset(&s->smsgs[i].msg_hdr, 0, sizeof(msghdr));
    s->smsgs[i].msg_hdr.msg_iov = &s->siov[i];
    s->smsgs[i].msg_hdr.msg_iovlen = 1;
    s->smsgs[i].msg_hdr.msg_name = &s->saddr[i];
    s->smsgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
  int sent = 0;
  for (int tries = 0; sent < count && tries < 4; tries++) {
    int n = sendmmsg(s->fd, s->smsgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
  }
  s->sendFailures += count - sent;
  return sent;
}

static void onReadable(uv_poll_t *handle, int status, int events) {
  BatchSocket *s = static_cast<BatchSocket *>(handle->data);
  if (status < 0 || !(events & UV_READABLE)) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  // Drain a few batches per wake-up, then yield to the loop.
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i < s->batch; i++) {
      s->riov[i].iov_base = s->in + (size_t)i * SLOT;
      s->riov[i].iov_len = SLOT;
      memset(&s->rmsgs[i].msg_hdr, 0, sizeof(msghdr));
      s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsgs[i].msg_hdr.msg_iovlen = 1;
      s->rmsgs[i].msg_hdr.msg_name = &s->raddr[i];
      s->rmsgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    int n = recvmmsg(s->fd, s->rmsgs, (unsigned)s->batch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      bool truncated = s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC;
      s->inMeta[i * META] = truncated ? 0 : (int32_t)s->rmsgs[i].msg_len;
      s->inMeta[i * META + 1] = (int32_t)s->raddr[i].sin_addr.s_addr;
      s->inMeta[i * META + 2] = ntohs(s->raddr[i].sin_port);
    }
    s->batches++;
    s->datagrams += n;
    napi_value fn, recv, argv[1], result;
    napi_get_reference_value(env, s->onBatch, &fn);
    napi_get_global(env, &recv);  // make_callback needs an object receiver
    napi_create_int32(env, n, &argv[0]);
    // make_callback: microtasks (promise reactions) run after it, as after any libuv callback.
    napi_status st = napi_make_callback(env, s->context, recv, fn, 1, argv, &result);
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
      break;
    }
    int32_t answers = 0;
    if (napi_get_value_int32(env, result, &answers) == napi_ok && answers > 0) {
      sendSlots(s, answers > s->batch ? s->batch : answers);
    }
    if (n < s->batch) break;
  }
  napi_close_handle_scope(env, scope);
}

static napi_value arrayBuffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value ab;
  if (napi_create_arraybuffer(env, bytes, data, &ab) != napi_ok) return nullptr;
  napi_create_reference(env, ab, 1, ref);
  return ab;
}

/** open(host, port, batch, onBatch) -> { handle, in, out, inMeta, outMeta, slot } */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char host[64];
  size_t hostLen = 0;
  int32_t port = 0, batch = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof(host), &hostLen));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_int32(env, argv[2], &batch));
  if (batch < 1 || batch > 1024) {
    napi_throw_range_error(env, nullptr, "batch must be 1..1024");
    return nullptr;
  }
  BatchSocket *s = new BatchSocket();
  s->env = env;
  s->batch = batch;
  s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rcvbuf = 4 * 1024 * 1024;
  setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (s->fd < 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1 || bind(s->fd, (sockaddr *)&addr, sizeof(addr)) != 0) {
    char msg[160];
    snprintf(msg, sizeof(msg), "cannot bind %s:%d: %s", host, port, strerror(errno));
    if (s->fd >= 0) close(s->fd);
    delete s;
    napi_throw_error(env, "EBIND", msg);
    return nullptr;
  }
  s->rmsgs = new mmsghdr[batch];
  s->smsgs = new mmsghdr[batch];
  s->riov = new iovec[batch];
  s->siov = new iovec[batch];
  s->raddr = new sockaddr_in[batch];
  s->saddr = new sockaddr_in[batch];
  CHECK(napi_create_reference(env, argv[3], 1, &s->onBatch));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "recvmmsg-batch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, nullptr, name, &s->context));

  napi_value result, handle, value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_external(env, s, nullptr, nullptr, &handle));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  CHECK(napi_set_named_property(env, result, "in", arrayBuffer(env, (size_t)batch * SLOT, (void **)&s->in, &s->buffers[0])));
  CHECK(napi_set_named_property(env, result, "out", arrayBuffer(env, (size_t)batch * SLOT, (void **)&s->out, &s->buffers[1])));
  CHECK(napi_set_named_property(env, result, "inMeta", arrayBuffer(env, (size_t)batch * META * 4, (void **)&s->inMeta, &s->buffers[2])));
  CHECK(napi_set_named_property(env, result, "outMeta", arrayBuffer(env, (size_t)batch * META * 4, (void **)&s->outMeta, &s->buffers[3])));
  CHECK(napi_create_int32(env, SLOT, &value));
  CHECK(napi_set_named_property(env, result, "slot", value));

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, s->fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, onReadable);
  return result;
}

static BatchSocket *unwrap(napi_env env, napi_value v) {
  void *p = nullptr;
  napi_get_value_external(env, v, &p);
  return static_cast<BatchSocket *>(p);
}

/** sendOne(handle, buffer, address(int32, network order), port): one sendto, for answers that came late. */
static napi_value SendOne(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  void *data;
  size_t len;
  int32_t address, port;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_value_int32(env, argv[2], &address));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  sockaddr_in to;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = (in_addr_t)address;
  to.sin_port = htons((uint16_t)port);
  if (sendto(s->fd, data, len, MSG_DONTWAIT, (sockaddr *)&to, sizeof(to)) < 0) s->sendFailures++;
  return nullptr;
}

/** stats(handle) -> [batches, datagrams, sendFailures] */
static napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], arr, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  CHECK(napi_create_array_with_length(env, 3, &arr));
  double values[3] = {s->batches, s->datagrams, s->sendFailures};
  for (uint32_t i = 0; i < 3; i++) {
    CHECK(napi_create_double(env, values[i], &v));
    CHECK(napi_set_element(env, arr, i, v));
  }
  return arr;
}

static void freeSocket(uv_handle_t *handle) {
  BatchSocket *s = static_cast<BatchSocket *>(handle->data);
  delete[] s->rmsgs;
  delete[] s->smsgs;
  delete[] s->riov;
  delete[] s->siov;
  delete[] s->raddr;
  delete[] s->saddr;
  delete s;
}

/** close(handle): stops polling, closes the fd; the handle must not be used afterwards. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  if (!s || s->fd < 0) return nullptr;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(env, s->onBatch);
  for (napi_ref r : s->buffers) napi_delete_reference(env, r);
  napi_async_destroy(env, s->context);
  uv_close((uv_handle_t *)&s->poll, freeSocket);
  return nullptr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sendOne", nullptr, SendOne, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
