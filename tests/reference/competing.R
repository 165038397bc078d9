# Reference values for veplab.outcomes.competing: Aalen-Johansen cumulative
# incidence with cmprsk's variance (cmprsk::cuminc) and log(-log) intervals
# (as tidycmprsk computes them from cuminc's variance), Gray's test (unstratified,
# stratified, rho = 1), the value at chosen times (cmprsk::timepoints), Fine-Gray
# regression (cmprsk::crr: coefficients, the sandwich variance, its information
# and log pseudo-likelihood; with one and with two censoring groups), and
# cause-specific Cox models (survival::coxph on Surv(time, status == k)).
#
# Run from the repository root:  Rscript tests/reference/competing.R
# Writes tests/reference/competing.json (deterministic).
# Versions used: R 4.2.2, cmprsk 2.2-11, survival 3.5-3 (Debian r-cran-cmprsk).

suppressPackageStartupMessages({
  library(cmprsk)
  library(survival)
  library(jsonlite)
})

out_file <- "tests/reference/competing.json"
d <- read.csv("tests/reference/data/competing.csv")

loglog_ci <- function(est, var, level = 0.95) {
  z <- qnorm(1 - (1 - level) / 2)
  se <- sqrt(var)
  lo <- exp(-exp(log(-log(est)) - z * se / (est * log(est))))
  hi <- exp(-exp(log(-log(est)) + z * se / (est * log(est))))
  list(lo = lo, hi = hi)
}

curves <- function(ci) {
  nm <- setdiff(names(ci), "Tests")
  lapply(setNames(nm, nm), function(k) {
    x <- ci[[k]]
    # the corners: keep the value after each jump (even positions after the first)
    keep <- seq(3, length(x$time) - 1, by = 2)
    est <- x$est[keep]; v <- x$var[keep]
    lim <- loglog_ci(est, v)
    list(time = x$time[keep], est = est, var = v, lo = lim$lo, hi = lim$hi,
         end = x$time[length(x$time)])
  })
}

tests_of <- function(ci) {
  t <- ci$Tests
  list(cause = as.numeric(rownames(t)), stat = unname(t[, "stat"]), p = unname(t[, "pv"]), df = unname(t[, "df"]))
}

out <- list(versions = list(R = R.version.string, cmprsk = as.character(packageVersion("cmprsk")),
                            survival = as.character(packageVersion("survival"))))

ci_all <- cuminc(d$time, d$status)
ci_grp <- cuminc(d$time, d$status, d$group)
ci_str <- cuminc(d$time, d$status, d$group, strata = d$stratum)
ci_rho <- cuminc(d$time, d$status, d$group, rho = 1)
tp_times <- c(0, 5, 26, 52, 78, 104, 200)
tp <- timepoints(ci_grp, tp_times)
out$cuminc <- list(
  overall = curves(ci_all),
  by_group = curves(ci_grp),
  tests = tests_of(ci_grp),
  tests_strata = tests_of(ci_str),
  tests_rho1 = tests_of(ci_rho),
  timepoints = list(times = tp_times, names = rownames(tp$est),
                    est = unname(lapply(seq_len(nrow(tp$est)), function(i) tp$est[i, ])),
                    var = unname(lapply(seq_len(nrow(tp$var)), function(i) tp$var[i, ])))
)

fg_out <- function(f) {
  list(coef = unname(f$coef), var = unname(f$var), se = unname(sqrt(diag(f$var))),
       inf = unname(f$inf), loglik = f$loglik, converged = f$converged)
}
X <- cbind(x1 = d$x1, x2 = d$x2, gb = as.numeric(d$group == "b"), gc = as.numeric(d$group == "c"))
# crr's defaults stop at a loose gradient tolerance; the tight fit is the one compared at 1e-6
out$crr <- list(
  default = fg_out(crr(d$time, d$status, X)),
  tight = fg_out(crr(d$time, d$status, X, gtol = 1e-12, maxiter = 100)),
  cause2 = fg_out(crr(d$time, d$status, X, failcode = 2, gtol = 1e-12, maxiter = 100)),
  cengroup = fg_out(crr(d$time, d$status, X, cengroup = d$cg, gtol = 1e-12, maxiter = 100)),
  one = fg_out(crr(d$time, d$status, X[, "x1", drop = FALSE], gtol = 1e-12, maxiter = 100))
)

cs <- function(k) {
  f <- coxph(Surv(time, status == k) ~ x1 + x2 + group, data = d)
  s <- summary(f)$coefficients
  list(coef = unname(s[, "coef"]), se = unname(s[, "se(coef)"]), loglik = unname(f$loglik))
}
out$cause_specific <- list(cause1 = cs(1), cause2 = cs(2))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), out_file)
