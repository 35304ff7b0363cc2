/* log.c - see log.h */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES 1024

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* All below guarded by log_lock. */
static log_sink_fn log_sink;
static bool log_debug;
static char ring[LOG_RING_LINES][LINE_MAX_BYTES + 48];
static unsigned ring_next;  /* index of the slot the next line goes into */
static unsigned ring_count; /* lines held, at most LOG_RING_LINES */
static char last_error[LINE_MAX_BYTES];

static const char *level_name(enum jlog_level level)
{
	switch (level) {
	case JLOG_ERR: return "error";
	case JLOG_WARNING: return "warning";
	case JLOG_NOTICE: return "notice";
	case JLOG_INFO: return "info";
	case JLOG_DEBUG: return "debug";
	}
	return "?";
}

void log_set_sink(log_sink_fn sink)
{
	pthread_mutex_lock(&log_lock);
	log_sink = sink;
	pthread_mutex_unlock(&log_lock);
}

void log_set_debug(bool on)
{
	pthread_mutex_lock(&log_lock);
	log_debug = on;
	pthread_mutex_unlock(&log_lock);
}

bool log_debug_enabled(void)
{
	pthread_mutex_lock(&log_lock);
	bool on = log_debug;
	pthread_mutex_unlock(&log_lock);
	return on;
}

/* Replace control characters so that every message is exactly one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void log_msg(enum jlog_level level, const char *file, int line,
	     const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);

	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	pthread_mutex_lock(&log_lock);
	if (level == JLOG_DEBUG && !log_debug) {
		pthread_mutex_unlock(&log_lock);
		return;
	}
	if (level <= JLOG_NOTICE) {
		snprintf(ring[ring_next], sizeof(ring[0]), "%s %s %s", stamp,
			 level_name(level), msg);
		ring_next = (ring_next + 1) % LOG_RING_LINES;
		if (ring_count < LOG_RING_LINES)
			ring_count++;
	}
	if (level <= JLOG_WARNING)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	log_sink_fn sink = log_sink;
	pthread_mutex_unlock(&log_lock);

	char full[LINE_MAX_BYTES + 128];
	if (log_debug_enabled() || level == JLOG_DEBUG)
		snprintf(full, sizeof(full), "jirafs: %s: %s (%s:%d)",
			 level_name(level), msg, file, line);
	else
		snprintf(full, sizeof(full), "jirafs: %s: %s",
			 level_name(level), msg);
	if (sink)
		sink(level, full);
	else if (level <= JLOG_NOTICE || log_debug_enabled())
		fprintf(stderr, "%s\n", full);
}

char *log_ring_text(size_t *len)
{
	pthread_mutex_lock(&log_lock);
	size_t total = 0;
	unsigned first = (ring_next + LOG_RING_LINES - ring_count) %
			 LOG_RING_LINES;
	for (unsigned i = 0; i < ring_count; i++)
		total += strlen(ring[(first + i) % LOG_RING_LINES]) + 1;
	char *out = malloc(total + 1);
	if (out) {
		size_t off = 0;
		for (unsigned i = 0; i < ring_count; i++) {
			const char *l = ring[(first + i) % LOG_RING_LINES];
			size_t n = strlen(l);
			memcpy(out + off, l, n);
			off += n;
			out[off++] = '\n';
		}
		out[off] = '\0';
		*len = off;
	}
	pthread_mutex_unlock(&log_lock);
	return out;
}

void log_last_error(char *buf, size_t size)
{
	pthread_mutex_lock(&log_lock);
	snprintf(buf, size, "%s", last_error);
	pthread_mutex_unlock(&log_lock);
}

void log_ring_clear(void)
{
	pthread_mutex_lock(&log_lock);
	ring_next = 0;
	ring_count = 0;
	last_error[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}
