# Reference values for the cluster designs of veplab.outcomes.power
# (tests/test_outcomes_power.py).  No CRAN package for cluster-trial power is
# installed here (clusterPower is not in Debian), so the formulas are written
# out (Donner & Klar 2000, ch. 5; Eldridge, Ashby & Kerry 2006) and solved with
# uniroot, and the ICC = 0 / cluster size 1 cases are checked against
# stats::power.t.test and stats::power.prop.test themselves.
#
#   DE    = 1 + ((cv^2 + 1) m - 1) ICC          (cv = 0: 1 + (m - 1) ICC)
#   n_eff = k m / DE                             (people's worth of information per arm)
#   cluster_two_sample, t:      ncp = delta / sd * sqrt(n_eff / 2), df = 2 (k - 1)
#   cluster_two_sample, normal: power = pnorm(ncp - qnorm(1 - a/2))
#   cluster_two_proportions:    power.prop.test's formula with n = n_eff
#
# Run from the repository root:  Rscript tests/reference/power_cluster.R
# Writes tests/reference/power_cluster.json.  R 4.2.2, stats, jsonlite.

suppressPackageStartupMessages(library(jsonlite))

tol <- 1e-12
de <- function(m, icc, cv = 0) 1 + ((cv^2 + 1) * m - 1) * icc
pw_t <- function(k, delta, m, icc, cv = 0, sd = 1, a = 0.05) {
  nu <- 2 * (k - 1)
  ncp <- delta / sd * sqrt(k * m / (2 * de(m, icc, cv)))
  pt(qt(a / 2, nu, lower.tail = FALSE), nu, ncp = ncp, lower.tail = FALSE)
}
pw_z <- function(k, delta, m, icc, cv = 0, sd = 1, a = 0.05)
  pnorm(delta / sd * sqrt(k * m / (2 * de(m, icc, cv))) - qnorm(1 - a / 2))
# power.prop.test's power (strict = FALSE) written out, on n = k m / DE
pw_p <- function(k, p1, p2, m, icc, cv = 0, a = 0.05) {
  n <- k * m / de(m, icc, cv)
  qu <- qnorm(a / 2, lower.tail = FALSE)
  d <- abs(p1 - p2); pbar <- (p1 + p2) / 2
  pnorm((sqrt(n) * d - qu * sqrt(2 * pbar * (1 - pbar))) / sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
}
root <- function(f, lo, hi) uniroot(f, c(lo, hi), tol = tol)$root

out <- list(
  de_40_05 = de(40, 0.05),
  de_40_05_cv = de(40, 0.05, 0.5),
  t_power = pw_t(10, 0.5, 20, 0.05),
  t_power_cv = pw_t(8, 0.6, 25, 0.08, cv = 0.7, sd = 1.3),
  t_k = root(function(k) pw_t(k, 0.5, 20, 0.05) - 0.8, 1.5, 1000),
  t_delta = root(function(d) pw_t(10, d, 20, 0.05) - 0.8, 1e-6, 10),
  z_power = pw_z(10, 0.5, 20, 0.05),
  z_k = 2 * (qnorm(0.975) + qnorm(0.8))^2 * de(20, 0.05) / (20 * 0.5^2),
  # m = 1, ICC = 0: a two-sample t test on k people per group
  t_icc0 = power.t.test(n = 12, delta = 0.9, tol = 1e-10)$power,
  t_icc0_n = power.t.test(delta = 0.9, power = 0.8, tol = 1e-10)$n,
  p_power = pw_p(10, 0.1, 0.05, 20, 0.05),
  p_power_cv = pw_p(10, 0.1, 0.05, 20, 0.05, cv = 0.6),
  p_k = root(function(k) pw_p(k, 0.10, 0.06, 40, 0.02) - 0.8, 1, 1000),
  p_p2 = root(function(p2) pw_p(10, 0.10, p2, 20, 0.05) - 0.8, 1e-10, 0.1 - 1e-10),
  # ICC = 0: power.prop.test on k m people per group
  p_icc0 = power.prop.test(n = 15 * 40, p1 = 0.10, p2 = 0.07, tol = 1e-10)$power,
  p_icc0_n = power.prop.test(p1 = 0.10, p2 = 0.07, power = 0.8, tol = 1e-10)$n,
  # tests/test_simulate.py: simulated power of 30 clusters of 10 per arm, ICC 0, rate 0.10 and odds
  # ratio 0.5 (p2 = 0.05 / 0.95) against power.prop.test on 300 people per arm
  sim_icc0 = power.prop.test(n = 300, p1 = 0.10, p2 = 0.05 / 0.95, tol = 1e-10)$power
)
write_json(out, "tests/reference/power_cluster.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
