// Package stats holds the pure statistics behind schedlab's verdicts: is a
// sweep value really better than the baseline, by how much, how sure, and
// how many more repeats would settle it.
//
// Most of it works on paired observations, one per repeat: the data of
// a comparison are the per-repeat log-ratios d_r = log(score_r(t)/score_r(b))
// of a sweep value t against the baseline b measured in the same repeat. A
// repeat is the unit of replication (a fresh run of the whole sweep), so
// pairing inside it removes the repeat-to-repeat drift that dominates noise.
//
// Methods, each chosen for a reason:
//
//   - SignFlip: a two-sided sign-flip (paired permutation) test of the mean
//     log-ratio. Under "no effect" each d_r is symmetric around 0, so every
//     one of the 2^n sign patterns is equally likely; the p-value is the share
//     of patterns whose |Σ±d_r| reaches the observed |Σd_r|. It is exact for
//     n ≤ MaxExactPairs (all 2^n patterns, counted by meet-in-the-middle) and a
//     seeded Monte Carlo estimate beyond. It needs no normality, unlike a t
//     test, and uses magnitudes, unlike the sign test. Its floor is MinP(n) =
//     2^(1−n): with 3 pairs no outcome can give p < 0.25.
//   - Holm: the step-down Holm–Bonferroni adjustment, which controls the
//     family-wise error across all sweep values without assuming independence.
//   - Bootstrap: seeded BCa (bias-corrected and accelerated, Efron &
//     Tibshirani 1993, ch. 14) intervals over repeats, with the percentile
//     interval available too. BCa corrects the percentile interval's bias and
//     skew at no extra resampling cost; both respect transformations, so an
//     interval computed on log-ratios maps to ratios by exp.
//   - WinProbability: how often each sweep value is the argmin under
//     bootstrap resampling of whole repeats (all values share the resample,
//     keeping the pairing).
//   - TInterval and QuantileRanks: intervals computed rather than resampled,
//     for many independent values (the prompt_weight statistics pool
//     thousands of requests): Student's t for a mean, and the
//     distribution-free order-statistic interval for a quantile, whose
//     coverage follows from the binomial distribution whatever the data's.
//   - RepeatsNeeded: how many pairs a test needs, from the exact-test floor
//     and from the power of a one-sample t test on the log-ratios at the
//     observed effect size (noncentral t, 80% power by default).
//
// Randomness always comes from NewPCG(seed, stream): a PCG generator whose
// stream names the purpose, so results do not depend on call order and the
// same seed gives byte-identical output.
package stats
