#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
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

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char md[EVP_MAX_MD_SIZE];
	_cleanup_free_ unsigned char *chunk = xmalloc(1 << 20);
	unsigned n = 0;
	EVP_MD_CTX *ctx;
	ssize_t got;
	int rc = 0;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return xerr_set(e, XERR_FAIL, "sha256 unavailable");
	}
	while ((got = read(fd, chunk, 1 << 20)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = xerr_errno(e, XERR_IO, "cannot read %s", path);
			break;
		}
		EVP_DigestUpdate(ctx, chunk, (size_t)got);
	}
	if (rc == 0) {
		EVP_DigestFinal_ex(ctx, md, &n);
		to_hex(md, n, out);
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

int sha256_hex_valid(const char *s)
{
	size_t i;

	for (i = 0; s && s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return i == SHA256_HEX_LEN;
}
