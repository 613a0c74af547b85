/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* Reading access rates from sampled accessed bits (DAMON with TLB flushes).
 *
 * A sample reads a chunk accessed when the guest touched it after the
 * vCPU's last TLB flush and before the sample: a page whose translation
 * stays cached sets no accessed bit, so only a flush makes it count again.
 * With a sample every S and a flush every T, R = S/T flushes per sample:
 *  - R < 1: a sample holds a flush with chance R, at a uniform time in it;
 *    it reads accessed if a touch follows: P = R (1 - (1 - e^-x) / x);
 *  - R >= 1: the first flush falls uniformly in the sample's first T, so
 *    the exposure is uniform on (S - T, S): P = 1 - e^-a (1 - e^-w) / w,
 *    a = x (1 - 1/R), w = x / R;
 * where x = rate * S (touches per sample).  R -> infinity is the plain
 * Poisson reading P = 1 - e^-x.  The readings saturate at min(1, R): a
 * reading near that ceiling says only "at least this hot".
 *
 * Inverting P gives a rate per chunk comparable across chunks of one
 * window, which is what weighing the DRAM access share needs; the plain
 * -ln(1 - P) of a ceiling-bound reading compresses the hottest chunks
 * several-fold (a reading at 90% of a 0.3 ceiling is about 10 touches a
 * sample, not 0.3). */

/* Touches per sample of a chunk read FREQ (permille of samples), sampled
 * with FLUSHES_PER_SAMPLE (<= 0 or not finite: Poisson).  Readings in the
 * last permille below the ceiling or above it get that permille's rate:
 * saturated, they say "at least".  About 45 exp() calls: callers memoise
 * by reading. */
double vmt_access_rate_of(double flushes_per_sample, guint freq);
/* The model: share of samples that read a chunk touched X times per sample
 * accessed, with FLUSHES_PER_SAMPLE as above (for tests and benches). */
double vmt_access_rate_reading(double flushes_per_sample, double x);
