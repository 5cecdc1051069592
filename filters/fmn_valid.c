/*
 * Address and nick checks: strict enough to refuse typos and injection
 * (spaces, control characters, CR/LF in an SMTP or IRC command). An
 * e-mail address is checked for what fmn can deliver to, not for all
 * RFC 5322 allows: the mail formatter writes it in To: and RCPT TO
 * as is, without SMTPUTF8, so quoted local parts, comments, address
 * literals and non-ASCII text are refused here, once, for fmnctl and
 * the formatter alike.
 */
#include "fmn_valid.h"

#include <string.h>

#include "fmn_util.h"

#define VALID_EMAIL_MAX		254	/* RFC 5321 path, less "<>" */
#define VALID_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1 */
#define VALID_LABEL_MAX		63	/* RFC 1035 2.3.4 */

static int
is_ascii_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_ascii_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 atext: what a dot-atom local part is made of. */
static int
is_atext(unsigned char c)
{
	return is_ascii_alpha(c) || is_ascii_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Why local (n bytes, before the '@') is not a dot-atom, or NULL. */
static const char *
email_local_why(const char *local, size_t n)
{
	size_t i;

	if (n == 0)
		return "nothing before the @";
	if (n > VALID_LOCAL_MAX)
		return "more than 64 characters before the @";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)local[i];

		if (c == '"')
			return "quoted local parts are not supported";
		if (c == '(' || c == ')')
			return "comments are not supported";
		if (c <= ' ' || c == 0x7f)
			return "spaces and control characters are not allowed";
		if (c >= 0x80)
			return "only ASCII characters are supported";
		if (c == '.' && (i == 0 || i == n - 1 || local[i + 1] == '.'))
			return "a dot must be between two other characters "
			    "before the @";
		if (c != '.' && !is_atext(c))
			return "only letters, digits, single dots and "
			    "!#$%&'*+-/=?^_`{|}~ are allowed before the @";
	}
	return NULL;
}

/* Why dom is not a host name fmn sends to, or NULL. */
static const char *
email_domain_why(const char *dom)
{
	const char *label = dom, *p;
	size_t n;

	if (*dom == '\0')
		return "nothing after the @";
	if (strcmp(dom, "localhost") != 0 && strchr(dom, '.') == NULL)
		return "the domain has no dot (only \"localhost\" may go "
		    "without)";
	for (;;) {
		n = strcspn(label, ".");
		for (p = label; p < label + n; p++) {
			unsigned char c = (unsigned char)*p;

			if (c <= ' ' || c == 0x7f)
				return "spaces and control characters are not "
				    "allowed";
			if (c == '(' || c == ')')
				return "comments are not supported";
			if (c >= 0x80)
				return "only ASCII characters are supported "
				    "(write an international domain in its "
				    "xn-- form)";
			if (!is_ascii_alpha(c) && !is_ascii_digit(c) &&
			    c != '-')
				return "the domain may only hold letters, "
				    "digits, hyphens and dots (no address "
				    "literals)";
		}
		if (n == 0)
			return "the domain has an empty label (a leading, "
			    "trailing or double dot)";
		if (n > VALID_LABEL_MAX)
			return "a label of the domain is longer than 63 "
			    "characters";
		if (label[0] == '-' || label[n - 1] == '-')
			return "a label of the domain starts or ends with a "
			    "hyphen";
		if (label[n] == '\0')
			return NULL;
		label += n + 1;
	}
}

int
fmn_valid_email(const char *s, char **cause)
{
	const char *at, *why;

	if (s == NULL || *s == '\0')
		why = "it is empty";
	else if (strlen(s) > VALID_EMAIL_MAX)
		why = "it is longer than 254 characters";
	else if ((at = strrchr(s, '@')) == NULL)
		why = "it has no @";
	else if ((why = email_local_why(s, (size_t)(at - s))) == NULL)
		why = email_domain_why(at + 1);
	if (why == NULL)
		return 1;
	fmn_set_cause(cause, "%s", why);
	return 0;
}

int
fmn_valid_nick(const char *s)
{
	size_t n = 0;
	const unsigned char *p;

	if (s == NULL || *s == '\0' || is_ascii_digit(*s) || *s == '-')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++, n++) {
		if (n >= 30)
			return 0;
		if (!is_ascii_alpha(*p) && !is_ascii_digit(*p) &&
		    strchr("[]\\`_^{|}-", *p) == NULL)
			return 0;
	}
	return 1;
}
