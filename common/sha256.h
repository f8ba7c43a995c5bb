#ifndef XLAB_SHA256_H
#define XLAB_SHA256_H

#include <stddef.h>

#include "err.h"

#define SHA256_HEX_LEN 64

/* Lower-case hex digest into out[65]. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* A digest fed in pieces (a stream from another machine, say). finish
 * writes the hex digest and frees; free alone abandons it. */
struct sha256_stream;
struct sha256_stream *sha256_stream_new(void);
void sha256_stream_update(struct sha256_stream *s, const void *data, size_t len);
void sha256_stream_finish(struct sha256_stream *s, char out[SHA256_HEX_LEN + 1]);
void sha256_stream_free(struct sha256_stream *s);
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct xerr *e);
/* True when s is 64 hex digits. */
int sha256_hex_valid(const char *s);

#endif
