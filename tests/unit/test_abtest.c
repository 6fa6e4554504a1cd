/*
 * test_abtest.c — lib/abtest: the mixture likelihood ratio against a direct
 * numerical integral of its definition and against Johari et al.'s formula
 * with sigma known; the interval's boundary; experiments simulated with no
 * effect (1,000 of them, each looked at after every one of 30 days: the share
 * that ever declares a Winner must stay within alpha, where a fixed-sample
 * t-test looked at daily does not), with heavy tails, and with a known
 * effect (power, and the interval covering the truth at every look); the
 * decision words; the plan's balance, reproducibility and stability; bad
 * records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/abtest.h"

/*
 * ln L by integrating the definition: the likelihood of the sufficient
 * statistics (ss within arms, difference d, effective size m), mean level
 * integrated out (flat), times the prior 1/sigma, integrated over sigma and
 * over delta ~ N(0, tau^2), divided by the same at delta = 0.  Midpoint
 * rules over ln sigma and delta.
 */
static double log_lr_integral(double ss, double d, double m, double nu, double tau)
{
	/* after the mean level: sigma^-(nu+1) exp(-(ss + m (d - delta sigma)^2) / (2 sigma^2));
	 * times the prior 1/sigma, and d sigma = sigma d ln sigma.  Every exponent is
	 * taken relative to its value at sigma s0 (where the integrand peaks) and
	 * summed before exp, so nothing overflows. */
	double q0 = ss + m * d * d, s0 = sqrt(q0 / (nu + 1));
	double w = 8 / sqrt(nu + 1);	/* the posterior of ln sigma has sd about 1/sqrt(2 nu) */
	double num = 0, den = 0;
	const int NS = 4000, ND = 2000;
	for (int i = 0; i < NS; i++) {
		double ls = log(s0) - w + 2 * w * (i + 0.5) / NS, s = exp(ls);
		double base = -(nu + 1) * (ls - log(s0)) + q0 / (2 * s0 * s0);
		den += exp(base - q0 / (2 * s * s));
		for (int j = 0; j < ND; j++) {
			double dl = -10 * tau + 20 * tau * (j + 0.5) / ND;
			double q = ss + m * (d - dl * s) * (d - dl * s);
			num += exp(base - q / (2 * s * s) - dl * dl / (2 * tau * tau)) /
			       (tau * sqrt(2 * M_PI)) * (20 * tau / ND);
		}
	}
	return log(num / den);
}

static void lr_matches_its_definition(void **state)
{
	struct { double ss, d, m, nu, tau; } c[] = {
		{ 10.0, 0.4, 6.0, 22, 0.3 },	/* two-sample: 12 + 12 */
		{ 3.0, -0.9, 2.4, 8, 0.5 },	/* 4 + 6 */
		{ 40.0, 0.05, 30.0, 118, 0.3 },
		{ 2.0, 0.7, 5.0, 4, 1.0 },	/* paired: 5 pairs */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		double sd = sqrt(c[i].ss / c[i].nu), t = c[i].d / (sd / sqrt(c[i].m));
		double closed = pd_ab_log_lr(t, c[i].m, c[i].nu, c[i].tau);
		double num = log_lr_integral(c[i].ss, c[i].d, c[i].m, c[i].nu, c[i].tau);
		print_message("case %zu: ln L closed form %.6f, integral %.6f\n", i, closed, num);
		assert_true(fabs(closed - num) < 1e-4);
	}
}

static void lr_tends_to_known_sigma_msprt(void **state)
{
	/* Johari et al.: L = sqrt(V/(V+tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2))), V = sigma^2/m;
	 * in standardised units (sigma 1, tau on delta) with z = d sqrt(m) */
	double m = 50, tau = 0.3;
	for (double z = 0; z < 5; z += 0.7) {
		double V = 1 / m, d = z / sqrt(m);
		double j = 0.5 * log(V / (V + tau * tau)) + tau * tau * d * d / (2 * V * (V + tau * tau));
		assert_true(fabs(pd_ab_log_lr(z, m, 1e9, tau) - j) < 1e-6);
	}
	/* fewer degrees of freedom: heavier tails, less evidence at the same t */
	assert_true(pd_ab_log_lr(3, 10, 5, 0.5) < pd_ab_log_lr(3, 10, 500, 0.5));
	assert_true(pd_ab_log_lr(0, 10, 20, 0.5) < 0);
	assert_true(pd_ab_log_lr(2, 0, 20, 0.5) == 0 && pd_ab_log_lr(2, 3, 0, 0.5) == 0);
}

/* under no effect L is a likelihood ratio: its mean is 1 at any fixed size,
 * whatever the mean level and sigma (the property Ville's inequality needs) */
static void lr_has_mean_one_under_the_null(void **state)
{
	pd_rng r;
	pd_rng_seed(&r, 3);
	const int N = 200000;
	double sum = 0, sum2 = 0, sum_alt = 0;
	for (int k = 0; k < N; k++) {
		pd_ab_seq q, qa;
		pd_ab_seq_init(&q, 0, 0.5, 0.05);
		pd_ab_seq_init(&qa, 0, 0.5, 0.05);
		for (int i = 0; i < 12; i++) {
			double z = pd_rng_normal(&r);
			pd_ab_seq_add(&q, i % 2, 7 + 3 * z);
			pd_ab_seq_add(&qa, i % 2, 7 + 3 * z + (i % 2) * 3);
		}
		pd_ab_est e, ea;
		pd_ab_seq_estimate(&q, &e);
		pd_ab_seq_estimate(&qa, &ea);
		double L = exp(pd_ab_log_lr(e.t, 3, 10, 0.5));
		sum += L;
		sum2 += L * L;
		sum_alt += exp(pd_ab_log_lr(ea.t, 3, 10, 0.5));
	}
	double mean = sum / N, se = sqrt((sum2 / N - mean * mean) / N);
	print_message("E[L] under the null: %.4f (se %.4f); with an effect of 1 sd: %.3f\n", mean,
		      se, sum_alt / N);
	assert_true(fabs(mean - 1) < 4 * se + 1e-3);
	assert_true(sum_alt / N > 1.2);
}

static void boundary_inverts_the_ratio(void **state)
{
	double a = 0.05;
	for (double m = 1; m < 2000; m *= 3)
		for (double nu = 2; nu < 5000; nu *= 4) {
			double tc = pd_ab_tcrit(m, nu, 0.3, a);
			if (!isfinite(tc)) {
				/* L is bounded by g^(nu/2): never reaches 20 */
				double g = 1 + m * 0.09;
				assert_true(0.5 * nu * log(g) <= log(1 / a) + 1e-9);
				continue;
			}
			assert_true(fabs(pd_ab_log_lr(tc, m, nu, 0.3) - log(1 / a)) < 1e-8);
		}
	assert_true(isinf(pd_ab_tcrit(1, 1, 0.3, 0.05)));
	assert_true(isinf(pd_ab_tcrit(0, 10, 0.3, 0.05)));
}

/* ---- simulated experiments ---- */

enum { NOISE_NORMAL, NOISE_T3, NOISE_SKEW };

static double noise(pd_rng *r, int kind)
{
	double z = pd_rng_normal(r);
	if (kind == NOISE_T3) {
		double c = 0;
		for (int i = 0; i < 3; i++) {
			double x = pd_rng_normal(r);
			c += x * x;
		}
		return z / sqrt(c / 3) / sqrt(3.0);	/* t with 3 df, unit variance */
	}
	if (kind == NOISE_SKEW)	/* a centred, scaled log-normal: skewness 6 */
		return (exp(z) - exp(0.5)) / sqrt((exp(1) - 1) * exp(1));
	return z;
}

typedef struct sim {
	int nexp, days, per_day, paired, noise;
	double effect, sigma, alpha;
	/* results */
	int ever_winner, wrong_winner, final_winner, naive_ever;
	int covered_always, covered_final, final_preferred;
	int p_monotone_bad;
	double mean_effect;
} sim;

/* run s: per experiment, per_day units a day over two channels, permuted
 * blocks of 4 per channel, analysed from scratch after every day */
static void simulate(sim *s, uint64_t seed)
{
	pd_rng r;
	pd_rng_seed(&r, seed);
	int n = s->days * s->per_day;
	double *y = calloc((size_t)n, sizeof *y);
	int *arm = calloc((size_t)n, sizeof *arm);
	double sum_eff = 0;
	for (int e = 0; e < s->nexp; e++) {
		int block[2][4], pos[2] = { 4, 4 };
		double ch_level[2] = { 0.3 * pd_rng_normal(&r), 0.3 * pd_rng_normal(&r) };
		for (int i = 0; i < n; i++) {
			int c = i % 2;
			if (pos[c] == 4) {
				int b[4] = { 1, 1, 0, 0 };
				for (int j = 3; j > 0; j--) {
					int k = (int)pd_rng_below(&r, (uint64_t)j + 1), t = b[j];
					b[j] = b[k];
					b[k] = t;
				}
				memcpy(block[c], b, sizeof b);
				pos[c] = 0;
			}
			arm[i] = block[c][pos[c]++];
			if (s->paired)	/* a within-video difference */
				y[i] = s->effect + s->sigma * noise(&r, s->noise);
			else
				y[i] = ch_level[c] + (arm[i] ? s->effect : 0) + s->sigma * noise(&r, s->noise);
		}
		int ever = 0, wrong = 0, naive = 0, always = 1, arm_won = -1;
		double lastp = 1;
		pd_ab_est est;
		pd_ab_opts o;
		pd_ab_opts_default(&o);	/* the default mixture, tau 0.5 */
		for (int d = 1; d <= s->days; d++) {
			pd_ab_seq q;
			pd_ab_seq_init(&q, s->paired, o.tau, s->alpha);
			for (int i = 0; i < d * s->per_day; i++)
				pd_ab_seq_add(&q, arm[i], y[i]);
			pd_ab_seq_estimate(&q, &est);
			int which, dec = pd_ab_decide(&est, s->alpha, 0.2, &which);
			if (dec == PD_AB_WINNER) {
				ever = 1;
				if (s->effect == 0 || which != PD_AB_TREATMENT)
					wrong = 1;
				arm_won = which;
			}
			if (isfinite(est.effect) && !(est.lo <= s->effect && s->effect <= est.hi))
				always = 0;
			/* the fixed-sample test a daily reader would misuse: |t| > 1.96 */
			if (est.n_t >= 5 && est.n_c >= 5 && fabs(est.t) > 1.959964)
				naive = 1;
			if (est.p > lastp + 1e-12)
				s->p_monotone_bad++;
			lastp = est.p;
		}
		(void)arm_won;
		s->ever_winner += ever;
		s->wrong_winner += wrong;
		s->naive_ever += naive;
		s->covered_always += always;
		s->covered_final += est.lo <= s->effect && s->effect <= est.hi;
		int which;
		int dec = pd_ab_decide(&est, s->alpha, 0.2, &which);
		s->final_winner += dec == PD_AB_WINNER;
		s->final_preferred += dec == PD_AB_PREFERRED;
		sum_eff += est.effect;
	}
	s->mean_effect = sum_eff / s->nexp;
	free(y);
	free(arm);
}

/* the binomial margin: alpha plus 2.33 standard errors (one-sided 99%) */
static double margin(double a, int n)
{
	return a + 2.326 * sqrt(a * (1 - a) / n);
}

static void null_daily_looks_keep_alpha(void **state)
{
	sim s = { .nexp = 1000, .days = 30, .per_day = 4, .sigma = 0.65, .alpha = 0.05 };
	simulate(&s, 11);
	print_message("null, normal: ever Winner %d/1000 (final-look Winner %d, naive daily "
		      "t-test %d, Preferred at the end %d)\n", s.ever_winner, s.final_winner,
		      s.naive_ever, s.final_preferred);
	assert_true(s.ever_winner <= margin(0.05, 1000) * 1000);
	/* the always-valid p never rises, so a Winner once is a Winner at the end */
	assert_int_equal(s.p_monotone_bad, 0);
	assert_int_equal(s.final_winner, s.ever_winner);
	/* the simulation has teeth: peeking at a fixed-sample test inflates its 5% */
	assert_true(s.naive_ever > 150);
	/* and the interval covered 0 at every look in every experiment without a Winner */
	assert_int_equal(s.covered_always, 1000 - s.ever_winner);
}

static void null_heavy_tails_and_skew(void **state)
{
	sim t = { .nexp = 1000, .days = 30, .per_day = 4, .sigma = 0.65, .alpha = 0.05,
		  .noise = NOISE_T3 };
	simulate(&t, 12);
	sim k = { .nexp = 1000, .days = 30, .per_day = 4, .sigma = 0.65, .alpha = 0.05,
		  .noise = NOISE_SKEW };
	simulate(&k, 13);
	sim a = { .nexp = 1000, .days = 30, .per_day = 4, .sigma = 0.65, .alpha = 0.2 };
	simulate(&a, 14);
	print_message("null, t3 noise: ever Winner %d/1000; skewed noise: %d/1000; "
		      "alpha 0.2: %d/1000\n", t.ever_winner, k.ever_winner, a.ever_winner);
	assert_true(t.ever_winner <= margin(0.05, 1000) * 1000);
	assert_true(k.ever_winner <= margin(0.05, 1000) * 1000);
	assert_true(a.ever_winner <= margin(0.2, 1000) * 1000);
}

static void null_paired(void **state)
{
	sim s = { .nexp = 1000, .days = 30, .per_day = 2, .sigma = 0.3, .alpha = 0.05, .paired = 1 };
	simulate(&s, 15);
	print_message("null, within-video pairs: ever Winner %d/1000\n", s.ever_winner);
	assert_true(s.ever_winner <= margin(0.05, 1000) * 1000);
	assert_int_equal(s.final_winner, s.ever_winner);
}

static void effect_found_and_covered(void **state)
{
	/* ratio 1.5 (ln 0.405), sd 0.65, 8 videos a day for 30 days */
	sim s = { .nexp = 1000, .days = 30, .per_day = 8, .sigma = 0.65, .alpha = 0.05,
		  .effect = log(1.5) };
	simulate(&s, 21);
	print_message("effect ln 1.5: Winner treatment %d/1000 (wrong arm %d), interval covers "
		      "the truth at every look %d/1000, at the end %d/1000, mean estimate %.4f\n",
		      s.ever_winner - s.wrong_winner, s.wrong_winner, s.covered_always,
		      s.covered_final, s.mean_effect);
	assert_true(s.ever_winner - s.wrong_winner >= 800);
	assert_true(s.wrong_winner <= 5);
	assert_true(s.covered_always >= 1000 - margin(0.05, 1000) * 1000);
	assert_true(fabs(s.mean_effect - log(1.5)) < 0.01);
	/* a small effect, few videos: rarely a Winner, the interval still covers */
	sim w = { .nexp = 1000, .days = 30, .per_day = 4, .sigma = 0.65, .alpha = 0.05,
		  .effect = log(1.1) };
	simulate(&w, 22);
	print_message("effect ln 1.1: Winner treatment %d/1000, Preferred at the end %d, covers "
		      "at every look %d/1000\n", w.ever_winner - w.wrong_winner, w.final_preferred,
		      w.covered_always);
	assert_true(w.covered_always >= 1000 - margin(0.05, 1000) * 1000);
	assert_true(w.wrong_winner <= 5);
	/* within-video pairs with a negative effect: control wins */
	sim p = { .nexp = 300, .days = 20, .per_day = 2, .sigma = 0.3, .alpha = 0.05, .paired = 1,
		  .effect = -0.2 };
	simulate(&p, 23);
	print_message("paired effect -0.2: Winner %d/300 (all control: %d)\n", p.ever_winner,
		      p.wrong_winner);
	assert_true(p.ever_winner >= 240 && p.wrong_winner == p.ever_winner);
	assert_true(p.covered_always >= 300 - margin(0.05, 300) * 300);
}

static void decision_words(void **state)
{
	pd_ab_est e = { .effect = 0.3, .p = 0.01, .lo = 0.1, .hi = 0.5 };
	int arm;
	assert_int_equal(pd_ab_decide(&e, 0.05, 0.2, &arm), PD_AB_WINNER);
	assert_int_equal(arm, PD_AB_TREATMENT);
	e = (pd_ab_est){ .effect = -0.3, .p = 0.01, .lo = -0.5, .hi = -0.1 };
	assert_int_equal(pd_ab_decide(&e, 0.05, 0.2, &arm), PD_AB_WINNER);
	assert_int_equal(arm, PD_AB_CONTROL);
	e = (pd_ab_est){ .effect = -0.2, .p = 0.1, .lo = -0.6, .hi = 0.2 };
	assert_int_equal(pd_ab_decide(&e, 0.05, 0.2, &arm), PD_AB_PREFERRED);
	assert_int_equal(arm, PD_AB_CONTROL);
	e.p = 0.3;
	assert_int_equal(pd_ab_decide(&e, 0.05, 0.2, &arm), PD_AB_NONE);
	assert_int_equal(arm, -1);
	e = (pd_ab_est){ .effect = NAN, .p = 1, .lo = NAN, .hi = NAN };
	assert_int_equal(pd_ab_decide(&e, 0.05, 0.2, &arm), PD_AB_NONE);
	assert_string_equal(pd_ab_decision_name(PD_AB_WINNER), "Winner");
	assert_string_equal(pd_ab_decision_name(PD_AB_PREFERRED), "Preferred");
	assert_string_equal(pd_ab_decision_name(PD_AB_NONE), "None");
	assert_int_equal(pd_ab_arm_parse("treatment"), PD_AB_TREATMENT);
	assert_int_equal(pd_ab_arm_parse("Treatment"), -1);
	assert_int_equal(pd_ab_arm_parse(NULL), -1);
}

/* ---- the plan ---- */

static char *plan_text(const char *const *recs, int n, uint64_t seed, int block)
{
	pd_ab_plan_opts o;
	pd_ab_plan_opts_default(&o);
	o.seed = seed;
	o.block = block;
	o.experiment = "e1";
	pd_ab_planner *p = pd_ab_planner_new(&o);
	for (int i = 0; i < n; i++) {
		cJSON *j = cJSON_Parse(recs[i]);
		pd_err err;
		assert_int_equal(pd_ab_planner_add(p, pd_json_str(j, "type"), j, &err), 1);
		cJSON_Delete(j);
	}
	pd_buf out = PD_BUF_INIT;
	pd_ab_plan_counts k;
	pd_ab_planner_write(p, &out, &k);
	pd_ab_planner_free(p);
	return pd_buf_detach(&out);
}

static char **make_drafts(int n, int nch)
{
	char **r = calloc((size_t)n, sizeof *r);
	for (int i = 0; i < n; i++) {
		pd_buf b = PD_BUF_INIT;
		pd_buf_printf(&b, "{\"type\":\"draft\",\"id\":\"d%03d\",\"channel_id\":\"ch%d\","
			      "\"title\":\"t\",\"pattern_id\":\"p1\"}", i, i % nch);
		r[i] = pd_buf_detach(&b);
	}
	return r;
}

static void plan_balanced_reproducible_stable(void **state)
{
	int n = 203;
	char **d = make_drafts(n, 3);
	char *a = plan_text((const char *const *)d, n, 5, 4);
	char *b = plan_text((const char *const *)d, n, 5, 4);
	char *c = plan_text((const char *const *)d, n, 6, 4);
	assert_string_equal(a, b);
	assert_true(strcmp(a, c) != 0);
	/* per channel: every complete block of 4 holds 2 of each arm */
	int nt[3] = { 0 }, nc[3] = { 0 }, line = 0;
	for (const char *s = a; *s; s = strchr(s, '\n') + 1, line++) {
		const char *arm = strstr(s, "\"arm\":\"");
		assert_non_null(arm);
		int ch = line % 3, t = !strncmp(arm + 7, "treatment", 9);
		nt[ch] += t;
		nc[ch] += !t;
		int k = nt[ch] + nc[ch];
		if (k % 4 == 0)
			assert_int_equal(nt[ch], nc[ch]);
		assert_true(abs(nt[ch] - nc[ch]) <= 2);
	}
	assert_int_equal(line, n);
	/* the first 150 drafts planned alone: the same assignments as in the whole */
	char *part = plan_text((const char *const *)d, 150, 5, 4);
	assert_memory_equal(part, a, strlen(part));
	/* over seeds, a unit is treated half the time */
	int treated = 0;
	for (uint64_t seed = 100; seed < 500; seed++) {
		char *x = plan_text((const char *const *)d, 3, seed, 4);
		treated += strstr(x, "\"arm\":\"treatment\"") == strstr(x, "\"arm\"");
		free(x);
	}
	assert_true(treated > 160 && treated < 240);
	free(a);
	free(b);
	free(c);
	free(part);
	for (int i = 0; i < n; i++)
		free(d[i]);
	free(d);
}

static void plan_recommendations(void **state)
{
	const char *recs[] = {
		"{\"type\":\"draft\",\"title\":\"How it works\",\"duration_s\":300,\"channel_id\":\"c\"}",
		"{\"type\":\"recommendation\",\"video_id\":\"v9\",\"rank\":2,\"pattern_id\":\"p-b\"}",
		"{\"type\":\"recommendation\",\"video_id\":\"v9\",\"rank\":1,\"pattern_id\":\"p-a\"}",
		("{\"type\":\"match_group\",\"video_id\":\"v8\",\"matches\":[],\"recommendations\":"
		 "[{\"rank\":1,\"pattern_id\":\"p-c\"}]}"),
	};
	pd_ab_plan_opts o;
	pd_ab_plan_opts_default(&o);
	pd_ab_planner *p = pd_ab_planner_new(&o);
	pd_err err;
	for (int i = 0; i < 4; i++) {
		cJSON *j = cJSON_Parse(recs[i]);
		assert_int_equal(pd_ab_planner_add(p, pd_json_str(j, "type"), j, &err), 1);
		cJSON_Delete(j);
	}
	pd_buf out = PD_BUF_INIT;
	pd_ab_plan_counts k;
	pd_ab_planner_write(p, &out, &k);
	/* the draft has no recommendation: left out; v9 takes its rank-1 pattern */
	assert_int_equal(k.units, 3);
	assert_int_equal(k.assigned, 2);
	assert_int_equal(k.no_pattern, 1);
	assert_non_null(strstr(out.p, "\"video_id\":\"v9\",\"arm\""));
	assert_non_null(strstr(out.p, "\"pattern_id\":\"p-a\""));
	assert_non_null(strstr(out.p, "\"pattern_id\":\"p-c\""));
	assert_null(strstr(out.p, "p-b"));
	assert_non_null(strstr(out.p, "\"experiment_id\":\"ab-"));
	pd_buf_release(&out);
	/* pd-match's id for a draft without one */
	cJSON *j = cJSON_Parse(recs[0]);
	pd_buf id = PD_BUF_INIT;
	assert_int_equal(pd_ab_draft_id(j, &id, &err), 0);
	assert_int_equal((int)id.len, 22);
	assert_memory_equal(id.p, "draft:", 6);
	cJSON_Delete(j);
	pd_buf_release(&id);
	/* bad records */
	const char *bad[] = {
		"{\"type\":\"draft\",\"duration_s\":3}",
		"{\"type\":\"recommendation\",\"pattern_id\":\"p\"}",
		"{\"type\":\"recommendation\",\"video_id\":\"v\"}",
		"{\"type\":\"recommendation\",\"video_id\":\"v\",\"pattern_id\":\"p\",\"rank\":\"x\"}",
		"{\"type\":\"draft\",\"id\":\"d\",\"published_at\":\"soon\"}",
		"{\"type\":\"match_group\",\"video_id\":\"v\",\"recommendations\":{}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		j = cJSON_Parse(bad[i]);
		assert_int_equal(pd_ab_planner_add(p, pd_json_str(j, "type"), j, &err), -1);
		assert_int_equal(err.code, PD_EREC);
		cJSON_Delete(j);
	}
	j = cJSON_Parse("{\"type\":\"video\",\"id\":\"x\"}");
	assert_int_equal(pd_ab_planner_add(p, "video", j, &err), 0);
	cJSON_Delete(j);
	pd_ab_planner_free(p);
}

/* ---- the analysis, record by record ---- */

static char rejected[8][300];
static long rejected_line[8];
static int nrejected;

static void on_reject(void *ud, const char *file, long line, const char *raw, size_t len,
		      const char *msg)
{
	if (nrejected < 8) {
		snprintf(rejected[nrejected], sizeof rejected[0], "%s", msg);
		rejected_line[nrejected] = line;
	}
	nrejected++;
}

static int add(pd_ab_analyzer *a, const char *text, long line)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	pd_err err;
	int rc;
	const char *type = pd_json_str(j, "type");
	if (!strcmp(type, "abtest_assignment")) {
		rc = pd_ab_analyzer_add_assignment(a, j, &err);
	} else if (!strcmp(type, "abtest_result")) {
		rc = pd_ab_analyzer_add_result(a, j, text, strlen(text), "in", line, &err);
	} else {
		pd_video v;
		assert_int_equal(pd_video_from_json(j, &v, &err), 0);
		pd_ab_analyzer_add_video(a, &v, "in", line);
		pd_video_release(&v);
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}

static void analyzer_records(void **state)
{
	pd_ab_opts o;
	pd_ab_opts_default(&o);
	pd_ab_analyzer *a = pd_ab_analyzer_new(&o);
	/* bad assignments */
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"video_id\":\"v\",\"arm\":\"control\"}", 1), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\",\"arm\":\"control\"}", 2), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\",\"video_id\":\"v\",\"arm\":\"placebo\"}", 3), -1);
	/* 8 videos, 4 per arm; v1 assigned twice the same way is fine, the other way not */
	const char *arms[2] = { "control", "treatment" };
	char buf[300];
	for (int i = 0; i < 8; i++) {
		snprintf(buf, sizeof buf, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\","
			 "\"video_id\":\"v%d\",\"arm\":\"%s\",\"pattern_id\":\"p\"}", i, arms[i % 2]);
		assert_int_equal(add(a, buf, 10 + i), 0);
	}
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\",\"video_id\":\"v1\",\"arm\":\"treatment\"}", 20), 0);
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\",\"video_id\":\"v1\",\"arm\":\"control\"}", 21), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_assignment\",\"experiment_id\":\"e\",\"video_id\":\"w\",\"arm\":\"both\"}", 22), -1);
	/* bad results, found alone */
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"arm\":\"control\",\"perf\":1}", 30), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"both\",\"perf\":1}", 31), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"control\",\"perf\":0}", 32), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"control\",\"perf\":\"NaN\"}", 33), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"control\"}", 34), -1);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"control\",\"watch_time_share\":54}", 35), -1);
	/* results found bad at the end: no assignment, the wrong arm, a share for a between unit */
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"nobody\",\"arm\":\"control\",\"perf\":1}", 40), 0);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"treatment\",\"perf\":1}", 41), 0);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v2\",\"arm\":\"control\",\"watch_time_share\":0.5}", 42), 0);
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"experiment_id\":\"other\",\"video_id\":\"v2\",\"arm\":\"control\",\"perf\":2}", 43), 0);
	/* good outcomes: a result for v0, videos for the rest (v7: perf null, pending; v5: perf 0) */
	assert_int_equal(add(a, "{\"type\":\"abtest_result\",\"video_id\":\"v0\",\"arm\":\"control\",\"perf\":0.9}", 50), 0);
	const double perf[8] = { 0, 2.0, 1.1, 2.4, 0.8, 0, 1.0, NAN };
	for (int i = 1; i < 8; i++) {
		if (isnan(perf[i]))
			snprintf(buf, sizeof buf, "{\"type\":\"video\",\"id\":\"v%d\",\"perf\":null}", i);
		else
			snprintf(buf, sizeof buf, "{\"type\":\"video\",\"id\":\"v%d\",\"perf\":%g,"
				 "\"published_at\":\"2026-01-0%dT00:00:00Z\"}", i, perf[i], i);
		add(a, buf, 60 + i);
	}
	add(a, "{\"type\":\"video\",\"id\":\"unrelated\",\"perf\":3}", 70);
	pd_ab_report rep = { on_reject, NULL, NULL };
	pd_buf out = PD_BUF_INIT;
	pd_ab_counts k;
	nrejected = 0;
	pd_ab_analyzer_run(a, &rep, &out, &k);
	assert_int_equal(nrejected, 4);
	assert_int_equal(rejected_line[0], 40);
	assert_non_null(strstr(rejected[0], "no assignment of video 'nobody'"));
	assert_non_null(strstr(rejected[1], "is in arm control of experiment 'e', the result is for treatment"));
	assert_non_null(strstr(rejected[2], "watch_time_share"));
	assert_non_null(strstr(rejected[3], "in experiment 'other'"));
	assert_int_equal(k.experiments, 1);
	assert_int_equal(k.results_written, 1);
	assert_int_equal(k.measured, 6);
	assert_int_equal(k.pending, 1);
	assert_int_equal(k.excluded, 1);
	/* the accepted result first, as given, then the analysis */
	assert_memory_equal(out.p, "{\"type\":\"abtest_result\",\"video_id\":\"v0\"", 39);
	const char *an = strstr(out.p, "\n{\"type\":\"abtest_analysis\"");
	assert_non_null(an);
	cJSON *j = cJSON_Parse(an + 1);
	assert_non_null(j);
	assert_int_equal((int)pd_json_num(j, "n_treatment", -1), 2);	/* v1 v3 (v5 excluded, v7 pending) */
	assert_int_equal((int)pd_json_num(j, "n_control", -1), 4);	/* v0 (its result) v2 v4 v6 */
	assert_int_equal((int)pd_json_num(j, "n_pending", -1), 1);
	assert_int_equal((int)pd_json_num(j, "n_excluded", -1), 1);
	/* the effect: mean ln perf of v1 v3 less that of v0 v2 v4 v6 */
	double want = (log(2.0) + log(2.4)) / 2 - (log(0.9) + log(1.1) + log(0.8) + log(1.0)) / 4;
	assert_true(fabs(pd_json_num(j, "effect", NAN) - want) < 1e-5);
	assert_true(fabs(pd_json_num(j, "ratio", NAN) - exp(want)) < 1e-5 * exp(want));
	assert_string_equal(pd_json_str(j, "design"), "between");
	cJSON_Delete(j);
	pd_buf_release(&out);
	pd_ab_analyzer_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lr_matches_its_definition),
		cmocka_unit_test(lr_tends_to_known_sigma_msprt),
		cmocka_unit_test(lr_has_mean_one_under_the_null),
		cmocka_unit_test(boundary_inverts_the_ratio),
		cmocka_unit_test(null_daily_looks_keep_alpha),
		cmocka_unit_test(null_heavy_tails_and_skew),
		cmocka_unit_test(null_paired),
		cmocka_unit_test(effect_found_and_covered),
		cmocka_unit_test(decision_words),
		cmocka_unit_test(plan_balanced_reproducible_stable),
		cmocka_unit_test(plan_recommendations),
		cmocka_unit_test(analyzer_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
