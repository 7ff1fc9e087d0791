// dnslinkd's batched UDP transport (Node-API addon): one non-blocking socket (IPv4 or IPv6; bound
// here, or a duplicate of a --workers process's share of its primary's socket) read with recvmmsg
// and answered with sendmmsg, driven by libuv (uv_poll on the fd) so it shares Node's event loop.
// It only moves datagrams: the JS side (src/listeners/udp-batched.ts) decides every answer. It
// never throws out of the event loop: a socket error or an exception from JS stops the socket and
// is reported to JS's onFault.
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// A received datagram fits whole in its slot (the largest UDP payload); an answer larger than an
// output slot is sent by JS with sendTo.
static const int IN_SLOT = 65536;
static const int OUT_SLOT = 4096;
static const int TEXT_SLOT = 48;              // INET6_ADDRSTRLEN (46) rounded up
static const int ADDR_SLOT = 28;              // sizeof(sockaddr_in6)
static const int IN_META = 4;                 // per datagram: length, address text length (-1: the previous datagram's), sockaddr length, offset in `in`
static const int OUT_META = 2;                // per answer: length, index of the datagram it answers
static const int SEND_TRIES = 4;

struct BatchSocket {
  int fd = -1;
  int batch = 0;
  bool polling = false;
  int injectedErrno = 0;  // a test's fault: the next read fails with it
  uv_poll_t poll;
  napi_env env = nullptr;
  napi_ref onBatch = nullptr, onFault = nullptr;
  napi_async_context context = nullptr;
  uint8_t *in = nullptr, *out = nullptr, *text = nullptr, *addr = nullptr;
  int32_t *inMeta = nullptr, *outMeta = nullptr;
  napi_ref buffers[6] = {};
  mmsghdr *rmsgs = nullptr, *smsgs = nullptr;
  iovec *riov = nullptr, *siov = nullptr;
  sockaddr_in6 *raddr = nullptr;
  double batches = 0, datagrams = 0, sendDropped = 0;
  char lastText[TEXT_SLOT] = {0};  // the address of the datagram before (JS reuses its string)
};

#define CHECK(call)                                               \
  do {                                                            \
    if ((call) != napi_ok) {                                      \
      napi_throw_error(env, "UDP_BATCH_NAPI", "napi call failed: " #call); \
      return nullptr;                                             \
    }                                                             \
  } while (0)

/** An error the destination causes (one answer is lost, as node:dgram logs and goes on), not the socket. */
static bool perDestinationError(int err) {
  return err == EPERM || err == EACCES || err == ENETUNREACH || err == EHOSTUNREACH || err == EINVAL || err == EAFNOSUPPORT ||
         err == EMSGSIZE || err == ECONNREFUSED || err == EDESTADDRREQ || err == EADDRNOTAVAIL;
}

static void stopPolling(BatchSocket *s) {
  if (s->polling) uv_poll_stop(&s->poll);
  s->polling = false;
}

/** Stops reading and tells JS why (`onFault(code, syscall)`); JS closes the socket and falls back. */
static void fault(BatchSocket *s, const char *code, const char *syscall) {
  stopPolling(s);
  napi_env env = s->env;
  napi_value fn, recv, argv[2], result;
  if (napi_get_reference_value(env, s->onFault, &fn) != napi_ok || fn == nullptr) return;
  napi_get_global(env, &recv);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &argv[1]);
  if (napi_make_callback(env, s->context, recv, fn, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
    }
  }
}

/** sendmmsg the first `count` output slots. Returns 0, or the errno that makes the socket unusable. */
static int sendSlots(BatchSocket *s, int count) {
  for (int i = 0; i < count; i++) {
    int len = s->outMeta[i * OUT_META];
    int from = s->outMeta[i * OUT_META + 1];
    if (len < 0 || len > OUT_SLOT || from < 0 || from >= s->batch) len = 0, from = 0;
    s->siov[i].iov_base = s->out + (size_t)i * OUT_SLOT;
    s->siov[i].iov_len = (size_t)len;
    memset(&s->smsgs[i].msg_hdr, 0, sizeof(msghdr));
    s->smsgs[i].msg_hdr.msg_iov = &s->siov[i];
    s->smsgs[i].msg_hdr.msg_iovlen = 1;
    s->smsgs[i].msg_hdr.msg_name = &s->raddr[from];
    s->smsgs[i].msg_hdr.msg_namelen = s->rmsgs[from].msg_hdr.msg_namelen;
  }
  int sent = 0, tries = 0;
  while (sent < count) {
    int n = sendmmsg(s->fd, s->smsgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += n;
      continue;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (++tries < SEND_TRIES) continue;
      s->sendDropped += count - sent;  // the send buffer stays full: these answers are lost, as UDP may
      return 0;
    }
    if (perDestinationError(err)) {
      s->sendDropped++;
      sent++;  // the message that failed is skipped
      continue;
    }
    return err;
  }
  return 0;
}

static void onReadable(uv_poll_t *handle, int status, int events) {
  BatchSocket *s = static_cast<BatchSocket *>(handle->data);
  if (s->fd < 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (status < 0) {
    fault(s, uv_err_name(status), "poll");
    napi_close_handle_scope(env, scope);
    return;
  }
  if (!(events & UV_READABLE)) {
    napi_close_handle_scope(env, scope);
    return;
  }
  // A few batches per wake-up, then back to the loop (timers, TCP, HTTP get their turn).
  for (int round = 0; round < 8 && s->fd >= 0; round++) {
    for (int i = 0; i < s->batch; i++) {
      s->riov[i].iov_base = s->in + (size_t)i * IN_SLOT;
      s->riov[i].iov_len = IN_SLOT;
      memset(&s->rmsgs[i].msg_hdr, 0, sizeof(msghdr));
      s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsgs[i].msg_hdr.msg_iovlen = 1;
      s->rmsgs[i].msg_hdr.msg_name = &s->raddr[i];
      s->rmsgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
    }
    int n;
    if (s->injectedErrno) {
      errno = s->injectedErrno;
      s->injectedErrno = 0;
      n = -1;
    } else {
      n = recvmmsg(s->fd, s->rmsgs, (unsigned)s->batch, MSG_DONTWAIT, nullptr);
    }
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
      fault(s, uv_err_name(-err), "recvmmsg");
      break;
    }
    if (n == 0) break;
    size_t packed = 0;
    for (int i = 0; i < n; i++) {
      sockaddr *sa = reinterpret_cast<sockaddr *>(&s->raddr[i]);
      char *text = reinterpret_cast<char *>(s->text + (size_t)i * TEXT_SLOT);
      text[0] = 0;
      const void *ip = sa->sa_family == AF_INET6 ? (const void *)&s->raddr[i].sin6_addr : (const void *)&reinterpret_cast<sockaddr_in *>(sa)->sin_addr;
      inet_ntop(sa->sa_family, ip, text, TEXT_SLOT);
      bool same = strcmp(text, s->lastText) == 0;
      if (!same) memcpy(s->lastText, text, TEXT_SLOT);
      s->inMeta[i * IN_META] = (int32_t)s->rmsgs[i].msg_len;
      s->inMeta[i * IN_META + 1] = same ? -1 : (int32_t)strlen(text);
      s->inMeta[i * IN_META + 2] = (int32_t)s->rmsgs[i].msg_hdr.msg_namelen;
      // The datagrams packed one after the other from the start of `in`, for one copy per batch in JS.
      if ((size_t)i * IN_SLOT != packed) memmove(s->in + packed, s->in + (size_t)i * IN_SLOT, s->rmsgs[i].msg_len);
      s->inMeta[i * IN_META + 3] = (int32_t)packed;
      packed += s->rmsgs[i].msg_len;
      memcpy(s->addr + (size_t)i * ADDR_SLOT, &s->raddr[i], ADDR_SLOT);
    }
    s->batches++;
    s->datagrams += n;
    napi_value fn, recv, argv[1], result;
    napi_get_reference_value(env, s->onBatch, &fn);
    napi_get_global(env, &recv);
    napi_create_int32(env, n, &argv[0]);
    // make_callback: promise reactions run after it, as after any libuv callback.
    if (napi_make_callback(env, s->context, recv, fn, 1, argv, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
      }
      if (s->fd >= 0) fault(s, "EJSCALLBACK", "onBatch");
      break;
    }
    if (s->fd < 0) break;  // closed from JS meanwhile
    int32_t answers = 0;
    if (napi_get_value_int32(env, result, &answers) == napi_ok && answers > 0) {
      int err = sendSlots(s, answers > s->batch ? s->batch : answers);
      if (err) {
        fault(s, uv_err_name(-err), "sendmmsg");
        break;
      }
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

static napi_value throwCoded(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return nullptr;
}

/** Polls `fd` (bound, non-blocking) and returns its JS side; the socket is owned from now on. */
static napi_value startSocket(napi_env env, int fd, int batch, napi_value onBatch, napi_value onFault) {
  sockaddr_storage bound;
  socklen_t boundLen = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &boundLen);
  int boundPort = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
  int granted = 0;
  socklen_t grantedLen = sizeof(granted);
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &grantedLen);

  BatchSocket *s = new BatchSocket();
  s->env = env;
  s->batch = batch;
  s->fd = fd;
  s->rmsgs = new mmsghdr[batch];
  s->smsgs = new mmsghdr[batch];
  s->riov = new iovec[batch];
  s->siov = new iovec[batch];
  s->raddr = new sockaddr_in6[batch];
  CHECK(napi_create_reference(env, onBatch, 1, &s->onBatch));
  CHECK(napi_create_reference(env, onFault, 1, &s->onFault));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "dnslinkd-udp-batch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, nullptr, name, &s->context));

  napi_value result, handle, value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_external(env, s, nullptr, nullptr, &handle));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  CHECK(napi_set_named_property(env, result, "in", arrayBuffer(env, (size_t)batch * IN_SLOT, (void **)&s->in, &s->buffers[0])));
  CHECK(napi_set_named_property(env, result, "out", arrayBuffer(env, (size_t)batch * OUT_SLOT, (void **)&s->out, &s->buffers[1])));
  CHECK(napi_set_named_property(env, result, "text", arrayBuffer(env, (size_t)batch * TEXT_SLOT, (void **)&s->text, &s->buffers[2])));
  CHECK(napi_set_named_property(env, result, "addr", arrayBuffer(env, (size_t)batch * ADDR_SLOT, (void **)&s->addr, &s->buffers[3])));
  CHECK(napi_set_named_property(env, result, "inMeta", arrayBuffer(env, (size_t)batch * IN_META * 4, (void **)&s->inMeta, &s->buffers[4])));
  CHECK(napi_set_named_property(env, result, "outMeta", arrayBuffer(env, (size_t)batch * OUT_META * 4, (void **)&s->outMeta, &s->buffers[5])));
  const int32_t numbers[] = {boundPort, granted, IN_SLOT, OUT_SLOT, TEXT_SLOT, ADDR_SLOT};
  const char *names[] = {"port", "recvBufferSize", "inSlot", "outSlot", "textSlot", "addrSlot"};
  for (int i = 0; i < 6; i++) {
    CHECK(napi_create_int32(env, numbers[i], &value));
    CHECK(napi_set_named_property(env, result, names[i], value));
  }

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, s->fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, onReadable);
  s->polling = true;
  return result;
}


/**
 * open(host, port, batch, reusePort, recvBufferSize, onBatch(count) -> answers, onFault(code, syscall))
 *   -> { handle, port, recvBufferSize, in, out, text, addr, inMeta, outMeta, inSlot, outSlot, textSlot, addrSlot }
 * Throws an Error whose code is the errno name (EADDRINUSE, EACCES...) when the socket cannot be bound.
 */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 7) return throwCoded(env, "UDP_BATCH_ARGS", "open needs 7 arguments");
  char host[64];
  size_t hostLen = 0;
  int32_t port = 0, batch = 0, rcvbuf = 0;
  bool reusePort = false;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof(host), &hostLen));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_int32(env, argv[2], &batch));
  CHECK(napi_get_value_bool(env, argv[3], &reusePort));
  CHECK(napi_get_value_int32(env, argv[4], &rcvbuf));
  if (batch < 1 || batch > 256) return throwCoded(env, "UDP_BATCH_ARGS", "batch must be 1..256");
  if (port < 0 || port > 65535) return throwCoded(env, "UDP_BATCH_ARGS", "port must be 0..65535");

  sockaddr_storage bindAddr;
  socklen_t bindLen;
  memset(&bindAddr, 0, sizeof(bindAddr));
  int family;
  sockaddr_in6 *a6 = reinterpret_cast<sockaddr_in6 *>(&bindAddr);
  sockaddr_in *a4 = reinterpret_cast<sockaddr_in *>(&bindAddr);
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    family = AF_INET;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    bindLen = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    bindLen = sizeof(sockaddr_in6);
  } else {
    return throwCoded(env, "EINVAL", "the address is not an IPv4 or IPv6 literal");
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throwCoded(env, uv_err_name(-errno), strerror(errno));
  int one = 1;
  // IPV6_V6ONLY is left at the system's default, as node:dgram's udp6 socket leaves it.
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int err = errno;
    close(fd);
    return throwCoded(env, uv_err_name(-err), strerror(err));
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  if (bind(fd, reinterpret_cast<sockaddr *>(&bindAddr), bindLen) != 0) {
    int err = errno;
    close(fd);
    return throwCoded(env, uv_err_name(-err), strerror(err));
  }
  return startSocket(env, fd, batch, argv[5], argv[6]);
}

/**
 * adopt(fd, batch, onBatch, onFault) -> as open: polls a duplicate of a bound UDP socket's fd
 * (a --workers process's share of the socket its primary holds, as node:cluster shares it).
 */
static napi_value Adopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) return throwCoded(env, "UDP_BATCH_ARGS", "adopt needs 4 arguments");
  int32_t from = -1, batch = 0;
  CHECK(napi_get_value_int32(env, argv[0], &from));
  CHECK(napi_get_value_int32(env, argv[1], &batch));
  if (batch < 1 || batch > 256) return throwCoded(env, "UDP_BATCH_ARGS", "batch must be 1..256");
  int fd = fcntl(from, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return throwCoded(env, uv_err_name(-errno), strerror(errno));
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  return startSocket(env, fd, batch, argv[2], argv[3]);
}

static BatchSocket *unwrap(napi_env env, napi_value v) {
  void *p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok) return nullptr;
  return static_cast<BatchSocket *>(p);
}

/**
 * sendTo(handle, bytes, sockaddr): one sendto (a late answer, or one larger than an output slot);
 * `sockaddr` is the raw address copied from `addr`. Returns 0 or an errno name when it was not sent.
 */
static napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  void *data, *to;
  size_t len, toLen;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &toLen, &to, &ab, &offset));
  const char *outcome = nullptr;
  if (!s || s->fd < 0) {
    outcome = "EBADF";
  } else {
    for (int tries = 0; tries < SEND_TRIES; tries++) {
      if (sendto(s->fd, data, len, MSG_DONTWAIT, static_cast<sockaddr *>(to), (socklen_t)toLen) >= 0) break;
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        if (tries + 1 < SEND_TRIES) continue;
      }
      s->sendDropped++;
      outcome = uv_err_name(-errno);
      break;
    }
  }
  if (outcome) CHECK(napi_create_string_utf8(env, outcome, NAPI_AUTO_LENGTH, &result));
  else CHECK(napi_create_int32(env, 0, &result));
  return result;
}

/** stats(handle) -> [batches, datagrams, sendDropped] */
static napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], arr, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  CHECK(napi_create_array_with_length(env, 3, &arr));
  double values[3] = {s ? s->batches : 0, s ? s->datagrams : 0, s ? s->sendDropped : 0};
  for (uint32_t i = 0; i < 3; i++) {
    CHECK(napi_create_double(env, values[i], &v));
    CHECK(napi_set_element(env, arr, i, v));
  }
  return arr;
}

/** injectFault(handle, errno): the next read fails with that errno (tests of the fallback). */
static napi_value InjectFault(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t err = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  CHECK(napi_get_value_int32(env, argv[1], &err));
  if (s) s->injectedErrno = err;
  return nullptr;
}

static void freeSocket(uv_handle_t *handle) {
  BatchSocket *s = static_cast<BatchSocket *>(handle->data);
  delete[] s->rmsgs;
  delete[] s->smsgs;
  delete[] s->riov;
  delete[] s->siov;
  delete[] s->raddr;
  delete s;
}

/** close(handle): stops polling and closes the fd; later calls with the handle do nothing. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  BatchSocket *s = unwrap(env, argv[0]);
  if (!s || s->fd < 0) return nullptr;
  stopPolling(s);
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(env, s->onBatch);
  napi_delete_reference(env, s->onFault);
  s->onBatch = s->onFault = nullptr;
  for (napi_ref r : s->buffers) napi_delete_reference(env, r);
  napi_async_destroy(env, s->context);
  // The external keeps pointing at s after close: it is freed with the poll handle, so a late call
  // with the handle must not happen; JS drops its handle at close.
  uv_close(reinterpret_cast<uv_handle_t *>(&s->poll), freeSocket);
  return nullptr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adopt", nullptr, Adopt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sendTo", nullptr, SendTo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"injectFault", nullptr, InjectFault, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
