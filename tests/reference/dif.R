# Reference values for logistic-regression DIF and Mantel-Haenszel (tests/test_validity_dif.py).
#
# On tests/reference/data/dif.csv (synthetic, made by tests/reference/make_dif_data.py):
#   for each item, nested models on the matching score (lordif's criteria, Choi et al. 2011):
#     M1: item ~ score, M2: item ~ score + group, M3: item ~ score * group
#   fitted with MASS::polr (ordered items r1..r6) or glm(family = binomial) (binary b1..b8);
#   likelihood-ratio chi-squares from anova() (1 vs 2, 2 vs 3, 1 vs 3) and McFadden
#   pseudo-R^2 = 1 - logLik(M) / logLik(M0), M0 the null (thresholds / intercept only) model.
#   Comparisons: r1..r6 by lang (total score), r1..r6 by site (3 levels, total score),
#   b1..b8 by lang (rest score).
#   stats::mantelhaen.test(lang, factor(b_j, levels = c(1, 0)), total binary score) (correct = TRUE, the
#   default) for b1..b8: the common odds ratio of answering 1, L1 (reference) over L2 (focal), as ETS.
#
# Run from the repository root:  Rscript tests/reference/dif.R
# Writes tests/reference/dif.json.
# check_fixtures: rel_tol=1e-6 (polr's optim stops at reltol; glm at its default epsilon)

suppressPackageStartupMessages({
  library(MASS)
  library(jsonlite)
})

d <- read.csv("tests/reference/data/dif.csv", stringsAsFactors = FALSE)
d$lang <- factor(d$lang)
d$site <- factor(d$site)
ritems <- paste0("r", 1:6)
bitems <- paste0("b", 1:8)
d$rtotal <- rowSums(d[, ritems])
d$btotal <- rowSums(d[, bitems])

polr_fit <- function(f, data) polr(f, data = data, Hess = TRUE,
                                   control = list(reltol = 1e-14, maxit = 1000))
glm_fit <- function(f, data) glm(f, family = binomial, data = data,
                                 control = glm.control(epsilon = 1e-14, maxit = 100))

dif_one <- function(item, group, score, binary) {
  dd <- data.frame(y = d[[item]], g = d[[group]], s = score)
  if (binary) {
    fit <- glm_fit
  } else {
    dd$y <- factor(dd$y, ordered = TRUE)
    fit <- polr_fit
  }
  m1 <- fit(y ~ s, dd); m2 <- fit(y ~ s + g, dd); m3 <- fit(y ~ s + g + s:g, dd)
  ll <- c(as.numeric(logLik(m1)), as.numeric(logLik(m2)), as.numeric(logLik(m3)))
  df <- c(attr(logLik(m1), "df"), attr(logLik(m2), "df"), attr(logLik(m3), "df"))
  tab <- table(dd$y)
  ll0 <- sum(tab * log(tab / sum(tab)))  # logLik of the null model, closed form
  if (binary) stopifnot(abs(ll0 - as.numeric(logLik(glm_fit(y ~ 1, dd)))) < 1e-8)
  r2 <- 1 - ll / ll0
  lr <- function(a, b) {
    if (binary) {
      an <- anova(list(m1, m2, m3)[[a]], list(m1, m2, m3)[[b]], test = "LRT")
      c(an$Deviance[2], an$Df[2], an[["Pr(>Chi)"]][2])
    } else {
      an <- anova(list(m1, m2, m3)[[a]], list(m1, m2, m3)[[b]])
      c(an[["LR stat."]][2], an[["   Df"]][2], an[["Pr(Chi)"]][2])
    }
  }
  t12 <- lr(1, 2); t23 <- lr(2, 3); t13 <- lr(1, 3)
  list(item = item, loglik = ll, df = df, loglik0 = ll0, r2 = r2,
       chi2_12 = t12[1], df_12 = t12[2], p_12 = t12[3],
       chi2_23 = t23[1], df_23 = t23[2], p_23 = t23[3],
       chi2_13 = t13[1], df_13 = t13[2], p_13 = t13[3],
       r2_12 = r2[2] - r2[1], r2_23 = r2[3] - r2[2], r2_13 = r2[3] - r2[1])
}

out <- list(versions = list(R = R.version.string, MASS = as.character(packageVersion("MASS")),
                            jsonlite = as.character(packageVersion("jsonlite"))))
out$ordinal_lang <- lapply(ritems, function(it) dif_one(it, "lang", d$rtotal, FALSE))
out$ordinal_site <- lapply(ritems, function(it) dif_one(it, "site", d$rtotal, FALSE))
out$binary_lang_rest <- lapply(bitems, function(it) dif_one(it, "lang", d$btotal - d[[it]], TRUE))
out$mh <- lapply(bitems, function(it) {
  mh <- mantelhaen.test(d$lang, factor(d[[it]], levels = c(1, 0)), d$btotal)  # ETS: odds of 1, reference over focal
  list(item = it, statistic = unname(mh$statistic), p = mh$p.value,
       estimate = unname(mh$estimate), conf_int = as.numeric(mh$conf.int))
})
write_json(out, "tests/reference/dif.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
