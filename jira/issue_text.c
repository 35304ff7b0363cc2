/*
 * issue_text.c - ticket files kept compressed, and beyond memory_max in a
 * file.
 *
 * A ticket file is about 2 KiB of pretty JSON and most of a mount's
 * memory: 200,000 tickets held 410 MiB of text.  Each one is compressed
 * on its own with zstd (level 1: about 1 ms of CPU per MB, against the 3
 * a page costs to parse and render), so that one can be read back without
 * its neighbours.  The first ticket the process renders becomes a raw
 * content dictionary for all later ones: tickets of a site share their
 * keys, field names, user names and dates, which a 2 KiB text alone
 * cannot exploit (the bench's tickets: 2,170 bytes each, 910 compressed
 * alone, about 250 with the dictionary).
 *
 * The compressed texts are kept in memory up to memory_max bytes; beyond
 * that they are appended to one file in the state directory, opened with
 * O_TMPFILE (or unlinked at once), so nothing is left behind when the
 * daemon ends, and read back with pread() when a ticket is opened.  The
 * space of a ticket replaced is given back with a hole punched in the
 * file, where whole blocks come free.
 *
 * zstd, not zlib: at level 1 it compresses several times faster for the
 * same ratio (and its fast levels, used here, faster still), and a dictionary is prepared once (ZSTD_CDict) instead of
 * being hashed again for every ticket.
 */

#include "jira/issue_text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "util/log.h"

/* zstd's first fast level: on rendered tickets (2 KiB each, with the
 * dictionary) about twice as fast as level 1 (580 against 280 MB/s on
 * the bench's tickets) for some 8% more bytes; on a cold listing the
 * compression is what the daemon's CPU is spent on most. */
#define LEVEL (-1)
#define DICT_MAX (16 * 1024)
#define PACK_MIN 64 /* shorter texts are kept as they are */

static struct {
	pthread_mutex_t lock;       /* guards the set-up of what follows */
	_Atomic(ZSTD_CDict *) cdict;
	ZSTD_DDict *ddict;          /* set before cdict is published */
	atomic_int fd;              /* the spill file, -1 when none */
	size_t memory_max;          /* SIZE_MAX: no limit */
	atomic_llong end;           /* the spill file's next offset */
	atomic_size_t tickets, bytes, memory, spilled, spilled_bytes;
	atomic_bool spill_failed;   /* logged once */
} store = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	.memory_max = SIZE_MAX,
};

/* A thread's contexts and buffer, freed when it ends. */
struct tls {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
	char *buf;
	size_t cap;
};
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
	struct tls *t = p;
	ZSTD_freeCCtx(t->c);
	ZSTD_freeDCtx(t->d);
	free(t->buf);
	free(t);
}

static void tls_init(void)
{
	pthread_key_create(&tls_key, tls_free);
}

static struct tls *tls_get(void)
{
	pthread_once(&tls_once, tls_init);
	struct tls *t = pthread_getspecific(tls_key);
	if (!t && (t = calloc(1, sizeof(*t))) &&
	    pthread_setspecific(tls_key, t)) {
		free(t);
		t = NULL;
	}
	return t;
}

static char *tls_buf(struct tls *t, size_t n)
{
	if (t->cap < n) {
		char *b = realloc(t->buf, n);
		if (!b)
			return NULL;
		t->buf = b;
		t->cap = n;
	}
	return t->buf;
}

int jira_text_store_setup(const char *dir, size_t memory_max, char *err,
			  size_t errsize)
{
	int old = atomic_exchange(&store.fd, -1);
	if (old >= 0)
		close(old);
	store.memory_max = memory_max;
	atomic_store(&store.end, 0);
	if (memory_max == SIZE_MAX || !dir)
		return 0;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* a file system without O_TMPFILE: a name, unlinked at once */
		size_t n = strlen(dir) + sizeof("/texts.XXXXXX");
		char *path = malloc(n);
		if (!path)
			return -ENOMEM;
		snprintf(path, n, "%s/texts.XXXXXX", dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
		free(path);
	}
	if (fd < 0) {
		int e = errno;
		snprintf(err, errsize,
			 "cannot make the file for ticket texts in %s: %s", dir,
			 strerror(e));
		store.memory_max = SIZE_MAX;
		return -e;
	}
	atomic_store(&store.fd, fd);
	return 0;
}

void jira_text_stats(struct jira_text_stats *st)
{
	st->tickets = atomic_load(&store.tickets);
	st->bytes = atomic_load(&store.bytes);
	st->memory = atomic_load(&store.memory);
	st->spilled = atomic_load(&store.spilled);
	st->spilled_bytes = atomic_load(&store.spilled_bytes);
	st->memory_max = store.memory_max;
}

/* The dictionary, made from text when there is none yet. */
static ZSTD_CDict *dictionary(const char *text, size_t len)
{
	ZSTD_CDict *cd = atomic_load_explicit(&store.cdict,
					      memory_order_acquire);
	if (cd)
		return cd;
	pthread_mutex_lock(&store.lock);
	if (!(cd = atomic_load(&store.cdict))) {
		size_t n = len < DICT_MAX ? len : DICT_MAX;
		/* both copy the bytes (ZSTD_dlm_byCopy) */
		cd = ZSTD_createCDict(text, n, LEVEL);
		store.ddict = cd ? ZSTD_createDDict(text, n) : NULL;
		if (cd && !store.ddict) {
			ZSTD_freeCDict(cd);
			cd = NULL;
		}
		if (cd)
			atomic_store_explicit(&store.cdict, cd,
					      memory_order_release);
	}
	pthread_mutex_unlock(&store.lock);
	return cd;
}

/* Take n bytes of the memory budget, if it has them. */
static bool reserve(size_t n)
{
	size_t have = atomic_load(&store.memory);
	do {
		if (store.memory_max != SIZE_MAX &&
		    (have + n > store.memory_max || have + n < have))
			return false;
	} while (!atomic_compare_exchange_weak(&store.memory, &have,
					       have + n));
	return true;
}

int text_pack(const char *text, size_t len, struct packed *out)
{
	struct tls *t = tls_get();
	out->bytes = text;
	out->len = len;
	out->form = ZF_RAW;
	if (len >= PACK_MIN) {
		ZSTD_CDict *cd = dictionary(text, len);
		size_t cap = ZSTD_compressBound(len);
		char *dst = t ? tls_buf(t, cap) : NULL;
		if (!dst || (!t->c && !(t->c = ZSTD_createCCtx())))
			return -ENOMEM;
		size_t z = cd ? ZSTD_compress_usingCDict(t->c, dst, cap, text,
							 len, cd)
			      : ZSTD_compressCCtx(t->c, dst, cap, text, len,
						  LEVEL);
		if (!ZSTD_isError(z) && z < len) {
			out->bytes = dst;
			out->len = z;
			out->form = cd ? ZF_ZSTD_DICT : ZF_ZSTD;
		}
	}
	out->memory = atomic_load(&store.fd) < 0 || reserve(out->len);
	atomic_fetch_add(&store.tickets, 1);
	atomic_fetch_add(&store.bytes, len);
	return 0;
}

long long text_spill(const struct packed *p)
{
	int fd = atomic_load(&store.fd);
	long long off = atomic_fetch_add(&store.end, (long long)p->len);
	ssize_t w = fd < 0 ? -1 : pwrite(fd, p->bytes, p->len, (off_t)off);
	if (w != (ssize_t)p->len) {
		int e = w < 0 ? errno : ENOSPC;
		if (!atomic_exchange(&store.spill_failed, true))
			jlog_err("cannot write ticket texts to the state "
				 "directory (%s): keeping them in memory, over "
				 "memory_max", strerror(e));
		atomic_fetch_add(&store.memory, p->len);
		return -1;
	}
	atomic_fetch_add(&store.spilled, 1);
	atomic_fetch_add(&store.spilled_bytes, p->len);
	return off;
}

void text_release(const struct jira_issue *i)
{
	atomic_fetch_sub(&store.tickets, 1);
	atomic_fetch_sub(&store.bytes, i->text_len);
	if (i->ztext) {
		atomic_fetch_sub(&store.memory, i->zlen);
		return;
	}
	atomic_fetch_sub(&store.spilled, 1);
	atomic_fetch_sub(&store.spilled_bytes, i->zlen);
	int fd = atomic_load(&store.fd);
	if (fd >= 0)
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)i->zoff, (off_t)i->zlen);
}

int jira_issue_text_to(const struct jira_issue *i, struct strbuf *sb)
{
	struct tls *t = tls_get();
	const char *z = i->ztext;
	sb->len = 0;
	if (strbuf_grow(sb, i->text_len + 1))
		return -ENOMEM;
	if (!z) { /* spilled */
		char *b = t ? tls_buf(t, i->zlen) : NULL;
		if (!b)
			return -ENOMEM;
		ssize_t r = pread(atomic_load(&store.fd), b, i->zlen,
				  (off_t)i->zoff);
		if (r != (ssize_t)i->zlen) {
			jlog_err("cannot read the text of %s back from the "
				 "state directory: %s",
				 i->key, r < 0 ? strerror(errno) : "short read");
			return -EIO;
		}
		z = b;
	}
	if (i->zform == ZF_RAW) {
		memcpy(sb->buf, z, i->zlen);
	} else {
		if (!t || (!t->d && !(t->d = ZSTD_createDCtx())))
			return -ENOMEM;
		size_t n = i->zform == ZF_ZSTD_DICT
				   ? ZSTD_decompress_usingDDict(
					     t->d, sb->buf, i->text_len, z,
					     i->zlen, store.ddict)
				   : ZSTD_decompressDCtx(t->d, sb->buf,
							 i->text_len, z,
							 i->zlen);
		if (ZSTD_isError(n) || n != i->text_len) {
			jlog_err("the kept text of %s does not unpack: %s",
				 i->key,
				 ZSTD_isError(n) ? ZSTD_getErrorName(n)
						 : "wrong length");
			return -EIO;
		}
	}
	sb->len = i->text_len;
	sb->buf[sb->len] = '\0';
	return 0;
}

char *jira_issue_text(const struct jira_issue *i, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	if (jira_issue_text_to(i, &sb)) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, len);
}
