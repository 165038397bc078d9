# Reference values for veplab.validity.cfa / invariance (confirmatory factor
# analysis and measurement invariance), computed with lavaan.
#
# Run from the repository root:  Rscript tests/reference/validity_cfa.R
# Writes tests/reference/validity_cfa.json and exports the Holzinger-Swineford
# (1939) data shipped with lavaan to tests/reference/data/validity_cfa_hs1939.csv
# (the script then reads that CSV back, so R and Python fit the same numbers).
# The synthetic inputs validity_cfa_invariance.csv and validity_cfa_heywood.csv
# come from tests/reference/make_validity_cfa_data.py.
#
# All fits: lavaan::cfa defaults (estimator = "ML", likelihood = "normal",
# se = "standard", information = "expected", test = "standard",
# missing = "listwise"), marker-variable identification unless std.lv = TRUE.
# For each model: parameterEstimates(fit, standardized = TRUE) (rows =~, ~~, ~1),
# fitMeasures(), and for the invariance sequences lavTestLRT().
#
# Versions used: R 4.2.2, lavaan 0.6.14, jsonlite 1.8.4.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

data_dir <- file.path("tests", "reference", "data")
hs_csv <- file.path(data_dir, "validity_cfa_hs1939.csv")
hs_export <- lavaan::HolzingerSwineford1939
write.csv(hs_export, hs_csv, row.names = FALSE)
hs <- read.csv(hs_csv, stringsAsFactors = FALSE)
inv <- read.csv(file.path(data_dir, "validity_cfa_invariance.csv"), stringsAsFactors = FALSE)
hey <- read.csv(file.path(data_dir, "validity_cfa_heywood.csv"), stringsAsFactors = FALSE)

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
  list(call = call,
       converged = lavInspect(fit, "converged"),
       group_labels = lavInspect(fit, "group.label"),
       nobs = as.list(lavInspect(fit, "nobs")),
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

hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"

out <- list()

# (1) the published three-factor model
fit <- cfa(hs_model, data = hs)
out$hs_3f <- record(fit, "cfa(hs_model, data = hs)")

# (2) multi-group by school: configural, metric, scalar, strict, partial
fit_conf <- cfa(hs_model, data = hs, group = "school")
fit_metr <- cfa(hs_model, data = hs, group = "school", group.equal = "loadings")
fit_scal <- cfa(hs_model, data = hs, group = "school",
                group.equal = c("loadings", "intercepts"))
fit_strict <- cfa(hs_model, data = hs, group = "school",
                  group.equal = c("loadings", "intercepts", "residuals"))
fit_part <- cfa(hs_model, data = hs, group = "school",
                group.equal = c("loadings", "intercepts"),
                group.partial = c("x3~1", "x7~1"))
fit_all <- cfa(hs_model, data = hs, group = "school",
               group.equal = c("loadings", "intercepts", "residuals",
                               "lv.variances", "lv.covariances", "means"))
out$hs_configural <- record(fit_conf, "cfa(hs_model, data = hs, group = 'school')")
out$hs_metric <- record(fit_metr, "group.equal = 'loadings'")
out$hs_scalar <- record(fit_scal, "group.equal = c('loadings', 'intercepts')")
out$hs_strict <- record(fit_strict, "group.equal = c('loadings', 'intercepts', 'residuals')")
out$hs_scalar_partial <- record(fit_part, "scalar with group.partial = c('x3~1', 'x7~1')")
out$hs_all_equal <- record(fit_all, "all six group.equal names")
out$hs_lrt <- lrt(fit_conf, fit_metr, fit_scal, fit_strict)

# (2b) std.lv = TRUE with equal loadings: lavaan frees the latent variances in group 2
fit_metr_std <- cfa(hs_model, data = hs, group = "school", group.equal = "loadings",
                    std.lv = TRUE)
out$hs_metric_stdlv <- record(fit_metr_std, "group.equal = 'loadings', std.lv = TRUE")

# (3) std.lv = TRUE
fit <- cfa(hs_model, data = hs, std.lv = TRUE)
out$hs_stdlv <- record(fit, "cfa(hs_model, data = hs, std.lv = TRUE)")

# (4) residual covariance and a fixed-zero factor covariance
rescov_model <- paste(hs_model, "x7 ~~ x8", "visual ~~ 0*speed", sep = "\n")
fit <- cfa(rescov_model, data = hs)
out$hs_rescov <- record(fit, "hs_model + x7 ~~ x8 + visual ~~ 0*speed")

# (4b) labels, NA* (freeing the first loading), fixed variance, meanstructure
label_model <- "visual =~ NA*x1 + x2 + x3
visual ~~ 1*visual
textual =~ x4 + a*x5 + a*x6   # equal loadings via a shared label
speed =~ x7 + x8 + x9"
fit <- cfa(label_model, data = hs, meanstructure = TRUE)
out$hs_labels <- record(fit, "label_model, meanstructure = TRUE")

# (4c) a saturated model (df = 0): p-values undefined, RMSEA 0, CFI = TLI = 1
fit <- cfa("visual =~ x1 + x2 + x3", data = hs)
out$hs_saturated <- record(fit, "cfa('visual =~ x1 + x2 + x3', data = hs)")

# (5) synthetic one-factor, six items: invariance across gender and country
inv_model <- "scale =~ i1 + i2 + i3 + i4 + i5 + i6"
g_conf <- cfa(inv_model, data = inv, group = "gender")
g_metr <- cfa(inv_model, data = inv, group = "gender", group.equal = "loadings")
g_scal <- cfa(inv_model, data = inv, group = "gender",
              group.equal = c("loadings", "intercepts"))
g_strict <- cfa(inv_model, data = inv, group = "gender",
                group.equal = c("loadings", "intercepts", "residuals"))
out$gender_configural <- record(g_conf, "cfa(inv_model, data = inv, group = 'gender')")
out$gender_metric <- record(g_metr, "group.equal = 'loadings'")
out$gender_scalar <- record(g_scal, "group.equal = c('loadings', 'intercepts')")
out$gender_strict <- record(g_strict, "group.equal = c('loadings', 'intercepts', 'residuals')")
out$gender_lrt <- lrt(g_conf, g_metr, g_scal, g_strict)

c_conf <- cfa(inv_model, data = inv, group = "country")
c_metr <- cfa(inv_model, data = inv, group = "country", group.equal = "loadings")
c_scal <- cfa(inv_model, data = inv, group = "country",
              group.equal = c("loadings", "intercepts"))
out$country_configural <- record(c_conf, "cfa(inv_model, data = inv, group = 'country')")
out$country_metric <- record(c_metr, "group.equal = 'loadings'")
out$country_scalar <- record(c_scal, "group.equal = c('loadings', 'intercepts')")
out$country_lrt <- lrt(c_conf, c_metr, c_scal)

# (6) Heywood case: negative residual variance for h1 (lavaan warns)
hey_fit <- withCallingHandlers(
  cfa("f =~ h1 + h2 + h3 + h4", data = hey),
  warning = function(w) invokeRestart("muffleWarning"))
out$heywood <- record(hey_fit, "cfa('f =~ h1 + h2 + h3 + h4', data = hey)")

out$versions <- list(R = R.version.string,
                     lavaan = as.character(packageVersion("lavaan")),
                     jsonlite = as.character(packageVersion("jsonlite")))

write_json(out, file.path("tests", "reference", "validity_cfa.json"),
           digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
