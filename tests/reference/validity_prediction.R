# Reference values for veplab.validity (predictive validity): ROC AUC with
# DeLong intervals (pROC::roc + pROC::ci.auc), ROC coordinates (pROC::coords),
# the paired DeLong test (pROC::roc.test(method = "delong", paired = TRUE)),
# the unpaired DeLong test between subgroups (paired = FALSE), exact binomial
# intervals for base rates (binom.test), and calibration by logistic
# regression (glm: calibration-in-the-large with offset(qlogis(p)), slope on
# qlogis(p); Wald intervals from confint.default), Brier score, O/E and the
# risk-group table (cut at quantiles of p).  A stratified bootstrap AUC
# interval (pROC, seeded) is stored for a loose statistical comparison only.
#
# Run from the repository root:  Rscript tests/reference/validity_prediction.R
# Writes tests/reference/validity_prediction.json (deterministic).
# Versions used: R 4.2.2, pROC 1.18.0, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(pROC)
  library(jsonlite)
})

out_file <- "tests/reference/validity_prediction.json"
d <- read.csv("tests/reference/data/validity_prediction.csv")
rare <- read.csv("tests/reference/data/validity_prediction_rare.csv")

auc_info <- function(r, conf.level = 0.95) {
  ci <- ci.auc(r, conf.level = conf.level, method = "delong")
  list(
    auc = as.numeric(r$auc),
    ci_low = ci[1], ci_high = ci[3],
    var = as.numeric(pROC::var(r, method = "delong")),
    direction = r$direction,
    n_events = length(r$cases), n_nonevents = length(r$controls)
  )
}

calib <- function(y, p, n_bins = 10, conf.level = 0.95) {
  lp <- qlogis(p)
  m0 <- glm(y ~ 1 + offset(lp), family = binomial)
  m1 <- glm(y ~ lp, family = binomial)
  z <- qnorm(1 - (1 - conf.level) / 2)
  ci0 <- confint.default(m0, level = conf.level)
  ci1 <- confint.default(m1, level = conf.level)
  O <- sum(y); E <- sum(p); N <- length(y)
  se_log_oe <- sqrt(1 / O - 1 / N)
  br <- unique(quantile(p, probs = seq(0, 1, length.out = n_bins + 1)))
  bins <- cut(p, breaks = br, include.lowest = TRUE)
  tab <- lapply(split(seq_along(p), bins), function(i) {
    bt <- binom.test(sum(y[i]), length(i), conf.level = conf.level)
    c(n = length(i), mean_predicted = mean(p[i]), expected = sum(p[i]), observed = sum(y[i]),
      ci_low = bt$conf.int[1], ci_high = bt$conf.int[2])
  })
  tab <- do.call(rbind, tab)
  list(
    intercept = unname(coef(m0)[1]), intercept_se = unname(sqrt(vcov(m0)[1, 1])),
    intercept_ci = unname(ci0[1, ]),
    slope = unname(coef(m1)[2]), slope_se = unname(sqrt(vcov(m1)[2, 2])),
    slope_ci = unname(ci1[2, ]),
    slope_model_intercept = unname(coef(m1)[1]),
    oe = O / E, oe_ci = O / E * exp(c(-1, 1) * z * se_log_oe),
    brier = mean((p - y)^2),
    table = list(n = unname(tab[, "n"]), mean_predicted = unname(tab[, "mean_predicted"]),
                 expected = unname(tab[, "expected"]), observed = unname(tab[, "observed"]),
                 ci_low = unname(tab[, "ci_low"]), ci_high = unname(tab[, "ci_high"]))
  )
}

out <- list(versions = list(R = R.version.string, pROC = as.character(packageVersion("pROC"))))

r_int <- roc(d$y, d$score_int, quiet = TRUE)
r_cont <- roc(d$y, d$score_cont, quiet = TRUE)
r_prob <- roc(d$y, d$prob, quiet = TRUE)
r_neg <- roc(d$y, -d$score_cont, quiet = TRUE)  # auto picks ">"
r_int_gt <- roc(d$y, d$score_int, direction = ">", quiet = TRUE)

out$auc <- list(
  score_int = auc_info(r_int),
  score_int_90 = auc_info(r_int, 0.90),
  score_cont = auc_info(r_cont),
  prob = auc_info(r_prob),
  neg_score_cont = auc_info(r_neg),
  score_int_forced_gt = auc_info(r_int_gt)
)

co <- coords(r_int, "all", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
co_neg <- coords(r_neg, "all", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
out$coords <- list(
  score_int = list(threshold = co$threshold, sensitivity = co$sensitivity, specificity = co$specificity),
  neg_score_cont_head = list(threshold = head(co_neg$threshold, 20), sensitivity = head(co_neg$sensitivity, 20),
                             specificity = head(co_neg$specificity, 20), n = nrow(co_neg))
)

t2 <- roc.test(r_int, r_cont, method = "delong", paired = TRUE)
t2g <- roc.test(r_int, r_cont, method = "delong", paired = TRUE, alternative = "greater")
t3 <- roc.test(r_cont, r_prob, method = "delong", paired = TRUE, conf.level = 0.9)
out$paired <- list(
  int_vs_cont = list(z = unname(t2$statistic), p_value = t2$p.value, ci = unname(as.numeric(t2$conf.int)),
                     estimate = unname(t2$estimate), p_greater = t2g$p.value),
  cont_vs_prob_90 = list(z = unname(t3$statistic), p_value = t3$p.value, ci = unname(as.numeric(t3$conf.int)),
                         estimate = unname(t3$estimate))
)

# subgroups: direction fixed to "<" (veplab fixes it from the whole sample)
sub <- list()
for (v in c("gender", "age_band", "country")) {
  levs <- sort(unique(d[[v]]))
  res <- list()
  for (l in levs) {
    i <- d[[v]] == l
    bt <- binom.test(sum(d$y[i]), sum(i))
    item <- list(n = sum(i), n_events = sum(d$y[i]), base_rate_ci = unname(bt$conf.int))
    if (sum(d$y[i]) > 0 && sum(d$y[i]) < sum(i)) {
      r <- roc(d$y[i], d$score_int[i], direction = "<", quiet = TRUE)
      item <- c(item, auc_info(r))
      cal <- calib(d$y[i], d$prob[i], n_bins = 2)
      item$cal <- cal[c("intercept", "intercept_ci", "slope", "slope_ci", "oe", "oe_ci", "brier")]
    }
    res[[as.character(l)]] <- item
  }
  sub[[v]] <- res
}
out$subgroups <- sub
rf <- roc(d$y[d$gender == "female"], d$score_int[d$gender == "female"], direction = "<", quiet = TRUE)
rm <- roc(d$y[d$gender == "male"], d$score_int[d$gender == "male"], direction = "<", quiet = TRUE)
tu <- roc.test(rf, rm, method = "delong", paired = FALSE)
out$unpaired <- list(female_vs_male = list(D = unname(tu$statistic), df = unname(tu$parameter), p_value = tu$p.value))
rk <- roc(d$y[d$country == "KZ"], d$score_int[d$country == "KZ"], direction = "<", quiet = TRUE)
ru <- roc(d$y[d$country == "UG"], d$score_int[d$country == "UG"], direction = "<", quiet = TRUE)
tu2 <- roc.test(rk, ru, method = "delong", paired = FALSE)
out$unpaired$KZ_vs_UG <- list(D = unname(tu2$statistic), df = unname(tu2$parameter), p_value = tu2$p.value)

out$calibration <- calib(d$y, d$prob)
out$calibration_5bins_90 <- calib(d$y, d$prob, n_bins = 5, conf.level = 0.90)

# low base rate
r_rare <- roc(rare$y, rare$score, direction = "<", quiet = TRUE)
set.seed(20240611)
ci_boot <- ci.auc(r_rare, method = "bootstrap", boot.n = 4000, boot.stratified = TRUE, progress = "none")
out$rare <- c(auc_info(r_rare), list(boot_ci = c(ci_boot[1], ci_boot[3])))
out$rare$calibration <- calib(rare$y, rare$prob, n_bins = 5)

write_json(out, out_file, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_file, "\n")
