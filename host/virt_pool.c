/* Storage on a libvirt server: the pool xlab keeps files in, and its
 * volumes filled and read back through libvirt's streams. Over a remote
 * connection these are the only way to put a file on the server that does
 * not need a login of xlab's own there (the same calls as `virsh
 * vol-upload` and `vol-download`). */
#include "virt.h"

#include <errno.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stop.h"
#include "virt_int.h"

static void poolp(virStoragePoolPtr *p)
{
	if (*p)
		virStoragePoolFree(*p);
}

static void volp(virStorageVolPtr *v)
{
	if (*v)
		virStorageVolFree(*v);
}

static void streamp(virStreamPtr *s)
{
	if (*s)
		virStreamFree(*s);
}

#define _cleanup_pool_ _cleanup_(poolp)
#define _cleanup_vol_ _cleanup_(volp)
#define _cleanup_stream_ _cleanup_(streamp)

/* The document a writer made, as a string; both freed. */
static char *xml_finish(xmlBufferPtr buf, xmlTextWriterPtr w)
{
	char *s;

	xmlTextWriterEndDocument(w);
	xmlFreeTextWriter(w);
	s = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return s;
}

/* <pool type='dir'><name/><target><path/></target></pool>, written by
 * libxml2 so a name is always escaped. */
static char *pool_xml(const char *name, const char *dir)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);

	xmlTextWriterStartElement(w, BAD_CAST "pool");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "dir");
	xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST name);
	xmlTextWriterStartElement(w, BAD_CAST "target");
	xmlTextWriterWriteElement(w, BAD_CAST "path", BAD_CAST dir);
	return xml_finish(buf, w);
}

/* <format type='FORMAT'/> */
static void format_el(xmlTextWriterPtr w, const char *format)
{
	xmlTextWriterStartElement(w, BAD_CAST "format");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST format);
	xmlTextWriterEndElement(w);
}

/* A volume of capacity bytes in format ("raw", "qcow2"), over backing (a
 * qcow2 file, or NULL); nothing allocated ahead. */
static char *volume_xml(const char *name, unsigned long long capacity, const char *format,
			const char *backing)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
	char num[32];

	snprintf(num, sizeof(num), "%llu", capacity);
	xmlTextWriterStartElement(w, BAD_CAST "volume");
	xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST name);
	xmlTextWriterStartElement(w, BAD_CAST "capacity");
	xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "bytes");
	xmlTextWriterWriteString(w, BAD_CAST num);
	xmlTextWriterEndElement(w);
	xmlTextWriterWriteElement(w, BAD_CAST "allocation", BAD_CAST "0");
	xmlTextWriterStartElement(w, BAD_CAST "target");
	format_el(w, format);
	xmlTextWriterEndElement(w);
	if (backing) {
		xmlTextWriterStartElement(w, BAD_CAST "backingStore");
		xmlTextWriterWriteElement(w, BAD_CAST "path", BAD_CAST backing);
		format_el(w, "qcow2");
		xmlTextWriterEndElement(w);
	}
	return xml_finish(buf, w);
}

static virStoragePoolPtr pool_define(struct virt *v, const char *name, const char *dir,
				     struct xerr *e)
{
	_cleanup_free_ char *xml = pool_xml(name, dir);
	virStoragePoolPtr pool = virStoragePoolDefineXML(v->conn, xml, 0);

	if (!pool) {
		virt_fail(e, "cannot define storage pool '%s' at %s", name, dir);
		return NULL;
	}
	/* Makes the directory; an existing one is fine. */
	if (virStoragePoolBuild(pool, 0) < 0) {
		virt_fail(e, "cannot make the directory %s of storage pool '%s'", dir, name);
		virStoragePoolUndefine(pool);
		virStoragePoolFree(pool);
		return NULL;
	}
	virStoragePoolSetAutostart(pool, 1);
	return pool;
}

int virt_pool_ensure(struct virt *v, const char *name, const char *dir, bool *created,
		     struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = virStoragePoolLookupByName(v->conn, name);
	int active;

	*created = false;
	if (!pool) {
		if (!virt_last_error_is(VIR_ERR_NO_STORAGE_POOL))
			return virt_fail(e, "cannot look up storage pool '%s'", name);
		pool = pool_define(v, name, dir, e);
		if (!pool)
			return -1;
		*created = true;
	}
	active = virStoragePoolIsActive(pool);
	if (active < 0)
		return virt_fail(e, "cannot read the state of storage pool '%s'", name);
	if (!active && virStoragePoolCreate(pool, 0) < 0)
		return virt_fail(e, "cannot start storage pool '%s'", name);
	return 0;
}

static virStoragePoolPtr pool_open(struct virt *v, const char *name, struct xerr *e)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(v->conn, name);

	if (!pool)
		virt_fail(e, "cannot find storage pool '%s'", name);
	return pool;
}

int virt_pool_volumes(struct virt *v, const char *pool_name, struct virt_vol **out, size_t *n,
		      struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	virStorageVolPtr *vols = NULL;
	struct virt_vol *r;
	int nv;

	*out = NULL;
	*n = 0;
	if (!pool)
		return -1;
	/* Files made there behind libvirt's back (a console log) are listed.
	 * libvirt refuses a refresh while another client streams into the
	 * pool: what it lists then is what it had. */
	if (virStoragePoolRefresh(pool, 0) < 0)
		virResetLastError();
	nv = virStoragePoolListAllVolumes(pool, &vols, 0);
	if (nv < 0)
		return virt_fail(e, "cannot list the volumes of storage pool '%s'", pool_name);
	r = xcalloc((size_t)nv + 1, sizeof(*r));
	for (int i = 0; i < nv; i++) {
		virStorageVolInfo info;
		const char *name = virStorageVolGetName(vols[i]);

		r[i].name = xstrdup(name ? name : "");
		/* The file's own size: a qcow2 file's capacity is the disk it
		 * describes. */
		if (virStorageVolGetInfoFlags(vols[i], &info, VIR_STORAGE_VOL_GET_PHYSICAL) == 0)
			r[i].size = info.allocation;
		virStorageVolFree(vols[i]);
	}
	free(vols);
	virResetLastError();
	*out = r;
	*n = (size_t)nv;
	return 0;
}

void virt_vols_free(struct virt_vol *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* A raw volume of exactly size bytes, made anew when one of another size is
 * there (a stream writes into a volume; it never resizes it). */
static virStorageVolPtr vol_sized(virStoragePoolPtr pool, const char *name,
				  unsigned long long size, struct xerr *e)
{
	virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
	virStorageVolInfo info;
	_cleanup_free_ char *xml = NULL;

	if (vol && virStorageVolGetInfoFlags(vol, &info, VIR_STORAGE_VOL_GET_PHYSICAL) == 0 &&
	    info.allocation == size)
		return vol;
	if (vol) {
		if (virStorageVolDelete(vol, 0) < 0) {
			virt_fail(e, "cannot remove volume '%s' to make it again", name);
			virStorageVolFree(vol);
			return NULL;
		}
		virStorageVolFree(vol);
	}
	xml = volume_xml(name, size, "raw", NULL);
	vol = virStorageVolCreateXML(pool, xml, 0);
	if (!vol)
		virt_fail(e, "cannot create volume '%s'", name);
	return vol;
}

struct upload {
	int fd;
	unsigned long long done, size;
	virt_progress_fn progress;
	void *ctx;
	int read_errno;
	bool stopped;
};

static int upload_source(virStreamPtr st, char *data, size_t nbytes, void *opaque)
{
	struct upload *u = opaque;
	ssize_t got;

	(void)st;
	/* A stop between chunks is safe: a volume is trusted only once read back. */
	if (stop_requested()) {
		u->stopped = true;
		return -1;
	}
	/* No more than the volume holds: a file grown since is cut at the size
	 * the volume was made with (and found out after), not a "disk full". */
	if (nbytes > u->size - u->done)
		nbytes = (size_t)(u->size - u->done);
	do
		got = read(u->fd, data, nbytes);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		u->read_errno = errno;
		return -1;
	}
	u->done += (unsigned long long)got;
	if (u->progress)
		u->progress(u->ctx, u->done, u->size);
	return (int)got;
}

int virt_vol_upload(struct virt *v, const char *pool_name, const char *name, int fd,
		    unsigned long long size, virt_progress_fn progress, void *ctx,
		    struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_vol_ virStorageVolPtr vol = NULL;
	_cleanup_stream_ virStreamPtr st = NULL;
	struct upload u = { .fd = fd, .size = size, .progress = progress, .ctx = ctx };

	if (!pool || !(vol = vol_sized(pool, name, size, e)))
		return -1;
	st = virStreamNew(v->conn, 0);
	if (!st)
		return virt_fail(e, "cannot open a stream to upload '%s'", name);
	if (virStorageVolUpload(vol, st, 0, size, 0) < 0)
		return virt_fail(e, "cannot upload into volume '%s'", name);
	if (virStreamSendAll(st, upload_source, &u) < 0) {
		if (u.stopped)
			return xerr_set(e, XERR_INTERRUPTED, "stopped while sending volume '%s'",
					name);
		if (u.read_errno) {
			errno = u.read_errno;
			return xerr_errno(e, XERR_IO, "cannot read what goes into volume '%s'",
					  name);
		}
		return virt_fail(e, "upload into volume '%s' failed", name);
	}
	if (virStreamFinish(st) < 0)
		return virt_fail(e, "upload into volume '%s' did not finish", name);
	if (u.done != size)
		return xerr_set(e, XERR_IO, "volume '%s': %llu bytes sent, %llu expected (the file "
				"changed while it was sent)", name, u.done, size);
	return 0;
}

struct download {
	virt_sink_fn sink;
	void *ctx;
	struct xerr *e;
	bool sink_failed;
};

static int download_sink(virStreamPtr st, const char *data, size_t nbytes, void *opaque)
{
	struct download *d = opaque;

	(void)st;
	if (d->sink(d->ctx, data, nbytes, d->e) < 0) {
		d->sink_failed = true;
		return -1;
	}
	return (int)nbytes;
}

int virt_vol_download(struct virt *v, const char *pool_name, const char *name,
		      virt_sink_fn sink, void *ctx, struct xerr *e)
{
	return virt_vol_read(v, pool_name, name, 0, 0, sink, ctx, e);
}

int virt_vol_read(struct virt *v, const char *pool_name, const char *name,
		  unsigned long long offset, unsigned long long length, virt_sink_fn sink,
		  void *ctx, struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_vol_ virStorageVolPtr vol = NULL;
	_cleanup_stream_ virStreamPtr st = NULL;
	struct download d = { .sink = sink, .ctx = ctx, .e = e };

	if (!pool)
		return -1;
	vol = virStorageVolLookupByName(pool, name);
	if (!vol)
		return virt_fail(e, "cannot find volume '%s' in storage pool '%s'", name,
				 pool_name);
	st = virStreamNew(v->conn, 0);
	if (!st)
		return virt_fail(e, "cannot open a stream to read volume '%s'", name);
	if (virStorageVolDownload(vol, st, offset, length, 0) < 0)
		return virt_fail(e, "cannot read volume '%s'", name);
	if (virStreamRecvAll(st, download_sink, &d) < 0) {
		if (d.sink_failed)
			return -1;
		return virt_fail(e, "reading volume '%s' failed", name);
	}
	if (virStreamFinish(st) < 0)
		return virt_fail(e, "reading volume '%s' did not finish", name);
	return 0;
}

int virt_vol_delete(struct virt *v, const char *pool_name, const char *name, struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_vol_ virStorageVolPtr vol = NULL;

	if (!pool)
		return -1;
	vol = virStorageVolLookupByName(pool, name);
	if (!vol) {
		if (virt_last_error_is(VIR_ERR_NO_STORAGE_VOL))
			return 0;
		return virt_fail(e, "cannot look up volume '%s'", name);
	}
	if (virStorageVolDelete(vol, 0) < 0)
		return virt_fail(e, "cannot remove volume '%s'", name);
	return 0;
}

int virt_pool_path(struct virt *v, const char *pool_name, char **path, struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_free_ char *xml = NULL;

	*path = NULL;
	if (!pool)
		return -1;
	xml = virStoragePoolGetXMLDesc(pool, 0);
	if (!xml)
		return virt_fail(e, "cannot read storage pool '%s'", pool_name);
	*path = xml_xpath_string(xml, "string(/pool/target/path)");
	if (!*path || !**path) {
		free(*path);
		*path = NULL;
		return xerr_set(e, XERR_FAIL, "storage pool '%s' has no directory (xlab needs a "
				"directory pool there)", pool_name);
	}
	return 0;
}

int virt_vol_create(struct virt *v, const char *pool_name, const char *name, const char *format,
		    unsigned long long capacity, const char *backing, struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_vol_ virStorageVolPtr vol = NULL;
	_cleanup_free_ char *xml = NULL;

	if (!pool)
		return -1;
	xml = volume_xml(name, capacity, format, backing);
	vol = virStorageVolCreateXML(pool, xml, 0);
	if (!vol)
		return virt_fail(e, "cannot create volume '%s'", name);
	return 0;
}

int virt_vol_size(struct virt *v, const char *pool_name, const char *name,
		  unsigned long long *size, struct xerr *e)
{
	_cleanup_pool_ virStoragePoolPtr pool = pool_open(v, pool_name, e);
	_cleanup_vol_ virStorageVolPtr vol = NULL;
	virStorageVolInfo info;

	if (!pool)
		return -1;
	vol = virStorageVolLookupByName(pool, name);
	/* A file something else made there since the pool was last looked at. */
	if (!vol && virStoragePoolRefresh(pool, 0) == 0)
		vol = virStorageVolLookupByName(pool, name);
	if (!vol) {
		if (virt_last_error_is(VIR_ERR_NO_STORAGE_VOL))
			return xerr_set(e, XERR_NOTFOUND, "no volume '%s' in storage pool '%s'",
					name, pool_name);
		return virt_fail(e, "cannot look up volume '%s'", name);
	}
	if (virStorageVolGetInfoFlags(vol, &info, VIR_STORAGE_VOL_GET_PHYSICAL) < 0)
		return virt_fail(e, "cannot read the size of volume '%s'", name);
	*size = info.allocation;
	return 0;
}

static int buf_sink(void *ctx, const char *data, size_t n, struct xerr *e)
{
	(void)e;
	buf_append(ctx, data, n);
	return 0;
}

int virt_vol_tail(struct virt *v, const char *pool, const char *name, size_t max, char **out,
		  size_t *len, struct xerr *e)
{
	unsigned long long size = 0;
	struct buf b = { 0 };

	*out = NULL;
	*len = 0;
	if (virt_vol_size(v, pool, name, &size, e) < 0)
		return -1;
	if (size == 0) {
		*out = xstrdup("");
		return 0;
	}
	if (virt_vol_read(v, pool, name, size > max ? size - max : 0, size > max ? max : size,
			  buf_sink, &b, e) < 0) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	buf_puts(&b, ""); /* a string too */
	*out = buf_steal(&b);
	return 0;
}
