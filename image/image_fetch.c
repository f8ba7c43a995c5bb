/* xlab image fetch: download an image archive (libcurl, resumable, with
 * progress), check its sha256, and add it to the store as import does. */
#include "image.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fetch_int.h"
#include "paths.h"
#include "sha256.h"
#include "util.h"

#define LOW_SPEED_LIMIT 1024L /* bytes per second */
#define LOW_SPEED_TIME 30L    /* seconds */

struct dl {
	int fd;
	EVP_MD_CTX *md;
	curl_off_t have;    /* bytes in the .part before this transfer */
	curl_off_t got;     /* bytes written by this transfer */
	int write_errno;
	bool tty;
	bool drew_full;
	int64_t last_draw;
};

static size_t dl_write(char *p, size_t size, size_t n, void *ud)
{
	struct dl *d = ud;
	size_t len = size * n, done = 0;

	while (done < len) {
		ssize_t w = write(d->fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->write_errno = errno;
			return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
		}
		EVP_DigestUpdate(d->md, p + done, (size_t)w);
		done += (size_t)w;
		d->got += w;
	}
	return len;
}

static int dl_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct dl *d = ud;
	int64_t t = now_ms();
	char have[32], all[32];
	double done = (double)(d->have + now), full = (double)(d->have + total);
	bool full_now = total > 0 && now == total;

	(void)ut;
	(void)un;
	if (d->drew_full || (t - d->last_draw < 200 && !full_now))
		return 0;
	d->drew_full = full_now;
	d->last_draw = t;
	size_human(done, have, sizeof(have));
	if (total > 0) {
		int width = 30, fill = (int)(width * done / full);

		size_human(full, all, sizeof(all));
		fprintf(stderr, "\r[%-*.*s] %3d%%  %s / %s ", width, fill,
			"##############################", (int)(100 * done / full), have, all);
	} else {
		fprintf(stderr, "\r%s ", have);
	}
	return 0;
}

static long low_speed_time(void)
{
	const char *s = getenv("XLAB_FETCH_LOW_SPEED_TIME");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : LOW_SPEED_TIME;
}

/* Hashes what an earlier, interrupted transfer left, so the digest covers
 * the whole file once the rest arrives. */
static int hash_existing(struct dl *d, const char *part, struct xerr *e)
{
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(d->fd, buf, CHUNK, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xerr_errno(e, XERR_IO, "cannot read %s", part);
		EVP_DigestUpdate(d->md, buf, (size_t)n);
		off += n;
	}
	d->have = off;
	return 0;
}

static void digest_hex(EVP_MD_CTX *md, char out[SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_MD_CTX_copy_ex(copy, md);
	EVP_DigestFinal_ex(copy, bin, &n);
	EVP_MD_CTX_free(copy);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", bin[i]);
	out[2 * n] = '\0';
}

enum dl_outcome { DL_DONE, DL_FAILED, DL_RESTART };

static enum dl_outcome dl_result(CURL *c, CURLcode res, const struct dl *d, const char *url,
				 const char *part, const char *errbuf, struct xerr *e)
{
	curl_off_t total = d->have + d->got;
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	switch (res) {
	case CURLE_OK:
		return DL_DONE;
	case CURLE_RANGE_ERROR:
		return DL_RESTART; /* the server ignores Range: start over */
	case CURLE_HTTP_RETURNED_ERROR:
		if (code == 416 && d->have > 0)
			return DL_RESTART; /* the .part is not a prefix of this file */
		xerr_set(e, XERR_FAIL, "HTTP %ld for %s", code, url);
		return DL_FAILED;
	case CURLE_PARTIAL_FILE:
		xerr_set(e, XERR_FAIL,
			 "download of %s was cut short after %" CURL_FORMAT_CURL_OFF_T
			 " bytes; the partial file %s is kept: run the same command again to resume",
			 url, total, part);
		return DL_FAILED;
	case CURLE_OPERATION_TIMEDOUT:
		xerr_set(e, XERR_FAIL,
			 "download of %s timed out (%s) after %" CURL_FORMAT_CURL_OFF_T
			 " bytes; the partial file %s is kept: run the same command again to resume",
			 url, errbuf[0] ? errbuf : "too slow", total, part);
		return DL_FAILED;
	case CURLE_WRITE_ERROR:
		if (d->write_errno == ENOSPC || d->write_errno == EDQUOT) {
			unlink(part);
			xerr_set(e, XERR_FAIL,
				 "disk full while downloading %s into %s; the partial file was "
				 "deleted: free some space and run the command again", url, part);
			return DL_FAILED;
		}
		errno = d->write_errno;
		xerr_errno(e, XERR_IO, "cannot write %s", part);
		return DL_FAILED;
	default:
		xerr_set(e, XERR_FAIL, "cannot download %s: %s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(res));
		return DL_FAILED;
	}
}

static void dl_setup(CURL *c, const char *url, struct dl *d, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_time());
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xlab-image-fetch");
	if (d->have > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, d->have);
	if (d->tty) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, dl_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
	}
}

static enum dl_outcome download_once(const char *url, const char *part, const char *want,
				     char actual[SHA256_HEX_LEN + 1], struct xerr *e)
{
	struct dl d = { .tty = isatty(2) };
	char errbuf[CURL_ERROR_SIZE] = "";
	enum dl_outcome out = DL_FAILED;
	CURL *c = NULL;
	CURLcode res;

	d.fd = open(part, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d.fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", part);
		return DL_FAILED;
	}
	/* Two fetches of one archive would append to the same .part. */
	if (flock(d.fd, LOCK_EX | LOCK_NB) < 0) {
		xerr_set(e, XERR_CONFLICT, "another `xlab image fetch` of %s is running", url);
		close(d.fd);
		return DL_FAILED;
	}
	d.md = EVP_MD_CTX_new();
	if (!d.md || !EVP_DigestInit_ex(d.md, EVP_sha256(), NULL)) {
		xerr_set(e, XERR_FAIL, "sha256 unavailable");
		goto out;
	}
	if (hash_existing(&d, part, e) < 0)
		goto out;
	digest_hex(d.md, actual);
	/* A previous run may have got every byte and failed later. */
	if (d.have > 0 && strcmp(actual, want) == 0) {
		out = DL_DONE;
		goto out;
	}
	if (d.have > 0)
		fprintf(stderr, "resuming %s from byte %lld\n", url, (long long)d.have);
	c = curl_easy_init();
	if (!c) {
		xerr_set(e, XERR_FAIL, "cannot start libcurl");
		goto out;
	}
	dl_setup(c, url, &d, errbuf);
	res = curl_easy_perform(c);
	if (d.tty)
		fputc('\n', stderr);
	out = dl_result(c, res, &d, url, part, errbuf, e);
	if (out == DL_DONE && fsync(d.fd) < 0) {
		xerr_errno(e, XERR_IO, "cannot write %s", part);
		out = DL_FAILED;
	}
	digest_hex(d.md, actual);
out:
	if (d.have + d.got == 0 && out != DL_DONE)
		unlink(part); /* nothing worth resuming */
	curl_easy_cleanup(c);
	EVP_MD_CTX_free(d.md);
	close(d.fd);
	return out;
}

static int download(const char *url, const char *part, const char *want, struct xerr *e)
{
	char actual[SHA256_HEX_LEN + 1] = "";
	enum dl_outcome out = DL_RESTART;

	for (int attempt = 0; attempt < 2 && out == DL_RESTART; attempt++) {
		out = download_once(url, part, want, actual, e);
		if (out == DL_RESTART)
			unlink(part);
	}
	if (out == DL_RESTART)
		return xerr_set(e, XERR_FAIL, "cannot download %s: the server keeps "
				"refusing the byte range", url);
	if (out != DL_DONE)
		return -1;
	if (strcmp(actual, want) != 0) {
		unlink(part);
		return xerr_set(e, XERR_FAIL,
				"checksum mismatch for %s: expected sha256 %s, got %s; the download "
				"was deleted and the store is unchanged", url, want, actual);
	}
	return 0;
}

int image_cmd_fetch(int argc, char **argv, struct xerr *e)
{
	static const char usage[] = "xlab image fetch URL --sha256 HEX [--name NAME] [--force]";
	_cleanup_free_ char *dldir = NULL, *part = NULL;
	struct src_opts o = { 0 };
	char want[SHA256_HEX_LEN + 1];
	int rc;

	if (src_args_parse(argc, argv, true, &o, usage, e) < 0)
		return -1;
	if (strncmp(o.src, "http://", 7) != 0 && strncmp(o.src, "https://", 8) != 0)
		return xerr_set(e, XERR_USAGE, "'%s' is not an http:// or https:// URL "
				"(use `xlab image import` for local files)", o.src);
	for (int i = 0; i <= SHA256_HEX_LEN; i++)
		want[i] = (char)(o.sha[i] >= 'A' && o.sha[i] <= 'F' ? o.sha[i] + 32 : o.sha[i]);
	if (xlab_dir(&dldir, e, "images", ".download", NULL) < 0)
		return -1;
	if (o.name && !o.force) {
		_cleanup_free_ char *final = xasprintf("%s/../%s", dldir, o.name);

		if (path_exists(final))
			return xerr_set(e, XERR_CONFLICT, "image '%s' is already in the store; "
					"pass --force to replace it", o.name);
	}
	part = xasprintf("%s/%s.part", dldir, want);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return xerr_set(e, XERR_FAIL, "cannot initialise libcurl");
	rc = download(o.src, part, want, e);
	curl_global_cleanup();
	if (rc == 0) {
		rc = image_install_from(part, false, o.name, o.force, e);
		/* The archive is what was asked for; once installed, or once
		 * found unusable, it is of no more use. */
		unlink(part);
	}
	rmdir(dldir); /* only when no partial download is kept in it */
	return rc;
}

/* --- export --- */

