/* Names and URIs of servers, and the URI xlab opens for one. */
#include "serverspec.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>

#include "connuri.h"
#include "spec.h"
#include "util.h"

int server_name_check(const char *name, struct xerr *e)
{
	if (strcmp(name, SERVER_LOCAL) == 0)
		return xerr_set(e, XERR_USAGE,
				"'%s' is this machine, always a server: pick another name", name);
	if (!spec_name_valid(name))
		return xerr_set(e, XERR_USAGE,
				"server name '%s' is not a DNS label (a-z, 0-9 and '-', at most 63, "
				"not starting or ending with '-')",
				name);
	return 0;
}

static const char *const ssh_transports[] = { "qemu+ssh://", "qemu+libssh://",
						"qemu+libssh2://" };

bool server_uri_is_ssh(const char *uri)
{
	for (size_t i = 0; i < ARRAY_SIZE(ssh_transports); i++)
		if (strncmp(uri, ssh_transports[i], strlen(ssh_transports[i])) == 0)
			return true;
	return false;
}

/* Whether the query of uri names parameter key (connuri.c allows '&' and
 * ';' between parameters). */
static bool uri_has_param(const char *uri, const char *key)
{
	const char *q = strchr(uri, '?');
	size_t kl = strlen(key);

	while (q && *q) {
		q++;
		if (strncmp(q, key, kl) == 0 && (q[kl] == '=' || q[kl] == '&' || q[kl] == ';' ||
						  q[kl] == '\0'))
			return true;
		q += strcspn(q, "&;");
	}
	return false;
}

int server_uri_check(const char *uri, struct xerr *e)
{
	static const char *const pinned[] = { "known_hosts", "known_hosts_verify", "no_verify" };
	const char *why;

	if (!libvirt_uri_allowed(uri, &why))
		return xerr_set(e, XERR_USAGE, "libvirt URI '%s' is refused: %s", uri, why);
	if (!server_uri_is_ssh(uri))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(pinned); i++)
		if (uri_has_param(uri, pinned[i]))
			return xerr_set(e, XERR_USAGE,
					"libvirt URI '%s' is refused: xlab pins the server's SSH "
					"host key in the store itself (docs/servers.md); drop %s=",
					uri, pinned[i]);
	return 0;
}

char *server_connect_uri(const char *uri, const char *known_hosts, bool pin)
{
	const char *rest = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(ssh_transports); i++)
		if (strncmp(uri, ssh_transports[i], strlen(ssh_transports[i])) == 0)
			rest = uri + strlen(ssh_transports[i]);
	if (!rest)
		return xstrdup(uri);
	/* libssh2, not libssh: libvirt 9.0's libssh transport hangs or crashes in
	 * a stream (an image upload, then reading it back) on one connection. */
	return xasprintf("qemu+libssh2://%s%sknown_hosts=%s&known_hosts_verify=%s", rest,
			 strchr(rest, '?') ? "&" : "?", known_hosts, pin ? "auto" : "normal");
}

/* A part of a URI as libvirt reads it: percent-escapes undone. */
static char *unescaped(const char *s, size_t len)
{
	char *raw = (char *)xmlURIUnescapeString(s, (int)len, NULL);
	char *out = xstrdup(raw ? raw : "");

	xmlFree(raw);
	return out;
}

/* Whether the URI's authority writes a port (":0" parses as none). */
static bool explicit_port(const char *uri)
{
	const char *a = strstr(uri, "://"), *end, *c;

	if (!a)
		return false;
	a += 3;
	end = a + strcspn(a, "/?");
	c = a;
	for (const char *p = a; p < end; p++)
		if (*p == '@' || *p == ']')
			c = p + 1;
	return memchr(c, ':', (size_t)(end - c)) != NULL;
}

/* libvirt parses a URI with libxml2 (virURIParse): so does this, so the
 * user, host, port and keyfile= are what libvirt logs in with. */
int server_uri_ssh(const char *uri, struct server_ssh *out, struct xerr *e)
{
	xmlURIPtr u = NULL;
	const char *q;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (!server_uri_is_ssh(uri) || !(u = xmlParseURI(uri)) || !u->server)
		goto bad;
	if (u->user)
		out->user = unescaped(u->user, strlen(u->user));
	/* An IPv6 host is written [ADDR]; libxml2 keeps the brackets. */
	hl = strlen(u->server);
	out->host = hl > 2 && u->server[0] == '[' && u->server[hl - 1] == ']'
			    ? xstrndup(u->server + 1, hl - 2)
			    : xstrdup(u->server);
	out->port = u->port > 0 ? u->port : explicit_port(uri) ? -1 : 22;
	for (q = u->query_raw; q && *q; q += strcspn(q, "&;"), q += *q != '\0') {
		size_t n = strcspn(q, "&;");

		if (n > 8 && strncmp(q, "keyfile=", 8) == 0) {
			free(out->keyfile);
			out->keyfile = unescaped(q + 8, n - 8);
		}
	}
	if (!*out->host || out->port <= 0 || out->port > 65535)
		goto bad;
	xmlFreeURI(u);
	return 0;
bad:
	xmlFreeURI(u);
	server_ssh_free(out);
	return xerr_set(e, XERR_USAGE, "'%s' is not an SSH server URI with a host and a good port",
			uri);
}

void server_ssh_free(struct server_ssh *s)
{
	free(s->user);
	free(s->host);
	free(s->keyfile);
	memset(s, 0, sizeof(*s));
}
