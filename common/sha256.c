#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[2 * n] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	to_hex(md, n, out);
}

struct sha256_stream {
	EVP_MD_CTX *ctx;
};

struct sha256_stream *sha256_stream_new(void)
{
	struct sha256_stream *s = xcalloc(1, sizeof(*s));

	s->ctx = EVP_MD_CTX_new();
	/* Only an allocation can fail here: SHA-256 is built into libcrypto. */
	if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL))
		abort();
	return s;
}

void sha256_stream_update(struct sha256_stream *s, const void *data, size_t len)
{
	EVP_DigestUpdate(s->ctx, data, len);
}

void sha256_stream_finish(struct sha256_stream *s, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_DigestFinal_ex(s->ctx, md, &n);
	to_hex(md, n, out);
	sha256_stream_free(s);
}

void sha256_stream_free(struct sha256_stream *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->ctx);
	free(s);
}

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *chunk = xmalloc(1 << 20);
	struct sha256_stream *s;
	ssize_t got;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	s = sha256_stream_new();
	while ((got = read(fd, chunk, 1 << 20)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			sha256_stream_free(s);
			return xerr_errno(e, XERR_IO, "cannot read %s", path);
		}
		sha256_stream_update(s, chunk, (size_t)got);
	}
	sha256_stream_finish(s, out);
	return 0;
}

int sha256_hex_valid(const char *s)
{
	size_t i;

	for (i = 0; s && s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return i == SHA256_HEX_LEN;
}
