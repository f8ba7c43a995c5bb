#include "hostconn.h"

#include <string.h>

#include "names.h"
#include "util.h"

char *lab_host_dir(const struct lab_dirs *d, const char *host)
{
	return names_host_dir(d->dir, host);
}

char *lab_host_key_path(const char *host_dir, const char *suffix)
{
	return xasprintf("%s/ssh_host_ed25519_key%s", host_dir, suffix);
}

void lab_host_target(const struct lab_dirs *d, const char *ip, const char *host_pub,
		     struct lab_target *lt)
{
	struct sshc_target *t = &lt->t;

	memset(lt, 0, sizeof(*lt));
	t->addr = ip;
	t->port = 22;
	t->user = "root";
	t->key_path = d->key;
	t->host_pub_path = host_pub;
	t->connect_timeout_ms = 10000;
	if (!d->via.addr)
		return;
	/* The lab network is on the server: nothing of it is routed here. */
	lab_via_target(&d->via, &lt->via);
	t->via = &lt->via;
}

void lab_via_target(const struct lab_via *via, struct sshc_target *t)
{
	memset(t, 0, sizeof(*t));
	t->addr = via->addr;
	t->port = via->port;
	t->user = via->user;
	t->key_path = via->key;
	t->host_pub_path = via->host_pub;
	t->connect_timeout_ms = 10000;
}

int lab_connect(const struct lab_dirs *d, const char *what, const char *name, const char *ip,
		const char *host_pub, struct sshc **c, struct xerr *e)
{
	struct lab_target lt;

	lab_host_target(d, ip, host_pub, &lt);
	if (sshc_connect(&lt.t, c, e) < 0)
		return xerr_prefix(e, "%s '%s' (%s)", what, name, ip);
	return 0;
}

int lab_host_connect(const struct lab_dirs *d, const char *host, const char *ip,
		     struct sshc **c, struct xerr *e)
{
	_cleanup_free_ char *dir = lab_host_dir(d, host);
	_cleanup_free_ char *pub = lab_host_key_path(dir, ".pub");

	return lab_connect(d, "host", host, ip, pub, c, e);
}
