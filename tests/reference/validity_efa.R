# Reference values for veplab.validity (exploratory structure): KMO, Bartlett's
# test of sphericity, exploratory factor analysis (minres and ML; no rotation,
# varimax, promax, oblimin), polychoric correlations, and the deterministic
# parts of parallel analysis.
#
# Run from the repository root:  Rscript tests/reference/validity_efa.R
# Writes tests/reference/validity_efa.json (deterministic).
# Also exports two classic data sets that ship with R / lavaan to
# tests/reference/data/: validity_hs1939.csv (lavaan::HolzingerSwineford1939,
# x1..x9, 301 rows) and validity_harman74_cor.csv (datasets::Harman74.cor, a
# 24 x 24 correlation matrix, n = 145).
#
# Versions used: R 4.2.2, psych 2.2.9, GPArotation 2022.10.2, lavaan 0.6.14,
# mnormt 2.1.1, jsonlite 1.8.4.
#
# Notes on psych 2.2.9 behaviour mirrored by veplab:
# * fa(rotate = "oblimin") calls GPArotation::oblimin(L) (gam = 0,
#   normalize = FALSE, eps = 1e-5); rotate = "varimax" calls
#   stats::varimax(L) (normalize = TRUE, eps = 1e-5); rotate = "promax" calls
#   psych::kaiser(L, rotate = "Promax") i.e. Kaiser-normalised Promax, m = 4.
# * polychoric(): thresholds qnorm(cumulative marginal proportions) per item;
#   with equal numbers of categories (global = TRUE) rho maximises the
#   likelihood of each pairwise table given those thresholds (no zero-cell
#   correction); with unequal numbers it switches to global = FALSE, where
#   thresholds come from each pairwise table and empty cells get correct/n.
# * fa.parallel(): fa.values are the eigenvalues of the correlation matrix with
#   the one-factor minres communalities on the diagonal (SMC = FALSE default).

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(lavaan)
  library(jsonlite)
})

out_file <- "tests/reference/validity_efa.json"
data_dir <- "tests/reference/data"

mat <- function(m) {
  m <- unclass(as.matrix(m))
  list(rows = I(rownames(m)), cols = I(colnames(m)), values = unname(m))
}
vec <- function(v) list(names = I(names(v)), values = I(unname(as.vector(v))))

fa_summary <- function(f) {
  res <- list(
    loadings = mat(f$loadings),
    communality = vec(f$communality),
    uniquenesses = vec(f$uniquenesses),
    Vaccounted = mat(f$Vaccounted),
    values = unname(f$values),
    e_values = unname(f$e.values),
    objective = f$objective,
    dof = f$dof,
    complexity = vec(f$complexity),
    fit = f$fit,
    fit_off = f$fit.off,
    rms = f$rms,
    crms = if (is.null(f$crms)) NA else f$crms,
    chi = if (is.null(f$chi)) NA else f$chi,
    null_model = f$null.model,
    null_dof = f$null.dof
  )
  if (!is.null(f$Phi)) res$Phi <- mat(f$Phi)
  if (!is.na(f$n.obs)) {
    res$n_obs <- f$n.obs
    res$STATISTIC <- f$STATISTIC
    res$PVAL <- f$PVAL
    res$TLI <- f$TLI
    res$RMSEA <- unname(f$RMSEA)
    res$BIC <- f$BIC
    res$null_chisq <- f$null.chisq
  }
  res
}

run_fa <- function(x, nf, ...) {
  f <- suppressWarnings(suppressMessages(fa(x, nfactors = nf, ...)))
  fa_summary(f)
}

out <- list(
  versions = list(
    R = R.version.string,
    psych = as.character(packageVersion("psych")),
    GPArotation = as.character(packageVersion("GPArotation")),
    lavaan = as.character(packageVersion("lavaan"))
  )
)

# ---------------------------------------------------------------- exports
hs <- lavaan::HolzingerSwineford1939[, paste0("x", 1:9)]
write.csv(hs, file.path(data_dir, "validity_hs1939.csv"), row.names = FALSE)
harman <- datasets::Harman74.cor$cov
write.csv(harman, file.path(data_dir, "validity_harman74_cor.csv"))

# Read back what was written, so R and Python use the very same numbers.
hs <- read.csv(file.path(data_dir, "validity_hs1939.csv"))
harman <- as.matrix(read.csv(file.path(data_dir, "validity_harman74_cor.csv"), row.names = 1))
items <- read.csv(file.path(data_dir, "validity_efa_items.csv"))
ord <- read.csv(file.path(data_dir, "validity_ordinal_items.csv"))

# ---------------------------------------------------------------- synthetic items
k <- KMO(items)
b <- suppressMessages(cortest.bartlett(items))
kord <- KMO(ord[, 1:8])
bord <- suppressMessages(cortest.bartlett(ord[, 1:8]))
out$items <- list(
  n = nrow(items),
  smc = vec(smc(cor(items))),
  kmo = list(MSA = k$MSA, MSAi = vec(k$MSAi)),
  bartlett = list(chisq = b$chisq, df = b$df, p_value = b$p.value),
  kmo_ordinal_pairwise = list(MSA = kord$MSA, MSAi = vec(kord$MSAi)),
  bartlett_ordinal_pairwise = list(chisq = bord$chisq, df = bord$df, p_value = bord$p.value),
  fa = list()
)
for (fm in c("minres", "ml")) {
  for (rot in c("none", "varimax", "promax", "oblimin")) {
    out$items$fa[[paste(fm, rot, sep = "_")]] <- run_fa(items, 3, fm = fm, rotate = rot)
  }
}
out$items$fa$minres_1 <- run_fa(items, 1, fm = "minres", rotate = "none")
out$items$fa$ml_2_oblimin <- run_fa(items, 2, fm = "ml", rotate = "oblimin")
# iterated principal axis (psych's min.err = 0.001, max.iter = 50)
out$items$fa$pa_none <- run_fa(items, 3, fm = "pa", rotate = "none")
out$items$fa$pa_oblimin <- run_fa(items, 3, fm = "pa", rotate = "oblimin")
# correlation matrix input with n.obs
out$items$fa$cor_minres_oblimin <- run_fa(cor(items), 3, n.obs = nrow(items), fm = "minres", rotate = "oblimin")

# a Heywood case: i1b is i1 plus a small deterministic perturbation
heywood <- items
heywood$i1b <- heywood$i1 + 0.05 * sin(1:nrow(heywood))
out$items$fa$heywood_ml_oblimin <- run_fa(heywood, 3, fm = "ml", rotate = "oblimin")

# parallel analysis: deterministic parts (observed eigenvalues)
set.seed(1)
pa <- suppressWarnings(suppressMessages(capture.output(
  pa_res <- fa.parallel(items, fa = "both", n.iter = 20, plot = FALSE)
)))
out$items$parallel <- list(
  pc_values = pa_res$pc.values,
  fa_values = pa_res$fa.values,
  nfact = pa_res$nfact,
  ncomp = pa_res$ncomp
)

# ---------------------------------------------------------------- polychoric
p8 <- suppressWarnings(suppressMessages(polychoric(ord[, 1:8])))
p9 <- suppressWarnings(suppressMessages(polychoric(ord[, 1:9])))
p9_nocorrect <- suppressWarnings(suppressMessages(polychoric(ord[, 1:9], correct = 0)))
out$polychoric <- list(
  global = list(rho = mat(p8$rho), tau = mat(p8$tau)),
  local = list(rho = mat(p9$rho), tau = mat(p9$tau)),
  local_correct0 = list(rho = mat(p9_nocorrect$rho)),
  fa_poly_minres_oblimin = run_fa(ord[, 1:8], 2, fm = "minres", rotate = "oblimin", cor = "poly")
)

# ---------------------------------------------------------------- Holzinger-Swineford 1939
out$hs1939 <- list(
  n = nrow(hs),
  kmo = list(MSA = KMO(hs)$MSA, MSAi = vec(KMO(hs)$MSAi)),
  fa = list(
    minres_oblimin = run_fa(hs, 3, fm = "minres", rotate = "oblimin"),
    ml_oblimin = run_fa(hs, 3, fm = "ml", rotate = "oblimin"),
    ml_promax = run_fa(hs, 3, fm = "ml", rotate = "promax"),
    ml_varimax = run_fa(hs, 3, fm = "ml", rotate = "varimax"),
    pa_varimax = run_fa(hs, 3, fm = "pa", rotate = "varimax")
  )
)

# ---------------------------------------------------------------- Harman 1974 (24 psychological tests)
hb <- cortest.bartlett(harman, n = 145)
out$harman74 <- list(
  n = 145,
  kmo = list(MSA = KMO(harman)$MSA, MSAi = vec(KMO(harman)$MSAi)),
  bartlett = list(chisq = hb$chisq, df = hb$df, p_value = hb$p.value),
  fa = list(
    minres_varimax = run_fa(harman, 4, n.obs = 145, fm = "minres", rotate = "varimax"),
    ml_promax = run_fa(harman, 4, n.obs = 145, fm = "ml", rotate = "promax"),
    minres_oblimin = run_fa(harman, 4, n.obs = 145, fm = "minres", rotate = "oblimin"),
    pa_promax = run_fa(harman, 4, n.obs = 145, fm = "pa", rotate = "promax")
  )
)

write_json(out, out_file, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_file, "\n")
