/*
 * Swarmdrop's piece hasher kernel: SHA-1 of several equal-length pieces at once with the x86 SHA
 * extensions (Node-API addon, optional).
 *
 * Why: a single SHA-1 stream is bound by the latency of sha1rnds4, so OpenSSL (what node:crypto and
 * mktorrent use) reaches ~2.2 GB/s per core. Pieces are independent messages of the same length,
 * so three of them interleaved keep the SHA unit busy: ~4.9 GB/s per core measured on the CI
 * machines. Where the CPU lacks the SHA extensions, or this file is not built, the TypeScript side
 * falls back to node:crypto with identical results.
 *
 * sha1Pieces(data, pieceLength, count, lastLength, out): hashes `count` consecutive pieces of
 * `data` (each pieceLength bytes, the last one lastLength bytes) into out (count * 20 bytes).
 */
#include <node_api.h>
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  __m128i abcd, e0, e1, m[4], abcd_save, e0_save;
} lane_t;

#define GROUP(g, S)                                                                             \
  do {                                                                                          \
    __m128i cur_ = (S).m[(g) & 3];                                                              \
    if (((g) & 1) == 0) {                                                                       \
      (S).e0 = (g) == 0 ? _mm_add_epi32((S).e0, cur_) : _mm_sha1nexte_epu32((S).e0, cur_);      \
      (S).e1 = (S).abcd;                                                                        \
    } else {                                                                                    \
      (S).e1 = _mm_sha1nexte_epu32((S).e1, cur_);                                               \
      (S).e0 = (S).abcd;                                                                        \
    }                                                                                           \
    if ((g) >= 3 && (g) <= 18) (S).m[((g) + 1) & 3] = _mm_sha1msg2_epu32((S).m[((g) + 1) & 3], cur_); \
    (S).abcd = _mm_sha1rnds4_epu32((S).abcd, ((g) & 1) == 0 ? (S).e0 : (S).e1, (g) / 5);        \
    if ((g) >= 1 && (g) <= 16) (S).m[((g) + 3) & 3] = _mm_sha1msg1_epu32((S).m[((g) + 3) & 3], cur_); \
    if ((g) >= 2 && (g) <= 17) (S).m[((g) + 2) & 3] = _mm_xor_si128((S).m[((g) + 2) & 3], cur_); \
  } while (0)

/* One group of four rounds on every lane before the next group: the lanes' dependency chains
   are independent, so the core overlaps them. Constant lane indices (n is a constant once
   inlined) keep every lane's state in registers. */
#define ALL(g)                        \
  do {                                \
    GROUP(g, lanes[0]);               \
    if (n > 1) GROUP(g, lanes[1]);    \
    if (n > 2) GROUP(g, lanes[2]);    \
  } while (0)

static const uint32_t H0[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};

__attribute__((target("sha,sse4.1,ssse3"), always_inline)) static inline void
compress(lane_t *lanes, int n, const uint8_t *const *blocks, size_t count) {
  const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
  for (size_t b = 0; b < count; b++) {
    for (int i = 0; i < n; i++) {
      lane_t *s = &lanes[i];
      s->abcd_save = s->abcd;
      s->e0_save = s->e0;
      for (int k = 0; k < 4; k++) s->m[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks[i] + b * 64 + 16 * k)), mask);
    }
    ALL(0); ALL(1); ALL(2); ALL(3); ALL(4); ALL(5); ALL(6); ALL(7); ALL(8); ALL(9);
    ALL(10); ALL(11); ALL(12); ALL(13); ALL(14); ALL(15); ALL(16); ALL(17); ALL(18); ALL(19);
    for (int i = 0; i < n; i++) {
      lanes[i].e0 = _mm_sha1nexte_epu32(lanes[i].e0, lanes[i].e0_save);
      lanes[i].abcd = _mm_add_epi32(lanes[i].abcd, lanes[i].abcd_save);
    }
  }
}

/* n messages of the same length: full blocks in place, then the padded tail (one or two blocks). */
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) static inline void
sha1_lanes(int n, const uint8_t *const *msgs, size_t len, uint8_t *out) {
  lane_t lanes[3];
  for (int i = 0; i < n; i++) {
    lanes[i].abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)H0), 0x1B);
    lanes[i].e0 = _mm_set_epi32((int)H0[4], 0, 0, 0);
  }
  size_t full = len / 64;
  compress(lanes, n, msgs, full);
  size_t rest = len % 64;
  size_t tail_blocks = rest < 56 ? 1 : 2;
  uint8_t tails[3][128];
  const uint8_t *tail_ptrs[3];
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < n; i++) {
    memset(tails[i], 0, sizeof tails[i]);
    memcpy(tails[i], msgs[i] + full * 64, rest);
    tails[i][rest] = 0x80;
    for (int k = 0; k < 8; k++) tails[i][tail_blocks * 64 - 1 - k] = (uint8_t)(bits >> (8 * k));
    tail_ptrs[i] = tails[i];
  }
  compress(lanes, n, tail_ptrs, tail_blocks);
  for (int i = 0; i < n; i++) {
    uint32_t st[5];
    _mm_storeu_si128((__m128i *)st, _mm_shuffle_epi32(lanes[i].abcd, 0x1B));
    st[4] = (uint32_t)_mm_extract_epi32(lanes[i].e0, 3);
    for (int w = 0; w < 5; w++) {
      out[i * 20 + w * 4 + 0] = (uint8_t)(st[w] >> 24);
      out[i * 20 + w * 4 + 1] = (uint8_t)(st[w] >> 16);
      out[i * 20 + w * 4 + 2] = (uint8_t)(st[w] >> 8);
      out[i * 20 + w * 4 + 3] = (uint8_t)st[w];
    }
  }
}

/* Separate instantiations so each lane count is fully unrolled. */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha1_x1(const uint8_t *const *m, size_t len, uint8_t *out) { sha1_lanes(1, m, len, out); }
__attribute__((target("sha,sse4.1,ssse3"))) static void sha1_x2(const uint8_t *const *m, size_t len, uint8_t *out) { sha1_lanes(2, m, len, out); }
__attribute__((target("sha,sse4.1,ssse3"))) static void sha1_x3(const uint8_t *const *m, size_t len, uint8_t *out) { sha1_lanes(3, m, len, out); }

static int cpu_has_sha(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
  if (__get_cpuid_max(0, 0) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return ssse3 && sse41 && ((b >> 29) & 1);
}

static int bytes_arg(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) == napi_ok && type == napi_uint8_array;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value sha1_pieces(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) return throw_type(env, "sha1Pieces(data, pieceLength, count, lastLength, out)");
  uint8_t *data, *out;
  size_t data_len, out_len;
  int64_t piece_len, count, last_len;
  if (!bytes_arg(env, argv[0], &data, &data_len) || !bytes_arg(env, argv[4], &out, &out_len)) return throw_type(env, "data and out must be Uint8Arrays");
  if (napi_get_value_int64(env, argv[1], &piece_len) != napi_ok || napi_get_value_int64(env, argv[2], &count) != napi_ok ||
      napi_get_value_int64(env, argv[3], &last_len) != napi_ok)
    return throw_type(env, "pieceLength, count and lastLength must be numbers");
  if (piece_len <= 0 || count <= 0 || last_len <= 0 || last_len > piece_len ||
      (uint64_t)(count - 1) * (uint64_t)piece_len + (uint64_t)last_len > data_len || (uint64_t)count * 20 > out_len)
    return throw_type(env, "sha1Pieces: sizes do not fit the buffers");
  /* Full pieces three at a time, then what is left of them, then the (possibly short) last one. */
  int64_t full = last_len == piece_len ? count : count - 1;
  int64_t p = 0;
  for (; p + 3 <= full; p += 3) {
    const uint8_t *m[3] = {data + p * piece_len, data + (p + 1) * piece_len, data + (p + 2) * piece_len};
    sha1_x3(m, (size_t)piece_len, out + p * 20);
  }
  if (full - p == 2) {
    const uint8_t *m[2] = {data + p * piece_len, data + (p + 1) * piece_len};
    sha1_x2(m, (size_t)piece_len, out + p * 20);
    p += 2;
  } else if (full - p == 1) {
    const uint8_t *m[1] = {data + p * piece_len};
    sha1_x1(m, (size_t)piece_len, out + p * 20);
    p += 1;
  }
  if (p < count) {
    const uint8_t *m[1] = {data + p * piece_len};
    sha1_x1(m, (size_t)last_len, out + p * 20);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn, supported;
  napi_get_boolean(env, cpu_has_sha(), &supported);
  napi_set_named_property(env, exports, "supported", supported);
  napi_create_function(env, "sha1Pieces", NAPI_AUTO_LENGTH, sha1_pieces, NULL, &fn);
  napi_set_named_property(env, exports, "sha1Pieces", fn);
  return exports;
}
