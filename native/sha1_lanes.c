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
 * Where the CPU has no SHA extensions (Intel before Ice Lake: Skylake, Cascade Lake, Coffee Lake)
 * but has AVX2, eight pieces are hashed side by side in the 32-bit lanes of AVX2 registers
 * instead: OpenSSL there runs one stream at about 1.5-2 cycles per byte, eight lanes of plain
 * SHA-1 arithmetic cost about one.
 *
 * sha1Pieces(data, pieceLength, count, lastLength, out) / sha1PiecesAvx2(...): hash `count`
 * consecutive pieces of `data` (each pieceLength bytes, the last one lastLength bytes) into out
 * (count * 20 bytes).
 *
 * readFiles(paths, lengths, mtimes, out, offset): reads whole small files back to back into out,
 * checking each one's size and mtime after the read. From JavaScript each file costs four fs calls
 * and a Stats object; here it is four plain system calls. Returns -1, or the index of the first
 * file that could not be read or had changed (JavaScript then reads it again to report why).
 *
 * statPaths(paths, out): stat() (following links) of each NUL-separated path into out, five
 * numbers each: kind (1 file, 2 folder, 0 other, -1 failed), size, mtimeMs, ino, dev. The scan of a
 * folder of small files is mostly stat calls; from JavaScript each also builds a Stats object.
 *
 * listFolder(path): a folder's names and stats in one call (see list_folder).
 *
 * The hashing threads fed while a folder is scanned are in hash_stream.c; allocPiece, the
 * seeder's piece buffers, in piece_memory.c.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <dirent.h>

#ifdef __APPLE__
/* macOS names the nanosecond mtime differently. */
#define st_mtim st_mtimespec
#endif
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "sha1_lanes.h"

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


/* ---- Eight lanes in AVX2 registers, for CPUs without the SHA extensions. ---- */

#define AVX2_TARGET __attribute__((target("avx2")))
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi32((x), (n)), _mm256_srli_epi32((x), 32 - (n)))

/* r[i] holds eight words of message i; afterwards r[j] holds word j of all eight messages. */
AVX2_TARGET static inline void transpose8(__m256i *r) {
  __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

#define R8(F, K)                                                                               \
  do {                                                                                         \
    __m256i t_ = _mm256_add_epi32(_mm256_add_epi32(ROL(a, 5), (F)), _mm256_add_epi32(e, _mm256_add_epi32(K, w))); \
    e = d; d = c; c = ROL(b, 30); b = a; a = t_;                                               \
  } while (0)

AVX2_TARGET static void compress8(__m256i *h, const uint8_t *const *blocks, size_t count) {
  const __m256i bswap = _mm256_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
                                        12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  const __m256i k0 = _mm256_set1_epi32(0x5A827999), k1 = _mm256_set1_epi32(0x6ED9EBA1);
  const __m256i k2 = _mm256_set1_epi32((int)0x8F1BBCDC), k3 = _mm256_set1_epi32((int)0xCA62C1D6);
  for (size_t blk = 0; blk < count; blk++) {
    __m256i W[16];
    for (int half = 0; half < 2; half++) {
      for (int i = 0; i < 8; i++) W[half * 8 + i] = _mm256_loadu_si256((const __m256i *)(blocks[i] + blk * 64 + half * 32));
      transpose8(W + half * 8);
      for (int i = 0; i < 8; i++) W[half * 8 + i] = _mm256_shuffle_epi8(W[half * 8 + i], bswap);
    }
    __m256i a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
      __m256i w;
      if (t < 16) {
        w = W[t];
      } else {
        w = _mm256_xor_si256(_mm256_xor_si256(W[(t - 3) & 15], W[(t - 8) & 15]), _mm256_xor_si256(W[(t - 14) & 15], W[t & 15]));
        w = ROL(w, 1);
        W[t & 15] = w;
      }
      if (t < 20) R8(_mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d))), k0);
      else if (t < 40) R8(_mm256_xor_si256(_mm256_xor_si256(b, c), d), k1);
      else if (t < 60) R8(_mm256_or_si256(_mm256_and_si256(b, c), _mm256_and_si256(d, _mm256_or_si256(b, c))), k2);
      else R8(_mm256_xor_si256(_mm256_xor_si256(b, c), d), k3);
    }
    h[0] = _mm256_add_epi32(h[0], a);
    h[1] = _mm256_add_epi32(h[1], b);
    h[2] = _mm256_add_epi32(h[2], c);
    h[3] = _mm256_add_epi32(h[3], d);
    h[4] = _mm256_add_epi32(h[4], e);
  }
}

/* Eight messages of the same length (pointers may repeat to fill the lanes); digests of the
   first `used` go to out. */
AVX2_TARGET static void sha1_x8(const uint8_t *const *msgs, size_t len, int used, uint8_t *out) {
  __m256i h[5];
  for (int w = 0; w < 5; w++) h[w] = _mm256_set1_epi32((int)H0[w]);
  size_t full = len / 64;
  compress8(h, msgs, full);
  size_t rest = len % 64;
  size_t tail_blocks = rest < 56 ? 1 : 2;
  uint8_t tails[8][128];
  const uint8_t *tail_ptrs[8];
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) {
    memset(tails[i], 0, sizeof tails[i]);
    memcpy(tails[i], msgs[i] + full * 64, rest);
    tails[i][rest] = 0x80;
    for (int k = 0; k < 8; k++) tails[i][tail_blocks * 64 - 1 - k] = (uint8_t)(bits >> (8 * k));
    tail_ptrs[i] = tails[i];
  }
  compress8(h, tail_ptrs, tail_blocks);
  uint32_t st[5][8];
  for (int w = 0; w < 5; w++) _mm256_storeu_si256((__m256i *)st[w], h[w]);
  for (int i = 0; i < used; i++)
    for (int w = 0; w < 5; w++) {
      out[i * 20 + w * 4 + 0] = (uint8_t)(st[w][i] >> 24);
      out[i * 20 + w * 4 + 1] = (uint8_t)(st[w][i] >> 16);
      out[i * 20 + w * 4 + 2] = (uint8_t)(st[w][i] >> 8);
      out[i * 20 + w * 4 + 3] = (uint8_t)st[w][i];
    }
}

int cpu_has_avx2(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  /* The OS must save the YMM registers (OSXSAVE, then XCR0 bits 1 and 2). */
  if (!((c >> 27) & 1)) return 0;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6) != 6) return 0;
  if (__get_cpuid_max(0, 0) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 5) & 1;
}

int cpu_has_sha(void) {
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

typedef struct {
  uint8_t *data, *out;
  int64_t piece_len, count, last_len;
} pieces_args;

static int pieces_arg(napi_env env, napi_callback_info info, pieces_args *p) {
  size_t argc = 5, data_len, out_len;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) return throw_type(env, "sha1Pieces(data, pieceLength, count, lastLength, out)"), 0;
  if (!bytes_arg(env, argv[0], &p->data, &data_len) || !bytes_arg(env, argv[4], &p->out, &out_len)) return throw_type(env, "data and out must be Uint8Arrays"), 0;
  if (napi_get_value_int64(env, argv[1], &p->piece_len) != napi_ok || napi_get_value_int64(env, argv[2], &p->count) != napi_ok ||
      napi_get_value_int64(env, argv[3], &p->last_len) != napi_ok)
    return throw_type(env, "pieceLength, count and lastLength must be numbers"), 0;
  if (p->piece_len <= 0 || p->count <= 0 || p->last_len <= 0 || p->last_len > p->piece_len ||
      (uint64_t)(p->count - 1) * (uint64_t)p->piece_len + (uint64_t)p->last_len > data_len || (uint64_t)p->count * 20 > out_len)
    return throw_type(env, "sha1Pieces: sizes do not fit the buffers"), 0;
  return 1;
}

/* `count` consecutive pieces of data (the last one last_len bytes) into out, on the SHA unit. */
void sha1_pieces_sha(const uint8_t *data, int64_t piece_len, int64_t count, int64_t last_len, uint8_t *out) {
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
}

/* The same in the eight lanes of AVX2 registers. */
void sha1_pieces_avx2(const uint8_t *data, int64_t piece_len, int64_t count, int64_t last_len, uint8_t *out) {
  int64_t full = last_len == piece_len ? count : count - 1;
  /* Eight full pieces at a time; a short group repeats its last piece in the spare lanes. */
  for (int64_t p = 0; p < full; p += 8) {
    int used = full - p < 8 ? (int)(full - p) : 8;
    const uint8_t *m[8];
    for (int i = 0; i < 8; i++) m[i] = data + (p + (i < used ? i : used - 1)) * piece_len;
    sha1_x8(m, (size_t)piece_len, used, out + p * 20);
  }
  if (full < count) {
    const uint8_t *m[8];
    for (int i = 0; i < 8; i++) m[i] = data + full * piece_len;
    sha1_x8(m, (size_t)last_len, 1, out + full * 20);
  }
}

static napi_value js_sha1_pieces(napi_env env, napi_callback_info info) {
  pieces_args a;
  if (pieces_arg(env, info, &a)) sha1_pieces_sha(a.data, a.piece_len, a.count, a.last_len, a.out);
  return NULL;
}

static napi_value js_sha1_pieces_avx2(napi_env env, napi_callback_info info) {
  pieces_args a;
  if (pieces_arg(env, info, &a)) sha1_pieces_avx2(a.data, a.piece_len, a.count, a.last_len, a.out);
  return NULL;
}

static int f64_arg(napi_env env, napi_value v, double **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) == napi_ok && type == napi_float64_array;
}

/* Whole file at `path` into dst, then its size and mtime checked as node:fs would report them. */
static int read_whole(const char *path, uint8_t *dst, size_t length, double mtime_ms) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t got = 0;
  while (got < length) {
    ssize_t n = pread(fd, dst + got, length - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  struct stat st;
  int ok = got == length && fstat(fd, &st) == 0 && (uint64_t)st.st_size == length &&
           (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1000000.0 == mtime_ms;
  close(fd);
  return ok;
}

static napi_value read_files(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) return throw_type(env, "readFiles(paths, lengths, mtimes, out, offset)");
  size_t paths_len, n_len, n_mtime, out_len;
  double *lengths, *mtimes;
  uint8_t *out;
  int64_t offset;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &paths_len) != napi_ok) return throw_type(env, "paths must be a string of NUL-separated paths");
  if (!f64_arg(env, argv[1], &lengths, &n_len) || !f64_arg(env, argv[2], &mtimes, &n_mtime) || n_len != n_mtime) return throw_type(env, "lengths and mtimes must be Float64Arrays of one length");
  if (!bytes_arg(env, argv[3], &out, &out_len) || napi_get_value_int64(env, argv[4], &offset) != napi_ok || offset < 0) return throw_type(env, "out must be a Uint8Array and offset a number");
  uint64_t total = 0;
  for (size_t i = 0; i < n_len; i++) total += (uint64_t)lengths[i];
  if ((uint64_t)offset + total > out_len) return throw_type(env, "readFiles: the files do not fit the buffer");
  char *paths = malloc(paths_len + 1);
  if (!paths) return throw_type(env, "readFiles: out of memory");
  napi_get_value_string_utf8(env, argv[0], paths, paths_len + 1, &paths_len);
  int64_t failed = -1;
  const char *p = paths;
  uint8_t *dst = out + offset;
  for (size_t i = 0; i < n_len; i++) {
    size_t len = (size_t)lengths[i];
    if (p >= paths + paths_len + 1 || !read_whole(p, dst, len, mtimes[i])) {
      failed = (int64_t)i;
      break;
    }
    dst += len;
    p += strlen(p) + 1;
  }
  free(paths);
  napi_value result;
  napi_create_int64(env, failed, &result);
  return result;
}

static napi_value stat_paths(napi_env env, napi_callback_info info) {
  size_t argc = 2, paths_len, n;
  napi_value argv[2];
  double *out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &paths_len) != napi_ok || !f64_arg(env, argv[1], &out, &n))
    return throw_type(env, "statPaths(paths, out: Float64Array)");
  char *paths = malloc(paths_len + 1);
  if (!paths) return throw_type(env, "statPaths: out of memory");
  napi_get_value_string_utf8(env, argv[0], paths, paths_len + 1, &paths_len);
  const char *p = paths;
  size_t i = 0;
  for (; i + 5 <= n && p <= paths + paths_len; i += 5, p += strlen(p) + 1) {
    struct stat st;
    if (stat(p, &st) != 0) {
      out[i] = -1;
      continue;
    }
    out[i] = S_ISREG(st.st_mode) ? 1 : S_ISDIR(st.st_mode) ? 2 : 0;
    out[i + 1] = (double)st.st_size;
    out[i + 2] = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1000000.0;
    out[i + 3] = (double)st.st_ino;
    out[i + 4] = (double)st.st_dev;
  }
  free(paths);
  napi_value result;
  napi_create_uint32(env, (uint32_t)(i / 5), &result);
  return result;
}

/* listFolder(path) -> [names, stats] | null: every entry of a folder (not . and ..), names joined
   by NUL, and six numbers each: kind (1 file, 2 folder, 0 other, -1 stat failed), size, mtimeMs,
   ino, dev, and 1 when the entry itself is a symlink. Stats follow links, relative to the open
   folder so the kernel does not walk the whole path again for every entry. Null when the folder
   cannot be read (JavaScript then reads it to report why). */
static napi_value list_folder(napi_env env, napi_callback_info info) {
  size_t argc = 1, path_len;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_len) != napi_ok) return throw_type(env, "listFolder(path)");
  char *dir_path = malloc(path_len + 1);
  if (!dir_path) return throw_type(env, "listFolder: out of memory");
  napi_get_value_string_utf8(env, argv[0], dir_path, path_len + 1, &path_len);
  DIR *dir = opendir(dir_path);
  free(dir_path);
  napi_get_null(env, &result);
  if (!dir) return result;
  int dfd = dirfd(dir);
  size_t names_cap = 4096, names_len = 0, count = 0, stats_cap = 64;
  char *names = malloc(names_cap);
  double *stats = malloc(stats_cap * 6 * sizeof(double));
  int ok = names && stats;
  struct dirent *e;
  while (ok && (errno = 0, e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    size_t len = strlen(e->d_name);
    if (names_len + len + 1 > names_cap) {
      while (names_len + len + 1 > names_cap) names_cap *= 2;
      char *grown = realloc(names, names_cap);
      if (!grown) { ok = 0; break; }
      names = grown;
    }
    if (count == stats_cap) {
      stats_cap *= 2;
      double *grown = realloc(stats, stats_cap * 6 * sizeof(double));
      if (!grown) { ok = 0; break; }
      stats = grown;
    }
    if (count > 0) names[names_len++] = 0;
    memcpy(names + names_len, e->d_name, len);
    names_len += len;
    double *out = stats + count * 6;
    struct stat st;
    int is_link = e->d_type == DT_LNK;
    if (e->d_type == DT_UNKNOWN && fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) is_link = S_ISLNK(st.st_mode);
    if (fstatat(dfd, e->d_name, &st, 0) != 0) {
      out[0] = -1;
    } else {
      out[0] = S_ISREG(st.st_mode) ? 1 : S_ISDIR(st.st_mode) ? 2 : 0;
      out[1] = (double)st.st_size;
      out[2] = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1000000.0;
      out[3] = (double)st.st_ino;
      out[4] = (double)st.st_dev;
    }
    out[5] = is_link;
    count++;
  }
  if (errno != 0) ok = 0;
  closedir(dir);
  if (ok) {
    napi_value js_names, ab, arr;
    void *data;
    napi_create_string_utf8(env, names, names_len, &js_names);
    napi_create_arraybuffer(env, count * 6 * sizeof(double), &data, &ab);
    memcpy(data, stats, count * 6 * sizeof(double));
    napi_create_typedarray(env, napi_float64_array, count * 6, ab, 0, &arr);
    napi_create_array_with_length(env, 2, &result);
    napi_set_element(env, result, 0, js_names);
    napi_set_element(env, result, 1, arr);
  }
  free(names);
  free(stats);
  return result;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  napi_value sha, avx2;
  napi_get_boolean(env, cpu_has_sha(), &sha);
  napi_get_boolean(env, cpu_has_avx2(), &avx2);
  /* `supported` is the SHA extensions, kept under its old name. */
  napi_set_named_property(env, exports, "supported", sha);
  napi_set_named_property(env, exports, "avx2", avx2);
  export_fn(env, exports, "sha1Pieces", js_sha1_pieces);
  export_fn(env, exports, "sha1PiecesAvx2", js_sha1_pieces_avx2);
  export_fn(env, exports, "readFiles", read_files);
  export_fn(env, exports, "statPaths", stat_paths);
  export_fn(env, exports, "listFolder", list_folder);
  hash_stream_export(env, exports);
  piece_memory_export(env, exports);
  return exports;
}
