/* What sha1_lanes.c (the kernels) and hash_stream.c (the hashing threads) share. */
#ifndef SWARMDROP_SHA1_LANES_H
#define SWARMDROP_SHA1_LANES_H
#include <node_api.h>
#include <stdint.h>

int cpu_has_sha(void);
int cpu_has_avx2(void);
/* `count` consecutive pieces of data (the last one last_len bytes) into out, 20 bytes each. */
void sha1_pieces_sha(const uint8_t *data, int64_t piece_len, int64_t count, int64_t last_len, uint8_t *out);
void sha1_pieces_avx2(const uint8_t *data, int64_t piece_len, int64_t count, int64_t last_len, uint8_t *out);
/* Adds the hashStream* functions to the addon's exports. */
void hash_stream_export(napi_env env, napi_value exports);
void piece_memory_export(napi_env env, napi_value exports);
#endif
