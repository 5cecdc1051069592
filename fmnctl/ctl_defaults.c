/*
 * fmnctl filter defaults: the standard filters for a new user (see
 * filters/fmn_defaults.c and docs/filters.md).
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_engine.h"
#include "fmn_defaults.h"
#include "fmn_store.h"

int
ctl_filter_defaults(struct fmn_ctl *ctl, int argc, char **argv)
{
	char *cause = NULL;
	long long uid;
	int npos;

	if ((npos = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (npos != 2)
		return ctl_usage(ctl, "expected USER CONTEXT");
	if (strcmp(argv[1], "email") != 0 && strcmp(argv[1], "irc") != 0)
		return ctl_error(ctl, "unknown context \"%s\" (email or irc)",
		    argv[1]);
	if ((uid = ctl_user_id(ctl, argv[0])) < 0)
		return CTL_EDATA;
	if (fmn_store_exec(ctl->db, "BEGIN IMMEDIATE", &cause) != 0 ||
	    fmn_defaults_store(ctl->db, uid, argv[0], argv[1], &cause) != 0 ||
	    fmn_store_exec(ctl->db, "COMMIT", &cause) != 0) {
		fmn_store_exec(ctl->db, "ROLLBACK", NULL);
		ctl_error(ctl, "%s", cause);
		free(cause);
		return CTL_EDATA;
	}
	if (!ctl->json)
		printf("added \"%s\", \"%s\" and \"%s\" to %s's %s "
		    "preference\n", FMN_DEFAULT_USERNAME, FMN_DEFAULT_PACKAGES,
		    FMN_DEFAULT_TASKOTRON, argv[0], argv[1]);
	return CTL_OK;
}
