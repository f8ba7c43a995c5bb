#include "subnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "util.h"

int cidr_parse(const char *s, struct cidr *out, struct xerr *e)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	char *end;
	long prefix;
	uint32_t mask;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return xerr_set(e, XERR_USAGE, "'%s' is not an IPv4 CIDR like 10.80.0.0/24", s);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	prefix = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, ip, &in) != 1 || *end || end == slash + 1 || prefix < 0 ||
	    prefix > 32)
		return xerr_set(e, XERR_USAGE, "'%s' is not an IPv4 CIDR like 10.80.0.0/24", s);
	out->addr = ntohl(in.s_addr);
	out->prefix = (int)prefix;
	mask = prefix ? ~0u << (32 - prefix) : 0;
	if (out->addr & ~mask)
		return xerr_set(e, XERR_USAGE, "'%s' has host bits set", s);
	return 0;
}

void cidr_format(const struct cidr *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%u.%u.%u.%u/%d", c->addr >> 24, (c->addr >> 16) & 255,
		 (c->addr >> 8) & 255, c->addr & 255, c->prefix);
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	int p = a->prefix < b->prefix ? a->prefix : b->prefix;
	uint32_t mask = p ? ~0u << (32 - p) : 0;

	return (a->addr & mask) == (b->addr & mask);
}

const char *cidr_reserved(const struct cidr *c)
{
	static const struct {
		uint32_t addr;
		int prefix;
		const char *what;
	} special[] = {
		{ 0x00000000, 8, "0.0.0.0/8 (\"this network\")" },
		{ 0x7f000000, 8, "127.0.0.0/8 (loopback)" },
		{ 0xa9fe0000, 16, "169.254.0.0/16 (link-local)" },
		{ 0xe0000000, 4, "224.0.0.0/4 (multicast)" },
		{ 0xf0000000, 4, "240.0.0.0/4 (reserved, broadcast)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(special); i++) {
		struct cidr r = { .addr = special[i].addr, .prefix = special[i].prefix };

		if (cidr_overlap(c, &r))
			return special[i].what;
	}
	return NULL;
}

int subnet_allocate(const char *lab, char *const *used, size_t n_used, char out[20],
		    struct xerr *e)
{
	struct cidr pool, *taken = xcalloc(n_used ? n_used : 1, sizeof(*taken));
	size_t n_taken = 0;
	char hex[SHA256_HEX_LEN + 1];
	unsigned first;

	if (cidr_parse(SUBNET_POOL, &pool, e) < 0) {
		free(taken);
		return -1;
	}
	for (size_t i = 0; i < n_used; i++) {
		struct xerr ignore = { 0 };

		/* A malformed row in the store must not stop allocation. */
		if (cidr_parse(used[i], &taken[n_taken], &ignore) == 0)
			n_taken++;
	}
	sha256_hex(lab, strlen(lab), hex);
	first = (unsigned)strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16);
	for (unsigned k = 0; k < 256; k++) {
		struct cidr c = { pool.addr | (((first + k) & 255u) << 8), 24 };
		bool free_ = true;

		for (size_t i = 0; i < n_taken && free_; i++)
			free_ = !cidr_overlap(&c, &taken[i]);
		if (free_) {
			cidr_format(&c, out, 20);
			free(taken);
			return 0;
		}
	}
	free(taken);
	return xerr_set(e, XERR_FAIL,
			"no free /24 left in %s for lab '%s': take a lab down, or give the "
			"spec a `network: {subnet: ...}`",
			SUBNET_POOL, lab);
}
