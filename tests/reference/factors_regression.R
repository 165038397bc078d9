# Reference values for veplab.descriptives / veplab.models.regression / veplab.missing pooling
# (tests/test_factors_descriptives.py, tests/test_factors_regression.py,
#  tests/test_factors_imputation.py).
#
# Computes, on tests/reference/data/factors_reg_*.csv (synthetic, made by
# tests/reference/make_factors_reg_data.py):
#   - glm(binomial): coefficients, model-based vcov, logLik, deviance, AIC, BIC;
#     cluster-robust CR1 vcov sandwich::vcovCL(fit, cluster = ~prison, type = "HC1")
#     and the same formula written out by hand (G/(G-1) * (N-1)/(N-K) * B M B);
#     probability weights: glm(weights = pweight) with sandwich::vcovHC(type = "HC1")
#     and vcovCL(type = "HC1"); frequency weights: glm(weights = fweight), model vcov;
#     every vcov= choice (vcovHC HC0/HC1/HC3, vcovCL HC0/HC1) for the three fits
#   - MASS::polr (logistic and probit, Hess = TRUE, optim reltol 1e-14):
#     coefficients, zeta, SEs from vcov(), logLik, deviance, AIC; a text outcome
#     ordered by ordered(x, levels = ) in both directions; sandwich(fit) and vcovCL
#   - two-group comparisons: t.test (Welch), wilcox.test (normal approximation with
#     continuity correction, and the exact path), p.adjust(method = "BH");
#     Hedges' g with the interval of effsize::cohen.d(hedges.correction = TRUE) and
#     Cliff's delta with the intervals of effsize::cliff.delta (unbiased and
#     consistent variance): effsize is not installed here, so its formulas (effsize
#     0.8.1, R/CohenD.R and R/CliffDelta.R) are written out below
#   - Wilson intervals (prop.test(correct = FALSE)) and t intervals (t.test)
#   - Rubin's rules with Barnard-Rubin degrees of freedom, written out as in
#     mice::pool / van Buuren (2018) Flexible Imputation of Missing Data, 2nd ed.,
#     sec. 2.3 and 5.2 (mice is not installed here)
#
# Run from the repository root:  Rscript tests/reference/factors_regression.R
# Writes tests/reference/factors_regression.json.
# Versions used: R 4.2.2, MASS 7.3-58.2, sandwich 3.0-2, stats 4.2.2, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(MASS)
  library(sandwich)
  library(jsonlite)
})

dd <- "tests/reference/data/"
out <- list(versions = list(R = R.version.string,
                            MASS = as.character(packageVersion("MASS")),
                            sandwich = as.character(packageVersion("sandwich")),
                            jsonlite = as.character(packageVersion("jsonlite"))))

mat <- function(v) {            # a matrix as a list of rows, with names
  list(names = colnames(v), rows = unname(lapply(seq_len(nrow(v)), function(i) unname(v[i, ]))))
}
named <- function(x) as.list(x)

# ------------------------------------------------------------------ logistic regression
s <- read.csv(paste0(dd, "factors_reg_survey.csv"), stringsAsFactors = FALSE)
s$gender <- factor(s$gender, levels = c("man", "woman"))
s$country <- factor(s$country, levels = c("A", "B", "C"))
f <- violent ~ grievance + peers + trust_staff + gender + country
# tight convergence (glm's default epsilon 1e-8 leaves ~1e-5 in the sandwich, whose
# working weights come from the last-but-one IRLS step)
gctl <- glm.control(epsilon = 1e-14, maxit = 100)
fit <- glm(f, family = binomial, data = s, control = gctl)

cr1_by_hand <- function(fit, cluster) {
  X <- model.matrix(fit)
  w <- weights(fit, "prior")
  ef <- (fit$y - fitted(fit)) * w * X
  B <- summary(fit)$cov.unscaled
  S <- rowsum(ef, cluster)
  G <- nrow(S); N <- nrow(X); K <- ncol(X)
  G / (G - 1) * (N - 1) / (N - K) * B %*% crossprod(S) %*% B
}

glm_summary <- function(fit) {
  list(coef = named(coef(fit)), se_model = named(sqrt(diag(vcov(fit)))),
       loglik = as.numeric(logLik(fit)), deviance = deviance(fit),
       null_deviance = fit$null.deviance, aic = AIC(fit), bic = BIC(fit),
       df_residual = fit$df.residual, n = nobs(fit))
}

vc_cl <- vcovCL(fit, cluster = ~prison, type = "HC1")
vc_hand <- cr1_by_hand(fit, s$prison)
out$logit <- c(glm_summary(fit), list(
  se_cluster = named(sqrt(diag(vc_cl))),
  vcov_cluster = mat(vc_cl),
  max_abs_diff_sandwich_vs_hand = max(abs(vc_cl - vc_hand)),
  n_clusters = length(unique(s$prison))))

# probability weights: weighted ML + robust sandwich (non-integer weights warn in binomial)
fitp <- suppressWarnings(glm(f, family = binomial, data = s, weights = pweight, control = gctl))
out$logit_pweight <- list(coef = named(coef(fitp)),
                          se_hc1 = named(sqrt(diag(vcovHC(fitp, type = "HC1")))),
                          se_cluster = named(sqrt(diag(vcovCL(fitp, cluster = ~prison, type = "HC1")))),
                          max_abs_diff_sandwich_vs_hand =
                            max(abs(vcovCL(fitp, cluster = ~prison, type = "HC1") - cr1_by_hand(fitp, s$prison))))

# frequency weights: glm(weights =) gives the same model-based vcov as the expanded data
fitf <- glm(f, family = binomial, data = s, weights = fweight, control = gctl)
expanded <- s[rep(seq_len(nrow(s)), s$fweight), ]
fite <- glm(f, family = binomial, data = expanded, control = gctl)
out$logit_fweight <- list(coef = named(coef(fitf)), se_model = named(sqrt(diag(vcov(fitf)))),
                          loglik = as.numeric(logLik(fitf)), deviance = deviance(fitf),
                          se_cluster = named(sqrt(diag(vcovCL(fitf, cluster = ~prison, type = "HC1")))),
                          expanded_se_model = named(sqrt(diag(vcov(fite)))))

# every vcov= choice of veplab.models.logit, as sandwich computes it: vcovHC type HC0 / HC1 /
# HC3 and vcovCL type HC0 / HC1 (veplab's CR0 / CR1), unweighted, probability and frequency weights
vc_all <- function(fit) {
  list(HC0 = mat(vcovHC(fit, type = "HC0")), HC1 = mat(vcovHC(fit, type = "HC1")),
       HC3 = mat(vcovHC(fit, type = "HC3")),
       CR0 = mat(vcovCL(fit, cluster = ~prison, type = "HC0")),
       CR1 = mat(vcovCL(fit, cluster = ~prison, type = "HC1")))
}
out$logit_vcov <- list(unweighted = vc_all(fit), pweight = vc_all(fitp), fweight = vc_all(fitf))

# a second formula with an interaction, for names and order
fit2 <- glm(violent ~ grievance * gender + country, family = binomial, data = s, control = gctl)
out$logit_interaction <- list(coef = named(coef(fit2)), se_model = named(sqrt(diag(vcov(fit2)))),
                              se_cluster = named(sqrt(diag(vcovCL(fit2, cluster = ~prison, type = "HC1")))))

# ------------------------------------------------------------------ proportional odds
s$endorse_f <- factor(s$endorse, levels = 1:4, ordered = TRUE)
polr_summary <- function(p) {
  list(coef = named(coef(p)), zeta = named(p$zeta), se = named(sqrt(diag(vcov(p)))),
       loglik = as.numeric(logLik(p)), deviance = deviance(p), aic = AIC(p), n = p$nobs,
       convergence = p$convergence)
}
ctl <- list(reltol = 1e-14, maxit = 1000)
p_logit <- polr(endorse_f ~ grievance + peers + trust_staff + country, data = s, Hess = TRUE,
                control = ctl)
p_probit <- polr(endorse_f ~ grievance + peers + trust_staff + country, data = s, Hess = TRUE,
                 method = "probit", control = ctl)
p_cloglog <- polr(endorse_f ~ grievance + gender, data = s, Hess = TRUE,
                  method = "cloglog", control = ctl)
p_weighted <- polr(endorse_f ~ grievance + gender, data = s, Hess = TRUE, weights = fweight,
                   control = ctl)
# a text outcome with its order given, as ordered(x, levels = ) (veplab: ordinal(levels=))
txt <- c("never", "rarely", "often", "always")
s$endorse_txt <- txt[s$endorse]
p_text <- polr(ordered(endorse_txt, levels = txt) ~ grievance + peers + trust_staff + country, data = s,
               Hess = TRUE, control = ctl)
# levels in the reverse order: every coefficient changes sign
p_rev <- polr(ordered(endorse_txt, levels = rev(txt)) ~ grievance + peers + trust_staff + country,
              data = s, Hess = TRUE, control = ctl)
# robust variances of polr (veplab: ordinal(vcov=)): sandwich(p) is HC0; vcovHC() itself stops on
# polr in sandwich 3.0-2 (meatHC divides the scores by a model matrix without the thresholds),
# so HC1 is written out as n / (n - k) HC0 with k coefficients plus thresholds; vcovCL HC0 / HC1
n_p <- nobs(p_logit); k_p <- length(coef(p_logit)) + length(p_logit$zeta)
out$polr_vcov <- list(HC0 = mat(sandwich(p_logit)), HC1 = mat(n_p / (n_p - k_p) * sandwich(p_logit)),
                      CR0 = mat(vcovCL(p_logit, cluster = ~prison, type = "HC0")),
                      CR1 = mat(vcovCL(p_logit, cluster = ~prison, type = "HC1")))
out$polr <- list(logit = polr_summary(p_logit), probit = polr_summary(p_probit),
                 cloglog = polr_summary(p_cloglog), weighted = polr_summary(p_weighted),
                 text_levels = polr_summary(p_text), text_levels_reversed = polr_summary(p_rev))

# ------------------------------------------------------------------ two-group comparisons
g <- read.csv(paste0(dd, "factors_reg_groups.csv"), stringsAsFactors = FALSE)

hedges_g_effsize <- function(treatment, control, conf.level = 0.95) {
  n1 <- length(treatment); n2 <- length(control)
  stdev <- sqrt(((n1 - 1) * var(treatment) + (n2 - 1) * var(control)) / (n1 + n2 - 2))
  J <- 1 - 3 / (4 * (n1 + n2) - 9)
  dd <- (mean(treatment) - mean(control)) / stdev * J
  S_d <- sqrt((n1 + n2) / (n1 * n2) + .5 * dd^2 / (n1 + n2)) * J
  Z <- -qt((1 - conf.level) / 2, n1 + n2 - 2)
  c(estimate = dd, lower = dd - Z * S_d, upper = dd + Z * S_d)
}

cliff_effsize <- function(treatment, control, conf.level = 0.95, use.unbiased = TRUE,
                          use.normal = FALSE) {
  n1 <- length(treatment); n2 <- length(control)
  dm <- sign(outer(treatment, control, FUN = "-"))
  d <- mean(dm)
  rescale.factor <- (n1 * n2 - 1) / (n1 * n2)
  d. <- ifelse(abs(d) == 1, d * rescale.factor, d)
  d_i. <- rowMeans(dm); d_.j <- colMeans(dm)
  SSR <- sum((dm - d.)^2)
  if (use.unbiased) {
    S_d <- (n2^2 * sum((d_i. - d.)^2) + n1^2 * sum((d_.j - d.)^2) - SSR) /
      (as.numeric(n1) * n2 * (n1 - 1) * (n2 - 1))
  } else {
    S_i. <- sum((d_i. - d.)^2) / (n1 - 1)
    S_.j <- sum((d_.j - d.)^2) / (n2 - 1)
    S_ij <- SSR / ((n1 - 1) * (n2 - 1))
    S_d <- ((n2 - 1) * S_i. + (n1 - 1) * S_.j + S_ij) / (as.double(n1) * n2)
  }
  Z <- if (use.normal) -qnorm((1 - conf.level) / 2) else -qt((1 - conf.level) / 2, n1 + n2 - 2)
  lo <- (d. - d.^3 - Z * sqrt(S_d) * sqrt((1 - d.^2)^2 + Z^2 * S_d)) / (1 - d.^2 + Z^2 * S_d)
  hi <- (d. - d.^3 + Z * sqrt(S_d) * sqrt((1 - d.^2)^2 + Z^2 * S_d)) / (1 - d.^2 + Z^2 * S_d)
  if (d == 1) hi <- 1
  if (d == -1) lo <- -1
  c(estimate = d, lower = lo, upper = hi, var = S_d)
}

compare <- function(x, grp, ref, focal, conf.level = 0.95) {
  xr <- x[grp == ref & !is.na(x)]; xf <- x[grp == focal & !is.na(x)]
  tt <- t.test(xf, xr, var.equal = FALSE, conf.level = conf.level)
  wt <- suppressWarnings(wilcox.test(xf, xr))
  hg <- hedges_g_effsize(xf, xr, conf.level)
  cu <- cliff_effsize(xf, xr, conf.level, use.unbiased = TRUE)
  cc <- cliff_effsize(xf, xr, conf.level, use.unbiased = FALSE)
  list(n_ref = length(xr), n_focal = length(xf), mean_ref = mean(xr), mean_focal = mean(xf),
       sd_ref = sd(xr), sd_focal = sd(xf),
       diff = unname(tt$estimate[1] - tt$estimate[2]), diff_ci = unname(tt$conf.int[1:2]),
       t = unname(tt$statistic), df = unname(tt$parameter), p_welch = tt$p.value,
       W = unname(wt$statistic), p_mw = wt$p.value, mw_method = wt$method,
       hedges_g = unname(hg["estimate"]), g_ci = unname(hg[c("lower", "upper")]),
       cliff = unname(cu["estimate"]), cliff_ci = unname(cu[c("lower", "upper")]),
       cliff_var = unname(cu["var"]),
       cliff_ci_consistent = unname(cc[c("lower", "upper")]), cliff_var_consistent = unname(cc["var"]))
}

vars <- c("grievance", "peers", "trust_staff", "item_a", "item_b")
cmp <- lapply(vars, function(v) compare(g[[v]], g$group, "general", "vep"))
names(cmp) <- vars
pw <- sapply(cmp, function(r) r$p_welch); pm <- sapply(cmp, function(r) r$p_mw)
out$compare <- list(vars = cmp,
                    p_welch_bh = named(p.adjust(pw, method = "BH")),
                    p_mw_bh = named(p.adjust(pm, method = "BH")),
                    grievance_90 = compare(g$grievance, g$group, "general", "vep", 0.90))

sm <- read.csv(paste0(dd, "factors_reg_small.csv"), stringsAsFactors = FALSE)
out$compare_small <- compare(sm$score, sm$group, "general", "vep")

# effsize's own example (tests/testthat/testCliff.R of effsize 0.8.1): delta -0.25 with
# use.unbiased = FALSE, use.normal = TRUE; the comment in R/CliffDelta.R gives the three
# consistent-variance terms 0.2669753, 0.447 and 1.0055556 (recorded here).  (The CI printed
# in that test's comment, -0.7265846 .. 0.3890062, predates the current variance formula.)
tr <- c(10, 10, 20, 20, 20, 30, 30, 30, 40, 50); co <- c(10, 20, 30, 40, 40, 50)
ex <- cliff_effsize(tr, co, use.unbiased = FALSE, use.normal = TRUE)
dmx <- sign(outer(tr, co, "-"))
out$cliff_example <- list(treatment = tr, control = co, estimate = unname(ex["estimate"]),
                          ci = unname(ex[c("lower", "upper")]), var = unname(ex["var"]),
                          terms = c(sum((rowMeans(dmx) + 0.25)^2) / 9, sum((colMeans(dmx) + 0.25)^2) / 5,
                                    sum((dmx + 0.25)^2) / (9 * 5)))

p_vec <- c(0.01, 0.04, 0.03, 0.20, 0.04, 0.50, 0.001, 0.9)
out$p_adjust <- list(p = p_vec, bh = p.adjust(p_vec, method = "BH"),
                     p_na = c(0.02, NA, 0.03, 0.5), bh_na = p.adjust(c(0.02, NA, 0.03, 0.5), method = "BH"))

# ------------------------------------------------------------------ intervals for descriptives
wilson <- function(x, n, conf.level = 0.95)
  unname(suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = conf.level))$conf.int[1:2])
share <- list()
for (lev in c("A", "B", "C")) {
  y <- s$violent[s$country == lev]
  share[[lev]] <- list(n = length(y), x = sum(y), estimate = mean(y), ci = wilson(sum(y), length(y)),
                       ci90 = wilson(sum(y), length(y), 0.90))
}
share[["overall"]] <- list(n = nrow(s), x = sum(s$violent), estimate = mean(s$violent),
                           ci = wilson(sum(s$violent), nrow(s)), ci90 = wilson(sum(s$violent), nrow(s), 0.90))
tmean <- list()
for (lev in c("man", "woman")) {
  y <- s$grievance[s$gender == lev]
  tt <- t.test(y); tt90 <- t.test(y, conf.level = 0.90)
  tmean[[lev]] <- list(n = length(y), estimate = mean(y), ci = unname(tt$conf.int[1:2]),
                       ci90 = unname(tt90$conf.int[1:2]))
}
tt <- t.test(s$grievance)
tmean[["overall"]] <- list(n = nrow(s), estimate = mean(s$grievance), ci = unname(tt$conf.int[1:2]))
out$descriptives <- list(share_violent_by_country = share, mean_grievance_by_gender = tmean,
                         wilson_edge = list(x0 = wilson(0, 7), xn = wilson(7, 7)))

# ------------------------------------------------------------------ Rubin's rules
pl <- read.csv(paste0(dd, "factors_reg_pool.csv"), stringsAsFactors = FALSE)
rubin <- function(q, u, dfcom, conf.level = 0.95) {
  m <- length(q)
  qbar <- mean(q); ubar <- mean(u); b <- var(q)
  t <- ubar + (1 + 1 / m) * b
  riv <- (1 + 1 / m) * b / ubar
  lambda <- (1 + 1 / m) * b / t
  lam <- max(lambda, 1e-04)                       # mice:::barnard.rubin
  dfold <- (m - 1) / lam^2
  dfobs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
  df <- if (is.infinite(dfcom)) dfold else dfold * dfobs / (dfold + dfobs)
  fmi <- (riv + 2 / (df + 3)) / (riv + 1)
  se <- sqrt(t)
  stat <- qbar / se
  crit <- qt(1 - (1 - conf.level) / 2, df)
  list(estimate = qbar, ubar = ubar, b = b, t = t, se = se, riv = riv, lambda = lambda,
       df = df, fmi = fmi, statistic = stat, p = 2 * pt(-abs(stat), df),
       ci = c(qbar - crit * se, qbar + crit * se))
}
pool_out <- list()
for (dfcom in list(120, Inf)) {
  key <- if (is.infinite(dfcom)) "dfcom_inf" else paste0("dfcom_", dfcom)
  pool_out[[key]] <- lapply(split(pl, pl$term), function(d) rubin(d$estimate, d$se^2, dfcom))
}
pool_out$dfcom_120_ci90 <- lapply(split(pl, pl$term), function(d) rubin(d$estimate, d$se^2, 120, 0.90))
out$pool <- pool_out

write_json(out, "tests/reference/factors_regression.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
