# Reference values for veplab.outcomes (tests/test_outcomes_*.py).
#
# Computes, on tests/reference/data/outcomes_*.csv (synthetic, made by
# tests/reference/make_outcomes_data.py) and on the public Rossi et al. (1980)
# recidivism data (outcomes_rossi.csv):
#   - t.test / wilcox.test paired (normal approximation and exact paths),
#     noncentral-t interval for d_z (uniroot on pt(ncp)), Lakens (2013) example
#   - lm ANCOVA (2 and 3 groups), F test of the group term, adjusted means
#   - lm difference-in-differences, classical and CR1 cluster-robust variance
#     (the sandwich::vcovCL(type = "HC1") formula written out: sandwich is not
#     installed here)
#   - propensity: glm logit, ATE / ATT weights, balance (SMD formulas),
#     weighted lm / quasibinomial glm with HC0 sandwich (written out), weighted
#     coxph with robust = TRUE
#   - survival: survfit (KM, conf.type log and log-log, medians as print.survfit),
#     summary(fit, times =), survdiff, coxph (Efron and Breslow; weights;
#     strata; cluster), concordance with std, cox.zph (survival >= 3.0)
#   - power.t.test, power.prop.test (tol = 1e-10), pwr.2p.test and Schoenfeld
#     formulas written out (pwr is not installed here)
#
# pt(ncp) may warn "full precision may not have been achieved in 'pnt'" at the far
# ends of the uniroot bracket; the roots themselves agree with scipy to < 1e-6.
#
# Run from the repository root:  Rscript tests/reference/outcomes.R
# Writes tests/reference/outcomes.json.
# Versions used: R 4.2.2, survival 3.5-3, stats 4.2.2, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

dd <- "tests/reference/data/"
out <- list(versions = list(R = R.version.string,
                            survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite"))))

# ------------------------------------------------------------------ pre/post
dz_ci <- function(t, df, n, conf = 0.95) {
  a <- 1 - conf
  f <- function(ncp, target) pt(t, df, ncp) - target
  lo <- uniroot(f, c(t - 20, t + 20), target = 1 - a / 2, tol = 1e-13)$root
  hi <- uniroot(f, c(t - 20, t + 20), target = a / 2, tol = 1e-13)$root
  c(lo, hi) / sqrt(n)
}

paired_ref <- function(pre, post, conf = 0.95) {
  ok <- !is.na(pre) & !is.na(post)
  x0 <- pre[ok]; x1 <- post[ok]; n <- length(x0)
  tt <- t.test(x1, x0, paired = TRUE, conf.level = conf)
  wt <- suppressWarnings(wilcox.test(x1, x0, paired = TRUE))
  r <- cor(x0, x1); s0 <- sd(x0); s1 <- sd(x1); sdiff <- sd(x1 - x0)
  dz <- mean(x1 - x0) / sdiff
  ci <- dz_ci(unname(tt$statistic), n - 1, n, conf)
  fav <- sdiff / ((s0 + s1) / 2); frm <- sqrt(2 * (1 - r)); J <- 1 - 3 / (4 * (n - 1) - 1)
  list(n_pairs = n, mean_pre = mean(x0), mean_post = mean(x1), sd_pre = s0, sd_post = s1, r = r,
       mean_change = unname(tt$estimate), ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
       t = unname(tt$statistic), df = unname(tt$parameter), p_t = tt$p.value,
       V = unname(wt$statistic), p_wilcoxon = wt$p.value, wilcoxon_method = wt$method,
       d_z = dz, d_z_ci = ci, d_av = dz * fav, d_av_ci = ci * fav, g_av = dz * fav * J,
       g_av_ci = ci * fav * J, d_rm = dz * frm, d_rm_ci = ci * frm)
}

pp <- read.csv(paste0(dd, "outcomes_prepost.csv"))
sm <- read.csv(paste0(dd, "outcomes_prepost_small.csv"))
movie1 <- c(9, 7, 8, 9, 8, 9, 9, 10, 9, 9)
movie2 <- c(9, 6, 7, 8, 7, 9, 8, 8, 8, 7)
out$prepost <- list(
  confidence = paired_ref(pp$confidence_pre, pp$confidence_post),
  knowledge = paired_ref(pp$knowledge_pre, pp$knowledge_post),
  knowledge_90 = paired_ref(pp$knowledge_pre, pp$knowledge_post, conf = 0.90),
  small = paired_ref(sm$score_pre, sm$score_post),
  # Lakens (2013) movie ratings; movie 2 as "pre" so change = movie1 - movie2
  lakens = paired_ref(movie2, movie1)
)

# ------------------------------------------------------------------ ANCOVA
gr <- read.csv(paste0(dd, "outcomes_groups.csv"))
gr$treated_f <- factor(gr$treated)
gr$sex <- factor(gr$sex); gr$arm <- factor(gr$arm)
coef_tab <- function(fit, conf = 0.95) {
  s <- summary(fit)$coefficients; ci <- confint(fit, level = conf)
  list(term = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]), t = unname(s[, 3]),
       p = unname(s[, 4]), ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
}
adj_means <- function(fit, group, data) {
  X <- model.matrix(fit); cm <- colMeans(X)
  gcols <- grep(paste0("^", group), colnames(X))
  levs <- levels(data[[group]])
  sapply(seq_along(levs), function(k) {
    x <- cm; x[gcols] <- 0; if (k > 1) x[gcols[k - 1]] <- 1; sum(x * coef(fit))
  })
}
a2 <- lm(post ~ pre + treated_f + age + sex, data = gr)
a2r <- lm(post ~ pre + age + sex, data = gr[!is.na(gr$pre), ])
a3 <- lm(post ~ pre + arm + age, data = gr)
a3r <- lm(post ~ pre + age, data = gr[!is.na(gr$pre), ])
out$ancova <- list(
  two = c(coef_tab(a2), list(F = anova(a2r, a2)$F[2], p_F = anova(a2r, a2)$`Pr(>F)`[2],
                            r2 = summary(a2)$r.squared, sigma = summary(a2)$sigma, n = nobs(a2),
                            adjusted = adj_means(a2, "treated_f", gr))),
  three = c(coef_tab(a3, 0.9), list(F = anova(a3r, a3)$F[2], df1 = anova(a3r, a3)$Df[2],
                                    p_F = anova(a3r, a3)$`Pr(>F)`[2], n = nobs(a3),
                                    adjusted = adj_means(a3, "arm", gr)))
)

# ------------------------------------------------------------------ DiD
dl <- read.csv(paste0(dd, "outcomes_did.csv"))
dfit <- lm(score ~ group * period, data = dl)
X <- model.matrix(dfit); e <- resid(dfit); n <- nrow(X); k <- ncol(X)
bread <- solve(crossprod(X))
cl <- dl$prison; G <- length(unique(cl))
U <- rowsum(X * e, cl)
V_cr1 <- (G / (G - 1)) * ((n - 1) / (n - k)) * bread %*% crossprod(U) %*% bread
se_cr1 <- sqrt(diag(V_cr1))
tcr <- coef(dfit) / se_cr1
out$did <- list(
  classical = coef_tab(dfit),
  cr1 = list(estimate = unname(coef(dfit)), se = unname(se_cr1), t = unname(tcr),
             p = unname(2 * pt(abs(tcr), G - 1, lower.tail = FALSE)),
             ci_low = unname(coef(dfit) - qt(0.975, G - 1) * se_cr1),
             ci_high = unname(coef(dfit) + qt(0.975, G - 1) * se_cr1), G = G),
  cells = aggregate(score ~ group + period, data = dl, FUN = mean)
)

# ------------------------------------------------------------------ propensity
smd_tab <- function(X, t, w, estimand) {
  res <- lapply(colnames(X), function(c) {
    x <- X[, c]; x1 <- x[t == 1]; x0 <- x[t == 0]
    bin <- all(x %in% c(0, 1))
    v1 <- if (bin) mean(x1) * (1 - mean(x1)) else var(x1)
    v0 <- if (bin) mean(x0) * (1 - mean(x0)) else var(x0)
    s <- if (estimand == "ATT") sqrt(v1) else sqrt((v1 + v0) / 2)
    wv <- function(x, w) { m <- sum(w * x) / sum(w); sum(w * (x - m)^2) / (sum(w) - sum(w^2) / sum(w)) }
    m1a <- weighted.mean(x1, w[t == 1]); m0a <- weighted.mean(x0, w[t == 0])
    c(smd_before = (mean(x1) - mean(x0)) / s, smd_after = (m1a - m0a) / s,
      vr_before = if (bin) NA else var(x1) / var(x0),
      vr_after = if (bin) NA else wv(x1, w[t == 1]) / wv(x0, w[t == 0]))
  })
  m <- do.call(rbind, res)
  list(covariate = colnames(X), smd_before = unname(m[, 1]), smd_after = unname(m[, 2]),
       vr_before = unname(m[, 3]), vr_after = unname(m[, 4]))
}
hc0_lm <- function(y, X, w) {
  fit <- lm.wfit(X, y, w); b <- fit$coefficients; e <- y - X %*% b
  B <- solve(crossprod(X * sqrt(w))); S <- X * as.vector(w * e)
  V <- B %*% crossprod(S) %*% B
  list(coef = unname(b), se = unname(sqrt(diag(V))))
}
hc0_logit <- function(y, X, w) {
  fit <- suppressWarnings(glm.fit(X, y, weights = w, family = quasibinomial(),
                                  control = glm.control(epsilon = 1e-14, maxit = 100)))
  b <- fit$coefficients; mu <- as.vector(plogis(X %*% b))
  B <- solve(crossprod(X * sqrt(w * mu * (1 - mu)))); S <- X * (w * (y - mu))
  V <- B %*% crossprod(S) %*% B
  list(coef = unname(b), se = unname(sqrt(diag(V))))
}
gp <- gr[!is.na(gr$pre), ]
psfit <- glm(treated ~ age + prior + sex + pre, family = binomial, data = gp,
             control = glm.control(epsilon = 1e-14, maxit = 100))
ps <- fitted(psfit); tt <- gp$treated
w_ate <- ifelse(tt == 1, 1 / ps, 1 / (1 - ps))
w_att <- ifelse(tt == 1, 1, ps / (1 - ps))
Xb <- cbind(`propensity score` = ps, age = gp$age, prior = gp$prior, sexM = as.numeric(gp$sex == "M"),
            pre = gp$pre)
Xo <- cbind(1, tt)
out$propensity <- list(
  n = nrow(gp), ps_coef = unname(coef(psfit)), ps_se = unname(sqrt(diag(vcov(psfit)))),
  ps_first = unname(ps[1:10]),
  w_ate_sum = c(sum(w_ate[tt == 1]), sum(w_ate[tt == 0])),
  w_att_sum = c(sum(w_att[tt == 1]), sum(w_att[tt == 0])),
  balance_ate = smd_tab(Xb, tt, w_ate, "ATE"), balance_att = smd_tab(Xb, tt, w_att, "ATT"),
  lm_ate = hc0_lm(gp$post, Xo, w_ate), lm_att = hc0_lm(gp$post, Xo, w_att),
  logit_ate = hc0_logit(gp$violation, Xo, w_ate),
  lm_att_adj = hc0_lm(gp$post, cbind(1, tt, gp$age), w_att)
)

# ------------------------------------------------------------------ survival
km_tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  list(time = s$time, n_risk = s$n.risk, n_event = s$n.event, surv = s$surv, std_err = s$std.err,
       lower = s$lower, upper = s$upper,
       strata = if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata))
}
km_med <- function(fit) {
  tb <- summary(fit)$table
  if (is.null(dim(tb))) tb <- t(as.matrix(tb))
  list(median = unname(tb[, "median"]), lower = unname(tb[, grep("LCL", colnames(tb))]),
       upper = unname(tb[, grep("UCL", colnames(tb))]), events = unname(tb[, "events"]))
}
cox_ref <- function(fit) {
  s <- summary(fit)$coefficients
  rob <- "robust se" %in% colnames(s)
  list(term = rownames(s), coef = unname(s[, "coef"]), se = unname(s[, if (rob) "robust se" else "se(coef)"]),
       naive_se = unname(s[, "se(coef)"]), z = unname(s[, "z"]), p = unname(s[, "Pr(>|z|)"]),
       ci_low = unname(summary(fit)$conf.int[, "lower .95"]), ci_high = unname(summary(fit)$conf.int[, "upper .95"]),
       loglik = unname(fit$loglik), score = if (is.null(fit$score)) NA else unname(fit$score),
       wald = unname(fit$wald.test), rscore = if (is.null(fit$rscore)) NA else unname(fit$rscore),
       concordance = unname(fit$concordance["concordance"]), concordance_std = unname(fit$concordance["std"]),
       n = fit$n, nevent = fit$nevent, robust = rob)
}
zph_ref <- function(fit, transform = "km") {
  z <- cox.zph(fit, transform = transform)$table
  list(term = rownames(z), chisq = unname(z[, "chisq"]), df = unname(z[, "df"]), p = unname(z[, "p"]))
}

ro <- read.csv(paste0(dd, "outcomes_rossi.csv"))
ro_full <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = ro)
ro_bres <- coxph(Surv(week, arrest) ~ fin + age + prio, data = ro, ties = "breslow")
ro_strata <- coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp), data = ro)
# propensity of financial aid (randomised, so weights near 1) for a weighted model
ro_ps <- fitted(glm(fin ~ age + prio + race + wexp, family = binomial, data = ro,
                    control = glm.control(epsilon = 1e-14, maxit = 100)))
ro$w_ate <- ifelse(ro$fin == 1, 1 / ro_ps, 1 / (1 - ro_ps))
ro_w <- coxph(Surv(week, arrest) ~ fin + age + prio, data = ro, weights = w_ate)
ro_w_rob <- coxph(Surv(week, arrest) ~ fin, data = ro, weights = w_ate, robust = TRUE)
km_ro <- survfit(Surv(week, arrest) ~ fin, data = ro)
km_ro_ll <- survfit(Surv(week, arrest) ~ 1, data = ro, conf.type = "log-log", conf.int = 0.9)
sd_ro <- survdiff(Surv(week, arrest) ~ fin, data = ro)
out$rossi <- list(
  cox_full = cox_ref(ro_full), zph_full = zph_ref(ro_full), zph_full_rank = zph_ref(ro_full, "rank"),
  zph_full_identity = zph_ref(ro_full, "identity"),
  cox_breslow = cox_ref(ro_bres), cox_strata = cox_ref(ro_strata), zph_strata = zph_ref(ro_strata),
  cox_weighted = cox_ref(ro_w), zph_weighted = zph_ref(ro_w), cox_weighted_fin = cox_ref(ro_w_rob),
  w_ate_first = ro$w_ate[1:5],
  km = km_tab(km_ro), km_median = km_med(km_ro), km_loglog = km_tab(km_ro_ll),
  km_loglog_median = km_med(km_ro_ll),
  km_at = { s <- summary(km_ro, times = c(0, 10, 26, 52)); list(time = s$time, n_risk = s$n.risk,
            surv = s$surv, lower = s$lower, upper = s$upper, strata = as.character(s$strata)) },
  survdiff = list(chisq = sd_ro$chisq, obs = unname(sd_ro$obs), exp = unname(sd_ro$exp), n = as.numeric(sd_ro$n),
                  var = unname(sd_ro$var))
)

sv <- read.csv(paste0(dd, "outcomes_survival.csv"))
sv$country <- factor(sv$country); sv$sex <- factor(sv$sex)
sv_ps <- fitted(glm(treated ~ age + prior + sex, family = binomial, data = sv,
                    control = glm.control(epsilon = 1e-14, maxit = 100)))
sv$w_att <- ifelse(sv$treated == 1, 1, sv_ps / (1 - sv_ps))
sv_country <- coxph(Surv(weeks, rearrest) ~ treated + age + prior + country, data = sv)
sv_cluster <- coxph(Surv(weeks, rearrest) ~ treated + age + prior + strata(sex), data = sv, cluster = prison)
sv_wcl <- coxph(Surv(weeks, rearrest) ~ treated + age, data = sv, weights = w_att, cluster = prison)
sv_att <- coxph(Surv(weeks, rearrest) ~ treated, data = sv, weights = w_att, robust = TRUE)
sd_sv <- survdiff(Surv(weeks, rearrest) ~ country, data = sv)
sd_sv_str <- survdiff(Surv(weeks, rearrest) ~ treated + strata(sex), data = sv)
km_sv <- survfit(Surv(weeks, rearrest) ~ country, data = sv)
out$synthetic <- list(
  cox_country = cox_ref(sv_country), zph_country = zph_ref(sv_country),
  cox_cluster = cox_ref(sv_cluster), zph_cluster = zph_ref(sv_cluster),
  cox_weights_cluster = cox_ref(sv_wcl), cox_att = cox_ref(sv_att),
  survdiff = list(chisq = sd_sv$chisq, obs = unname(sd_sv$obs), exp = unname(sd_sv$exp)),
  survdiff_strata = list(chisq = sd_sv_str$chisq, obs = unname(rowSums(sd_sv_str$obs)),
                         exp = unname(rowSums(sd_sv_str$exp))),
  km = km_tab(km_sv), km_median = km_med(km_sv)
)
# median hitting 0.5 exactly: midpoint rule
half <- data.frame(t = c(1, 2, 3, 4, 5, 6), e = c(1, 1, 1, 1, 1, 1))
out$km_half <- km_med(survfit(Surv(t, e) ~ 1, data = half))

# ------------------------------------------------------------------ power
ptt <- function(...) power.t.test(..., tol = 1e-10)
ppt <- function(...) power.prop.test(..., tol = 1e-10)
pwr_h <- function(p1, p2, n, a = 0.05) {
  h <- 2 * asin(sqrt(p1)) - 2 * asin(sqrt(p2))
  pnorm(qnorm(a / 2, lower.tail = FALSE) - h * sqrt(n / 2), lower.tail = FALSE) +
    pnorm(qnorm(a / 2, lower.tail = TRUE) - h * sqrt(n / 2), lower.tail = TRUE)
}
schoenfeld_D <- function(hr, power, a = 0.05, q = 0.5) (qnorm(1 - a / 2) + qnorm(power))^2 / (q * (1 - q) * log(hr)^2)
out$power <- list(
  t_two_power = ptt(n = 20, delta = 1)$power,
  t_two_n = ptt(delta = 0.5, power = 0.8)$n,
  t_paired_n = ptt(delta = 0.3, sd = 1.2, power = 0.9, type = "paired")$n,
  t_paired_delta = ptt(n = 40, power = 0.8, type = "paired")$delta,
  t_one_power = ptt(n = 15, delta = 0.6, type = "one.sample", alternative = "one.sided")$power,
  t_two_strict = ptt(n = 8, delta = 0.4, strict = TRUE)$power,
  prop_n = ppt(p1 = 0.05, p2 = 0.025, power = 0.8)$n,
  prop_power = ppt(n = 500, p1 = 0.06, p2 = 0.03)$power,
  prop_p2 = ppt(n = 800, p1 = 0.05, power = 0.8)$p2,
  prop_one_sided = ppt(n = 300, p1 = 0.1, p2 = 0.05, alternative = "one.sided")$power,
  prop_strict = ppt(n = 100, p1 = 0.2, p2 = 0.3, strict = TRUE)$power,
  arcsine_power = pwr_h(0.05, 0.025, 1000),
  schoenfeld_events = schoenfeld_D(0.7, 0.8),
  schoenfeld_power = pnorm(sqrt(60 * 0.25) * abs(log(0.6)) - qnorm(0.975))
)

write_json(out, "tests/reference/outcomes.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
