# Reference values for veplab.validity.cfa / invariance with missing = "ml"
# (full-information maximum likelihood), computed with lavaan.
#
# Run from the repository root:  Rscript tests/reference/validity_cfa_fiml.R
# Writes tests/reference/validity_cfa_fiml.json.  Inputs (no randomness here):
# tests/reference/data/validity_cfa_fiml.csv and validity_cfa_hs1939_missing.csv
# from tests/reference/make_validity_cfa_fiml_data.py, and validity_cfa_hs1939.csv
# (exported by validity_cfa.R) for the no-missing-data check.
#
# All fits: lavaan::cfa(..., missing = "ml") with lavaan's defaults for that case
# (estimator = "ML", meanstructure = TRUE, se = "standard", information =
# "observed" with observed.information = "hessian", test = "standard", the H1
# model by EM).  Rows missing every indicator are dropped by lavaan (with a
# warning); rows with a missing group value are removed here before the call, as
# veplab does (lavaan would stop).  For each model: parameterEstimates(fit,
# standardized = TRUE) (rows =~, ~~, ~1), fitMeasures(), lavInspect options, and
# lavTestLRT() for the invariance sequence.
#
# Versions used: R 4.2.2, lavaan 0.6.14, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

data_dir <- file.path("tests", "reference", "data")
fd <- read.csv(file.path(data_dir, "validity_cfa_fiml.csv"), stringsAsFactors = FALSE)
hsm <- read.csv(file.path(data_dir, "validity_cfa_hs1939_missing.csv"), stringsAsFactors = FALSE)
hs <- read.csv(file.path(data_dir, "validity_cfa_hs1939.csv"), stringsAsFactors = FALSE)
fd_site <- fd[!is.na(fd$site) & fd$site != "", ]

FIT_NAMES <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
               "baseline.pvalue", "cfi", "tli", "logl", "unrestricted.logl",
               "aic", "bic", "bic2", "ntotal", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "rmsea.pvalue", "srmr", "srmr_bentler",
               "srmr_bentler_nomean")

estimates <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE, level = 0.95)
  pe <- pe[pe$op %in% c("=~", "~~", "~1"), ]
  if (is.null(pe$group)) pe$group <- rep(1L, nrow(pe))
  if (is.null(pe$label)) pe$label <- rep("", nrow(pe))
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = pe$group,
       label = pe$label, est = pe$est, se = pe$se, z = pe$z,
       pvalue = pe$pvalue, ci.lower = pe$ci.lower, ci.upper = pe$ci.upper,
       std.all = pe$std.all)
}

record <- function(fit, call) {
  fm <- fitMeasures(fit, FIT_NAMES)
  opt <- lavInspect(fit, "options")
  h1 <- lavInspect(fit, "sampstat.h1")
  if (!is.null(h1$cov)) h1 <- list(h1)
  list(call = call,
       converged = lavInspect(fit, "converged"),
       group_labels = lavInspect(fit, "group.label"),
       nobs = as.list(lavInspect(fit, "nobs")),
       npatterns = as.list(sapply(lavInspect(fit, "patterns", drop.list.single.group = FALSE), nrow)),
       information = opt$information[1],
       observed_information = opt$observed.information[1],
       h1_cov = lapply(h1, function(s) unname(as.vector(s$cov))),
       h1_mean = lapply(h1, function(s) unname(as.vector(s$mean))),
       fit = as.list(unclass(fm)),
       estimates = estimates(fit))
}

lrt <- function(...) {
  tab <- lavTestLRT(...)
  list(model = rownames(tab), Df = tab[["Df"]], AIC = tab[["AIC"]],
       BIC = tab[["BIC"]], Chisq = tab[["Chisq"]],
       Chisq_diff = tab[["Chisq diff"]], RMSEA = tab[["RMSEA"]],
       Df_diff = tab[["Df diff"]], p = tab[["Pr(>Chisq)"]])
}

fiml_model <- "f1 =~ y1 + y2 + y3
f2 =~ y4 + y5 + y6
f3 =~ y7 + y8 + y9"
hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"

out <- list()

# (1) one group, all rows (six empty rows dropped by lavaan)
fit <- cfa(fiml_model, data = fd, missing = "ml")
out$fiml_1g <- record(fit, "cfa(fiml_model, data = fd, missing = 'ml')")

# (2) std.lv = TRUE and a residual covariance
fit <- cfa(paste(fiml_model, "y2 ~~ y3", sep = "\n"), data = fd, missing = "ml", std.lv = TRUE)
out$fiml_stdlv_rescov <- record(fit, "fiml_model + y2 ~~ y3, std.lv = TRUE, missing = 'ml'")

# (3) invariance across site (rows without site removed first)
fit_conf <- cfa(fiml_model, data = fd_site, group = "site", missing = "ml")
fit_metr <- cfa(fiml_model, data = fd_site, group = "site", missing = "ml",
                group.equal = "loadings")
fit_scal <- cfa(fiml_model, data = fd_site, group = "site", missing = "ml",
                group.equal = c("loadings", "intercepts"))
fit_strict <- cfa(fiml_model, data = fd_site, group = "site", missing = "ml",
                  group.equal = c("loadings", "intercepts", "residuals"))
out$fiml_configural <- record(fit_conf, "group = 'site', missing = 'ml'")
out$fiml_metric <- record(fit_metr, "group.equal = 'loadings'")
out$fiml_scalar <- record(fit_scal, "group.equal = c('loadings', 'intercepts')")
out$fiml_strict <- record(fit_strict, "group.equal = c('loadings', 'intercepts', 'residuals')")
out$fiml_lrt <- lrt(fit_conf, fit_metr, fit_scal, fit_strict)

# (4) Holzinger-Swineford with values deleted by rule: one group and by school
fit <- cfa(hs_model, data = hsm, missing = "ml")
out$hsm_3f <- record(fit, "cfa(hs_model, data = hsm, missing = 'ml')")
fit <- cfa(hs_model, data = hsm, missing = "ml", group = "school",
           group.equal = c("loadings", "intercepts"))
out$hsm_scalar <- record(fit, "group = 'school', group.equal = c('loadings', 'intercepts'), missing = 'ml'")

# (5) no missing data: FIML = listwise ML (estimates, chisq), observed-information SEs
fit <- cfa(hs_model, data = hs, missing = "ml")
out$hs_complete_fiml <- record(fit, "cfa(hs_model, data = hs, missing = 'ml')")

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
                  pretty = TRUE),
           file.path("tests", "reference", "validity_cfa_fiml.json"))
