/* libvirt connection URIs from a spec (a course repository, someone else's
 * lab) must not run programs on the controller: qemu+ext:// runs `command=`,
 * qemu+ssh:// runs `netcat=` remotely and ssh locally, qemu+unix:// opens any
 * `socket=`. Only transports that talk to a libvirtd, with parameters that
 * tune them, pass. qemu+libssh:// and qemu+libssh2:// are SSH inside libvirt
 * (no program at all): libssh2 is how xlab reaches a server with that
 * server's SSH host key pinned in a known_hosts file of the store
 * (labs/serverspec.c). */
#include "connuri.h"

#include <string.h>

#include "util.h"

/* Parameters libvirt reads from the query that choose nothing to execute. */
static const char *const safe_params[] = {
	"no_verify", "no_tty", "pkipath", "keyfile", "known_hosts", "known_hosts_verify",
	"sshauth", "mode",
};

static bool in(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]))
			return false;
	return true;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* Values are file names or words; '%' is refused everywhere so an encoded
 * key (comm%61nd) cannot pass as something else. */
static bool query_ok(const char *q, const char **why)
{
	while (*q) {
		size_t n = strcspn(q, "&;"), k = strcspn(q, "=");
		bool known = false;

		if (k > n)
			k = n;
		for (size_t i = 0; i < sizeof(safe_params) / sizeof(safe_params[0]); i++)
			known |= strlen(safe_params[i]) == k && !strncmp(q, safe_params[i], k);
		if (!known) {
			*why = "it has a parameter other than no_verify, no_tty, pkipath, keyfile, "
			       "known_hosts, known_hosts_verify, sshauth or mode (command=, netcat=, "
			       "socket= and proxy= would run or reach programs on this machine)";
			return false;
		}
		if (!in(q, n, ALNUM "_=./-,:"))
			return false;
		q += n;
		if (*q)
			q++;
	}
	return true;
}

/* [user@]host[:port] of a remote transport: no option-looking names, which
 * libvirt would hand to the local ssh. */
static bool authority_ok(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n), *host = at ? at + 1 : a;
	size_t hn = n - (size_t)(host - a), colon;

	if (at && (at == a || a[0] == '-' || !in(a, (size_t)(at - a), ALNUM "._-")))
		return false;
	if (hn == 0 || host[0] == '-' || host[0] == '.')
		return false;
	if (host[0] == '[') /* [v6]:port */
		return in(host, hn, "0123456789abcdefABCDEF:[]");
	colon = strcspn(host, ":");
	if (colon > hn)
		colon = hn;
	return colon > 0 && in(host, colon, ALNUM ".-") &&
	       in(host + colon, hn - colon, ":0123456789");
}

bool libvirt_uri_allowed(const char *uri, const char **why)
{
	static const char *const remote[] = { "qemu+ssh://", "qemu+libssh://", "qemu+libssh2://",
					      "qemu+tls://" };
	const char *q = strchr(uri, '?'), *path, *rest;
	size_t plen;

	*why = "the URI has characters libvirt URIs do not need";
	if (strpbrk(uri, "#%\\ \t\r\n") || !in(uri, strlen(uri), ALNUM ":/?&;=@._-,+[]~"))
		return false;
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if (q && !query_ok(q + 1, why))
		return false;
	if (!strncmp(uri, "test:///", 8))
		return plen > 8 && !memmem(uri, plen, "/../", 4) && !(*why = NULL);
	*why = "only qemu:///system, qemu:///session, qemu+ssh://HOST/system, "
	       "qemu+libssh://HOST/system, qemu+libssh2://HOST/system, qemu+tls://HOST/system "
	       "and test:/// are accepted (other transports, such as "
	       "qemu+ext:// or qemu+unix://, run or reach programs on this machine)";
	if (plen == 14 && !strncmp(uri, "qemu:///system", 14))
		return !(*why = NULL);
	if (plen == 15 && !strncmp(uri, "qemu:///session", 15))
		return !(*why = NULL);
	for (size_t i = 0; i < ARRAY_SIZE(remote); i++) {
		size_t sl = strlen(remote[i]);

		if (strncmp(uri, remote[i], sl))
			continue;
		rest = uri + sl;
		path = memchr(rest, '/', plen - sl);
		if (!path || !authority_ok(rest, (size_t)(path - rest))) {
			*why = "the host part must be [USER@]HOST[:PORT] (letters, digits, '.', '-', "
			       "not starting with '-')";
			return false;
		}
		plen -= (size_t)(path - uri);
		if ((plen == 7 && !strncmp(path, "/system", 7)) ||
		    (plen == 8 && !strncmp(path, "/session", 8)))
			return !(*why = NULL);
		*why = "the path must be /system or /session";
		return false;
	}
	return false;
}
