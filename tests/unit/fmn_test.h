/*
 * A minimal unit-test harness. TEST(name) defines a case; the binary
 * runs the case named on its command line, or every case without one.
 * CHECK failures print the expression and location and fail the case.
 * A fixture shared by several tests (tests/unit/support/) defines
 * FMN_TEST_SUPPORT before including this: it gets CHECK, not main.
 */
#ifndef FMN_TEST_H
#define FMN_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*fmn_test_fn)(void);
struct fmn_test_case {
	const char		*name;
	fmn_test_fn		 fn;
	struct fmn_test_case	*next;
};
/* Failed checks so far; the test's own, shared with its fixtures. */
extern int fmn_test_failures;

#define TEST(name)							\
	static void test_##name(void);					\
	static struct fmn_test_case tc_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void reg_##name(void)	\
	{ tc_##name.next = fmn_test_cases; fmn_test_cases = &tc_##name; } \
	static void test_##name(void)

#define CHECK(expr) do {						\
	if (!(expr)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #expr);				\
		fmn_test_failures++;					\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {		\
		fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s\n"	\
		    "  got:      \"%s\"\n  expected: \"%s\"\n",		\
		    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",	\
		    b_ ? b_ : "(null)");				\
		fmn_test_failures++;					\
	}								\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_) {							\
		fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %s "	\
		    "(got %lld, expected %lld)\n", __FILE__, __LINE__,	\
		    #a, #b, a_, b_);					\
		fmn_test_failures++;					\
	}								\
} while (0)

#ifndef FMN_TEST_SUPPORT
static struct fmn_test_case *fmn_test_cases;
int fmn_test_failures;

int
main(int argc, char **argv)
{
	struct fmn_test_case *tc;
	int ran = 0;

	for (tc = fmn_test_cases; tc != NULL; tc = tc->next) {
		if (argc > 1 && strcmp(argv[1], tc->name) != 0)
			continue;
		int before = fmn_test_failures;
		tc->fn();
		printf("%s: %s\n", tc->name,
		    fmn_test_failures == before ? "ok" : "FAILED");
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
		return 2;
	}
	return fmn_test_failures ? 1 : 0;
}
#endif /* FMN_TEST_SUPPORT */

#endif
