/* Key files: an ed25519 pair for a lab, its public line, known_hosts. */
#include "sshc.h"

#include <libssh/libssh.h>
#include <string.h>

#include "sshc_int.h"

char *sshc_key_fingerprint(ssh_key k)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp, *out;

	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return xstrdup("(no fingerprint)");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	out = xstrdup(fp ? fp : "(no fingerprint)");
	ssh_string_free_char(fp);
	return out;
}

int sshkey_generate_ed25519(const char *priv_path, const char *pub_path, const char *comment,
			    struct xerr *e)
{
	_cleanup_key_ ssh_key key = NULL;
	_cleanup_key_ ssh_key pub = NULL;
	char *priv_b64 = NULL, *pub_b64 = NULL;
	_cleanup_free_ char *line = NULL;
	int rc = -1;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "cannot generate an ed25519 key");
	/* Exported to memory and written by us so the file is 0600 from birth. */
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv_b64) != SSH_OK ||
	    ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &pub_b64) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "cannot export the ed25519 key for %s", priv_path);
		goto out;
	}
	if (file_write_atomic(priv_path, priv_b64, strlen(priv_b64), 0600, e) < 0)
		goto out;
	line = xasprintf("ssh-ed25519 %s %s\n", pub_b64, comment ? comment : "");
	rc = file_write_atomic(pub_path, line, strlen(line), 0644, e);
out:
	if (priv_b64) {
		explicit_bzero(priv_b64, strlen(priv_b64));
		ssh_string_free_char(priv_b64);
	}
	ssh_string_free_char(pub_b64);
	return rc;
}

int sshkey_public_line(const char *pub_path, char **line, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len, a, b;

	if (file_read_all(pub_path, 64 * 1024, &data, &len, e) < 0)
		return -1;
	a = strspn(data, " \t");
	b = strcspn(data + a, " \t\r\n");
	if (b == 0)
		return xerr_set(e, XERR_FAIL, "%s: not a public key", pub_path);
	b += strspn(data + a + b, " \t");
	b += strcspn(data + a + b, " \t\r\n");
	*line = xstrndup(data + a, b);
	if (!strchr(*line, ' ') && !strchr(*line, '\t')) {
		free(steal_ptr(*line));
		return xerr_set(e, XERR_FAIL, "%s: not a public key", pub_path);
	}
	return 0;
}

int known_hosts_write(const char *path, const char *const *names, const char *const *pubs,
		      size_t n, struct xerr *e)
{
	struct buf b = { 0 };
	int rc;

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s %s\n", names[i], pubs[i]);
	rc = file_write_atomic(path, b.data ? b.data : "", b.len, 0644, e);
	buf_free(&b);
	return rc;
}


/* The first entry of a known_hosts file, "HOST KEYTYPE BASE64 [COMMENT]":
 * the pinned key. *type and *b64 point into *data (the caller's to free). */
static int known_hosts_first(const char *path, char **data, const char **type,
			     const char **b64, struct xerr *e)
{
	char *save = NULL;
	size_t len;

	if (file_read_all(path, 64 * 1024, data, &len, e) < 0)
		return -1;
	strtok_r(*data, " \t\r\n", &save);
	*type = strtok_r(NULL, " \t\r\n", &save);
	*b64 = strtok_r(NULL, " \t\r\n", &save);
	if (!*type || !*b64)
		return xerr_set(e, XERR_FAIL, "%s: no host key in it", path);
	return 0;
}

int known_hosts_fingerprint(const char *path, char **fingerprint, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *fp = NULL;
	_cleanup_key_ ssh_key key = NULL;
	const char *type, *b64;

	if (known_hosts_first(path, &data, &type, &b64, e) < 0)
		return -1;
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &key) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "%s: no host key in it", path);
	fp = sshc_key_fingerprint(key);
	*fingerprint = xasprintf("%s (%s)", fp, type);
	return 0;
}

int known_hosts_first_key(const char *path, char **line, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	const char *type, *b64;

	*line = NULL;
	if (known_hosts_first(path, &data, &type, &b64, e) < 0)
		return -1;
	*line = xasprintf("%s %s\n", type, b64);
	return 0;
}
