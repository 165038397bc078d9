# Reference values for veplab.reliability (tests/test_reliability.py).
#
# Computes, on the synthetic datasets written by
# tests/reference/make_reliability_data.py (tests/reference/data/reliability_*.csv)
# and on two published tables:
#   * psych::alpha          - totals, item.stats, alpha.drop, Feldt interval (alpha.ci)
#   * psych::ICC(lmer=FALSE) - the six Shrout-Fleiss ICCs with F tests and intervals,
#                              on the five-rater set and the Shrout & Fleiss (1979) table
#   * psych::ICC(lmer=TRUE)  - REML version, on the five-rater set with missing ratings
#   * psych::cohen.kappa     - unweighted, quadratic (default) and linear weights,
#                              Cohen (1968) and Fleiss, Cohen & Everitt (1969) tables
#   * psych::omega           - Schmid-Leiman omega_h / omega_total (minres, oblimin)
#   * lavaan::cfa            - one-factor ML model, omega total = (sum l)^2/((sum l)^2 + sum theta)
#   * the Fleiss, Cohen & Everitt (1969) large-sample variance of weighted kappa,
#     written out from the paper's formula (independently of psych)
#   * raters drawn from a pool (reliability_pool_raters.csv, three of five assessors per
#     case, some cases with two) and three fixed raters on a 7-point item
#     (reliability_three_raters_ordinal.csv): psych::ICC on each, the one-way ANOVA of
#     anova(lm(rating ~ case)) with Searle's average group size for the unbalanced pool,
#     and Krippendorff's alpha (nominal, ordinal, interval) written out from
#     Krippendorff (2011), "Computing Krippendorff's alpha-reliability" (no Debian
#     package carries irr or irrCAC; their values on these data are quoted in
#     tests/test_reliability.py)
#   * a keyed knowledge quiz (reliability_knowledge.csv, the demo's eight knowledge items as
#     raw option codes, "I don't know" = 8 an answer option; keys in
#     reliability_knowledge_keys.csv): items scored 1 (answer = key) / 0 (any other option),
#     blank answers missing; psych::alpha on the scored items (pairwise, and on complete
#     rows) and KR-20 written out from Kuder & Richardson (1937),
#     k/(k-1) * (1 - sum p q / var(total)) with population variances, on complete rows
# and writes tests/reference/reliability.json.
#
# Run from the repository root:  Rscript tests/reference/reliability.R
# Versions used: R 4.x, psych 2.2.9, GPArotation 2022.10-2, lavaan 0.6-14, lme4 1.1-31,
# jsonlite 1.8.4 (the script records the versions it ran with in meta).

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(lavaan)
  library(lme4)
  library(jsonlite)
})

data_dir <- file.path("tests", "reference", "data")
rd <- function(f, ...) read.csv(file.path(data_dir, f), check.names = FALSE, ...)

cols <- function(df) {
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unname(v))
  out$.rownames <- rownames(df)
  out
}

alpha_ref <- function(x) {
  a <- suppressWarnings(psych::alpha(x))
  list(
    total = as.list(a$total),
    item_stats = cols(a$item.stats),
    alpha_drop = cols(a$alpha.drop),
    feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
    feldt90 = {
      f <- alpha.ci(a$total$raw_alpha, nrow(x), ncol(x), p.val = 0.10)
      list(lower = f$lower.ci[[1]], upper = f$upper.ci[[1]])
    },
    n = nrow(x)
  )
}

omega_ref <- function(x, nf) {
  o <- suppressMessages(suppressWarnings(psych::omega(x, nfactors = nf, plot = FALSE)))
  list(
    omega_h = o$omega_h, omega_tot = o$omega.tot, omega_lim = o$omega.lim,
    alpha = o$alpha, G6 = o$G6, ECV = unname(o$ECV),
    sl = cols(as.data.frame(unclass(o$schmid$sl))),
    omega_group = cols(o$omega.group)
  )
}

cfa_ref <- function(x) {
  vars <- colnames(x)
  model <- paste("f =~", paste(vars, collapse = " + "))
  fit <- lavaan::cfa(model, data = x, std.lv = TRUE)
  pe <- lavaan::parameterEstimates(fit)
  st <- lavaan::standardizedSolution(fit)
  lam <- pe$est[pe$op == "=~"]
  th <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs %in% vars]
  list(
    lambda = lam, theta = th,
    std_lambda = st$est.std[st$op == "=~"],
    omega = sum(lam)^2 / (sum(lam)^2 + sum(th)),
    nobs = lavaan::lavInspect(fit, "nobs")
  )
}

icc_ref <- function(x, lmer) {
  r <- suppressMessages(suppressWarnings(psych::ICC(x, lmer = lmer)))
  res <- r$results
  res$type <- as.character(res$type)
  out <- cols(res)
  out$MSW <- r$MSW
  out$stats <- unclass(r$stats)
  out$n_obs <- r$n.obs
  out$n_judge <- r$n.judge
  if (!is.null(r$lme)) out$lme <- cols(r$lme)
  # lme4's REML optimum moves in the 11th significant digit between runs (the
  # optimiser's path depends on memory alignment), so keep 6 significant digits
  # of the REML results: the fixture is then reproducible (tests use 1e-3).
  if (lmer) out <- rapply(out, function(v) if (is.numeric(v)) signif(v, 6) else v, how = "replace")
  out
}

icc90 <- function(x) {
  r <- psych::ICC(x, lmer = FALSE, alpha = 0.10)$results
  list(lower = r[["lower bound"]], upper = r[["upper bound"]])
}

kappa_ref <- function(x, w = NULL, n.obs = NULL, levels = NULL, alpha = 0.05) {
  k <- suppressWarnings(psych::cohen.kappa(x, w = w, n.obs = n.obs, levels = levels, alpha = alpha))
  list(
    kappa = k$kappa, weighted_kappa = k$weighted.kappa,
    var_kappa = k$var.kappa, var_weighted = k$var.weighted,
    confid = unname(unclass(k$confid)), n_obs = k$n.obs, agree = unname(unclass(k$agree)),
    weight = unname(unclass(k$weight))
  )
}

# Fleiss, Cohen & Everitt (1969), equation for the non-null variance of weighted kappa
fce_variance <- function(x, w) {
  N <- sum(x); p <- x / N; pr <- rowSums(p); pc <- colSums(p)
  po <- sum(w * p); pe <- sum(w * outer(pr, pc)); k <- (po - pe) / (1 - pe)
  wi <- as.vector(w %*% pc); wj <- as.vector(t(w) %*% pr)
  v <- (sum(p * (w - outer(wi, wj, "+") * (1 - k))^2) - (k - pe * (1 - k))^2) / (N * (1 - pe)^2)
  list(kappa = k, var = v)
}

# Krippendorff (2011): coincidence matrix over units with two or more values, then
# alpha = 1 - (n - 1) sum(o * delta) / sum(n_c n_k delta)
kripp_alpha <- function(x, level) {
  x <- as.matrix(x)
  vals <- sort(unique(x[!is.na(x)]))
  q <- length(vals)
  o <- matrix(0, q, q)
  for (u in seq_len(nrow(x))) {
    v <- match(x[u, !is.na(x[u, ])], vals)
    m <- length(v)
    if (m < 2) next
    for (i in seq_len(m)) for (j in seq_len(m)) if (i != j) o[v[i], v[j]] <- o[v[i], v[j]] + 1 / (m - 1)
  }
  nc <- rowSums(o)
  n <- sum(nc)
  delta <- outer(seq_len(q), seq_len(q), Vectorize(function(c, k) switch(level,
    nominal = as.numeric(c != k),
    ordinal = if (c == k) 0 else (sum(nc[min(c, k):max(c, k)]) - (nc[c] + nc[k]) / 2)^2,
    interval = (vals[c] - vals[k])^2)))
  list(alpha = 1 - (n - 1) * sum(o * delta) / sum(outer(nc, nc) * delta), n_pairable = n)
}

# One-way random-effects ICC when raters vary across cases (cases with >= 2 ratings):
# mean squares from R's ANOVA, Searle's m0 for unequal numbers of ratings
oneway_icc <- function(x, alpha = 0.05) {
  x <- as.matrix(x)
  long <- data.frame(case = rep(rownames(x), ncol(x)), y = as.vector(x))
  long <- long[!is.na(long$y), ]
  m <- table(long$case)
  long <- long[long$case %in% names(m)[m >= 2], ]
  a <- anova(lm(y ~ factor(case), data = long))
  msb <- a[1, "Mean Sq"]; msw <- a[2, "Mean Sq"]; df1 <- a[1, "Df"]; df2 <- a[2, "Df"]
  mi <- as.vector(table(long$case)); N <- sum(mi); m0 <- (N - sum(mi^2) / N) / df1
  f <- msb / msw
  fl <- f / qf(1 - alpha / 2, df1, df2); fu <- f * qf(1 - alpha / 2, df2, df1)
  list(icc1 = (msb - msw) / (msb + (m0 - 1) * msw), icc1k = (msb - msw) / msb, F = f, df1 = df1, df2 = df2,
       m0 = m0, msb = msb, msw = msw, lower = (fl - 1) / (fl + m0 - 1), upper = (fu - 1) / (fu + m0 - 1),
       lower_k = 1 - 1 / fl, upper_k = 1 - 1 / fu)
}

# each case's ratings in rater order, as first, second, third (cases with all three)
slots <- function(x) {
  x <- as.matrix(x)
  full <- x[rowSums(!is.na(x)) == 3, ]
  out <- t(apply(full, 1, function(r) r[!is.na(r)]))
  colnames(out) <- c("first", "second", "third")
  as.data.frame(out)
}

items <- rd("reliability_items.csv", row.names = 1)
items_missing <- rd("reliability_items_missing.csv", row.names = 1)
unidim <- rd("reliability_unidim.csv", row.names = 1)
two <- rd("reliability_two_raters.csv")
five <- rd("reliability_five_raters.csv", row.names = 1)
five_missing <- rd("reliability_five_raters_missing.csv", row.names = 1)
pool <- rd("reliability_pool_raters.csv", row.names = 1)
seven <- rd("reliability_three_raters_ordinal.csv", row.names = 1)
knowledge <- rd("reliability_knowledge.csv", row.names = 1)
knowledge_keys <- rd("reliability_knowledge_keys.csv")

# right (1) / wrong (0) scoring of keyed items; a blank answer stays NA
score_keyed <- function(x, keys) {
  out <- as.data.frame(lapply(seq_len(nrow(keys)), function(j) as.numeric(x[[keys$item[j]]] == keys$key[j])))
  names(out) <- keys$item
  rownames(out) <- rownames(x)
  out
}

# Kuder & Richardson (1937) formula 20 on complete rows
kr20 <- function(x) {
  x <- as.matrix(na.omit(x))
  k <- ncol(x); n <- nrow(x)
  p <- colMeans(x)
  v_total <- var(rowSums(x)) * (n - 1) / n
  list(kr20 = k / (k - 1) * (1 - sum(p * (1 - p)) / v_total), n = n, p = unname(p))
}

knowledge_scored <- score_keyed(knowledge, knowledge_keys)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges
sf <- data.frame(
  J1 = c(9, 6, 8, 7, 10, 6), J2 = c(2, 1, 4, 1, 5, 2),
  J3 = c(5, 3, 6, 2, 6, 4), J4 = c(8, 2, 8, 6, 9, 7)
)

# Cohen (1968) proportions with his disagreement weights; Fleiss, Cohen & Everitt (1969) counts
cohen68 <- matrix(c(0.44, 0.07, 0.09, 0.05, 0.20, 0.05, 0.01, 0.03, 0.06), ncol = 3, byrow = TRUE)
cohen68_w <- matrix(c(0, 1, 3, 1, 0, 6, 3, 6, 0), ncol = 3)
fce <- matrix(c(106, 10, 4, 22, 28, 10, 2, 12, 6), ncol = 3, byrow = TRUE)
fce_w <- matrix(c(1, 0, 0.4444, 0, 1, 0.6667, 0.4444, 0.6667, 1), ncol = 3)

lin3 <- 1 - abs(outer(1:3, 1:3, "-")) / 2
ab <- two[, c("rater_a", "rater_b")]
ab_complete <- ab[complete.cases(ab), ]

out <- list(
  meta = list(
    R = R.version.string,
    psych = as.character(packageVersion("psych")),
    GPArotation = as.character(packageVersion("GPArotation")),
    lavaan = as.character(packageVersion("lavaan")),
    lme4 = as.character(packageVersion("lme4"))
  ),
  alpha = list(
    items = alpha_ref(items),
    items_missing = alpha_ref(items_missing),
    items_listwise = alpha_ref(na.omit(items_missing)),
    unidim = alpha_ref(unidim),
    two_items = alpha_ref(items[, c("it1", "it2")])
  ),
  omega = list(
    items = omega_ref(items, 3),
    items_missing = omega_ref(items_missing, 3),
    items_two_factors = omega_ref(items, 2)
  ),
  cfa = list(
    items = cfa_ref(items),
    unidim = cfa_ref(unidim),
    items_missing_listwise = cfa_ref(items_missing)
  ),
  icc = list(
    five = icc_ref(five, FALSE),
    five90 = icc90(five),
    shrout_fleiss = icc_ref(sf, FALSE),
    five_missing_lmer = icc_ref(five_missing, TRUE),
    two_complete = icc_ref(ab_complete, FALSE)
  ),
  kappa = list(
    two = kappa_ref(ab),
    two_linear = kappa_ref(ab, w = lin3),
    two_levels = kappa_ref(ab, levels = 0:3),
    two_90 = kappa_ref(ab, alpha = 0.10),
    cohen68 = kappa_ref(cohen68, w = cohen68_w, n.obs = 200),
    fce69 = kappa_ref(fce, w = fce_w, n.obs = 200),
    fce69_formula = fce_variance(fce, fce_w),
    two_quadratic_formula = fce_variance(table(factor(ab_complete$rater_a, levels = 0:2),
                                               factor(ab_complete$rater_b, levels = 0:2)),
                                         1 - (outer(1:3, 1:3, "-")^2) / 4)
  ),
  knowledge = list(
    alpha = alpha_ref(knowledge_scored),
    alpha_complete = alpha_ref(na.omit(knowledge_scored)),
    kr20 = kr20(knowledge_scored),
    share_correct = unname(colMeans(knowledge_scored, na.rm = TRUE)),
    items = names(knowledge_scored)
  ),
  raters = list(
    pool_oneway = oneway_icc(pool),
    pool_oneway90 = oneway_icc(pool, alpha = 0.10),
    pool_balanced_icc = icc_ref(slots(pool), FALSE),
    pool_kripp = lapply(c(nominal = "nominal", ordinal = "ordinal", interval = "interval"),
                        function(l) kripp_alpha(pool, l)),
    seven_icc = icc_ref(seven, FALSE),
    seven_kripp = lapply(c(nominal = "nominal", ordinal = "ordinal", interval = "interval"),
                         function(l) kripp_alpha(seven, l))
  )
)

write_json(out, file.path("tests", "reference", "reliability.json"),
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
