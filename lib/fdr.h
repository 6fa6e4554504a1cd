/*
 * fdr.h — false-discovery-rate control over a run's tests (Benjamini and
 * Hochberg 1995; Benjamini and Yekutieli 2001 for arbitrary dependence).
 *
 * pd-mine evaluates many (cluster, feature) tests and emits only the
 * promising ones, so the p-values pd-validate sees are n of m: the other
 * m - n tests count as non-rejections with p = 1 (they can only rank last,
 * which is exactly the step-up procedure over all m with those p-values).
 * The adjusted values (q) are the BH "adjusted p-values": a pattern is
 * selected at level alpha exactly when its q <= alpha, which is the same
 * selection as the step-up rule "largest k with p_(k) <= k alpha / m".
 */
#ifndef PD_FDR_H
#define PD_FDR_H
#include <stddef.h>

enum pd_fdr_method { PD_FDR_BH = 0, PD_FDR_BY = 1 };

/*
 * pd_fdr_qvalues: q[i] for p[0..n), as if m >= n tests were run (the m - n
 * not given have p = 1).  q_(i) = min over j >= i of c(m) m p_(j) / j,
 * capped at 1, where c(m) = 1 (BH) or sum_{k<=m} 1/k (BY).  A NaN or
 * out-of-range p counts as 1.  m < n is taken as m = n.  Ties are broken by
 * index, so the result does not depend on sort stability.  Returns the
 * effective m.  q may alias nothing in p; caller owns both arrays.
 */
size_t pd_fdr_qvalues(const double *p, size_t n, size_t m, int method, double *q);

/*
 * pd_fdr_select: the step-up selection at level alpha: sel[i] = 1 when test
 * i is a discovery.  Returns the number of discoveries.  Equivalent to
 * q[i] <= alpha from pd_fdr_qvalues (kept separate so tests can compare the
 * two formulations).
 */
size_t pd_fdr_select(const double *p, size_t n, size_t m, int method, double alpha, int *sel);

/* pd_fdr_method_parse: "bh" or "by" to the enum; -1 otherwise. */
int pd_fdr_method_parse(const char *s);

#endif
