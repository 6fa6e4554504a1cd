/*
 * embedtok.c — character n-grams for the text model (embedtok.h); the words
 * themselves are lib/text.c's.  Malformed bytes count as one character each.
 */
#include "pd.h"
#include "embedtok.h"
#include <stdlib.h>
#include <string.h>

void pd_etok_chargrams(const char *w, size_t len,
		       void (*cb)(const char *g, size_t glen, void *ud), void *ud)
{
	/* boundaries of the code points of " w " */
	size_t cap = len + 3, nb = 0;
	size_t small_at[64];
	char small_p[64];
	size_t *at = cap + 1 <= 64 ? small_at : xmalloc((cap + 1) * sizeof *at);
	char *p = len + 3 <= sizeof small_p ? small_p : xmalloc(len + 3);
	p[0] = ' ';
	memcpy(p + 1, w, len);
	p[len + 1] = ' ';
	size_t n = len + 2, i = 0;
	while (i < n) {
		at[nb++] = i;
		size_t adv;
		if (pd_utf8_decode(p + i, n - i, &adv) < 0)
			adv = 1;
		i += adv;
	}
	at[nb] = n;
	for (int g = 2; g <= 3; g++)
		for (size_t s = 0; s + (size_t)g <= nb; s++)
			cb(p + at[s], at[s + g] - at[s], ud);
	if (at != small_at)
		free(at);
	if (p != small_p)
		free(p);
}
