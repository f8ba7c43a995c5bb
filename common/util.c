#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void strv_freep(char ***v)
{
	strv_free(*v);
}

static void oom(void)
{
	fputs("xlab: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void xgrow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;

	if (need < *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap <= need)
		ncap *= 2;
	*v = xrealloc(*v, ncap * size);
	memset((char *)*v + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
}

char *xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	va_end(ap);
	return p;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		b->data = xrealloc(b->data, ncap);
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	buf_append(b, s, (size_t)n);
}

char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int size_parse(const char *s, uint64_t *out, struct xerr *e)
{
	static const struct {
		char c;
		unsigned shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (!s || !*s)
		return xerr_set(e, XERR_USAGE, "empty size (write it like 512M or 8G)");
	if (*p < '0' || *p > '9')
		return xerr_set(e, XERR_USAGE, "invalid size '%s' (write it like 512M or 8G)", s);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return xerr_set(e, XERR_USAGE, "size '%s' is too large", s);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.' || *p == ',')
		return xerr_set(e, XERR_USAGE,
				"size '%s': fractions are not allowed (write 1.5G as 1536M)", s);
	if (*p) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (*p == units[i].c || *p == units[i].c + ('a' - 'A'))
				break;
		if (i == ARRAY_SIZE(units))
			return xerr_set(e, XERR_USAGE,
					"invalid size suffix in '%s' (use K, M, G or T)", s);
		shift = units[i].shift;
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B')
			p++;
		if (*p)
			return xerr_set(e, XERR_USAGE,
					"invalid size suffix in '%s' (use K, M, G or T)", s);
	}
	if (v == 0)
		return xerr_set(e, XERR_USAGE, "size '%s' must be greater than zero", s);
	if (shift && v > (UINT64_MAX >> shift))
		return xerr_set(e, XERR_USAGE, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
}

void size_format(uint64_t bytes, char *out, size_t outsz)
{
	static const char suffix[] = "KMGT";
	int i = -1;

	while (i < 3 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(out, outsz, "%" PRIu64, bytes);
	else
		snprintf(out, outsz, "%" PRIu64 "%c", bytes, suffix[i]);
}

int file_read_all(const char *path, size_t max, char **out, size_t *len, struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b = { 0 };
	struct stat st;
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	if (fstat(fd, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot stat %s", path);
	if (S_ISDIR(st.st_mode))
		return xerr_set(e, XERR_FAIL, "%s is a directory, not a file", path);
	if (max && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		return xerr_set(e, XERR_FAIL, "%s is larger than %zu bytes", path, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_free(&b);
			return xerr_errno(e, XERR_IO, "cannot read %s", path);
		}
		buf_append(&b, chunk, (size_t)n);
		if (max && b.len > max) {
			buf_free(&b);
			return xerr_set(e, XERR_FAIL, "%s is larger than %zu bytes", path, max);
		}
	}
	if (len)
		*len = b.len;
	*out = buf_steal(&b);
	return 0;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode, struct xerr *e)
{
	/* A fresh name made with O_EXCL: a symlink planted at a predictable
	 * name (a guest tarball unpacked in the dom0) is never followed, and
	 * two writers of one path never share a temporary file. */
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", tmp);
	if (fd_write_all(fd, data, len) < 0) {
		xerr_errno(e, XERR_IO, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		xerr_errno(e, XERR_IO, "cannot write %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		xerr_errno(e, XERR_IO, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int mkdir_p(const char *path, int mode, struct xerr *e)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			return xerr_errno(e, XERR_IO, "cannot create directory %s", p);
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		return xerr_errno(e, XERR_IO, "cannot create directory %s", p);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path, struct xerr *e)
{
	if (!path_exists(path))
		return 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return xerr_errno(e, XERR_IO, "cannot remove %s", path);
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void now_iso8601(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Optimal string alignment distance: Levenshtein plus the swap of two
 * neighbours as one edit, the typo fingers make most ("stauts" is one from
 * "status", not two, and so nearer than "start"). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), rows[3][65];
	size_t *back2 = rows[0], *back = rows[1], *cur = rows[2];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		back[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = back[j - 1] + (a[i - 1] != b[j - 1]);

			if (back[j] + 1 < best)
				best = back[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    back2[j - 2] + 1 < best)
				best = back2[j - 2] + 1;
			cur[j] = best;
		}
		t = back2;
		back2 = back;
		back = cur;
		cur = t;
	}
	return back[lb];
}

const char *word_nearest(const char *word, const char *const *cands, size_t n)
{
	size_t best = SIZE_MAX, limit = strlen(word) <= 3 ? 1 : 2;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (!cands[i])
			continue;
		dist = edit_distance(word, cands[i]);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick && best <= limit ? pick : NULL;
}

void size_human(double bytes, char *out, size_t n)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", bytes, unit[i]);
}

void strv_add(char ***v, char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(**v));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

bool strv_has(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}
