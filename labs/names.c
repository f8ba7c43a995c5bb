#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "util.h"

#define SWAP_SUFFIX "-swap"

char *names_domain(const char *store_id, const char *lab, const char *host)
{
	return xasprintf("xlab-%.*s.%s.%s", NAMES_STORE_SHORT, store_id, lab, host);
}

char *names_network(const char *store_id, const char *lab)
{
	return xasprintf("xlab-%.*s.%s", NAMES_STORE_SHORT, store_id, lab);
}

void names_bridge(const char *store_id, const char *lab, char out[16])
{
	_cleanup_free_ char *key = xasprintf("%s/%s", store_id, lab);
	char hex[65];

	sha256_hex(key, strlen(key), hex);
	snprintf(out, 16, "xlbr-%.10s", hex);
}

void names_vxlan(const char *store_id, const char *lab, char out[16], unsigned *vni)
{
	_cleanup_free_ char *key = xasprintf("%s/%s", store_id, lab);
	char hex[65], six[7];

	sha256_hex(key, strlen(key), hex);
	snprintf(out, 16, "xlvx-%.10s", hex);
	memcpy(six, hex + 10, 6);
	six[6] = '\0';
	*vni = (unsigned)strtoul(six, NULL, 16);
	if (*vni == 0)
		*vni = 1;
}

char *names_lab_dir(const char *home, const char *lab)
{
	return xasprintf("%s/labs/%s", home, lab);
}

char *names_server_dir(const char *home, const char *server)
{
	return xasprintf("%s/servers/%s", home, server);
}

char *names_server_known_hosts(const char *home, const char *server)
{
	return xasprintf("%s/servers/%s/known_hosts", home, server);
}

char *names_host_dir(const char *lab_dir, const char *host)
{
	return xasprintf("%s/hosts/%s", lab_dir, host);
}

char *names_guest_dir(const char *lab_dir, const char *guest)
{
	return xasprintf("%s/guests/%s", lab_dir, guest);
}

char *names_root_disks_glob(const char *home)
{
	return xasprintf("%s/labs/*/hosts/*/root.qcow2", home);
}

char *names_root_disk_lab(const char *home, const char *path)
{
	_cleanup_free_ char *prefix = xasprintf("%s/labs/", home);
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || !path[n] || path[n] == '/')
		return NULL;
	return xstrndup(path + n, strcspn(path + n, "/"));
}

char *names_guest_swap(const char *guest)
{
	return xasprintf("%s" SWAP_SUFFIX, guest);
}

bool names_guest_reserved(const char *guest)
{
	size_t n = strlen(guest), k = strlen(SWAP_SUFFIX);

	return n >= k && strcmp(guest + n - k, SWAP_SUFFIX) == 0;
}

bool names_image_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool names_snapshot_valid(const char *name)
{
	return names_image_valid(name);
}
