/*
 * The e-mail formatter shared by the mbox and SMTP backends: one
 * notification, a digest or a confirmation rendered as an RFC 5322 /
 * MIME message with headers people can filter on, and no way for text
 * from the bus to add or alter a header.
 */
#ifndef FMN_MAIL_H
#define FMN_MAIL_H

#include "fmn_backend.h"
#include "fmn_util.h"

/*
 * Render d into out (appended), lines ending in CRLF, ready for SMTP
 * DATA (without dot-stuffing). now is the Date header's time.
 */
int fmn_mail_format(const struct fmn_delivery *d, const struct fmn_config *cfg,
    double now, struct fmn_buf *out, char **cause);

/*
 * The envelope sender for a From value ("Name <a@b>" or "a@b"): a new
 * string the caller frees, or NULL when it holds no address that
 * fmn_valid_email() accepts.
 */
char *fmn_mail_envelope_from(const char *from);

#endif
