/*
 * Hashing while the file list is still being built (Node-API, optional, part of the SHA-1 addon).
 *
 * Why: `create` on a folder of 10,000 small files spent as long scanning as hashing, and hashing
 * could only start once the scan had finished and a worker thread had started and received the
 * whole list. The scan lists files in the torrent's order, so a piece can be hashed as soon as the
 * files covering it are known. Here plain threads (started in microseconds, unlike a Node worker)
 * take the files as the scan finds them and read and hash pieces in chunks, several chunks at once.
 *
 * hashStreamStart(pieceLength, threads, avx2, done) -> handle: starts `threads` hashing threads
 *   (a job on the libuv pool then waits for them and calls done(digests|null) on the JavaScript
 *   thread; null means a file could not be read or changed, or the stream was stopped: JavaScript
 *   hashes again to report why).
 * hashStreamAdd(handle, paths, lengths, mtimes): the next files in torrent order (NUL-joined
 *   paths, Float64Arrays); empty files are skipped, as they hold no bytes of any piece. False when
 *   the stream cannot take more (it then fails).
 * hashStreamEnd(handle): no more files; the last piece may be short.
 * hashStreamStop(handle): abandon the job.
 * hashStreamProgress(handle): bytes hashed so far.
 * walkFolder(root, handle | null, done): lists a whole folder in torrent order on a pool thread,
 *   adding its files to the stream as they are found and ending it; done([relative paths joined
 *   by NUL, Float64Array of length, mtimeMs, ino per file]). It gives up, done(null), on anything
 *   the JavaScript walk treats specially (a symlink, a device, an unreadable entry, a loop): that
 *   walk then runs and reports it. A walk costs stat calls and no JavaScript objects per entry.
 *   A third element, when every name is valid UTF-8, is the info dictionary's "files" list already
 *   bencoded (what encodeFileList in torrent-file.ts makes of the same files): building it from
 *   10,000 JavaScript objects took as long in a fresh process as hashing the files.
 *
 * Each file read is checked afterwards against the size and mtime the scan saw, as the JavaScript
 * hasher does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sha1_lanes.h"

#ifdef __APPLE__
#define st_mtim st_mtimespec
#endif

/* Files live in fixed blocks that never move, so threads read them without holding the lock. */
#define BLOCK_FILES 4096
#define MAX_BLOCKS 16384
#define MAX_THREADS 64
/* About this many bytes per claim: large sequential reads, and enough claims to share out. 4 MiB
   left the one thread that hashes during the scan far behind it on 10,000 small files (one claim
   is a thousand files), and each thread's first touch of its buffer costs page faults. */
#define CHUNK_BYTES (1u << 20)

typedef struct {
  char *path;
  uint64_t start, length;
  double mtime_ms;
} sfile;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  /* The thread that waits for the whole list sleeps here, so the scan's frequent wake-ups (every
     128 files) do not wake it for nothing: a futex round trip is costly in a VM. */
  pthread_cond_t closing;
  sfile *blocks[MAX_BLOCKS];
  uint64_t nfiles, known;
  int ended, stopped, failed, avx2;
  uint64_t piece_len, step, lanes, next, done;
  uint8_t *digests;
  uint64_t digest_cap;
  int nthreads;
  pthread_t threads[MAX_THREADS];
  napi_async_work work;
  napi_ref done_cb;
  int finished, orphaned, queued;
} stream;

static sfile *file_at(stream *s, uint64_t i) { return &s->blocks[i / BLOCK_FILES][i % BLOCK_FILES]; }

/* Under the lock, once the list ended or the job stopped or failed: every thread must look. */
static void wake_all(stream *s) {
  pthread_cond_broadcast(&s->cond);
  pthread_cond_broadcast(&s->closing);
}

static int check_file(int fd, const sfile *f) {
  struct stat st;
  return fstat(fd, &st) == 0 && (uint64_t)st.st_size == f->length &&
         (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1000000.0 == f->mtime_ms;
}

/* Bytes [start, stop) of the release into buf, across files; 0 when a file failed or changed. */
static int read_range(stream *s, uint64_t nfiles, uint64_t start, uint64_t stop, uint8_t *buf) {
  uint64_t lo = 0, hi = nfiles - 1;
  while (lo < hi) {
    uint64_t mid = (lo + hi + 1) / 2;
    if (file_at(s, mid)->start <= start) lo = mid;
    else hi = mid - 1;
  }
  uint64_t off = start;
  for (uint64_t i = lo; off < stop; i++) {
    if (i >= nfiles) return 0;
    const sfile *f = file_at(s, i);
    uint64_t within = off - f->start;
    uint64_t want = f->length - within < stop - off ? f->length - within : stop - off;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint64_t got = 0;
    while (got < want) {
      ssize_t n = pread(fd, buf + (off - start) + got, want - got, (off_t)(within + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += (uint64_t)n;
    }
    int ok = got == want && check_file(fd, f);
    close(fd);
    if (!ok) return 0;
    off += want;
  }
  return 1;
}

/* Hashes claimed chunks until none is left. A thread that is not `eager` waits for the whole list
   first: while the scan runs, a thread per core would take the scan's own core, and the scan is
   what makes work available. */
static void hash_loop(stream *s, int eager) {
  uint64_t pl = s->piece_len;
  uint8_t *buf = malloc(s->step * pl);
  uint8_t *dg = malloc(s->step * 20);
  pthread_mutex_lock(&s->mu);
  if (!buf || !dg) {
    s->failed = 1;
    wake_all(s);
  }
  for (;;) {
    if (s->stopped || s->failed) break;
    uint64_t pieces = s->ended ? (s->known + pl - 1) / pl : s->known / pl;
    uint64_t avail = pieces > s->next ? pieces - s->next : 0;
    /* While the list grows, wait for a whole group of lanes: a short group wastes the kernel. */
    if (avail == 0 || (!s->ended && (avail < s->lanes || !eager))) {
      if (s->ended) break;
      pthread_cond_wait(eager ? &s->cond : &s->closing, &s->mu);
      continue;
    }
    uint64_t first = s->next, count = avail < s->step ? avail : s->step;
    if (!s->ended) count -= count % s->lanes;
    s->next = first + count;
    uint64_t nfiles = s->nfiles, known = s->known;
    pthread_mutex_unlock(&s->mu);

    uint64_t start = first * pl, stop = (first + count) * pl < known ? (first + count) * pl : known;
    int ok = read_range(s, nfiles, start, stop, buf);
    if (ok) {
      int64_t last = (int64_t)(stop - (first + count - 1) * pl);
      if (s->avx2) sha1_pieces_avx2(buf, (int64_t)pl, (int64_t)count, last, dg);
      else sha1_pieces_sha(buf, (int64_t)pl, (int64_t)count, last, dg);
    }

    pthread_mutex_lock(&s->mu);
    if (ok && first + count > s->digest_cap) {
      uint64_t cap = s->digest_cap * 2 > first + count ? s->digest_cap * 2 : first + count;
      uint8_t *grown = realloc(s->digests, cap * 20);
      if (grown) {
        s->digests = grown;
        s->digest_cap = cap;
      } else {
        ok = 0;
      }
    }
    if (!ok) {
      s->failed = 1;
      wake_all(s);
      break;
    }
    memcpy(s->digests + first * 20, dg, count * 20);
    s->done += stop - start;
  }
  pthread_mutex_unlock(&s->mu);
  free(buf);
  free(dg);
}

static void *eager_thread(void *arg) {
  hash_loop(arg, 1);
  return NULL;
}

static void *closing_thread(void *arg) {
  hash_loop(arg, 0);
  return NULL;
}

/* On the libuv pool: waits for the hashing threads, or hashes itself if none could start. */
static void execute(napi_env env, void *data) {
  (void)env;
  stream *s = data;
  if (s->nthreads == 0) hash_loop(s, 1);
  for (int i = 0; i < s->nthreads; i++) pthread_join(s->threads[i], NULL);
}

static void free_stream(stream *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cond);
  pthread_cond_destroy(&s->closing);
  free(s);
}

/* JavaScript dropped the handle: free it now, or once the threads are done with it. */
static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stream *s = data;
  if (s->finished) free_stream(s);
  else s->orphaned = 1;
}

static void complete(napi_env env, napi_status status, void *data) {
  stream *s = data;
  s->finished = 1;
  napi_value cb, global, result;
  napi_get_reference_value(env, s->done_cb, &cb);
  napi_get_global(env, &global);
  uint64_t pieces = (s->known + s->piece_len - 1) / s->piece_len;
  if (status == napi_ok && !s->failed && !s->stopped && s->next == pieces) {
    void *copy;
    napi_create_buffer_copy(env, pieces * 20, pieces ? s->digests : (const void *)"", &copy, &result);
  } else {
    napi_get_null(env, &result);
  }
  napi_delete_reference(env, s->done_cb);
  s->done_cb = NULL;
  napi_delete_async_work(env, s->work);
  free(s->digests);
  s->digests = NULL;
  for (uint64_t b = 0; b * BLOCK_FILES < s->nfiles; b++) {
    for (uint64_t i = b * BLOCK_FILES; i < s->nfiles && i < (b + 1) * BLOCK_FILES; i++) free(file_at(s, i)->path);
    free(s->blocks[b]);
    s->blocks[b] = NULL;
  }
  s->nfiles = 0;
  napi_call_function(env, global, cb, 1, &result, NULL);
  if (s->orphaned) free_stream(s);
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static stream *handle_arg(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t piece_len, threads;
  bool avx2;
  napi_valuetype cb_type;
  if (argc != 4 || napi_get_value_int64(env, argv[0], &piece_len) != napi_ok || napi_get_value_int64(env, argv[1], &threads) != napi_ok ||
      napi_get_value_bool(env, argv[2], &avx2) != napi_ok || napi_typeof(env, argv[3], &cb_type) != napi_ok || cb_type != napi_function)
    return throw_type(env, "hashStreamStart(pieceLength, threads, avx2, done)");
  if (piece_len <= 0 || piece_len > (1 << 30) || threads < 1 || threads > MAX_THREADS) return throw_type(env, "hashStreamStart: pieceLength or threads out of range");
  if (avx2 ? !cpu_has_avx2() : !cpu_has_sha()) return throw_type(env, "hashStreamStart: this CPU lacks that kernel");
  stream *s = calloc(1, sizeof *s);
  if (!s) return throw_type(env, "hashStreamStart: out of memory");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond, NULL);
  pthread_cond_init(&s->closing, NULL);
  s->piece_len = (uint64_t)piece_len;
  s->avx2 = avx2;
  s->lanes = avx2 ? 8 : 3;
  uint64_t step = CHUNK_BYTES / s->piece_len;
  step -= step % s->lanes;
  s->step = step < s->lanes ? s->lanes : step;
  napi_value handle, name;
  napi_create_external(env, s, finalize, NULL, &handle);
  napi_create_reference(env, argv[3], 1, &s->done_cb);
  napi_create_string_utf8(env, "swarmdrop.hashStream", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, s, &s->work);
  /* The last one waits for the whole list: it starts the moment the list is complete, and hot,
     where a pool job queued then (through the JavaScript thread) started 9 ms later and spent its
     first chunk faulting in its buffer. */
  for (int64_t i = 0; i < threads; i++) {
    if (pthread_create(&s->threads[s->nthreads], NULL, i + 1 < threads || threads == 1 ? eager_thread : closing_thread, s) == 0) s->nthreads++;
  }
  return handle;
}

/* The pool job (the last hashing thread, then done) is queued only once the list is complete or
   the job stopped, from the JavaScript thread: a pool thread must never wait for work that another
   pool job (walkFolder) has still to deliver, or a few jobs at once could take every pool thread. */
static void queue_finish(napi_env env, stream *s) {
  if (s->queued) return;
  s->queued = 1;
  napi_queue_async_work(env, s->work);
}

/* Under the lock: the next file, its path `a` followed by `b`. Empty files are skipped. */
static int append_file(stream *s, const char *a, size_t a_len, const char *b, size_t b_len, double length, double mtime_ms) {
  if (length <= 0) return 1;
  uint64_t at = s->nfiles;
  if (at / BLOCK_FILES >= MAX_BLOCKS) return 0;
  if (at % BLOCK_FILES == 0 && !(s->blocks[at / BLOCK_FILES] = malloc(BLOCK_FILES * sizeof(sfile)))) return 0;
  sfile *f = file_at(s, at);
  if (!(f->path = malloc(a_len + b_len + 1))) return 0;
  memcpy(f->path, a, a_len);
  memcpy(f->path + a_len, b, b_len);
  f->path[a_len + b_len] = 0;
  f->start = s->known;
  f->length = (uint64_t)length;
  f->mtime_ms = mtime_ms;
  s->known += f->length;
  s->nfiles = at + 1;
  return 1;
}

static napi_value js_add(napi_env env, napi_callback_info info) {
  size_t argc = 4, paths_len, n_len, n_mtime;
  napi_value argv[4], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  stream *s = argc == 4 ? handle_arg(env, argv[0]) : NULL;
  napi_typedarray_type t1, t2;
  double *lengths, *mtimes;
  napi_value ab;
  size_t off;
  if (!s || napi_get_value_string_utf8(env, argv[1], NULL, 0, &paths_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &t1, &n_len, (void **)&lengths, &ab, &off) != napi_ok || t1 != napi_float64_array ||
      napi_get_typedarray_info(env, argv[3], &t2, &n_mtime, (void **)&mtimes, &ab, &off) != napi_ok || t2 != napi_float64_array || n_len != n_mtime)
    return throw_type(env, "hashStreamAdd(handle, paths, lengths: Float64Array, mtimes: Float64Array)");
  char *paths = malloc(paths_len + 1);
  int ok = paths != NULL;
  if (ok) napi_get_value_string_utf8(env, argv[1], paths, paths_len + 1, &paths_len);
  pthread_mutex_lock(&s->mu);
  ok = ok && !s->ended && !s->finished;
  const char *p = paths;
  for (size_t i = 0; ok && i < n_len; i++) {
    if (p > paths + paths_len) {
      ok = 0;
      break;
    }
    size_t len = strlen(p);
    ok = append_file(s, p, len, "", 0, lengths[i], mtimes[i]);
    p += len + 1;
  }
  if (!ok) s->failed = 1;
  if (ok) pthread_cond_broadcast(&s->cond);
  else wake_all(s);
  pthread_mutex_unlock(&s->mu);
  free(paths);
  napi_get_boolean(env, ok, &result);
  return result;
}

/* ---- walkFolder: the whole tree in torrent order, on a pool thread, feeding a stream. ---- */

typedef struct {
  char *key; /* the name, with "/" appended for a folder: the torrent's byte order (see source-scanner.ts) */
  size_t len; /* of the name */
  int is_dir;
  double size, mtime_ms, ino, dev;
} wentry;

typedef struct {
  stream *s; /* may be NULL: list only */
  char *root;
  size_t root_len;
  char *rels; /* relative paths, NUL-terminated each */
  size_t rels_len, rels_cap;
  double *meta; /* length, mtimeMs, ino per file */
  size_t files, meta_cap;
  char *list; /* the bencoded "files" list so far, without its closing "e" */
  size_t list_len, list_cap;
  int list_void; /* a name is not valid UTF-8: JavaScript encodes the list from its own strings */
  size_t unannounced; /* files added to the stream since the threads were last woken */
  int bail;
  double anc_dev[512], anc_ino[512];
  napi_async_work work;
  napi_ref done_cb;
  napi_ref stream_ref;
} walker;

static int cmp_wentry(const void *a, const void *b) { return strcmp(((const wentry *)a)->key, ((const wentry *)b)->key); }

static void wake(walker *w) {
  if (!w->s || w->unannounced == 0) return;
  pthread_mutex_lock(&w->s->mu);
  pthread_cond_broadcast(&w->s->cond);
  pthread_mutex_unlock(&w->s->mu);
  w->unannounced = 0;
}

/* Well-formed UTF-8 (Unicode's table 3-7): exactly what V8 decodes without a replacement
   character, so these bytes and JavaScript's own encoding of the decoded name agree. */
static int valid_utf8(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t extra = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (extra == 0 || extra >= n - i) return 0;
    unsigned lo = 0x80, hi = 0xbf, d = p[i + 1];
    if (c == 0xe0) lo = 0xa0;
    else if (c == 0xed) hi = 0x9f;
    else if (c == 0xf0) lo = 0x90;
    else if (c == 0xf4) hi = 0x8f;
    if (d < lo || d > hi) return 0;
    for (size_t k = 2; k <= extra; k++)
      if ((p[i + k] & 0xc0) != 0x80) return 0;
    i += extra + 1;
  }
  return 1;
}

static int list_append(walker *w, const char *bytes, size_t n) {
  if (w->list_len + n > w->list_cap) {
    size_t cap = w->list_cap ? w->list_cap : 1 << 16;
    while (w->list_len + n > cap) cap *= 2;
    char *grown = realloc(w->list, cap);
    if (!grown) return 0;
    w->list = grown;
    w->list_cap = cap;
  }
  memcpy(w->list + w->list_len, bytes, n);
  w->list_len += n;
  return 1;
}

/* One file's entry of the "files" list: d6:lengthi<n>e4:pathl<component>...ee, keys in BEP 3's
   order, as encodeFileList writes it. */
static int list_file(walker *w, const char *rel, size_t rel_len, double size) {
  if (w->list_void) return 1;
  if (!valid_utf8((const unsigned char *)rel, rel_len)) {
    w->list_void = 1;
    return 1;
  }
  char num[64];
  int n = snprintf(num, sizeof num, "d6:lengthi%llue4:pathl", (unsigned long long)size);
  if (!list_append(w, num, (size_t)n)) return 0;
  for (size_t from = 0; from <= rel_len;) {
    const char *slash = memchr(rel + from, '/', rel_len - from);
    size_t to = slash ? (size_t)(slash - rel) : rel_len;
    n = snprintf(num, sizeof num, "%zu:", to - from);
    if (!list_append(w, num, (size_t)n) || !list_append(w, rel + from, to - from)) return 0;
    from = to + 1;
  }
  return list_append(w, "ee", 2);
}

static int record_file(walker *w, const char *rel, size_t rel_len, const wentry *e) {
  if (!list_file(w, rel, rel_len, e->size)) return 0;
  if (w->rels_len + rel_len + 1 > w->rels_cap) {
    size_t cap = w->rels_cap ? w->rels_cap : 1 << 16;
    while (w->rels_len + rel_len + 1 > cap) cap *= 2;
    char *grown = realloc(w->rels, cap);
    if (!grown) return 0;
    w->rels = grown;
    w->rels_cap = cap;
  }
  memcpy(w->rels + w->rels_len, rel, rel_len + 1);
  w->rels_len += rel_len + 1;
  if (w->files == w->meta_cap) {
    size_t cap = w->meta_cap ? w->meta_cap * 2 : 1024;
    double *grown = realloc(w->meta, cap * 3 * sizeof(double));
    if (!grown) return 0;
    w->meta = grown;
    w->meta_cap = cap;
  }
  w->meta[w->files * 3] = e->size;
  w->meta[w->files * 3 + 1] = e->mtime_ms;
  w->meta[w->files * 3 + 2] = e->ino;
  w->files++;
  if (!w->s) return 1;
  pthread_mutex_lock(&w->s->mu);
  /* The stream opens files by absolute path: root, "/", then the relative path. */
  int ok = !w->s->stopped && !w->s->ended && append_file(w->s, w->root, w->root_len, rel - 1, rel_len + 1, e->size, e->mtime_ms);
  pthread_mutex_unlock(&w->s->mu);
  if (++w->unannounced >= 128) wake(w);
  return ok;
}

/* Anything the JavaScript walk reports or treats specially (a symlink, a device, an unreadable
   entry, a loop) makes the walk give up: JavaScript then walks the folder itself. `rel` points
   one byte into a buffer whose byte before it is "/". */
static void walk_dir(walker *w, int dfd, char *rel, size_t rel_len, int depth) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    w->bail = 1;
    return;
  }
  wentry *entries = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while (!w->bail && (errno = 0, de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    struct stat st;
    if (de->d_type == DT_LNK || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
      w->bail = 1;
      break;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      wentry *grown = realloc(entries, cap * sizeof *entries);
      if (!grown) {
        w->bail = 1;
        break;
      }
      entries = grown;
    }
    wentry *e = &entries[n];
    e->len = strlen(name);
    e->is_dir = S_ISDIR(st.st_mode);
    if (!(e->key = malloc(e->len + 2))) {
      w->bail = 1;
      break;
    }
    n++;
    memcpy(e->key, name, e->len);
    e->key[e->len] = e->is_dir ? '/' : 0;
    e->key[e->len + 1] = 0;
    e->size = (double)st.st_size;
    e->mtime_ms = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1000000.0;
    e->ino = (double)st.st_ino;
    e->dev = (double)st.st_dev;
  }
  if (errno != 0) w->bail = 1;
  if (!w->bail) qsort(entries, n, sizeof *entries, cmp_wentry);
  for (size_t i = 0; i < n && !w->bail; i++) {
    wentry *e = &entries[i];
    size_t child_len = rel_len + (rel_len ? 1 : 0) + e->len;
    if (child_len >= 4096) {
      w->bail = 1;
      break;
    }
    if (rel_len) rel[rel_len] = '/';
    memcpy(rel + rel_len + (rel_len ? 1 : 0), e->key, e->len);
    rel[child_len] = 0;
    if (e->is_dir) {
      int loop = depth + 1 >= 512;
      for (int a = 0; !loop && a <= depth; a++) loop = w->anc_dev[a] == e->dev && w->anc_ino[a] == e->ino;
      int cfd = loop ? -1 : openat(dfd, rel + child_len - e->len, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (cfd < 0) {
        w->bail = 1;
        break;
      }
      w->anc_dev[depth + 1] = e->dev;
      w->anc_ino[depth + 1] = e->ino;
      wake(w);
      walk_dir(w, cfd, rel, child_len, depth + 1);
    } else if (!record_file(w, rel, child_len, e)) {
      w->bail = 1;
    }
    rel[rel_len] = 0;
  }
  for (size_t i = 0; i < n; i++) free(entries[i].key);
  free(entries);
  closedir(d);
}

static void walk_execute(napi_env env, void *data) {
  (void)env;
  walker *w = data;
  int fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    w->bail = 1;
  } else {
    char rel_buf[4097 + 1];
    rel_buf[0] = '/';
    rel_buf[1] = 0;
    w->anc_dev[0] = (double)st.st_dev;
    w->anc_ino[0] = (double)st.st_ino;
    walk_dir(w, fd, rel_buf + 1, 0, 0);
  }
  wake(w);
  if (w->s) {
    pthread_mutex_lock(&w->s->mu);
    /* Complete: the pieces can all be claimed now. Given up: this stream's work is void. */
    if (w->bail) w->s->stopped = 1;
    else w->s->ended = 1;
    wake_all(w->s);
    pthread_mutex_unlock(&w->s->mu);
  }
}

static void walk_complete(napi_env env, napi_status status, void *data) {
  walker *w = data;
  napi_value cb, global, result;
  napi_get_reference_value(env, w->done_cb, &cb);
  napi_get_global(env, &global);
  if (status == napi_ok && !w->bail) {
    napi_value rels, ab, meta;
    void *bytes;
    napi_create_string_utf8(env, w->rels ? w->rels : "", w->rels_len ? w->rels_len - 1 : 0, &rels);
    napi_create_arraybuffer(env, w->files * 3 * sizeof(double), &bytes, &ab);
    if (w->files) memcpy(bytes, w->meta, w->files * 3 * sizeof(double));
    napi_create_typedarray(env, napi_float64_array, w->files * 3, ab, 0, &meta);
    napi_create_array_with_length(env, w->list_void ? 2 : 3, &result);
    napi_set_element(env, result, 0, rels);
    napi_set_element(env, result, 1, meta);
    if (!w->list_void) {
      napi_value list;
      void *copy;
      napi_create_buffer(env, w->list_len + 2, &copy, &list);
      ((char *)copy)[0] = 'l';
      if (w->list_len) memcpy((char *)copy + 1, w->list, w->list_len);
      ((char *)copy)[w->list_len + 1] = 'e';
      napi_set_element(env, result, 2, list);
    }
  } else {
    napi_get_null(env, &result);
  }
  napi_delete_reference(env, w->done_cb);
  /* The walk ended or stopped its stream: its last step can be queued now. */
  if (w->s) queue_finish(env, w->s);
  if (w->stream_ref) napi_delete_reference(env, w->stream_ref);
  napi_delete_async_work(env, w->work);
  free(w->rels);
  free(w->meta);
  free(w->list);
  free(w->root);
  free(w);
  napi_call_function(env, global, cb, 1, &result, NULL);
}

/* walkFolder(root, handle | null, done([relativePaths, meta, filesList?] | null)) */
static napi_value js_walk(napi_env env, napi_callback_info info) {
  size_t argc = 3, root_len;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype handle_type, cb_type;
  if (argc != 3 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &root_len) != napi_ok || napi_typeof(env, argv[1], &handle_type) != napi_ok ||
      napi_typeof(env, argv[2], &cb_type) != napi_ok || cb_type != napi_function || (handle_type != napi_null && handle_type != napi_external))
    return throw_type(env, "walkFolder(root, handle | null, done)");
  walker *w = calloc(1, sizeof *w);
  if (!w || !(w->root = malloc(root_len + 1))) {
    free(w);
    return throw_type(env, "walkFolder: out of memory");
  }
  napi_get_value_string_utf8(env, argv[0], w->root, root_len + 1, &root_len);
  /* "/" itself: files are root + "/" + relative path, so drop the trailing separator. */
  w->root_len = root_len > 0 && w->root[root_len - 1] == '/' ? root_len - 1 : root_len;
  if (handle_type == napi_external) {
    w->s = handle_arg(env, argv[1]);
    /* Keep the stream alive while this thread feeds it. */
    napi_create_reference(env, argv[1], 1, &w->stream_ref);
  }
  napi_value name;
  napi_create_reference(env, argv[2], 1, &w->done_cb);
  napi_create_string_utf8(env, "swarmdrop.walkFolder", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, walk_execute, walk_complete, w, &w->work);
  napi_queue_async_work(env, w->work);
  return NULL;
}

static napi_value set_flag(napi_env env, napi_callback_info info, int ended) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  stream *s = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "hashStream: expected a handle");
  pthread_mutex_lock(&s->mu);
  if (ended) s->ended = 1;
  else s->stopped = 1;
  wake_all(s);
  pthread_mutex_unlock(&s->mu);
  queue_finish(env, s);
  return NULL;
}

static napi_value js_end(napi_env env, napi_callback_info info) { return set_flag(env, info, 1); }
static napi_value js_stop(napi_env env, napi_callback_info info) { return set_flag(env, info, 0); }

static napi_value js_progress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  stream *s = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!s) return throw_type(env, "hashStreamProgress(handle)");
  pthread_mutex_lock(&s->mu);
  double done = (double)s->done;
  pthread_mutex_unlock(&s->mu);
  napi_create_double(env, done, &result);
  return result;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void hash_stream_export(napi_env env, napi_value exports) {
  export_fn(env, exports, "hashStreamStart", js_start);
  export_fn(env, exports, "hashStreamAdd", js_add);
  export_fn(env, exports, "hashStreamEnd", js_end);
  export_fn(env, exports, "hashStreamStop", js_stop);
  export_fn(env, exports, "hashStreamProgress", js_progress);
  export_fn(env, exports, "walkFolder", js_walk);
}
