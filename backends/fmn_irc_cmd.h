/*
 * The bot's commands, sent to it by private message: help, stop, start,
 * list filters, confirm SECRET. A command is obeyed only when the sender
 * owns an IRC destination with that nick (compared with the server's
 * case mapping); anyone else gets the same polite refusal whatever the
 * command, with how to get started, so the bot tells strangers nothing
 * about who uses it.
 */
#ifndef FMN_IRC_CMD_H
#define FMN_IRC_CMD_H

#include <sqlite3.h>

#include "fmn_irc_text.h"

/* Who a reply is for: the backend gives each a different reply budget. */
enum fmn_irc_cmd_who {
	FMN_IRC_CMD_STRANGER,	/* owns no confirmed IRC destination with this nick */
	FMN_IRC_CMD_OWNER,	/* owns one; the command was carried out */
	FMN_IRC_CMD_CONFIRMED,	/* has just confirmed a pending destination */
};

/*
 * Handle text sent by nick at time now; the reply lines (plain text, not
 * yet sanitised or split) are appended to reply, and *who says who the
 * sender turned out to be. A stranger's reply is always one line, which
 * says how to get started (with fmnd's API at base_url, when not NULL).
 * Returns 0, or -1 after a database error (reply then holds an apology,
 * *cause the reason).
 */
int fmn_irc_cmd_handle(sqlite3 *db, enum fmn_irc_casemap cm, const char *nick,
    const char *text, const char *base_url, double now,
    struct fmn_irc_lines *reply, enum fmn_irc_cmd_who *who, char **cause);

#endif
