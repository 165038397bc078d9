# Reference values for veplab.validity.timedep and veplab.validity.decision
# (prediction over time) on tests/reference/data/competing.csv:
#  * time-dependent AUC (cumulative/dynamic, IPCW with the Kaplan-Meier of
#    censoring) and Brier score with influence-function standard errors, and the
#    null model's Brier (for the scaled Brier / IPA): riskRegression::Score
#    (cens.model = "km", null.model = TRUE), survival outcome (ev = status == 1,
#    other events censored) and competing risks (cause 1, competing cause 2);
#  * Uno's C: survival::concordance(timewt = "n/G2", ymax = tau);
#  * calibration at a horizon: observed risk per risk group by Kaplan-Meier
#    (survfit) and Aalen-Johansen (cmprsk::cuminc); calibration intercept and
#    slope by IPCW logistic regression (glm quasibinomial with weights 1/G,
#    robust HC0 variance from sandwich::vcovHC);
#  * net benefit (Vickers & Elkin 2006) written out as a formula, binary and at a
#    horizon with Kaplan-Meier / Aalen-Johansen among those above the threshold.
#
# Run from the repository root:  Rscript tests/reference/timedep.R
# Writes tests/reference/timedep.json (deterministic).
# Versions used: R 4.2.2, riskRegression 2022.11.28, survival 3.5-3, cmprsk 2.2-11,
# sandwich 3.0-2 (Debian r-cran-riskregression, r-cran-cmprsk, r-cran-sandwich).

suppressPackageStartupMessages({
  library(riskRegression)
  library(prodlim)
  library(survival)
  library(cmprsk)
  library(sandwich)
  library(jsonlite)
})

out_file <- "tests/reference/timedep.json"
d <- read.csv("tests/reference/data/competing.csv")
d$ev <- as.numeric(d$status == 1)
times <- c(13, 26, 52, 78)
# predicted risk at each horizon from the one-year risk column
P <- sapply(times, function(t) 1 - (1 - d$risk)^(t / 52))

score_tab <- function(sc) {
  a <- as.data.frame(sc$AUC$score)
  b <- as.data.frame(sc$Brier$score)
  bm <- b[b$model == "risk", ]
  bn <- b[b$model == "Null model", ]
  list(times = a$times, auc = a$AUC, auc_se = a$se, auc_lower = a$lower, auc_upper = a$upper,
       brier = bm$Brier, brier_se = bm$se, brier_lower = bm$lower, brier_upper = bm$upper,
       null_brier = bn$Brier, null_brier_se = bn$se, ipa = 1 - bm$Brier / bn$Brier)
}

out <- list(versions = list(R = R.version.string,
                            riskRegression = as.character(packageVersion("riskRegression")),
                            survival = as.character(packageVersion("survival"))))

sc_surv <- Score(list(risk = P), formula = Hist(time, ev) ~ 1, data = d, times = times,
                 metrics = c("auc", "brier"), cens.model = "km", null.model = TRUE, conf.int = TRUE)
sc_cr <- Score(list(risk = P), formula = Hist(time, status) ~ 1, data = d, times = times, cause = 1,
               metrics = c("auc", "brier"), cens.model = "km", null.model = TRUE, conf.int = TRUE)
# a score with many ties (three levels)
L <- matrix(d$level, nrow(d), length(times))
sc_lev <- Score(list(risk = L), formula = Hist(time, ev) ~ 1, data = d, times = times,
                metrics = "auc", cens.model = "km", null.model = FALSE, conf.int = TRUE)
out$score <- list(survival = score_tab(sc_surv), competing = score_tab(sc_cr),
                  levels = list(auc = as.data.frame(sc_lev$AUC$score)$AUC, se = as.data.frame(sc_lev$AUC$score)$se))

uno <- function(tau) {
  f <- concordance(Surv(time, ev) ~ risk, data = d, timewt = "n/G2", ymax = tau, reverse = TRUE)
  list(c = unname(f$concordance), se = sqrt(unname(f$var)))
}
harrell <- concordance(Surv(time, ev) ~ risk, data = d, reverse = TRUE)
out$uno <- list(tau = c(52, 78, 1000), c = c(uno(52)$c, uno(78)$c, uno(1000)$c),
                se = c(uno(52)$se, uno(78)$se, uno(1000)$se),
                harrell = unname(harrell$concordance), harrell_se = sqrt(unname(harrell$var)))

# ---------------------------------------------------------------- calibration at tau = 52
tau <- 52
p <- P[, 3]
# censoring distribution: other events censor in the survival analysis, not with competing risks
d$any <- as.numeric(d$status != 0)
G_s <- prodlim(Hist(time, ev) ~ 1, data = d, reverse = TRUE)
G_c <- prodlim(Hist(time, any) ~ 1, data = d, reverse = TRUE)
ipcw <- function(competing) {
  G <- if (competing) G_c else G_s
  # G(T_i-): times are whole weeks, so G just before T is G at T - 0.5
  ut <- sort(unique(d$time))
  Gminus <- as.numeric(predict(G, times = ut - 0.5, level.chaos = 1, mode = "matrix",
                               type = "surv"))[match(d$time, ut)]
  Gtau <- predict(G, times = tau, level.chaos = 1, mode = "matrix", type = "surv")[1]
  ycase <- d$time <= tau & d$status == 1
  known <- (d$time <= tau & d$status != 0) | d$time > tau
  if (!competing) known <- (d$time <= tau & d$ev == 1) | d$time > tau
  w <- ifelse(d$time > tau, 1 / Gtau, 1 / Gminus)
  list(y = as.numeric(ycase)[known], w = w[known], p = p[known])
}
calfit <- function(z) {
  lp <- qlogis(z$p)
  m0 <- suppressWarnings(glm(z$y ~ 1 + offset(lp), family = quasibinomial, weights = z$w,
                                      control = glm.control(epsilon = 1e-14, maxit = 100)))
  m1 <- suppressWarnings(glm(z$y ~ lp, family = quasibinomial, weights = z$w,
                                      control = glm.control(epsilon = 1e-14, maxit = 100)))
  list(intercept = unname(coef(m0)[1]), intercept_se = sqrt(vcovHC(m0, type = "HC0")[1, 1]),
       slope = unname(coef(m1)[2]), slope_se = sqrt(vcovHC(m1, type = "HC0")[2, 2]),
       slope_model_intercept = unname(coef(m1)[1]))
}
grp <- cut(p, breaks = quantile(p, c(0, 0.2, 0.4, 0.6, 0.8, 1)), include.lowest = TRUE, labels = FALSE)
km_obs <- t(sapply(1:5, function(g) {
  s <- summary(survfit(Surv(time, ev) ~ 1, data = d[grp == g, ]), times = tau)
  c(n = sum(grp == g), predicted = mean(p[grp == g]), observed = 1 - s$surv, lower = 1 - s$upper,
    upper = 1 - s$lower)
}))
aj_obs <- t(sapply(1:5, function(g) {
  sub <- d[grp == g, ]
  ci <- cuminc(sub$time, sub$status)
  tp <- timepoints(ci, tau)
  est <- tp$est["1 1", 1]; v <- tp$var["1 1", 1]
  z <- qnorm(0.975)
  c(n = nrow(sub), predicted = mean(p[grp == g]), observed = est,
    lower = exp(-exp(log(-log(est)) - z * sqrt(v) / (est * log(est)))),
    upper = exp(-exp(log(-log(est)) + z * sqrt(v) / (est * log(est)))))
}))
out$calibration <- list(tau = tau,
                        G_tau = predict(G_s, times = tau, level.chaos = 1, mode = "matrix", type = "surv")[1],
                        survival = calfit(ipcw(FALSE)), competing = calfit(ipcw(TRUE)),
                        km = as.list(as.data.frame(km_obs)), aj = as.list(as.data.frame(aj_obs)))

# ---------------------------------------------------------------- net benefit
thr <- c(0.05, 0.1, 0.2, 0.3, 0.5)
nb_binary <- function(y, p, pt) {
  n <- length(y)
  pos <- p >= pt
  sum(pos & y == 1) / n - sum(pos & y == 0) / n * pt / (1 - pt)
}
yb <- as.numeric(d$time <= tau & d$status == 1)
nb_surv <- function(p, pt, competing) {
  pos <- p >= pt
  if (!any(pos)) return(0)
  sub <- d[pos, ]
  if (competing) {
    tp <- timepoints(cuminc(sub$time, sub$status), tau)
    risk <- tp$est["1 1", 1]
  } else {
    risk <- 1 - summary(survfit(Surv(time, ev) ~ 1, data = sub), times = tau)$surv
  }
  risk * mean(pos) - (1 - risk) * mean(pos) * pt / (1 - pt)
}
out$net_benefit <- list(
  thresholds = thr,
  binary = sapply(thr, function(pt) nb_binary(yb, p, pt)),
  binary_all = sapply(thr, function(pt) nb_binary(yb, rep(1, length(yb)), pt)),
  survival = sapply(thr, function(pt) nb_surv(p, pt, FALSE)),
  survival_all = sapply(thr, function(pt) nb_surv(rep(1, nrow(d)), pt, FALSE)),
  competing = sapply(thr, function(pt) nb_surv(p, pt, TRUE)),
  competing_all = sapply(thr, function(pt) nb_surv(rep(1, nrow(d)), pt, TRUE))
)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), out_file)
