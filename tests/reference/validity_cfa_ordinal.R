# Reference values for veplab.factor_analysis.confirmatory.cfa(..., ordered=, estimator="WLSMV")
# and the ordinal measurement-invariance sequence, computed with lavaan.
#
# Run from the repository root:  Rscript tests/reference/validity_cfa_ordinal.R
# Writes tests/reference/validity_cfa_ordinal.json.  Input: the synthetic ordinal items
# tests/reference/data/validity_cfa_ordinal.csv made by
# tests/reference/make_validity_cfa_ordinal_data.py (not the demo's data).
#
# All fits: lavaan::cfa(ordered = <all items>, estimator = "WLSMV") defaults:
# parameterization = "delta", DWLS estimation, se = "robust.sem",
# test = "scaled.shifted", two-step thresholds and polychoric correlations with
# lavaan's NACOV (muthen1984).  Invariance: configural; thresholds equal with the
# Wu & Estabrook (2016) identification (item intercepts and scaling factors free in
# groups 2, 3, ...), written as explicit syntax; thresholds and loadings equal (Wu &
# Estabrook); thresholds, loadings and intercepts (= lavaan's group.equal =
# c("thresholds", "loadings") with its default identification).  Also: the theta
# parameterization, and partial invariance (group.partial) of one item's thresholds.  Differences:
# lavTestLRT() defaults (method = "satorra.2000", scaled.shifted).
#
# Versions used: R 4.2.2, lavaan 0.6.14, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

d <- read.csv(file.path("tests", "reference", "data", "validity_cfa_ordinal.csv"),
              stringsAsFactors = FALSE)
items <- paste0("y", 1:6)
MODEL <- "f1 =~ y1 + y2 + y3
f2 =~ y4 + y5 + y6"

FIT_NAMES <- c("npar", "chisq", "df", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq", "baseline.df",
               "baseline.chisq.scaled", "baseline.df.scaled", "cfi", "tli", "rmsea",
               "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "ntotal")

estimates <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  if (is.null(pe$group)) pe$group <- rep(1L, nrow(pe))
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = pe$group,
       est = pe$est, se = pe$se, std.all = pe$std.all)
}

record <- function(fit, call) {
  t2 <- fit@test[[2]]
  list(call = call,
       converged = lavInspect(fit, "converged"),
       group_labels = lavInspect(fit, "group.label"),
       nobs = as.list(lavInspect(fit, "nobs")),
       fit = as.list(unclass(fitMeasures(fit, FIT_NAMES))),
       shift = t2$shift.parameter,
       estimates = estimates(fit))
}

ordfit <- function(model, ...) cfa(model, data = d, ordered = items, estimator = "WLSMV", ...)

# Wu & Estabrook (2016) syntax for G groups: thresholds equal; intercepts and scaling
# factors fixed (0, 1) in group 1 and free elsewhere; loadings equal when `loadings`.
we_syntax <- function(G, loadings) {
  rep_lab <- function(lab) paste0("c(", paste(rep(lab, G), collapse = ","), ")")
  free_after_first <- function(first) paste0("c(", first, ",", paste(rep("NA", G - 1), collapse = ","), ")")
  fac <- list(f1 = c("y1", "y2", "y3"), f2 = c("y4", "y5", "y6"))
  lines <- c()
  for (f in names(fac)) {
    ind <- fac[[f]]
    terms <- ind[1]
    for (v in ind[-1]) terms <- c(terms, if (loadings) paste0(rep_lab(paste0("l_", v)), "*", v) else v)
    lines <- c(lines, paste(f, "=~", paste(terms, collapse = " + ")))
  }
  nth <- sapply(items, function(v) length(unique(d[[v]])) - 1L)
  for (v in items) {
    ths <- paste0(sapply(paste0("t_", v, "_", seq_len(nth[[v]])), rep_lab), "*t", seq_len(nth[[v]]))
    lines <- c(lines, paste(v, "|", paste(ths, collapse = " + ")))
    lines <- c(lines, paste0(v, " ~*~ ", free_after_first("1"), "*", v))
    lines <- c(lines, paste0(v, " ~ ", free_after_first("0"), "*1"))
  }
  paste(lines, collapse = "\n")
}

lrt <- function(...) {
  tab <- lavTestLRT(...)
  list(chisq_diff = tab[["Chisq diff"]][-1], df_diff = tab[["Df diff"]][-1],
       pvalue = tab[["Pr(>Chisq)"]][-1])
}

out <- list()
one <- ordfit(MODEL)
out$single <- record(one, "cfa(MODEL, ordered = items, estimator = 'WLSMV')")
ss <- lavInspect(one, "sampstat")
out$sample <- list(th = unname(ss$th), th_names = names(ss$th),
                   cov = unname(ss$cov[lower.tri(ss$cov)]),
                   gamma_diag = unname(diag(lavInspect(one, "gamma"))),
                   gamma_row1 = unname(lavInspect(one, "gamma")[1, ]),
                   gamma_last = unname(lavInspect(one, "gamma")[nrow(lavInspect(one, "gamma")), ]))

one_rc <- ordfit(paste(MODEL, "y2 ~~ y3", sep = "\n"), std.lv = TRUE)
out$single_stdlv_rescov <- record(one_rc, "cfa(MODEL + 'y2 ~~ y3', std.lv = TRUE, ordered = items, estimator = 'WLSMV')")

for (grp in c("lang", "gender")) {
  G <- length(unique(d[[grp]]))
  conf <- ordfit(MODEL, group = grp)
  thr <- ordfit(we_syntax(G, FALSE), group = grp)
  met <- ordfit(we_syntax(G, TRUE), group = grp)
  sca <- ordfit(MODEL, group = grp, group.equal = c("thresholds", "loadings"))
  out[[paste0(grp, "_configural")]] <- record(conf, paste0("cfa(MODEL, group = '", grp, "')"))
  out[[paste0(grp, "_thresholds")]] <- record(thr, "Wu-Estabrook thresholds syntax")
  out[[paste0(grp, "_metric")]] <- record(met, "Wu-Estabrook thresholds + loadings syntax")
  out[[paste0(grp, "_scalar")]] <- record(sca, "group.equal = c('thresholds', 'loadings')")
  out[[paste0(grp, "_lrt")]] <- lrt(conf, thr, met, sca)
  out[[paste0(grp, "_lrt_scalar_vs_configural")]] <- lrt(conf, sca)
}
# theta parameterization (residual variances 1 in group 1; scaling factors computed)
out$single_theta <- record(ordfit(MODEL, parameterization = "theta"), "parameterization = 'theta'")
out$gender_configural_theta <- record(ordfit(MODEL, group = "gender", parameterization = "theta"),
                                      "group = 'gender', parameterization = 'theta'")
out$gender_scalar_theta <- record(
  ordfit(MODEL, group = "gender", group.equal = c("thresholds", "loadings"), parameterization = "theta"),
  "group.equal = c('thresholds', 'loadings'), parameterization = 'theta'")
# partial invariance: y3's thresholds free across languages
out$lang_scalar_partial <- record(
  ordfit(MODEL, group = "lang", group.equal = c("thresholds", "loadings"),
         group.partial = c("y3|t1", "y3|t2", "y3|t3")),
  "group.equal = c('thresholds', 'loadings'), group.partial = y3's thresholds")
thr_lavaan <- ordfit(MODEL, group = "lang", group.equal = "thresholds")
out$lang_thresholds_lavaan <- record(thr_lavaan, "group.equal = 'thresholds' (lavaan's identification)")

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = FALSE),
           file.path("tests", "reference", "validity_cfa_ordinal.json"))
