// SPDX-License-Identifier: GPL-2.0-or-later
/* Rates from sampled accessed bits under TLB flushes (access-rate.h). */
#include "access-rate.h"

#include <math.h>

/* (1 - e^-w) / w, exact near 0 */
static double one_minus_exp_over(double w)
{
	return w < 1e-9 ? 1.0 : -expm1(-w) / w;
}

double vmt_access_rate_reading(double flushes_per_sample, double x)
{
	double r = flushes_per_sample;

	if (x <= 0)
		return 0;
	if (!(r > 0) || !isfinite(r))
		return -expm1(-x);
	if (r < 1)
		return r * (1 - one_minus_exp_over(x));
	return 1 - exp(-x * (1 - 1 / r)) * one_minus_exp_over(x / r);
}

/* X with reading(R, X) = P, by bisection on log X (the reading rises with
 * X); P must be below the ceiling. */
static double invert(double r, double p)
{
	double lo = log(1e-9), hi = log(1e6);

	for (int i = 0; i < 45; i++) {	/* to 1e-9 of X */
		double mid = (lo + hi) / 2;

		if (vmt_access_rate_reading(r, exp(mid)) < p)
			lo = mid;
		else
			hi = mid;
	}
	return exp((lo + hi) / 2);
}

double vmt_access_rate_of(double flushes_per_sample, guint freq)
{
	double r = flushes_per_sample > 0 && isfinite(flushes_per_sample) ? flushes_per_sample : 0;
	double ceiling = r > 0 ? MIN(1.0, r) : 1.0;
	/* the last permille below the ceiling: a saturated reading */
	double cap = MAX(ceiling - 1.0 / VMT_ACCESS_MAX, 0.5 / VMT_ACCESS_MAX);

	if (freq == 0)
		return 0;
	return invert(r, MIN((double)MIN(freq, VMT_ACCESS_MAX) / VMT_ACCESS_MAX, cap));
}
