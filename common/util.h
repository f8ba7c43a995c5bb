/* Small helpers every part of xlab uses: scope-exit cleanup, allocation that
 * cannot return NULL, a growable byte buffer. */
#ifndef XLAB_UTIL_H
#define XLAB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

static inline void freep(void *p) { free(*(void **)p); }
void closep(int *fd);
void fclosep(FILE **f);
void strv_freep(char ***v);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Hands ownership out of a cleanup variable. */
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *v (of *cap elements of size `size`) so index `need` fits. */
void xgrow(void **v, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void strv_free(char **v);
size_t strv_len(char *const *v);
/* Appends s (taken, not copied) to a NULL-terminated list, *v NULL at first. */
void strv_add(char ***v, char *s);
bool strv_has(const char *const *v, const char *s);

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/* "512M", "8G", "1024" (bytes) -> bytes. Suffixes K, M, G, T (powers of
 * 1024), optionally followed by "i" or "iB". Returns -1 with a message. */
int size_parse(const char *s, uint64_t *out, struct xerr *e);
/* Bytes -> the shortest exact "8G"/"512M"/"1536K"/"7" form. */
void size_format(uint64_t bytes, char *out, size_t outsz);
/* a + b, or UINT64_MAX when that does not fit: a sum of sizes that saturates
 * still compares as "too big", where a wrapped one would pass. */
static inline uint64_t u64_add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
static inline uint64_t u64_mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* Reads a whole file, refusing more than `max` bytes (0: no limit). */
int file_read_all(const char *path, size_t max, char **out, size_t *len, struct xerr *e);
/* Writes via a temporary file and rename(), so readers never see half. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct xerr *e);
/* All of data to fd, whatever the short writes and signals; -1 and errno. */
int fd_write_all(int fd, const void *data, size_t len);
/* mkdir -p with the given mode for the directories it creates. */
int mkdir_p(const char *path, int mode, struct xerr *e);
/* rm -rf; missing path is fine. */
int rm_rf(const char *path, struct xerr *e);
bool path_exists(const char *path);

/* The candidate closest to word by edit distance, if it is close enough to
 * be a typo of it (1 edit for words of 3 letters or less, else 2); NULL
 * entries are skipped. For "did you mean 'x'?". */
const char *word_nearest(const char *word, const char *const *cands, size_t n);

/* Monotonic milliseconds, for durations. */
int64_t now_ms(void);
/* "12.3 MiB" for progress lines. */
void size_human(double bytes, char *out, size_t n);
/* Wall-clock time as ISO 8601 UTC ("2026-11-25T05:41:03Z"). */
void now_iso8601(char out[32]);

#endif
