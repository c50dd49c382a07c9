/*
 * allocPiece(bytes): a Buffer in a mapping of its own, asked to be backed by huge pages, and
 * unmapped when the garbage collector frees the Buffer. Null when the mapping fails.
 *
 * Why: the seeder reads whole pieces (up to 16 MiB) for its peers, one per cache miss. From
 * malloc they first come from mmap, but glibc raises its mmap threshold past a block's size the
 * first time such a block is freed, and from then on pieces land in the main heap, which keeps
 * what the pieces awaiting the garbage collector took long after they are freed: in the memory
 * bench serve's median RSS under load was 223-277 MiB, and 211-215 MiB with this. With a fixed
 * threshold (MALLOC_MMAP_THRESHOLD_) every read faults in 2,048 fresh 4 KiB pages instead, which
 * cost about 40 % of the upload rate on loopback. A mapping of its own, in 2 MiB pages, has
 * neither cost. (The peak, 270-273 MiB either way, did not move.)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <node_api.h>
#include "sha1_lanes.h"

#define HUGE_PAGE ((size_t)2 * 1024 * 1024)

struct mapping {
  void *base;
  size_t length;
};

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  munmap(m->base, m->length);
  free(m);
}

/* Set once the runtime has refused an external buffer (Electron's V8 sandbox does, every time):
   from then on every call returns null at once instead of mapping and unmapping. */
static int external_refused = 0;

static napi_value js_alloc_piece(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  napi_get_null(env, &result);
  if (external_refused) return result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t bytes = 0;
  if (argc != 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes <= 0 || bytes > (int64_t)1 << 30) return result;
  struct mapping *m = malloc(sizeof *m);
  if (!m) return result;
  /* One huge page more than asked, so the Buffer can start on a 2 MiB boundary: only whole,
     aligned 2 MiB stretches can be huge pages. The spare stretch is never touched, so costs no RSS. */
  m->length = (size_t)bytes + HUGE_PAGE;
  m->base = mmap(NULL, m->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m->base == MAP_FAILED) {
    free(m);
    return result;
  }
  uint8_t *data = (uint8_t *)(((uintptr_t)m->base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
  madvise(data, (size_t)bytes, MADV_HUGEPAGE);
#endif
  if (napi_create_external_buffer(env, (size_t)bytes, data, unmap, m, &result) != napi_ok) {
    munmap(m->base, m->length);
    free(m);
    external_refused = 1;
    napi_get_null(env, &result);
  }
  return result;
}

void piece_memory_export(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "allocPiece", NAPI_AUTO_LENGTH, js_alloc_piece, NULL, &fn);
  napi_set_named_property(env, exports, "allocPiece", fn);
}
