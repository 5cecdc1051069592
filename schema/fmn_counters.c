/*
 * Persistent daemon counters: in-memory deltas written with one prepared
 * upsert per changed counter.
 */
#include "fmn_counters.h"

#include <string.h>

#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

static const char *const counter_names[FMN_C_COUNT] = {
	[FMN_C_MESSAGES_RECEIVED] = "messages_received",
	[FMN_C_MESSAGES_PROCESSED] = "messages_processed",
	[FMN_C_MESSAGES_DUPLICATE] = "messages_duplicate",
	[FMN_C_MESSAGES_DROPPED] = "messages_dropped",
	[FMN_C_MESSAGES_INVALID] = "messages_invalid",
	[FMN_C_INVALID_FRAMES] = "messages_invalid_frames",
	[FMN_C_INVALID_SIZE] = "messages_invalid_size",
	[FMN_C_INVALID_UTF8] = "messages_invalid_utf8",
	[FMN_C_INVALID_JSON] = "messages_invalid_json",
	[FMN_C_INVALID_TOPIC] = "messages_invalid_topic",
	[FMN_C_INVALID_ENVELOPE] = "messages_invalid_envelope",
	[FMN_C_INVALID_SIGNATURE] = "messages_invalid_signature",
	[FMN_C_RULE_ERRORS] = "rule_errors",
	[FMN_C_NOTIFICATIONS_QUEUED] = "notifications_queued",
	[FMN_C_NOTIFICATIONS_BATCHED] = "notifications_batched",
	[FMN_C_NOTIFICATIONS_DELIVERED] = "notifications_delivered",
	[FMN_C_NOTIFICATIONS_FAILED] = "notifications_failed",
	[FMN_C_NOTIFICATIONS_RETRIED] = "notifications_retried",
	[FMN_C_DELIVERIES] = "deliveries",
	[FMN_C_DIGESTS] = "digests",
	[FMN_C_CONFIRMATIONS_SENT] = "confirmations_sent",
	[FMN_C_MESSAGES_LOST] = "messages_lost",
	[FMN_C_BUS_RECONNECTS] = "bus_reconnects",
	[FMN_C_FILTERS_BROKEN] = "filters_broken",
	[FMN_C_MESSAGES_CAUGHT_UP] = "messages_caught_up",
	[FMN_C_CATCHUP_REQUESTS] = "catchup_requests",
	[FMN_C_CATCHUP_ERRORS] = "catchup_errors",
};

const char *
fmn_counters_name(enum fmn_counter c)
{
	return c < FMN_C_COUNT ? counter_names[c] : NULL;
}

int
fmn_counters_init(struct fmn_counters *c, sqlite3 *db, char **cause)
{
	int k;

	memset(c, 0, sizeof(*c));
	c->upsert = fmn_store_prepare(db, "INSERT INTO counters (name, value) "
	    "VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET "
	    "value = value + ?2", cause);
	if (c->upsert == NULL)
		return -1;
	for (k = 0; k < FMN_C_COUNT; k++)
		c->total[k] = fmn_store_counter_get(db, counter_names[k]);
	return 0;
}

void
fmn_counters_fini(struct fmn_counters *c)
{
	sqlite3_finalize(c->upsert);
	c->upsert = NULL;
}

void
fmn_counters_save(struct fmn_counters *c)
{
	memcpy(c->saved_delta, c->delta, sizeof(c->delta));
	memcpy(c->saved_total, c->total, sizeof(c->total));
	c->saved_dirty = c->dirty;
}

void
fmn_counters_restore(struct fmn_counters *c)
{
	memcpy(c->delta, c->saved_delta, sizeof(c->delta));
	memcpy(c->total, c->saved_total, sizeof(c->total));
	c->dirty = c->saved_dirty;
}

int
fmn_counters_flush(struct fmn_counters *c)
{
	int k, rc;

	if (!c->dirty)
		return 0;
	for (k = 0; k < FMN_C_COUNT; k++) {
		if (c->delta[k] == 0)
			continue;
		sqlite3_bind_text(c->upsert, 1, counter_names[k], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(c->upsert, 2, c->delta[k]);
		rc = sqlite3_step(c->upsert);
		sqlite3_reset(c->upsert);
		if (rc != SQLITE_DONE) {
			log_err("counters: %s", sqlite3_errstr(rc));
			return -1;
		}
		c->delta[k] = 0;
	}
	c->dirty = 0;
	return 0;
}
