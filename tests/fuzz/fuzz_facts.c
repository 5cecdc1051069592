/*
 * libFuzzer target: arbitrary bytes as a bus message. The first line,
 * when the input has one, is the ZeroMQ topic frame; the rest is the
 * envelope. A valid envelope goes through the shipped definitions with
 * a few aliases; nothing may crash, leak or stall.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_facts.h"
#include "fmn_log.h"
#include "fmn_util.h"

static struct fmn_defs *defs;
static struct fmn_aliases *aliases;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	char *frame = NULL, *cause = NULL;
	struct fmn_msg *m;

	if (defs == NULL) {
		fmn_log_set_level(FMN_LOG_ERR);
		if ((defs = fmn_defs_new_builtin(&cause)) == NULL)
			abort();
		aliases = fmn_aliases_new();
		fmn_aliases_add(aliases, "threebean", "ralph");
		fmn_aliases_add(aliases, "rbean@redhat.com", "ralph");
	}
	nl = memchr(s, '\n', size);
	if (nl != NULL && size > 0 && s[0] != '{') {
		frame = strndup(s, (size_t)(nl - s));
		size -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	m = fmn_msg_parse(frame, s, size, &cause);
	if (m != NULL) {
		fmn_facts_derive(defs, aliases, m);
		if (m->facts.subtitle == NULL)
			abort();
		(void)fmn_msg_body_text(m);
		fmn_msg_destroy(&m);
	}
	free(cause);
	free(frame);
	return 0;
}
