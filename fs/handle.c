/* handle.c - open files and their write buffer; see handle.h. */
#include "fs/handle.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/attach.h"
#include "fs/scans.h"
#include "jira/op.h"

/* The process (thread group) a thread belongs to. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	pid_t tgid = tid;
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

struct open_file *handle_new(enum of_kind kind, const struct fs_node *n,
			     pid_t tid)
{
	struct open_file *of = calloc(1, sizeof(*of));
	if (!of)
		return NULL;
	of->kind = kind;
	of->node = *n;
	of->opener = tgid_of(tid);
	of->fd = -1;
	pthread_mutex_init(&of->lock, NULL);
	return of;
}

void handle_free(struct jirafs *fs, struct open_file *of)
{
	jira_issue_unref(of->issue);
	free(of->data);
	if (of->ln)
		local_node_unref(fs->local, of->ln);
	strbuf_release(&of->buf);
	free(of->committed);
	if (of->fd >= 0)
		close(of->fd);
	if (of->att)
		jira_attachments_free(of->att, 1);
	pthread_mutex_destroy(&of->lock);
	free(of);
}

bool handle_opener(const struct open_file *of, pid_t tid)
{
	return tgid_of(tid) == of->opener;
}

size_t handle_local_limit(enum local_kind k)
{
	return k == LOCAL_SCRATCH ? 0 : JIRA_MAX_BODY;
}

ssize_t handle_read(struct jirafs *fs, struct open_file *of, char *buf,
		    size_t size, off_t off)
{
	const char *data = NULL;
	size_t len = 0;
	ssize_t ret;

	if (off < 0)
		return -EINVAL;
	switch (of->kind) {
	case OF_ATTACH:
		if (of->att) {
			/* downloaded on the first read, once for the handle,
			 * within one request's time */
			deadline_t d =
				deadline_in((int64_t)fs->jira->timeout_s * 1000);
			pthread_mutex_lock(&of->lock);
			int r = of->fd >= 0 ? 0
					    : attach_fetch(fs->attach, of->att, d,
							   &of->fd);
			pthread_mutex_unlock(&of->lock);
			if (r)
				return r;
		}
		/* fall through */
	case OF_SCAN:
		ret = pread(of->fd, buf, size, off);
		return ret < 0 ? -errno : ret;
	case OF_LOCAL:
		return local_read(fs->local, of->ln, buf, size, off);
	case OF_TICKET_WRITE:
		pthread_mutex_lock(&of->lock);
		ret = 0;
		if (!of->append && (size_t)off < of->buf.len) {
			size_t n = of->buf.len - (size_t)off;
			ret = (ssize_t)(size < n ? size : n);
			memcpy(buf, of->buf.buf + off, (size_t)ret);
		}
		pthread_mutex_unlock(&of->lock);
		return ret;
	case OF_TICKET_READ: /* unpacked at open */
	case OF_CTL:
		data = of->data;
		len = of->len;
		break;
	}
	if ((size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (ssize_t)size;
}

/* What a write of w bytes (or -errno) leaves to apply at close: something
 * written, or content that is incomplete and is not applied. */
static void note_write(struct open_file *of, ssize_t w)
{
	pthread_mutex_lock(&of->lock);
	if (w > 0)
		of->dirty = true;
	else if (w < 0 && !of->write_error)
		of->write_error = (int)w;
	pthread_mutex_unlock(&of->lock);
}

static ssize_t write_local(struct jirafs *fs, struct open_file *of,
			   const char *buf, size_t size, off_t off,
			   bool o_append)
{
	struct local_stat st;
	local_node_stat(fs->local, of->ln, &st);
	ssize_t w = local_write(fs->local, of->ln, buf, size,
				o_append ? -1 : off,
				handle_local_limit(st.kind));
	if (st.kind != LOCAL_SCRATCH)
		note_write(of, w);
	return w;
}

/* A file on disk past limit is refused whole (EFBIG at close): a report
 * past SCANS_MAX_REPORT, an upload past what Jira takes. */
static ssize_t write_scan(struct open_file *of, const char *buf, size_t size,
			  off_t off, bool o_append, int64_t limit)
{
	struct stat st;
	if (o_append && fstat(of->fd, &st) == 0)
		off = st.st_size;
	ssize_t w = -EFBIG;
	if ((int64_t)off + (int64_t)size <= limit) {
		w = pwrite(of->fd, buf, size, off);
		if (w < 0)
			w = -errno;
	}
	note_write(of, w);
	return w;
}

ssize_t handle_write(struct jirafs *fs, struct open_file *of,
		     const char *buf, size_t size, off_t off, bool o_append)
{
	ssize_t ret;
	if (off < 0)
		return -EINVAL;
	if (of->kind == OF_LOCAL)
		return write_local(fs, of, buf, size, off, o_append);
	if (of->kind == OF_SCAN)
		return write_scan(of, buf, size, off, o_append,
				  SCANS_MAX_REPORT);
	if (of->kind == OF_ATTACH && !of->att)
		/* once handed to the outbox, the bytes are the record's */
		return of->sent ? -EPERM
				: write_scan(of, buf, size, off, o_append,
					     of->limit > 0 ? of->limit
							   : INT64_MAX);
	if (of->kind != OF_TICKET_WRITE)
		return -EBADF;

	pthread_mutex_lock(&of->lock);
	/* an append goes at the end whatever offset the kernel computed
	 * from a size it may have cached */
	size_t at = of->append ? of->buf.len : (size_t)off;
	/* the character count of a comment is checked at close (a JSON
	 * {"body"} may spell one character in six bytes) */
	if (at + size > JIRA_MAX_BODY) {
		ret = -EFBIG;
		if (!of->write_error)
			of->write_error = (int)ret;
	} else {
		if (at > of->buf.len &&
		    strbuf_grow(&of->buf, at - of->buf.len) == 0) {
			memset(of->buf.buf + of->buf.len, 0, at - of->buf.len);
			of->buf.len = at;
		}
		if (at + size > of->buf.len) {
			if (strbuf_grow(&of->buf, at + size - of->buf.len)) {
				pthread_mutex_unlock(&of->lock);
				return -ENOMEM;
			}
			of->buf.len = at + size;
			of->buf.buf[of->buf.len] = '\0';
		}
		memcpy(of->buf.buf + at, buf, size);
		of->dirty = true;
		ret = (ssize_t)size;
	}
	pthread_mutex_unlock(&of->lock);
	return ret;
}

int handle_truncate(struct jirafs *fs, struct open_file *of, off_t size)
{
	if (of->kind == OF_SCAN || (of->kind == OF_ATTACH && !of->att)) {
		if (of->kind == OF_SCAN ? size > SCANS_MAX_REPORT
					: of->limit > 0 && size > of->limit)
			return -EFBIG;
		if (ftruncate(of->fd, size) < 0)
			return -errno;
		pthread_mutex_lock(&of->lock);
		of->dirty = true;
		pthread_mutex_unlock(&of->lock);
		return 0;
	}
	if (of->kind == OF_LOCAL) {
		struct local_stat st;
		local_node_stat(fs->local, of->ln, &st);
		int ret = local_truncate(fs->local, of->ln, size,
					 handle_local_limit(st.kind));
		if (!ret && st.kind != LOCAL_SCRATCH) {
			pthread_mutex_lock(&of->lock);
			of->dirty = true;
			pthread_mutex_unlock(&of->lock);
		}
		return ret;
	}
	if (of->kind != OF_TICKET_WRITE || of->append)
		return -EBADF;
	if (size < 0 || (size_t)size > JIRA_MAX_BODY)
		return -EFBIG;
	pthread_mutex_lock(&of->lock);
	if ((size_t)size > of->buf.len &&
	    strbuf_grow(&of->buf, (size_t)size - of->buf.len) == 0)
		memset(of->buf.buf + of->buf.len, 0,
		       (size_t)size - of->buf.len);
	if ((size_t)size <= of->buf.len || !of->buf.failed) {
		of->buf.len = (size_t)size;
		if (of->buf.buf)
			of->buf.buf[size] = '\0';
	}
	of->dirty = true;
	pthread_mutex_unlock(&of->lock);
	return 0;
}

bool handle_take_written(struct open_file *of, bool last, int *werr)
{
	pthread_mutex_lock(&of->lock);
	bool dirty = of->dirty || (last && of->emptied);
	if (dirty)
		of->emptied = false;
	*werr = of->write_error;
	of->dirty = false;
	of->write_error = 0;
	pthread_mutex_unlock(&of->lock);
	return dirty;
}
