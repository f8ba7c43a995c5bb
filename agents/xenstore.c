#include "xenstore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sys.h"
#include "util.h"

/* The message types xlab sends (xs_wire.h's enum xsd_sockmsg_type). */
enum xs_type {
	XS_TYPE_DIRECTORY = 1,
	XS_TYPE_READ = 2,
	XS_TYPE_WRITE = 11,
	XS_TYPE_ERROR = 16,
	XS_TYPE_IS_DOMAIN_INTRODUCED = 17,
};

#define XS_HEADER_LEN 16
#define XS_PAYLOAD_MAX 4096

/* xenstored answers at once; a daemon that does not is broken, not slow. */
#define XS_REPLY_TIMEOUT_MS 30000

struct xs_conn {
	int fd;
	uint32_t next_id;
};

/* A request: header (type, req_id, tx_id 0, len) and payload, in the host's
 * byte order as xenstored reads it. */
static int xs_encode(enum xs_type type, uint32_t req_id, const void *payload, size_t len,
		     uint8_t out[XS_HEADER_LEN + XS_PAYLOAD_MAX], size_t *out_len)
{
	const uint32_t h[4] = { (uint32_t)type, req_id, 0, (uint32_t)len };

	if (len > XS_PAYLOAD_MAX)
		return -1;
	memcpy(out, h, sizeof(h));
	if (len)
		memcpy(out + XS_HEADER_LEN, payload, len);
	*out_len = XS_HEADER_LEN + len;
	return 0;
}

static int xs_header_parse(const uint8_t in[XS_HEADER_LEN], uint32_t *type,
			   uint32_t *req_id, uint32_t *len)
{
	uint32_t h[4];

	memcpy(h, in, sizeof(h));
	*type = h[0];
	*req_id = h[1];
	*len = h[3];
	return *len > XS_PAYLOAD_MAX ? -1 : 0;
}

/* xenstored's own socket first: the kernel's xenbus device relays to the
 * same daemon, one hop longer. */
static int conn_fd(const char *path, struct xerr *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return xerr_errno(e, XERR_NOTFOUND, "no xenstore at %s", path);
	if (!S_ISSOCK(st.st_mode)) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		return fd < 0 ? xerr_errno(e, XERR_IO, "cannot open %s", path) : fd;
	}
	if (strlen(path) >= sizeof(a.sun_path))
		return xerr_set(e, XERR_IO, "xenstore socket path too long: %s", path);
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot make a socket for xenstore");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		xerr_errno(e, XERR_IO, "cannot connect to xenstored at %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* A path that is there but refuses (a socket left by a xenstored that is
 * gone) does not stop the search: libxenstore goes on too. The first such
 * error is the one told when nothing answers. */
int xs_open(struct xs_conn **out, struct xerr *e)
{
	static const char *const where[] = { "/run/xenstored/socket", "/var/run/xenstored/socket",
					     "/dev/xen/xenbus" };
	struct xerr first = { 0 };

	if (xen_daemons_wait(e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(where); i++) {
		_cleanup_free_ char *path = agent_path("%s", where[i]);
		struct xerr why = { 0 };
		int fd = conn_fd(path, &why);

		if (fd >= 0) {
			*out = xcalloc(1, sizeof(**out));
			(*out)->fd = fd;
			(*out)->next_id = 1;
			return 0;
		}
		if (first.kind == XERR_NONE || (first.kind == XERR_NOTFOUND &&
						why.kind != XERR_NOTFOUND))
			first = why;
	}
	*e = first;
	return -1;
}

void xs_close(struct xs_conn *x)
{
	if (!x)
		return;
	close(x->fd);
	free(x);
}

static int read_all(int fd, uint8_t *p, size_t n, struct xerr *e)
{
	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;
		int rc = poll(&pfd, 1, XS_REPLY_TIMEOUT_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			return xerr_set(e, XERR_TIMEOUT, "xenstore did not answer in %d s",
					XS_REPLY_TIMEOUT_MS / 1000);
		r = rc < 0 ? -1 : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return xerr_errno(e, XERR_IO, "reading from xenstore");
		if (r == 0)
			return xerr_set(e, XERR_IO, "xenstore closed the connection");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One request and its reply (*reply NUL-terminated for the caller's sake). An
 * XS_ERROR reply is an error: ENOENT is XERR_NOTFOUND. */
static int xs_call(struct xs_conn *x, enum xs_type type, const void *payload, size_t len,
		   char **reply, size_t *reply_len, struct xerr *e)
{
	uint8_t msg[XS_HEADER_LEN + XS_PAYLOAD_MAX], head[XS_HEADER_LEN];
	uint32_t rtype, rid, rlen, id = x->next_id++;
	size_t n;
	char *body;

	if (xs_encode(type, id, payload, len, msg, &n) < 0)
		return xerr_set(e, XERR_USAGE, "xenstore request over %d bytes", XS_PAYLOAD_MAX);
	if (fd_write_all(x->fd, msg, n) < 0)
		return xerr_errno(e, XERR_IO, "writing to xenstore");
	if (read_all(x->fd, head, sizeof(head), e) < 0)
		return -1;
	if (xs_header_parse(head, &rtype, &rid, &rlen) < 0)
		return xerr_set(e, XERR_PROTO, "xenstore reply of %" PRIu32 " bytes", rlen);
	body = xmalloc(rlen + 1);
	if (read_all(x->fd, (uint8_t *)body, rlen, e) < 0) {
		free(body);
		return -1;
	}
	body[rlen] = '\0';
	if (rid != id) {
		free(body);
		return xerr_set(e, XERR_PROTO, "xenstore answered request %" PRIu32 " for %" PRIu32,
				rid, id);
	}
	if (rtype == XS_TYPE_ERROR) {
		int rc = xerr_set(e, strcmp(body, "ENOENT") ? XERR_FAIL : XERR_NOTFOUND,
				  "xenstore: %s", body);

		free(body);
		return rc;
	}
	if (rtype != (uint32_t)type) {
		free(body);
		return xerr_set(e, XERR_PROTO, "xenstore answered type %" PRIu32 " to %d", rtype,
				(int)type);
	}
	*reply = body;
	if (reply_len)
		*reply_len = rlen;
	return 0;
}

int xs_read(struct xs_conn *x, const char *path, char **value, struct xerr *e)
{
	if (xs_call(x, XS_TYPE_READ, path, strlen(path) + 1, value, NULL, e) < 0)
		return xerr_prefix(e, "reading %s", path);
	return 0;
}

/* The payload is the path, its NUL, then the value without one. */
int xs_write(struct xs_conn *x, const char *path, const char *value, struct xerr *e)
{
	size_t plen = strlen(path) + 1, vlen = strlen(value);
	_cleanup_free_ char *payload = xmalloc(plen + vlen);
	_cleanup_free_ char *reply = NULL;

	memcpy(payload, path, plen);
	memcpy(payload + plen, value, vlen);
	if (xs_call(x, XS_TYPE_WRITE, payload, plen + vlen, &reply, NULL, e) < 0)
		return xerr_prefix(e, "writing %s", path);
	return 0;
}

int xs_directory(struct xs_conn *x, const char *path, char ***names, struct xerr *e)
{
	_cleanup_free_ char *reply = NULL;
	size_t len, n = 0, cap = 0;
	char **v = NULL;

	if (xs_call(x, XS_TYPE_DIRECTORY, path, strlen(path) + 1, &reply, &len, e) < 0)
		return xerr_prefix(e, "listing %s", path);
	/* NUL-separated names, the last one NUL-terminated too. */
	for (size_t i = 0; i < len;) {
		size_t l = strnlen(reply + i, len - i);

		xgrow((void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = xstrndup(reply + i, l);
		i += l + 1;
	}
	xgrow((void **)&v, &cap, n + 1, sizeof(*v));
	v[n] = NULL;
	*names = v;
	return 0;
}

int xs_domain_introduced(struct xs_conn *x, unsigned domid, bool *yes, struct xerr *e)
{
	_cleanup_free_ char *reply = NULL;
	char id[16];

	snprintf(id, sizeof(id), "%u", domid);
	if (xs_call(x, XS_TYPE_IS_DOMAIN_INTRODUCED, id, strlen(id) + 1, &reply, NULL, e) < 0)
		return xerr_prefix(e, "asking whether domain %u is alive", domid);
	*yes = reply[0] == 'T';
	return 0;
}

int xs_domid_by_name(struct xs_conn *x, const char *name, int64_t *domid, bool *unsure,
		     struct xerr *e)
{
	char **ids = NULL;
	int rc = 0;

	*domid = -1;
	*unsure = false;
	if (xs_directory(x, "/local/domain", &ids, e) < 0)
		return -1;
	for (char **id = ids; *id && *domid < 0 && rc == 0; id++) {
		_cleanup_free_ char *path = xasprintf("/local/domain/%s/name", *id);
		_cleanup_free_ char *have = NULL;
		struct xerr miss = { 0 };
		char *end;
		unsigned long v = strtoul(*id, &end, 10);
		bool alive = false;

		if (end == *id || *end || v > 0x7fef)
			continue;
		if (xs_read(x, path, &have, &miss) < 0) {
			/* A domain going away between the listing and the read. */
			if (miss.kind != XERR_NOTFOUND) {
				*e = miss;
				rc = -1;
			}
			continue;
		}
		if (strcmp(have, name))
			continue;
		rc = xs_domain_introduced(x, (unsigned)v, &alive, e);
		if (rc == 0 && alive)
			*domid = (int64_t)v;
		else if (rc == 0)
			*unsure = true;
	}
	strv_free(ids);
	/* A live one found settles it, whatever left-overs share its name. */
	if (*domid >= 0)
		*unsure = false;
	return rc;
}
