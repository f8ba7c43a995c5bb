/* The access sheet of a class: see class_sheet.h. HTML goes through
 * libxml2's writer, so no name or path is ever markup. */
#include "class_sheet.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#define W(call)                                                                             \
	do {                                                                                \
		if ((call) < 0)                                                             \
			goto fail;                                                          \
	} while (0)

int sheet_format_parse(const char *s, enum sheet_format *out, struct xerr *e)
{
	if (!strcmp(s, "md"))
		*out = SHEET_MD;
	else if (!strcmp(s, "csv"))
		*out = SHEET_CSV;
	else if (!strcmp(s, "html"))
		*out = SHEET_HTML;
	else
		return xerr_set(e, XERR_USAGE, "--format must be md, csv or html, not '%s'", s);
	return 0;
}

/* A word the student pastes into a shell: quoted when it is not plain. */
static void sh_word(struct buf *b, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			   "@%+=:,./-_~") == strlen(s)) {
		buf_puts(b, s);
		return;
	}
	buf_puts(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "'");
}

/* Where the student keeps the key: this machine's path, or a file under
 * ~/.ssh when they come through the jump host. */
static char *student_key(const struct sheet_copy *c, const char *jump)
{
	return jump ? xasprintf("~/.ssh/%s.key", c->lab) : xstrdup(c->key);
}

static char *ssh_cmd(const struct sheet_copy *c, const struct sheet_host *h, const char *jump)
{
	_cleanup_free_ char *key = student_key(c, jump);
	struct buf b = { 0 };

	buf_puts(&b, "ssh -i ");
	sh_word(&b, key);
	buf_puts(&b, " -o IdentitiesOnly=yes ");
	if (jump) {
		buf_puts(&b, "-o StrictHostKeyChecking=accept-new -J ");
		sh_word(&b, jump);
	} else {
		buf_puts(&b, "-o UserKnownHostsFile=");
		sh_word(&b, c->known_hosts);
	}
	buf_printf(&b, " root@%s", h->ip);
	return buf_steal(&b);
}

static char *vnc_cmd(const struct sheet_host *h, const char *jump)
{
	struct buf b = { 0 };

	if (h->vnc_port <= 0)
		return xstrdup("(host not running)");
	buf_printf(&b, "ssh -N -L %d:127.0.0.1:%d ", h->vnc_port, h->vnc_port);
	sh_word(&b, jump ? jump : "YOU@THIS-MACHINE");
	buf_printf(&b, " & vncviewer localhost:%d", h->vnc_port);
	return buf_steal(&b);
}

static char *ssh_config(const struct sheet_copy *c, const char *jump)
{
	_cleanup_free_ char *key = student_key(c, jump);
	struct buf b = { 0 };

	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct sheet_host *h = &c->hosts[i];

		buf_printf(&b, "Host %s-%s\n  HostName %s\n  User root\n  IdentityFile %s\n"
			       "  IdentitiesOnly yes\n",
			   c->lab, h->name, h->ip, key);
		if (jump)
			buf_printf(&b, "  ProxyJump %s\n  StrictHostKeyChecking accept-new\n", jump);
		else
			buf_printf(&b, "  UserKnownHostsFile %s\n", c->known_hosts);
	}
	return buf_steal(&b);
}

static char *key_note(const struct sheet_copy *c, const char *jump)
{
	if (jump)
		return xasprintf("hand out %s; the student saves it as ~/.ssh/%s.key (chmod 600)",
				 c->key, c->lab);
	return xasprintf("%s (readable by this copy's student only)", c->key);
}

static void render_md(const struct sheet_copy *c, const char *class_jump, struct buf *o)
{
	const char *jump = c->jump ? c->jump : class_jump;
	_cleanup_free_ char *note = key_note(c, jump), *cfg = ssh_config(c, jump);

	buf_printf(o, "## %s%s%s%s\n\n", c->lab, c->student ? " (" : "",
		   c->student ? c->student : "", c->student ? ")" : "");
	buf_printf(o, "- Key: %s\n\n| Host | Address | SSH | VNC |\n|---|---|---|---|\n", note);
	for (size_t i = 0; i < c->n_hosts; i++) {
		_cleanup_free_ char *ssh = ssh_cmd(c, &c->hosts[i], jump);
		_cleanup_free_ char *vnc = vnc_cmd(&c->hosts[i], jump);

		buf_printf(o, "| %s | %s | `%s` | `%s` |\n", c->hosts[i].name, c->hosts[i].ip,
			   ssh, vnc);
	}
	buf_printf(o, "\n`~/.ssh/config`:\n\n```\n%s```\n\n", cfg);
}

/* RFC 4180: a field with a comma, quote or newline is quoted. */
static void csv_field(struct buf *o, const char *s, bool last)
{
	if (strpbrk(s, ",\"\n\r")) {
		buf_puts(o, "\"");
		for (; *s; s++)
			buf_puts(o, *s == '"' ? "\"\"" : (char[]){ *s, 0 });
		buf_puts(o, "\"");
	} else {
		buf_puts(o, s);
	}
	buf_puts(o, last ? "\n" : ",");
}

static void render_csv(const struct sheet_copy *c, const char *class_jump, struct buf *o)
{
	const char *jump = c->jump ? c->jump : class_jump;
	for (size_t i = 0; i < c->n_hosts; i++) {
		_cleanup_free_ char *ssh = ssh_cmd(c, &c->hosts[i], jump);
		_cleanup_free_ char *vnc = vnc_cmd(&c->hosts[i], jump);

		csv_field(o, c->lab, false);
		csv_field(o, c->student ? c->student : "", false);
		csv_field(o, c->hosts[i].name, false);
		csv_field(o, c->hosts[i].ip, false);
		csv_field(o, c->key, false);
		csv_field(o, ssh, false);
		csv_field(o, vnc, true);
	}
}

static int html_cell(xmlTextWriterPtr w, const char *tag, const char *text)
{
	return xmlTextWriterWriteElement(w, BAD_CAST tag, BAD_CAST text);
}

static int html_copy(xmlTextWriterPtr w, const struct sheet_copy *c, const char *class_jump)
{
	const char *jump = c->jump ? c->jump : class_jump;
	_cleanup_free_ char *note = key_note(c, jump), *cfg = ssh_config(c, jump);
	_cleanup_free_ char *title = xasprintf("%s%s%s%s", c->lab, c->student ? " (" : "",
					       c->student ? c->student : "",
					       c->student ? ")" : "");

	W(xmlTextWriterStartElement(w, BAD_CAST "section"));
	W(html_cell(w, "h2", title));
	W(xmlTextWriterStartElement(w, BAD_CAST "p"));
	W(xmlTextWriterWriteString(w, BAD_CAST "Key: "));
	W(html_cell(w, "code", note));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterStartElement(w, BAD_CAST "table"));
	W(xmlTextWriterStartElement(w, BAD_CAST "tr"));
	W(html_cell(w, "th", "Host"));
	W(html_cell(w, "th", "Address"));
	W(html_cell(w, "th", "SSH"));
	W(html_cell(w, "th", "VNC"));
	W(xmlTextWriterEndElement(w));
	for (size_t i = 0; i < c->n_hosts; i++) {
		_cleanup_free_ char *ssh = ssh_cmd(c, &c->hosts[i], jump);
		_cleanup_free_ char *vnc = vnc_cmd(&c->hosts[i], jump);

		W(xmlTextWriterStartElement(w, BAD_CAST "tr"));
		W(html_cell(w, "td", c->hosts[i].name));
		W(html_cell(w, "td", c->hosts[i].ip));
		W(xmlTextWriterStartElement(w, BAD_CAST "td"));
		W(html_cell(w, "code", ssh));
		W(xmlTextWriterEndElement(w));
		W(xmlTextWriterStartElement(w, BAD_CAST "td"));
		W(html_cell(w, "code", vnc));
		W(xmlTextWriterEndElement(w));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	W(html_cell(w, "pre", cfg));
	W(xmlTextWriterEndElement(w));
	return 0;
fail:
	return -1;
}

static int render_html(const char *class_name, const struct sheet_copy *v, size_t n,
		       const char *jump, struct buf *o, struct xerr *e)
{
	xmlBufferPtr xb = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
	_cleanup_free_ char *title = xasprintf("xlab class %s: access sheet", class_name);
	int rc = -1;

	if (!w)
		goto out;
	xmlTextWriterSetIndent(w, 1);
	buf_puts(o, "<!DOCTYPE html>\n");
	W(xmlTextWriterStartElement(w, BAD_CAST "html"));
	W(xmlTextWriterStartElement(w, BAD_CAST "head"));
	W(xmlTextWriterStartElement(w, BAD_CAST "meta"));
	W(xmlTextWriterWriteAttribute(w, BAD_CAST "charset", BAD_CAST "utf-8"));
	W(xmlTextWriterEndElement(w));
	W(html_cell(w, "title", title));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterStartElement(w, BAD_CAST "body"));
	W(html_cell(w, "h1", title));
	for (size_t i = 0; i < n; i++)
		W(html_copy(w, &v[i], jump));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterFlush(w));
	buf_append(o, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	rc = 0;
fail:
out:
	if (w)
		xmlFreeTextWriter(w);
	xmlBufferFree(xb);
	if (rc < 0)
		xerr_set(e, XERR_FAIL, "writing the HTML sheet failed");
	return rc;
}

int class_sheet_render(const char *class_name, const struct sheet_copy *v, size_t n,
		       enum sheet_format fmt, const char *jump, struct buf *out, struct xerr *e)
{
	switch (fmt) {
	case SHEET_HTML:
		return render_html(class_name, v, n, jump, out, e);
	case SHEET_CSV:
		buf_puts(out, "copy,student,host,address,key,ssh,vnc\n");
		for (size_t i = 0; i < n; i++)
			render_csv(&v[i], jump, out);
		return 0;
	case SHEET_MD:
		buf_printf(out, "# xlab class %s: access sheet\n\n", class_name);
		if (jump)
			buf_printf(out, "Connect through %s; each student gets only their own "
					"section and key.\n\n", jump);
		for (size_t i = 0; i < n; i++)
			render_md(&v[i], jump, out);
		return 0;
	}
	return xerr_set(e, XERR_USAGE, "unknown sheet format");
}
