/* One host of an `up`: its files (keys, config disk, boot ISO, disks) and
 * the wait for its dom0 to answer SSH, with the boot watchdog. */
#include "up.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_agent.h"
#include "hostconn.h"
#include "hostprep.h"
#include "server_images.h"
#include "stop.h"
#include "up_int.h"
#include "util.h"

static char *host_key_path(const struct plan_host *ph, const char *suffix)
{
	return lab_host_key_path(ph->dir, suffix);
}

static char *dom0_key_path(const struct up_ctx *ctx, const char *suffix)
{
	return xasprintf("%s/dom0_id_ed25519%s", ctx->dirs.dir, suffix);
}

/* The key root in one dom0 uses to reach another (`xl migrate` runs `ssh
 * HOST xl migrate-receive`): one per lab, accepted by every host. */
static int dom0_key_ensure(struct up_ctx *ctx, struct xerr *e)
{
	_cleanup_free_ char *priv = dom0_key_path(ctx, "");
	_cleanup_free_ char *pub = dom0_key_path(ctx, ".pub");
	_cleanup_free_ char *comment = xasprintf("%s-dom0", ctx->spec->lab);

	if (path_exists(priv))
		return 0;
	return sshkey_generate_ed25519(priv, pub, comment, e);
}

int keys_ensure(struct up_ctx *ctx, struct xerr *e)
{
	const struct plan *p = ctx->plan;
	char **names = xcalloc(p->n_hosts + 1, sizeof(char *));
	char **pubs = xcalloc(p->n_hosts + 1, sizeof(char *));
	int rc = -1;

	if (!path_exists(ctx->dirs.key) &&
	    sshkey_generate_ed25519(ctx->dirs.key, ctx->dirs.pub, ctx->spec->lab, e) < 0)
		goto out;
	if (dom0_key_ensure(ctx, e) < 0)
		goto out;
	for (size_t i = 0; i < p->n_hosts; i++) {
		const struct plan_host *ph = &p->hosts[i];
		_cleanup_free_ char *priv = host_key_path(ph, "");
		_cleanup_free_ char *pub = host_key_path(ph, ".pub");

		if (mkdir_p(ph->dir, 0755, e) < 0)
			goto out;
		if (!path_exists(priv) && sshkey_generate_ed25519(priv, pub, ph->spec->name, e) < 0)
			goto out;
		if (sshkey_public_line(pub, &pubs[i], e) < 0)
			goto out;
		names[i] = xasprintf("%s,%s", ph->spec->name, ph->ip);
	}
	rc = known_hosts_write(ctx->dirs.known_hosts, (const char *const *)names,
			       (const char *const *)pubs, p->n_hosts, e);
out:
	strv_free(names);
	strv_free(pubs);
	return rc;
}

static int host_config_write(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	_cleanup_free_ char *priv = NULL, *pub = NULL, *auth = NULL, *hostname = NULL,
			    *network = NULL, *dom0_priv = NULL, *dom0_pub = NULL, *known = NULL;
	_cleanup_free_ char *priv_path = host_key_path(ph, "");
	_cleanup_free_ char *pub_path = host_key_path(ph, ".pub");
	_cleanup_free_ char *dom0_priv_path = dom0_key_path(ctx, "");
	_cleanup_free_ char *dom0_pub_path = dom0_key_path(ctx, ".pub");
	size_t priv_len, pub_len, auth_len, dom0_priv_len, dom0_pub_len, known_len;
	struct buf keys = { 0 };
	int rc;

	if (file_read_all(priv_path, 65536, &priv, &priv_len, e) < 0 ||
	    file_read_all(pub_path, 65536, &pub, &pub_len, e) < 0 ||
	    file_read_all(ctx->dirs.pub, 65536, &auth, &auth_len, e) < 0 ||
	    file_read_all(dom0_priv_path, 65536, &dom0_priv, &dom0_priv_len, e) < 0 ||
	    file_read_all(dom0_pub_path, 65536, &dom0_pub, &dom0_pub_len, e) < 0 ||
	    file_read_all(ctx->dirs.known_hosts, 1 << 20, &known, &known_len, e) < 0)
		return -1;
	/* The controller's key and the other dom0s' key. */
	buf_append(&keys, auth, auth_len);
	if (auth_len && auth[auth_len - 1] != '\n')
		buf_puts(&keys, "\n");
	buf_append(&keys, dom0_pub, dom0_pub_len);
	hostname = xasprintf("%s\n", ph->spec->name);
	network = xasprintf("ADDRESS=%s/%d\nGATEWAY=%s\nLAB=%s\n", ph->ip, ctx->plan->prefix,
			    ctx->plan->gateway, ctx->spec->lab);
	{
		const struct config_entry entries[] = {
			{ "hostname", hostname, strlen(hostname), 0644 },
			{ "network", network, strlen(network), 0644 },
			{ "hosts", ctx->plan->hosts_file, strlen(ctx->plan->hosts_file), 0644 },
			{ "authorized_keys", keys.data, keys.len, 0600 },
			{ "ssh_host_ed25519_key", priv, priv_len, 0600 },
			{ "ssh_host_ed25519_key.pub", pub, pub_len, 0644 },
			{ "dom0_id_ed25519", dom0_priv, dom0_priv_len, 0600 },
			{ "dom0_id_ed25519.pub", dom0_pub, dom0_pub_len, 0644 },
			{ "known_hosts", known, known_len, 0644 },
		};

		rc = config_disk_write(ph->config_build, entries, ARRAY_SIZE(entries), e);
	}
	buf_free(&keys);
	return rc;
}

/* The shared disk: a sparse raw file, made once and kept across `up`s (it
 * holds the shared VG); `down` removes it with the lab's directory. */
int shared_disk_make(const char *path, uint64_t size, struct xerr *e)
{
	_cleanup_close_ int fd = -1;

	if (path_exists(path))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", path);
	if (ftruncate(fd, (off_t)size) < 0) {
		xerr_errno(e, XERR_IO, "cannot size %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* A file made here into the volume of the same name on the lab's server. */
static int file_upload(struct up_ctx *ctx, const struct plan_host *ph, const char *local, const char *remote_path,
		       struct xerr *e)
{
	_cleanup_free_ char *vol = plan_volume_name(remote_path);
	_cleanup_close_ int fd = open(local, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", local);
	return virt_vol_upload(up_site(ctx, ph)->virt, SERVER_POOL, vol, fd, (unsigned long long)st.st_size,
			       NULL, NULL, e);
}

/* A volume of the host's, made anew as qemu-img create makes a file here:
 * a host prepared again (--recreate, an image changed) starts clean. */
static int volume_fresh(struct virt *v, const char *path, unsigned long long size,
			const char *backing, struct xerr *e)
{
	_cleanup_free_ char *vol = plan_volume_name(path);

	if (virt_vol_delete(v, SERVER_POOL, vol, e) < 0)
		return -1;
	return virt_vol_create(v, SERVER_POOL, vol, "qcow2", size, backing, e);
}

/* The disks of a host on another server, as volumes of its pool: the root
 * an overlay of the image's root volume there (image.push put it there). */
static int host_volumes_make(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	const struct image *img = up_image(ctx, ph);
	const struct spec_host *h = ph->spec;
	struct up_site *site = up_site(ctx, ph);
	_cleanup_free_ char *root = NULL, *backing = NULL;
	_cleanup_free_ char *local_root = image_path(img, "root.qcow2");
	unsigned long long virtual_size = 0;

	root = server_blob_volume(image_file_sha256(img, "root.qcow2"));
	backing = xasprintf("%s/%s", site->pool_dir, root);
	if (qcow2_virtual_size(local_root, &virtual_size, e) < 0)
		return -1;
	if (volume_fresh(site->virt, ph->root_overlay, virtual_size, backing, e) < 0 ||
	    volume_fresh(site->virt, ph->data_disk, h->data_disk, NULL, e) < 0)
		return -1;
	for (size_t i = 0; i < h->n_disks; i++)
		if (volume_fresh(site->virt, ph->extra_disks[i], h->disks[i], NULL, e) < 0)
			return -1;
	if (file_upload(ctx, ph, ph->config_build, ph->config_disk, e) < 0)
		return -1;
	if (ph->direct_boot)
		return file_upload(ctx, ph, ph->xen_build, ph->boot_xen, e) < 0 ||
				       file_upload(ctx, ph, ph->kernel_build, ph->boot_kernel, e) < 0
			       ? -1
			       : 0;
	return file_upload(ctx, ph, ph->iso_build, ph->boot_iso, e);
}

static int boot_media_make(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	const char *image_dir = up_image(ctx, ph)->dir;

	if (ph->direct_boot)
		return boot_files_make(ph->xen_build, ph->kernel_build, ph->unpack_kernel, image_dir,
				       e);
	return boot_iso_make(ph->iso_build, image_dir, ph->grub_cfg, e);
}

/* Disks, config disk, boot files: all made before the domain is defined,
 * so a defined domain always has everything it boots from. */
int host_files_make(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	_cleanup_free_ char *base = image_path(up_image(ctx, ph), "root.qcow2");
	const struct spec_host *h = ph->spec;

	if (mkdir_p(ph->dir, 0755, e) < 0)
		return -1;
	if (host_config_write(ctx, ph, e) < 0 || boot_media_make(ctx, ph, e) < 0)
		return -1;
	if (ph->server)
		return host_volumes_make(ctx, ph, e);
	if (qcow2_create(ph->root_overlay, base, 0, e) < 0 ||
	    qcow2_create(ph->data_disk, NULL, h->data_disk, e) < 0)
		return -1;
	for (size_t i = 0; i < h->n_disks; i++)
		if (qcow2_create(ph->extra_disks[i], NULL, h->disks[i], e) < 0)
			return -1;
	return 0;
}

static void serial_tail(const char *path, char *out, size_t outsz)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return;
	n = pread(fd, out, outsz - 1, size > (off_t)outsz - 1 ? size - (off_t)outsz + 1 : 0);
	out[n > 0 ? n : 0] = '\0';
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A host's console log: a file here, or a file of its server's pool (its
 * name is the last part of the path the domain XML gives). */
static off_t console_size(struct up_ctx *ctx, const struct plan_host *ph)
{
	_cleanup_free_ char *vol = NULL;
	unsigned long long size = 0;
	struct xerr ignore = { 0 };

	if (!ph->server)
		return file_size(ph->serial_log);
	vol = plan_volume_name(ph->serial_log);
	return virt_vol_size(up_site(ctx, ph)->virt, SERVER_POOL, vol, &size, &ignore) < 0 ? -1 : (off_t)size;
}

static void console_tail(struct up_ctx *ctx, const struct plan_host *ph, char *out,
			 size_t outsz)
{
	_cleanup_free_ char *vol = NULL, *text = NULL;
	struct xerr ignore = { 0 };
	size_t len;

	if (!ph->server) {
		serial_tail(ph->serial_log, out, outsz);
		return;
	}
	vol = plan_volume_name(ph->serial_log);
	out[0] = '\0';
	if (virt_vol_tail(up_site(ctx, ph)->virt, SERVER_POOL, vol, outsz - 1, &text, &len, &ignore) == 0)
		snprintf(out, outsz, "%s", text);
}

/* Under TCG a nested dom0 kernel now and then stops for good early in its
 * boot (seen in CI: the console's last line "registered taskstats", the
 * other host of the lab fine). A console silent for this long before sshd
 * answers gets the host one power cycle; a real boot prints every few
 * seconds. */
static int64_t boot_stall_ms(void)
{
	const char *env = getenv("XLAB_BOOT_STALL_S");
	long v = env && *env ? strtol(env, NULL, 10) : 0;

	return (v > 0 ? v : 180) * 1000;
}

/* 1 when the host was restarted now, 0 when it needs nothing, -1 on error. */
static int boot_watchdog(struct up_ctx *ctx, const struct plan_host *ph, off_t *seen,
			 int64_t *quiet_since, bool *reset_done, struct xerr *e)
{
	off_t size = console_size(ctx, ph);
	char tail[160];
	char *nl;

	if (size != *seen) {
		*seen = size;
		*quiet_since = now_ms();
		return 0;
	}
	if (*reset_done || now_ms() - *quiet_since < boot_stall_ms())
		return 0;
	console_tail(ctx, ph, tail, sizeof(tail));
	/* The console ends its lines with \r\n: keep the text only. */
	for (char *r = tail, *w = tail;; r++)
		if (*r != '\r' && !(*w++ = *r))
			break;
	nl = strrchr(tail, '\n');
	if (nl && !nl[1]) {
		*nl = '\0';
		nl = strrchr(tail, '\n');
	}
	run_say(&ctx->run, ph->spec->name,
		"no console output for %" PRId64 " s (last: \"%s\"): restarting it, once",
		boot_stall_ms() / 1000, nl ? nl + 1 : tail);
	*reset_done = true;
	*quiet_since = now_ms();
	if (virt_domain_power_cycle(up_site(ctx, ph)->virt, ph->domain, e) < 0)
		return xerr_prefix(e, "host '%s' stalled while booting", ph->spec->name);
	return 1;
}

int host_wait_ready(struct up_ctx *ctx, struct host_work *w, struct sshc **conn,
		    struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	_cleanup_free_ char *pub = host_key_path(ph, ".pub");
	int64_t start = now_ms(), last_say = start, quiet_since = start;
	int64_t deadline = start + (int64_t)ctx->o->boot_timeout_s * 1000;
	off_t seen = -2;
	bool reset_done = false;
	struct lab_target t;

	lab_host_target(&ctx->dirs, ph->ip, pub, &t);
	while (!stop_requested()) {
		int64_t probe_start = now_ms();
		int r = sshc_probe(&t.t, 3000, conn, e);

		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
		r = boot_watchdog(ctx, ph, &seen, &quiet_since, &reset_done, e);
		if (r < 0)
			return -1;
		/* The restart begins the boot again: so does its time allowance. */
		if (r == 1)
			deadline = now_ms() + (int64_t)ctx->o->boot_timeout_s * 1000;
		if (now_ms() > deadline) {
			char tail[2048];

			console_tail(ctx, ph, tail, sizeof(tail));
			return xerr_set(e, XERR_FAIL,
					"host '%s' did not answer on ssh (%s) within %d s; last "
					"lines of its serial console (%s%s%s):\n%s",
					ph->spec->name, ph->ip, ctx->o->boot_timeout_s,
					ph->serial_log, ph->server ? " on server " : "",
					ph->server ? ph->server : "", tail);
		}
		if (now_ms() - last_say >= 15000) {
			last_say = now_ms();
			run_say(&ctx->run, ph->spec->name, "booting (%" PRId64 " s)...",
				(last_say - start) / 1000);
		}
		/* A refusal comes at once: the dom0 is on the network and sshd is
		 * a moment away, so the next try comes soon. A try that waited
		 * (no ARP answer yet) needs no pause. Through a server each try
		 * is a channel of its sshd: those keep a calmer pace. */
		if (t.t.via)
			usleep(500 * 1000);
		else if (now_ms() - probe_start < 1000)
			usleep(100 * 1000);
	}
	return xerr_set(e, XERR_INTERRUPTED, "interrupted");
}

