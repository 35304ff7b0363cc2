/* blob.c - see blob.h */
#include "util/blob.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#define CHUNK_SIZE ((size_t)1 << 20)
#define ALIGN 16

struct blob_chunk {
	size_t size;     /* mapped, header included */
	size_t used;     /* bytes handed out, header included */
	size_t live;     /* blobs not freed yet */
	_Alignas(ALIGN) char data[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct blob_chunk *current; /* guarded by lock */

static size_t round_up(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* With lock held. */
static void unmap(struct blob_chunk *c)
{
	munmap(c, c->size);
}

static struct blob_chunk *new_chunk(size_t need)
{
	size_t size = sizeof(struct blob_chunk) + need;
	if (size < CHUNK_SIZE)
		size = CHUNK_SIZE;
	size = (size + 4095) & ~(size_t)4095;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct blob_chunk *c = m;
	c->size = size;
	c->used = sizeof(*c);
	c->live = 0;
	return c;
}

void *blob_alloc(size_t n, struct blob_chunk **chunk)
{
	size_t need = round_up(n ? n : 1);
	if (need < n)
		return NULL;
	pthread_mutex_lock(&lock);
	struct blob_chunk *c = current;
	if (!c || c->size - c->used < need) {
		struct blob_chunk *fresh = new_chunk(need);
		if (!fresh) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		/* a blob bigger than a chunk gets a chunk of its own, and
		 * the current one stays current */
		if (need <= CHUNK_SIZE - sizeof(*fresh)) {
			if (c && !c->live)
				unmap(c);
			current = fresh;
		}
		c = fresh;
	}
	void *p = (char *)c + c->used;
	c->used += need;
	c->live++;
	pthread_mutex_unlock(&lock);
	*chunk = c;
	return p;
}

void blob_free(struct blob_chunk *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&lock);
	if (--c->live == 0) {
		if (c == current)
			c->used = sizeof(*c); /* empty: carve it again */
		else
			unmap(c);
	}
	pthread_mutex_unlock(&lock);
}
