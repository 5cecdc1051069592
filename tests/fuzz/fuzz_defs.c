/*
 * libFuzzer target: arbitrary bytes as a deployment's definitions file.
 * Loading either succeeds or refuses with a reason; a loaded file is
 * then run against one fixed message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_defs.h"
#include "fmn_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char envelope[] =
    "{\"topic\": \"org.fedoraproject.prod.widget.thing.done\", \"msg\": "
    "{\"agent\": \"kevin\", \"a\": [1, \"two\", {\"b\": null}], \"t\": "
    "\"hello @ralph, see foo-1.0-1.fc40\", \"n\": 3.5}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmn_defs *d = fmn_defs_new_empty();
	char *cause = NULL;

	if (fmn_defs_load_text(d, "fuzz", (const char *)data, size,
	    &cause) == 0) {
		struct fmn_msg *m = fmn_msg_parse(NULL, envelope,
		    sizeof(envelope) - 1, &cause);

		if (m == NULL)
			abort();
		fmn_facts_derive(d, NULL, m);
		fmn_msg_destroy(&m);
	} else if (cause == NULL)
		abort();
	free(cause);
	fmn_defs_destroy(&d);
	return 0;
}
