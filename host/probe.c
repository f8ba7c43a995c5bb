#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct probe {
	int fd;
	struct sockaddr_in dst;
	uint16_t ident;
	int64_t interval_us;
	pthread_t thread;
	pthread_mutex_t mu;
	atomic_bool stop;
	int64_t *t; /* reply times */
	size_t n, cap, sent;
};

int64_t probe_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint16_t icmp_sum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void probe_send(struct probe *p, uint16_t seq)
{
	uint8_t pkt[sizeof(struct icmphdr) + 16] = { 0 };
	struct icmphdr *h = (struct icmphdr *)pkt;

	h->type = ICMP_ECHO;
	h->un.echo.id = htons(p->ident);
	h->un.echo.sequence = htons(seq);
	memcpy(pkt + sizeof(*h), "xlab-probe......", 16);
	h->checksum = icmp_sum(pkt, sizeof(pkt));
	/* A send failing (no route while the guest moves) is a lost ping. */
	(void)sendto(p->fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&p->dst,
		     sizeof(p->dst));
}

/* Raw ICMP sockets see every reply on the host: keep ours only. */
static void probe_recv(struct probe *p)
{
	uint8_t buf[1500];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &flen);
	const struct iphdr *ip = (const struct iphdr *)buf;
	const struct icmphdr *h;
	size_t hl;
	int64_t now = probe_now_us();

	if (n < (ssize_t)sizeof(*ip))
		return;
	hl = (size_t)ip->ihl * 4;
	if ((size_t)n < hl + sizeof(*h) || from.sin_addr.s_addr != p->dst.sin_addr.s_addr)
		return;
	h = (const struct icmphdr *)(buf + hl);
	if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != p->ident)
		return;
	pthread_mutex_lock(&p->mu);
	xgrow((void **)&p->t, &p->cap, p->n, sizeof(*p->t));
	p->t[p->n++] = now;
	pthread_mutex_unlock(&p->mu);
}

static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	int64_t next = probe_now_us();
	uint16_t seq = 0;

	while (!atomic_load(&p->stop)) {
		int64_t now = probe_now_us();
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		int wait_ms;

		if (now >= next) {
			probe_send(p, seq++);
			pthread_mutex_lock(&p->mu);
			p->sent++;
			pthread_mutex_unlock(&p->mu);
			next += p->interval_us;
			if (next < now) /* we fell behind: do not burst to catch up */
				next = now + p->interval_us;
		}
		wait_ms = (int)((next - probe_now_us() + 999) / 1000);
		if (poll(&pfd, 1, wait_ms > 0 ? wait_ms : 0) > 0)
			probe_recv(p);
	}
	return NULL;
}

int probe_start(const char *ipv4, int interval_ms, struct probe **out, struct xerr *e)
{
	struct probe *p = xcalloc(1, sizeof(*p));

	p->dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, ipv4, &p->dst.sin_addr) != 1) {
		free(p);
		return xerr_set(e, XERR_FAIL, "probe: '%s' is not an IPv4 address", ipv4);
	}
	p->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (p->fd < 0) {
		free(p);
		return xerr_errno(e, XERR_IO, "probe: raw ICMP socket (needs root)");
	}
	/* Distinct per probe, so two experiments on one machine keep apart. */
	p->ident = (uint16_t)(getpid() ^ (uintptr_t)p >> 4);
	p->interval_us = (int64_t)interval_ms * 1000;
	pthread_mutex_init(&p->mu, NULL);
	if (pthread_create(&p->thread, NULL, probe_thread, p) != 0) {
		close(p->fd);
		free(p);
		return xerr_set(e, XERR_FAIL, "probe: cannot start a thread");
	}
	*out = p;
	return 0;
}

size_t probe_replies(struct probe *p, int64_t **t)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->n;
	*t = xcalloc(n ? n : 1, sizeof(**t));
	memcpy(*t, p->t, n * sizeof(**t));
	pthread_mutex_unlock(&p->mu);
	return n;
}

int64_t probe_last_reply(struct probe *p)
{
	int64_t last;

	pthread_mutex_lock(&p->mu);
	last = p->n ? p->t[p->n - 1] : -1;
	pthread_mutex_unlock(&p->mu);
	return last;
}

size_t probe_sent(struct probe *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->sent;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void probe_stop(struct probe *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	close(p->fd);
	pthread_mutex_destroy(&p->mu);
	free(p->t);
	free(p);
}
